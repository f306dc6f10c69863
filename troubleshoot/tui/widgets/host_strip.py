from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static

from ...core.facts import Host
from ...core.signals import human_bytes

if TYPE_CHECKING:
    from ...core.diagnose import Finding


class HostStrip(Static):
    """One line: the engine (Docker or Podman, its version), memory, swap, disk of the Docker root, load, kernel OOM kills. Red under pressure."""

    def show(self, host: Host | None, findings: list[Finding], label: str, recorded: bool = False,
             loading: tuple[int, int] | None = None) -> None:
        """`loading`: (inspected, listed) while the board's first load is under way."""
        if host is None:
            self.update(Text(f"connecting to {label} …", style="dim"))
            return
        parts = [f"{host.name or label}", host.engine_label]
        if loading is not None:
            parts.append(f"inspecting {loading[0]:,}/{loading[1]:,}")
        if host.mem_available is not None and host.mem_total:
            parts.append(f"mem {human_bytes(host.mem_available)} free ({host.mem_available_percent:.0f}%)")
        elif host.mem_total:
            parts.append(f"mem {human_bytes(host.mem_total)} total")
        if host.swap_total:
            parts.append(f"swap {host.swap_used_percent:.0f}% used")
        if host.disk_free_percent is not None:
            parts.append(f"disk {host.disk_free_percent:.0f}% free")
        if host.load1 is not None:
            parts.append(f"load {host.load1:.2f}/{host.ncpu}cpu")
        if host.oom_kills is not None:
            parts.append(f"OOM kills {host.oom_kills}")
        before = len(f"RECORDED (read-only): {label}  ") if recorded else 0
        if self.size.width and before + len(" · ".join(parts)) > self.size.width:
            parts[1] = host.engine  # narrow (80 columns): "Podman", without its version, leaves room for the rest
            if before + len(" · ".join(parts)) > self.size.width and host.engine == "Docker":
                del parts[1]  # still too long: the usual engine is not said, the readings (OOM kills last) are
        text = Text(" · ".join(parts))
        if recorded:  # a snapshot: say so before anything else, and that nothing here is live
            text = Text(f"RECORDED (read-only): {label}", style="bold reverse") + Text("  ") + text
        for f in findings:
            text.append(f"  ⚠ {f.title}", style="bold")
        self.update(text)
        self.set_class(bool(findings), "-pressure")

    def show_state(self, state: Any, findings: list[Finding]) -> None:
        """One host of several (hosts.HostState): connecting, its containers and readings, or unreachable and why."""
        name = Text(f"{state.name}: ", style="bold")
        if state.state == "connecting":
            self.update(name + Text("connecting …", style="dim"))
            self.set_class(False, "-pressure")
            return
        if state.state != "up":
            self.update(name + Text(f"unreachable: {state.why}", style="bold"))
            self.set_class(True, "-pressure")
            return
        host = state.host
        parts = [f"{state.count:,} containers" if state.count is not None else "listing …"]
        if host is not None:
            if host.mem_available is not None and host.mem_total:
                parts.append(f"mem {human_bytes(host.mem_available)} free ({host.mem_available_percent:.0f}%)")
            if host.disk_free_percent is not None:
                parts.append(f"disk {host.disk_free_percent:.0f}% free")
            if host.load1 is not None:
                parts.append(f"load {host.load1:.2f}/{host.ncpu}cpu")
        text = name + Text(" · ".join(parts))
        for f in findings:
            text.append(f"  ⚠ {f.title}", style="bold")
        self.update(text)
        self.set_class(bool(findings), "-pressure")
