"""The Docker host: memory, swap, disk of the Docker root dir, load, kernel OOM kills."""
from ..facts import Host
from ..signals import SignalSpec, detector


@detector(
    SignalSpec("host_memory_available_percent", "percent", "host MemAvailable", "memory available, % of total"),
    SignalSpec("host_memory_available", "bytes", "host MemAvailable", "memory available in bytes"),
    SignalSpec("host_swap_used_percent", "percent", "host swap used", "swap in use, % of swap (unknown: no swap)"),
    SignalSpec("host_disk_free_percent", "percent", "Docker root free", "free space on the Docker root dir's disk, %"),
    SignalSpec("host_disk_free", "bytes", "Docker root free", "free bytes on the Docker root dir's disk"),
    SignalSpec("host_load_per_cpu", "float", "load average (1m) per CPU", "1-minute load divided by CPUs"),
    SignalSpec("host_oom_kills", "int", "/proc/vmstat oom_kill", "processes the kernel OOM-killed since boot"),
    SignalSpec("host_docker_root", "str", "DockerRootDir", "where the daemon keeps images and containers"),
    scope="host",
)
def detect(host: Host):
    return {
        "host_memory_available_percent": host.mem_available_percent,
        "host_memory_available": host.mem_available,
        "host_swap_used_percent": host.swap_used_percent,
        "host_disk_free_percent": host.disk_free_percent,
        "host_disk_free": host.disk_free,
        "host_load_per_cpu": host.load_per_cpu,
        "host_oom_kills": host.oom_kills,
        "host_docker_root": host.docker_root,
    }
