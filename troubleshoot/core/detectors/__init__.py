"""One detector per concern (k8sgpt-style: one analyzer per file). Importing this package registers them all."""
from . import (arch, container_state, dependencies, env, health, host, image_layers, image_secrets,  # noqa: F401
               image_size, image_tag, library, logs, memory, networks, ports)
