"""Board rows: order (worst first) and cells. Pure (rich Text only, no textual), so it is tested in milliseconds."""
from __future__ import annotations

from datetime import datetime

from rich.cells import cell_len
from rich.text import Text

from typing import TYPE_CHECKING

from ..backend import Row
from ..core.facts import Observation
from ..render import STATE_STYLE
from ..render import badge as render_badge

if TYPE_CHECKING:
    from ..core.diagnose import Finding

# State, health and exit code share one cell ("exited 137", "unhealthy", "restarting 2") so that the top finding
# fits in 80 columns; the image comes last: it is what gets cut first.
COLUMNS = (("name", "CONTAINER"), ("state", "STATE"), ("restarts", "RST"), ("uptime", "AGE"),
           ("finding", "TOP FINDING"), ("image", "IMAGE"))
HEALTH_STYLE = {"unhealthy": "bold red", "healthy": "green", "starting": "yellow"}


def badge(severity: str) -> Text:
    """The short badge (CRIT/WARN/INFO) the app shows everywhere."""
    return render_badge(severity, short=True)


def order(rows: dict[str, Row], findings: dict[str, list[Finding]], observed: set[str]) -> list[str]:
    """Worst first: by the top finding's rank, then containers without findings, then those not inspected yet."""
    def key(cid: str):
        found = findings.get(cid) or []
        if found:
            return (0, found[0].rank_key(), rows[cid].name)
        return (1 if cid in observed else 2, (), rows[cid].name)
    return sorted(rows, key=key)


def short_age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(max(seconds, 0))}s"


def uptime(obs: Observation | None, row: Row, now: datetime) -> str:
    """Running: how long it has been up. Stopped: how long ago it stopped."""
    if obs is None:
        return ""
    c = obs.container
    if c.state == "running" and c.started_at:
        return short_age((now - c.started_at).total_seconds())
    if c.finished_at:
        return short_age((now - c.finished_at).total_seconds()) + " ago"
    return ""


def state_cell(obs: Observation) -> Text:
    c = obs.container
    if c.state == "running" and c.health is not None:
        return Text(c.health.status, style=HEALTH_STYLE.get(c.health.status, "green"))
    if c.state in ("exited", "restarting", "dead") or (c.state == "created" and c.exit_code):
        return Text(f"{c.state} {c.exit_code}", style=STATE_STYLE.get(c.state, ""))
    return Text(c.state, style=STATE_STYLE.get(c.state, ""))


def cells(row: Row, obs: Observation | None, found: list[Finding], now: datetime) -> tuple[Text, ...]:
    from ..core.detectors.image_tag import parse_ref  # the detectors: imported with the first inspect, not before
    from ..core.diagnose import TRAINING_LABEL  # the list's first frame
    name = Text(row.name, style="bold")
    if obs is not None and obs.container.label(TRAINING_LABEL):
        name.append(" [lab]", style="italic cyan")  # appended as text, never parsed as markup
    if obs is None:  # from the sparse list, before its inspect arrives
        return (name, Text(row.state, style=STATE_STYLE.get(row.state, "")), Text(""), Text("…", style="dim"),
                Text("…", style="dim"), Text(row.image))
    c = obs.container
    image = Text(c.image_ref or c.image_id[:19])
    ref = parse_ref(c.image_ref)
    if obs.tag_image is not None and ref.tag and obs.tag_image.id != c.image_id:
        image.append(" ⚠moved", style="bold yellow")
    top = found[0] if found else None
    finding = (badge(top.severity) + Text(" " + top.playbook_id)) if top else Text("ok", style="green")
    return (
        name,
        state_cell(obs),
        Text(str(c.restart_count) if c.restart_count else "", style="yellow" if c.restart_count else ""),
        Text(uptime(obs, row, now)),
        finding,
        image,
    )


def middle_ellipsis(text: Text, width: int, keep: int = 0) -> Text:
    """`text` in at most `width` cells, cut after its first third ("lab-ent…-interpreter [lab]"): a name's
    distinguishing end (-db, -holder, -2) stays, and its start too. The first `keep` characters (a badge) stay
    whole when there is room for them and a few more."""
    if text.cell_len <= width:
        return text
    if width <= 1:
        return Text("…"[:width])
    if keep and width >= cell_len(text.plain[:keep]) + 5:
        return text[:keep] + middle_ellipsis(text[keep:], width - cell_len(text.plain[:keep]))
    plain = text.plain
    head_cells = (width - 1) // 3
    tail_cells = width - 1 - head_cells
    i = 0
    while i < len(plain) and cell_len(plain[:i + 1]) <= head_cells:
        i += 1
    j = len(plain)
    while j > i and cell_len(plain[j - 1:]) <= tail_cells:
        j -= 1
    return text[:i] + Text("…", style="dim") + text[j:]


def matches_filter(text: str, row: Row, found: list[Finding]) -> bool:
    if not text:
        return True
    needle = text.lower()
    hay = " ".join([row.name, row.image, row.state] + [f.playbook_id for f in found]).lower()
    return all(part in hay for part in needle.split())
