"""One detector per concern (k8sgpt-style: one analyzer per file). Importing this package registers them all."""
from . import (arch, container_state, env, health, host, image_layers, image_secrets, image_size,  # noqa: F401
               image_tag, library, logs, memory, ports)
from . import disk_space, entrypoint, mounts, permissions, readonly_fs  # noqa: F401  (files and mounts)
