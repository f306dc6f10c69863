"""Board rows: order (worst first) and cells. Pure (rich Text only, no textual), so it is tested in milliseconds."""
from __future__ import annotations

from datetime import datetime

from rich.cells import cell_len
from rich.text import Text

from typing import TYPE_CHECKING

from ..backend import Row
from ..core.facts import Observation
from ..styles import STATE_STYLE
from ..styles import badge as render_badge

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


def cells(row: Row, obs: Observation | None, found: list[Finding], now: datetime,
          label: str | None = None) -> tuple[Text, ...]:
    """`label`: a Compose member's name under its project line (its service, `#N` for a replica), for its name."""
    name = Text(row.name, style="bold") if label is None else Text(MEMBER_INDENT + label, style="bold")
    if obs is None:  # from the sparse list, before its inspect arrives
        return (name, Text(row.state, style=STATE_STYLE.get(row.state, "")), Text(""), Text("…", style="dim"),
                Text("…", style="dim"), Text(row.image))
    # the detectors and the diagnosis (~14 ms: the detectors package imports all 34): with the first inspect, never
    # in the list's first frame (these imports sat above the line before, and ran in it)
    from ..core.detectors.image_tag import parse_ref
    from ..core.diagnose import TRAINING_LABEL
    if obs.container.label(TRAINING_LABEL):
        name.append(" [lab]", style="italic cyan")  # appended as text, never parsed as markup
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


MEMBER_INDENT = "  "
PROJECT_KEY = "compose:"  # a project line's row key: "compose:" + its name (a container id never holds a ":")
FOLDED, UNFOLDED = "▸ ", "▾ "


def project_key(project: str) -> str:
    return PROJECT_KEY + project


def key_project(key: str | None) -> str | None:
    """The project a board row key is the line of (None: a container's row)."""
    return key[len(PROJECT_KEY):] if key is not None and key.startswith(PROJECT_KEY) else None


def project_cells(project: str, members: list[tuple[Row, Observation | None, list[Finding]]],
                  folded: bool) -> tuple[Text, ...]:
    """A Compose project's line: ▸/▾ (folded or not), its name and container count, how many run, their restarts,
    its worst finding (its members come worst first) and where its compose file is. The name is untrusted: Text."""
    name = Text(FOLDED if folded else UNFOLDED, style="bold") + Text(project, style="bold magenta")
    name.append(f" ({len(members)})", style="dim")
    states = [obs.container.state if obs is not None else row.state for row, obs, _ in members]
    running = sum(s == "running" for s in states)
    state = Text(f"{running}/{len(members)} up", style="green" if running == len(members) else "yellow")
    restarts = sum(obs.container.restart_count for _, obs, _ in members if obs is not None)
    worst = next((found[0] for _, _, found in members if found), None)
    if worst is not None:
        finding = badge(worst.severity) + Text(" " + worst.playbook_id)
    elif all(obs is not None for _, obs, _ in members):
        finding = Text("ok", style="green")
    else:
        finding = Text("…", style="dim")
    where = next((obs.container.compose for _, obs, _ in members
                  if obs is not None and obs.container.compose is not None), None)
    if where is None:
        where = next((row.compose for row, _, _ in members if row.compose is not None), None)
    files = ""
    if where is not None:
        first = where.config_files[0] if where.config_files else ""
        files = first if first.startswith("/") or not where.working_dir else f"{where.working_dir.rstrip('/')}/{first}"
    return (name, state, Text(str(restarts) if restarts else "", style="yellow" if restarts else ""), Text(""),
            finding, Text(files, style="dim"))


def project_summary(project: str, members: list[tuple[Row, Observation | None, list[Finding]]]) -> list[Text]:
    """The findings pane for a project line: where its files are, then each member and its top finding."""
    lines = [Text("Compose project ", style="bold") + Text(project, style="bold magenta")
             + Text(f": {len(members)} container(s)", style="bold")]
    compose = next((row.compose for row, _, _ in members if row.compose is not None), None)
    if compose is not None and compose.working_dir:
        lines.append(Text("   working dir: ", style="dim") + Text(compose.working_dir))
    if compose is not None and compose.config_files:
        lines.append(Text("   files: ", style="dim") + Text(", ".join(compose.config_files)))
    for row, obs, found in members:
        line = Text("   • ") + Text(row.name, style="bold")
        if row.compose is not None and row.compose.service:
            line.append(f" ({row.compose.service})")  # append: plain text, never markup
        line.append("  ")
        line.append_text((badge(found[0].severity) + Text(" " + found[0].playbook_id)) if found
                         else Text("ok" if obs is not None else "…", style="green" if obs is not None else "dim"))
        lines.append(line)
    lines.append(Text("   enter or z: fold / unfold the project", style="italic dim"))
    return lines


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
    compose = [row.compose.project, row.compose.service] if row.compose is not None else []
    hay = " ".join([row.name, row.image, row.state, *compose] + [f.playbook_id for f in found]).lower()
    return all(part in hay for part in needle.split())
