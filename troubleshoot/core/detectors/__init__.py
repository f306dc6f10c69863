"""One detector per concern (k8sgpt-style: one analyzer per file). Importing this package registers them all."""
from . import (arch, container_state, env, health, host, image_layers, image_secrets, image_size,  # noqa: F401
               image_tag, library, logs, memory, ports)
from . import cpu_throttling, log_files, memory_usage, open_files, pids, processes, resources_probe  # noqa: F401
