"""The incident record: a timeline of events while an engineer works one container, and the RCA written from it.

Pure: events are plain dicts (what is appended, one JSON line each, by `troubleshoot/incidents.py`); secrets are
masked when an event is made, so nothing unmasked is ever written. The RCA follows the form engineers write
(../shared/seeds/incident-latest-tag-rca.txt): Incident, Time, Service, Impact, step-by-step troubleshooting, root
cause analysis with a final RCA line, fix applied, preventive actions, lesson.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

from .diagnose import Finding
from .facts import Observation, parse_time
from .playbooks import Catalog
from .secrets import SecretValues, mask_known
from .signals import human_seconds

OUTPUT_LINES = 200  # kept per step in the record
RCA_OUTPUT_LINES = 12  # quoted per step in the RCA
SERVICE_LABELS = ("com.docker.compose.service", "com.docker.swarm.service.name", "io.kubernetes.container.name")


def stamp(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def known_secrets(obs: Observation | None) -> SecretValues:
    """The container's own raw secret values (kept by the boundary in an opaque holder, never printed): to hide
    them in what a step prints or a note says."""
    return obs.secrets if obs is not None else SecretValues()


def impact(obs: Observation) -> str:
    """What is broken for the service, from the container's state, in one sentence."""
    c = obs.container
    name = c.name
    if c.state in ("exited", "dead"):
        why = " (OOMKilled: out of memory)" if c.oom_killed else ""
        ran = c.seconds_ran
        text = f"{name} is down: exited with code {c.exit_code}{why}"
        if ran is not None:
            text += f" after running {human_seconds(ran)}"
        if c.error:
            text += f"; the daemon said: {c.error}"
    elif c.state == "created":
        text = f"{name} never started" + (f": {c.error}" if c.error else "")
    elif c.state == "restarting":
        text = f"{name} is in a restart loop (exit code {c.exit_code}, {c.restart_count} restarts): it never serves"
    elif c.health and c.health.status == "unhealthy":
        text = f"{name} runs but fails its health check: traffic that depends on it fails"
    elif c.state == "running":
        text = f"{name} is running; the finding is a risk to it rather than an outage"
    else:
        text = f"{name} is {c.state}"
    if c.restart_count and c.state != "restarting":
        text += f"; restarted {c.restart_count} times"
    return text + "."


def opened_event(obs: Observation, finding: Finding, all_found: Iterable[Finding], at: datetime, source: str) -> dict:
    c = obs.container
    service = next((c.label(k) for k in SERVICE_LABELS if c.label(k)), "")
    return {"at": stamp(at), "kind": "opened", "container": c.name, "container_id": c.id, "service": service,
            "image": c.image_ref, "image_id": c.image_id, "state": c.state, "exit_code": c.exit_code,
            "oom_killed": c.oom_killed, "restarts": c.restart_count, "source": source, "impact": impact(obs),
            "finding": finding_json(finding), "also": [f.playbook_id for f in all_found if f is not finding]}


def finding_json(f: Finding) -> dict:
    return {"playbook": f.playbook_id, "title": f.title, "severity": f.severity, "confidence": f.confidence,
            "evidence": list(f.evidence)}


def step_event(at: datetime, phase: str, number: int, title: str, command: str, exit_code: int | None,
               lines: Iterable[str], secrets: Iterable[str], confirmed: bool = False) -> dict:
    out = [mask_known(line, secrets) for line in lines][-OUTPUT_LINES:]
    return {"at": stamp(at), "kind": "step", "phase": phase, "number": number, "title": title,
            "command": mask_known(command, secrets), "exit_code": exit_code, "output": out, "confirmed": confirmed}


def note_event(at: datetime, text: str, secrets: Iterable[str]) -> dict:
    return {"at": stamp(at), "kind": "note", "text": mask_known(" ".join(text.split()), secrets)}


def recheck_event(at: datetime, playbook: str, still_present: bool, now_found: list[str]) -> dict:
    return {"at": stamp(at), "kind": "recheck", "playbook": playbook, "still_present": still_present,
            "now": now_found}


@dataclass
class Incident:
    """An incident as its events tell it (a truncated last line, from a killed process, is simply absent)."""
    events: list[dict] = field(default_factory=list)

    @property
    def opened(self) -> dict:
        return next((e for e in self.events if e.get("kind") == "opened"), {})

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e.get("kind") == kind]

    @property
    def verified(self) -> dict | None:
        done = [e for e in self.of("recheck") if not e.get("still_present")]
        return done[-1] if done else None


def _when(value: str | None) -> str:
    at = parse_time(value)
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else "?"


def _hm(value: str | None) -> str:
    at = parse_time(value)
    return at.strftime("%H:%M:%S") if at else "?"


_MD_ESCAPE = re.compile(r"([\\`*_\[\]#|~])")
_MD_LINE_START = re.compile(r"^(\s*)(?:([-+=])|(\d+)([.)]))")


def md(value: Any) -> str:
    """Untrusted text (a container name, a label, evidence, a note, a playbook's words) made inert inside Markdown
    text: on one line; HTML's < > & as entities; Markdown's \\ ` * _ [ ] # | ~ escaped; a leading - + = or `1.` cannot
    start a list, a quote or a heading underline. `](javascript:...)` cannot become a link without `]`."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_ESCAPE.sub(r"\\\1", text)
    return _MD_LINE_START.sub(lambda m: (m.group(1) + "\\" + m.group(2) if m.group(2)
                                         else m.group(1) + m.group(3) + "\\" + m.group(4)), text)


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def md_code(value: Any) -> str:
    """Untrusted text as an inline code span that it cannot close: delimited by more backticks than its longest
    run (CommonMark), on one line. HTML inside a code span is shown as text."""
    text = " ".join(str(value).split("\n")).replace("\r", " ")
    fence = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_fence(lines: list[str]) -> str:
    """A fence for a code block holding these lines: longer than any backtick run in them (at least three), so no
    line can close it."""
    return "`" * max(3, _longest_backtick_run("\n".join(lines)) + 1)


def render_rca(incident: Incident, catalog: Catalog) -> str:
    """The RCA, in Markdown, in the seed's form; everything in it was masked when recorded. Every string it quotes
    (from the container, the daemon, the playbook, the engineer) is escaped (`md`, `md_code`, `md_fence`)."""
    o = incident.opened
    f = o.get("finding") or {}
    pb = catalog.get(f.get("playbook", ""))
    raw_name = o.get("container", "?")
    name = md(raw_name)
    lines: list[str] = [f"# Incident: {md(f.get('title', 'container failure'))} — {name}", ""]
    steps = incident.of("step")
    notes = incident.of("note")
    fixes = [s for s in steps if s.get("phase") == "fix"]
    first = f"{name} ({md(o.get('image', '?'))})"
    lines += ["## Incident", "",
              f"{first} was found {md(o.get('state', '?'))} by troubleshoot: **{md(f.get('title', '?'))}** "
              f"({md_code(f.get('playbook', '?'))}, {md(f.get('severity', '?'))}, {md(f.get('confidence', '?'))})."
              + (f" Also matched: {md(', '.join(map(str, o['also'])))}." if o.get("also") else ""), "",
              f"- **Time:** {_when(o.get('at'))} (incident record opened)"
              + (f"; verified fixed at {_when(incident.verified['at'])}" if incident.verified else ""),
              f"- **Service:** {md(o.get('service') or raw_name)} (container {md_code(raw_name)}, "
              f"id {md_code(str(o.get('container_id') or '')[:12])}, "
              f"image {md_code(o.get('image', '?'))} = {md_code(str(o.get('image_id') or '?')[:19])})",
              f"- **Impact:** {md(o.get('impact', '?'))}", f"- **Source:** {md(o.get('source', '?'))}", "", "---", "",
              "## Step-by-step troubleshooting", ""]
    lines += ["Evidence collected when the incident was opened:", ""]
    lines += [f"- {md(e)}" for e in f.get("evidence") or ["(none recorded)"]]
    lines.append("")
    timeline = [e for e in incident.events if e.get("kind") in ("step", "note", "recheck")]
    if not timeline:
        lines += ["No step was run from troubleshoot; the playbook's first checks are:", ""]
        for i, s in enumerate(pb.diagnose if pb else (), 1):
            lines.append(f"{i}. {md(s.title)}" + (f": {md_code(_filled(s.run_text, raw_name))}" if s.run_text else ""))
        lines.append("")
    for n, e in enumerate(timeline, 1):
        if e["kind"] == "step":
            out = [str(line).replace("\r", "") for line in e.get("output") or []]
            block = [f"$ {' '.join(str(e.get('command', '')).splitlines())}"]
            if len(out) > RCA_OUTPUT_LINES:
                block.append(f"... ({len(out) - RCA_OUTPUT_LINES} earlier lines in the incident record)")
            block += [piece for line in out[-RCA_OUTPUT_LINES:] for piece in line.split("\n")]
            block.append(f"(exit {e.get('exit_code')})")
            fence = md_fence(block)
            lines += [f"**Step {n}: {md(e.get('title', '?'))}** ({md(e.get('phase', '?'))}, {_hm(e.get('at'))}"
                      + (", confirmed by the engineer" if e.get("confirmed") else "") + ")", "",
                      fence, *block, fence, ""]
        elif e["kind"] == "note":
            lines += [f"**Step {n}: note** ({_hm(e.get('at'))}): {md(e.get('text', ''))}", ""]
        else:
            verdict = ("still present" if e.get("still_present")
                       else f"gone (now: {md(', '.join(map(str, e.get('now') or [])) or 'nothing')})")
            lines += [f"**Step {n}: re-check** ({_hm(e.get('at'))}): {md_code(e.get('playbook'))} {verdict}", ""]
    lines += ["---", "", "## Root Cause Analysis (RCA)", ""]
    causes = list(pb.root_cause) if pb else []
    lines += [f"{i}. {md(c)}" for i, c in enumerate(causes, 1)] or ["(the playbook names no root cause)"]
    lines += ["", f"**Final RCA:** {md(causes[0].rstrip('.') if causes else f.get('title', '?'))} → "
              f"{md(f.get('title', '?'))} → {md(str(o.get('impact', '?')).rstrip('.'))}.", "", "---", "",
              "## Fix Applied", ""]
    if fixes:
        for i, e in enumerate(fixes, 1):
            lines.append(f"{i}. {md(e.get('title', '?'))}: {md_code(e.get('command', ''))} at {_hm(e.get('at'))}, "
                         f"exit {md(e.get('exit_code'))}")
    else:
        lines.append("No fix was run from troubleshoot. The playbook's fix:")
        lines.append("")
        for i, s in enumerate(pb.fix if pb else (), 1):
            lines.append(f"{i}. {md(s.title)}" + (f": {md_code(_filled(s.run_text, raw_name))}" if s.run_text else ""))
    v = incident.verified
    rechecks = incident.of("recheck")
    lines.append("")
    if v:
        lines.append(f"Verified at {_hm(v.get('at'))}: {md_code(v.get('playbook'))} no longer found.")
    elif rechecks:
        lines.append(f"Not verified: at {_hm(rechecks[-1].get('at'))} {md_code(rechecks[-1].get('playbook'))} "
                     "was still present.")
    else:
        lines.append("Not verified from troubleshoot (no re-check recorded).")
    lines += ["", "---", "", "## Preventive Actions", ""]
    lines += [f"{i}. {md(p)}" for i, p in enumerate(pb.prevent if pb else (), 1)] or ["(none in the playbook)"]
    lines += ["", "---", "", "## Lesson", "", f"> {md(pb.lesson)}" if pb and pb.lesson else "(none)", ""]
    if notes:
        lines += ["## Notes", ""] + [f"- {_hm(e.get('at'))} {md(e.get('text', ''))}" for e in notes] + [""]
    lines += ["## Timeline", ""]
    for e in incident.events:
        lines.append(f"- {_hm(e.get('at'))} {md(describe(e))}")
    return "\n".join(lines) + "\n"


def _filled(run_text: str, container: str) -> str:
    return run_text.replace("'{container}'", container).replace("{container}", container)


def describe(e: dict[str, Any]) -> str:
    """One line per event, for the timeline (app and RCA)."""
    kind = e.get("kind")
    if kind == "opened":
        return f"opened: {e.get('container')} — {(e.get('finding') or {}).get('playbook')}"
    if kind == "step":
        return (f"{e.get('phase')} step {e.get('number')} ran: {e.get('title')} (exit {e.get('exit_code')})"
                + (" [confirmed fix]" if e.get("confirmed") else ""))
    if kind == "note":
        return f"note: {e.get('text')}"
    if kind == "recheck":
        return f"re-check: {e.get('playbook')} " + ("still present" if e.get("still_present") else "gone")
    if kind == "exported":
        return f"RCA exported to {e.get('path')}"
    return str(kind)
