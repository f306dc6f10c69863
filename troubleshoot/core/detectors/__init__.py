"""One detector per concern (k8sgpt-style: one analyzer per file). Importing this package registers them all."""
from . import (arch, container_state, dependencies, env, exits, health, host, image_layers,  # noqa: F401
               image_secrets, image_size, image_tag, library, logs, memory, networks, ports, refused, sockets)
from . import disk_space, entrypoint, mounts, permissions, readonly_fs  # noqa: F401  (files and mounts)
from . import cpu_throttling, log_files, memory_usage, open_files, pids, processes, resources_probe  # noqa: F401
from . import compose_depends, compose_env, compose_memory  # noqa: F401  (the Compose files)
