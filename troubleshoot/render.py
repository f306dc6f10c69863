"""Rich output for the CLI. Untrusted text is always passed as `Text`, never parsed as markup."""
from __future__ import annotations

import shlex
from typing import Sequence

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .core.commands import UnsafeValue, placeholder_values, render
from .core.diagnose import Finding, Report
from .core.playbooks import Catalog, Playbook, Step
from .core.signals import human_bytes, human_seconds

# One place for severity and state looks: the CLI and the app both use these.
from .styles import SEVERITY_SHORT, SEVERITY_STYLE, STATE_STYLE, badge  # noqa: F401  (render's names, as before)


def scan_table(report: Report, width: int = 120) -> Table:
    """Under 100 columns the image column goes (each finding below names it): the top finding must stay whole."""
    wide = width >= 100
    table = Table(title="Containers, worst first", expand=False, show_lines=False)
    table.add_column("CONTAINER", no_wrap=True, overflow="ellipsis", max_width=28 if wide else 22)
    table.add_column("STATE", no_wrap=True, overflow="ellipsis", max_width=None if wide else 20)
    table.add_column("RST", justify="right", no_wrap=True, min_width=3)
    if wide:
        table.add_column("IMAGE", no_wrap=True, overflow="ellipsis", max_width=30)
    table.add_column("TOP FINDING", no_wrap=True, overflow="ellipsis")
    by_id = {o.container.id: o for o in report.observations}
    projects = _members(report)
    for key in grouped_ids(report):
        project = key_project(key)
        if project is not None:
            members = [by_id[cid] for cid in projects[project]]
            worst = next((report.top(o.container.id) for o in members if report.top(o.container.id)), None)
            up = sum(o.container.state == "running" for o in members)
            head = Text("▾ ", style="bold") + Text(project, style="bold magenta")  # its count: in "2/3 up"
            table.add_row(head, Text(f"{up}/{len(members)} up", style="green" if up == len(members) else "yellow"),
                          Text(""), *([Text("compose project", style="dim")] if wide else []),
                          (badge(worst.severity, short=True) + Text(" " + worst.playbook_id)) if worst
                          else Text("ok", style="green"))
            continue
        obs = by_id[key]
        c = obs.container
        top = report.top(c.id)
        state = c.state
        if c.state in ("exited", "restarting", "created", "dead") and (c.exit_code or c.state == "exited"):
            state += f" ({c.exit_code})"
        if c.health and c.state == "running":
            state += f" {c.health.status}"
        if c.seconds_ran is not None and c.state == "exited":
            state += f" after {human_seconds(c.seconds_ran)}"
        finding = (badge(top.severity, short=True) + Text(" " + top.playbook_id)) if top else Text("ok", style="green")
        name = Text(("  " if c.compose is not None else "") + c.name, style="bold")  # under its project's line
        cells = [name, Text(state, style=STATE_STYLE.get(c.state, "")),
                 Text(str(c.restart_count) if c.restart_count else "")]
        table.add_row(*cells, *([Text(c.image_ref)] if wide else []), finding)
    return table


PROJECT_LINE = "compose:"  # a project's line among grouped_ids (a container id never holds a ":")


def key_project(key: str) -> str | None:
    return key[len(PROJECT_LINE):] if key.startswith(PROJECT_LINE) else None


def _members(report: Report) -> dict[str, list[str]]:
    from .core.compose import group
    ids = [o.container.id for o in report.observations]
    project_of = {o.container.id: o.container.compose.project for o in report.observations
                  if o.container.compose is not None}
    return {g.project: list(g.members) for g in group(ids, project_of) if g.project}


def grouped_ids(report: Report) -> list[str]:
    """The containers worst first, each Compose project's line (PROJECT_LINE + its name) where its worst member is,
    its members under it; loose containers as they are."""
    from .core.compose import group
    ids = [o.container.id for o in report.observations]
    project_of = {o.container.id: o.container.compose.project for o in report.observations
                  if o.container.compose is not None}
    out: list[str] = []
    for g in group(ids, project_of):
        out += [PROJECT_LINE + g.project, *g.members] if g.project else list(g.members)
    return out


def finding_block(f: Finding, pb: Playbook | None, report: Report, host_flag: Sequence[str] = ()) -> Panel:
    """`host_flag`: several hosts: `-H URL` / `--context NAME` of the report's host, in the docker command shown."""
    parts: list = []
    head = Text()
    head.append_text(badge(f.severity))
    head.append(f" {f.title}", style="bold")
    head.append(f"  [{f.playbook_id}{', likely' if f.confidence == 'likely' else ''}]", style="dim")
    parts.append(head)
    for line in f.evidence:
        parts.append(Text("  • ") + Text(line))
    if pb is not None and pb.diagnose:
        obs = next((o for o in report.observations if o.container.id == f.container_id), None)
        cmd = _first_command(pb.diagnose, obs, report, host_flag)
        if cmd:
            parts.append(Text("  next: ", style="dim") + Text(cmd, style="cyan"))
    title = Text(f.container or "host")
    compose = next((o.container.compose for o in report.observations if o.container.id == f.container_id), None)
    if compose is not None:  # which project and service it belongs to (untrusted: Text, never markup)
        title.append(f" · {compose.project}/{compose.service}" if compose.service else f" · {compose.project}",
                     style="magenta")
    return Panel(Group(*parts), title=title, title_align="left", expand=True)


def _first_command(steps: tuple[Step, ...], obs, report: Report, host_flag: Sequence[str] = ()) -> str | None:
    from .core.signals import container_signals
    from .hostflag import with_host
    values = placeholder_values(obs, report.host, container_signals(obs, report.host) if obs is not None else None)
    for step in steps:
        if step.run and not step.interactive:
            try:
                return shlex.join(with_host(render(step, values), host_flag))
            except UnsafeValue:
                continue
    return None


def print_scan(console: Console, report: Report, catalog: Catalog, all_findings: bool = False,
               host_flag: Sequence[str] = ()) -> None:
    h = report.host
    host_line = Text(f"daemon {h.name} · {h.engine_label} · {h.architecture} · {h.ncpu} CPU", style="dim")
    console.print(host_line)
    if not report.observations:
        console.print(Text("No containers matched.", style="yellow"))
    else:
        console.print(scan_table(report, console.width))
    shown = report.findings if all_findings else [f for f in report.findings if f.severity != "info"]
    place = {key: i for i, key in enumerate(grouped_ids(report))}  # in the table's order: by project, worst first
    shown = sorted(shown, key=lambda f: place.get(f.container_id or "", -1))
    for f in shown:
        console.print(finding_block(f, catalog.get(f.playbook_id), report, host_flag))
    crit = sum(f.severity == "critical" for f in report.findings)
    warn = sum(f.severity == "warning" for f in report.findings)
    console.print(Text(f"{len(report.observations)} containers, {crit} critical, {warn} warning findings.",
                       style="bold red" if crit else ("yellow" if warn else "green")))


def playbook_table(catalog: Catalog) -> Table:
    table = Table(title=f"{len(catalog)} playbooks")
    for col in ("ID", "SEVERITY", "KIND", "SCOPE", "TITLE", "FILE"):
        table.add_column(col, overflow="fold")
    overridden = {pid for pid, _old, _new in catalog.overridden}
    for pb in catalog:
        table.add_row(Text(pb.id, style="bold"), badge(pb.severity), Text(pb.kind), Text(pb.scope), Text(pb.title),
                      Text(pb.path + (" (override)" if pb.id in overridden else ""), style="dim"))
    return table


def _steps(title: str, steps: tuple[Step, ...]) -> list:
    out: list = [Text(title, style="bold underline")]
    for i, s in enumerate(steps, 1):
        out.append(Text(f"{i}. ") + Text(s.title) + Text(f"  ({s.kind})", style="red" if s.is_change else "dim"))
        if s.run:
            out.append(Text("   $ ", style="dim") + Text(s.run_text, style="cyan"))
        if s.dockerfile:
            out.append(Text("   " + s.dockerfile.rstrip().replace("\n", "\n   "), style="green"))
        if s.look_for:
            out.append(Text("   look for: ", style="dim") + Text(s.look_for))
    return out


def playbook_detail(pb: Playbook) -> Panel:
    parts: list = [badge(pb.severity) + Text(f" {pb.title}", style="bold"),
                   Text(f"{pb.kind}, {pb.scope}, priority {pb.priority}. {pb.source}", style="dim"),
                   Text("Symptom: ", style="bold") + Text(pb.symptom),
                   Text("Root cause:", style="bold")]
    parts += [Text(f"  - {rc}") for rc in pb.root_cause]
    parts += _steps("Diagnose", pb.diagnose)
    if pb.fix:
        parts += _steps("Fix", pb.fix)
    if pb.verify:
        parts += _steps("Verify", pb.verify)
    if pb.prevent:
        parts.append(Text("Prevent", style="bold underline"))
        parts += [Text(f"  - {p}") for p in pb.prevent]
    if pb.lesson:
        parts.append(Text("Lesson: ", style="bold") + Text(pb.lesson, style="italic"))
    return Panel(Group(*parts), title=Text(pb.id), subtitle=Text(pb.path, style="dim"), title_align="left")


def lab_table(scenarios, not_in_lab) -> Table:
    table = Table(title="training lab: one real broken container per playbook", title_justify="left")
    table.add_column("SCENARIO (playbook)", style="bold")
    table.add_column("CONTAINER")
    table.add_column("WHAT BREAKS")
    for sid, sc in scenarios.items():
        table.add_row(sid, f"lab-{sid}", sc.what)
    for sid, why in not_in_lab.items():
        table.add_row(Text(sid, style="dim"), Text("-", style="dim"), Text(f"not in the lab: {why}", style="dim"))
    return table


def print_dockerfile(console: Console, file, findings) -> None:
    """Each finding: severity, line, what is wrong, and the fixed fragment."""
    from .dockerfile import source_lines
    lines = source_lines(file)
    if not findings:
        console.print(Text(f"{file}: no findings", style="green"))
        return
    console.print(Text(f"{file}: {len(findings)} finding(s)", style="bold"))
    for f in findings:
        head = badge(f.severity) + Text(f" {f.rule}", style="bold") + Text(f"  line {f.line}", style="dim")
        body: list = [Text(f.message)]
        if 0 < f.line <= len(lines):
            body.append(Text(f"  {f.line:>3} | ", style="dim") + Text(lines[f.line - 1], style="yellow"))
        body.append(Text("fix:", style="bold"))
        body.append(Text("  " + f.fix.rstrip().replace("\n", "\n  "), style="green"))
        console.print(Panel(Group(*body), title=head, title_align="left", expand=True))


def print_verify(console: Console, results) -> None:
    table = Table(title="image digests: expected vs running", title_justify="left")
    for col in ("NAME", "CONTAINER", "STATUS", "EXPECTED", "RUNNING"):
        table.add_column(col)
    for r in results:
        status = {"ok": Text("ok", style="green"), "mismatch": badge("critical") + Text(" wrong image"),
                  "missing": badge("warning") + Text(" no container")}[r.status]
        running = Text("")
        if r.container:
            running = Text(f"{r.running_image}\nid {r.running_id[:19]}")
            for d in r.repo_digests:
                running.append(f"\n{d.split('@')[-1][:19]}")
            if r.image_created:
                running.append(f"\nbuilt {r.image_created[:19]}", style="dim")
        table.add_row(Text(r.expected.name), Text(r.container or "-"), status,
                      Text(r.expected.digest[:19]), running)
    console.print(table)
    bad = [r for r in results if r.status == "mismatch"]
    if bad:
        console.print(Text(f"{len(bad)} container(s) run another image than the pipeline built: redeploy by digest "
                           "(image@sha256:...), and make the pipeline verify it after every deploy.", style="bold red"))


def forensics_renderables(image, f) -> list:
    """The image report (layers largest first, wasted bytes, build tools, secret files), for the CLI and the app."""
    from .core.forensics import describe_secret, instruction
    name = ", ".join(image.tags) or image.short_id
    out: list = [Text(f"{name}  {image.short_id}  {human_bytes(image.size)}  {len(f.layers)} layers", style="bold")]
    table = Table(title="layers, largest first", title_justify="left")
    for col in ("#", "SIZE", "FILES", "INSTRUCTION"):
        table.add_column(col)
    for l in sorted(f.layers, key=lambda l: -l.size)[:10]:
        table.add_row(str(l.index), human_bytes(l.size), str(l.files), Text(instruction(l.created_by)))
    out.append(table)
    share = f"{100 * f.wasted_bytes / image.size:.1f}% of the image" if image.size else ""
    out.append(Text(f"wasted: {human_bytes(f.wasted_bytes)} {share} (files a later layer overwrote or deleted)",
                    style="bold yellow" if f.wasted_bytes else "green"))
    out += [Text(f"  {human_bytes(size):>9}  {path}  {why}") for path, size, why in f.wasted[:8]]
    if f.build_tools:
        out.append(Text("build tools and caches in the runtime image (use a multi-stage build):", style="bold yellow"))
        out += [Text(f"  {human_bytes(size):>9}  {what} ({n} files)") for what, size, n in f.build_tools]
    if f.secret_files:
        out.append(Text("secret files in the layers (anyone who pulls the image can extract them):", style="bold red"))
        out += [Text("  " + describe_secret(s, human_bytes(s.size))) for s in f.secret_files]
    if f.truncated:
        out.append(Text("(more than 500,000 files: the listing was cut)", style="dim"))
    return out


def print_forensics(console: Console, image, f) -> None:
    for part in forensics_renderables(image, f):
        console.print(part)
