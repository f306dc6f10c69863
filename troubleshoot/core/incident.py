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

from ..clean import clean_text
from .commands import placeholder_values
from .diagnose import Finding
from .facts import Host, Observation, parse_time
from .fixform import COMPOSE_KEYS, compose_fix, compose_prevention, step_changes
from .playbooks import _PLACEHOLDER, CAUSE_VALUE, Catalog, Playbook, Step
from .secrets import SecretValues, mask, mask_known
from .signals import REGISTRY, format_value, human_seconds

OUTPUT_LINES = 200  # kept per step in the record
VALUE_CHARS = 200  # an evidence value quoted in a written cause
ROOT_CAUSE_CHARS = 2000  # the root cause an engineer confirms or edits
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


def _hide(text: str, secrets: Iterable[str]) -> str:
    """The container's own secret values masked in `text` (already masked by the boundary otherwise: no second
    pass of the heuristics, which would take an image `app-secrets:1` for a secret)."""
    for value in secrets:
        if value and value in text:
            text = text.replace(value, mask(value))
    return text


def _value_text(text: str, secrets: Iterable[str]) -> str:
    """An evidence value as a cause quotes it: masked, on one line, without backticks (so a value inside a
    template's code span cannot close it), bounded."""
    text = " ".join(_hide(clean_text(str(text)), secrets).split()).replace("`", "'")
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS - 1] + "…"


def evidence_values(obs: Observation | None, host: Host, signals: dict[str, Any]) -> dict[str, str]:
    """Every value a `cause:` template may name, as text: the command placeholders (core/commands.py), every signal
    that has a value (formatted as evidence is: `25.2 MB`; a list joined with ` | `), and the cause-only values:
    `probe` (the health check command), `probe_output` (its last result), `last_log` (the last log line). A signal
    with no value (None, false, empty) is absent, so a template that needs it is not used."""
    secrets = known_secrets(obs)
    values = {k: _value_text(v, secrets) for k, v in placeholder_values(obs, host, signals).items()}
    for name, value in signals.items():
        spec = REGISTRY.get(name)
        if name in values or name == "logs" or spec is None or value is None or value is False or value in ("", []):
            continue
        if spec.type == "bytes" and not value:
            continue  # 0 bytes is "none" (no memory limit): a cause that needs the limit does not apply
        text = " | ".join(str(v) for v in value) if spec.type == "list" else format_value(spec, value)
        values[name] = _value_text(text, secrets)
    if obs is not None:
        c = obs.container
        if c.has_healthcheck:
            test = c.healthcheck[1:] if c.healthcheck[0] in ("CMD", "CMD-SHELL") else c.healthcheck
            if test:
                values["probe"] = _value_text(" ".join(test), secrets)
        probes = c.health.probes if c.health else ()
        if probes:
            last = probes[-1]
            values["probe_output"] = _value_text(f"exit {last.exit_code}: {last.output or '(no output)'}", secrets)
        lines = [line for line in (signals.get("logs_tail") or obs.logs or ()) if str(line).strip()]
        if lines:
            values["last_log"] = _value_text(lines[-1], secrets)
    return {k: v for k, v in values.items() if v}


def fill_template(template: str, values: dict[str, str]) -> str | None:
    """The template with every `{name}` filled, or None when a value is missing (never a `{...}` left)."""
    missing = False

    def fill(m: re.Match[str]) -> str:
        nonlocal missing
        value = values.get(m.group(1))
        if not value:
            missing = True
            return ""
        return value
    text = CAUSE_VALUE.sub(fill, template)
    return None if missing else text


def written_cause(pb: Playbook | None, values: dict[str, str]) -> str:
    """This incident's root cause from its evidence: the playbook's first `cause:` template whose values are all
    known; else its first root cause (the general one); "" without a playbook."""
    if pb is None:
        return ""
    for template in pb.cause:
        text = fill_template(template, values)
        if text:
            return text
    return pb.root_cause[0] if pb.root_cause else ""


def opened_event(obs: Observation, finding: Finding, all_found: Iterable[Finding], at: datetime, source: str,
                 values: dict[str, str] | None = None, cause: str = "") -> dict:
    """The first event of a record. `values` (evidence_values) and `cause` (written_cause) are kept so that the
    RCA, later and without a daemon, fills every command and says this incident's cause."""
    c = obs.container
    secrets = known_secrets(obs)
    service = next((c.label(k) for k in SERVICE_LABELS if c.label(k)), "")
    return {"at": stamp(at), "kind": "opened", "container": c.name, "container_id": c.id, "service": service,
            "image": c.image_ref, "image_id": c.image_id, "state": c.state, "exit_code": c.exit_code,
            "oom_killed": c.oom_killed, "restarts": c.restart_count, "source": source, "impact": impact(obs),
            "finding": finding_json(finding), "also": [f.playbook_id for f in all_found if f is not finding],
            "values": {k: _hide(str(v), secrets) for k, v in (values or {}).items()},
            "cause": _hide(" ".join(cause.split()), secrets),
            # its Compose project, service and files: the RCA gives fixes and prevention in Compose terms
            "compose": {k: v for k, v in c.labels if k in COMPOSE_KEYS}}


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


def root_cause_event(at: datetime, text: str, secrets: Iterable[str]) -> dict:
    """The root cause as the engineer confirmed or edited it at export: cleaned, on one line, masked, bounded."""
    text = " ".join(mask_known(clean_text(text), secrets).split())[:ROOT_CAUSE_CHARS]
    return {"at": stamp(at), "kind": "root_cause", "text": text}


def recheck_event(at: datetime, playbook: str, still_present: bool, now_found: list[str]) -> dict:
    return {"at": stamp(at), "kind": "recheck", "playbook": playbook, "still_present": still_present,
            "now": now_found}


@dataclass
class FixOutcome:
    """A fix step and what became of it: `applied` (exit 0, a later pass verdict, no rollback after it), `failed`
    (a non-zero exit, or the step failed to run) or `tried` (ran, not verified, or rolled back)."""
    event: dict
    status: str
    why: str


@dataclass
class Incident:
    """An incident as its events tell it (a truncated last line, from a killed process, is simply absent)."""
    events: list[dict] = field(default_factory=list)

    @property
    def opened(self) -> dict:
        return next((e for e in self.events if e.get("kind") == "opened"), {})

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e.get("kind") == kind]

    def _passed_after(self, index: int) -> dict | None:
        """The verdict that judged the fix at events[index]: the first pass or fail after it (settling aside; fixes
        run one after another before it are judged together), when it is a pass and no rollback came after
        events[index]. A fix that failed its verdict stays failed, whatever a later fix achieved. In a record
        without verdicts: a re-check that found the finding gone."""
        later = self.events[index + 1:]
        if any(e.get("kind") == "rollback" for e in later):
            return None
        if self.of("verdict"):
            judged = next((e for e in later if e.get("kind") == "verdict" and e.get("status") in ("pass", "fail")),
                          None)
            return judged if judged is not None and judged.get("status") == "pass" else None
        return next((e for e in later if e.get("kind") == "recheck" and e.get("still_present") is False), None)

    @property
    def verified(self) -> dict | None:
        """The pass that closes the incident: the last verdict (settling ones aside) when it passed and nothing was
        rolled back after it; for a record without verdicts, the last re-check that found the finding gone."""
        if self.of("verdict"):
            for i in range(len(self.events) - 1, -1, -1):
                e = self.events[i]
                if e.get("kind") == "verdict" and e.get("status") != "settling":
                    rolled_back = any(x.get("kind") == "rollback" for x in self.events[i + 1:])
                    return e if e.get("status") == "pass" and not rolled_back else None
            return None
        done = [e for e in self.of("recheck") if e.get("still_present") is False]
        return done[-1] if done else None

    def fixes(self) -> list[FixOutcome]:
        out = []
        for i, e in enumerate(self.events):
            if e.get("kind") != "step" or e.get("phase") != "fix":
                continue
            code = e.get("exit_code")
            if e.get("failed") or (isinstance(code, int) and code != 0):
                out.append(FixOutcome(e, "failed", str(e.get("failed") or f"exit {code}")))
                continue
            passed = self._passed_after(i)
            if passed is not None and code == 0:
                out.append(FixOutcome(e, "applied", f"verified at {_hm(passed.get('at'))}"))
            elif any(x.get("kind") == "rollback" for x in self.events[i + 1:]):
                at = next(x for x in self.events[i + 1:] if x.get("kind") == "rollback").get("at")
                out.append(FixOutcome(e, "tried", f"exit {code}, rolled back at {_hm(at)}"))
            elif (judged := next((x for x in self.events[i + 1:] if x.get("kind") == "verdict"
                                  and x.get("status") == "fail"), None)) is not None:
                out.append(FixOutcome(e, "tried", f"exit {code}, verify failed at {_hm(judged.get('at'))}"))
            else:
                out.append(FixOutcome(e, "tried", f"exit {code}, no passing verdict after it"))
        return out

    @property
    def root_cause(self) -> str:
        """The engineer's last confirmed root cause, else the one written from the evidence when it was opened."""
        confirmed = [e for e in self.of("root_cause") if str(e.get("text") or "").strip()]
        if confirmed:
            return str(confirmed[-1]["text"])
        return str(self.opened.get("cause") or "")

    def values(self) -> dict[str, str]:
        """The evidence values kept when it was opened (older records: what the opened event itself names)."""
        o = self.opened
        values = {k: str(v) for k, v in (o.get("values") or {}).items() if isinstance(k, str) and v}
        for key, field_name in (("container", "container"), ("container_id", "container_id"), ("image", "image"),
                                ("image_id", "image_id")):
            if not values.get(key) and o.get(field_name):
                values[key] = str(o[field_name])
        return values


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


_CODE_SPAN = re.compile(r"`([^`]+)`")


def md_text(value: Any) -> str:
    """Text written with `code` spans (a playbook's words, a root cause) as Markdown: each span stays a code span
    (`md_code`, which it cannot close), everything else is inert (`md`). An unpaired backtick is shown as one."""
    text = " ".join(str(value).split())
    out, pos = [], 0
    for m in _CODE_SPAN.finditer(text):
        out.append(_md_piece(text[pos:m.start()]))
        out.append(md_code(m.group(1)))
        pos = m.end()
    out.append(_md_piece(text[pos:]))
    return "".join(out)


def _md_piece(text: str) -> str:
    """md() of the text around code spans, its surrounding spaces kept (md() would drop them)."""
    if not text.strip():
        return text and " "
    lead = " " if text[0].isspace() else ""
    trail = " " if text[-1].isspace() else ""
    return lead + md(text) + trail  # mid-line, md()'s escape of a leading `-` or `1.` is harmless (shown as is)


def _filled(step: Step, values: dict[str, str]) -> str:
    """A playbook command as text with every known value filled; an unknown one shown as `<name>` for the engineer
    to fill (never a `{...}` left)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1)) or f"<{m.group(1)}>", step.run_text)


def _step_line(i: int, s: Step, values: dict[str, str]) -> str:
    return f"{i}. {md_text(s.title)}" + (f": {md_code(_filled(s, values))}" if s.run_text else "")


def _step_block(e: dict) -> list[str]:
    out = [str(line).replace("\r", "") for line in e.get("output") or []]
    block = [f"$ {' '.join(str(e.get('command', '')).splitlines())}"]
    if len(out) > RCA_OUTPUT_LINES:
        block.append(f"... ({len(out) - RCA_OUTPUT_LINES} earlier lines in the incident record)")
    block += [piece for line in out[-RCA_OUTPUT_LINES:] for piece in line.split("\n")]
    block.append(f"(exit {e.get('exit_code')})" + (f" failed: {' '.join(str(e['failed']).split())}"
                                                  if e.get("failed") else ""))
    fence = md_fence(block)
    number = e.get("number")
    label = f"Step {number}" if isinstance(number, int) and not isinstance(number, bool) else "Step"
    extra = ""
    if e.get("action") == "recreate":
        extra = (f"; recreated: old {md_code(str(e.get('old_id') or '?')[:12])} → "
                 f"new {md_code(str(e.get('new_id') or '?')[:12])}")
    return [f"**{label}: {md(e.get('title', '?'))}** ({md(e.get('phase', '?'))}, {_hm(e.get('at'))}"
            + (", confirmed by the engineer" if e.get("confirmed") else "") + extra + ")", "",
            fence, *block, fence, ""]


def _reasons(e: dict) -> str:
    reasons = e.get("reasons")
    return "; ".join(str(r) for r in reasons) if isinstance(reasons, list) and reasons else ""


def render_rca(incident: Incident, catalog: Catalog, recorded: bool = True) -> str:
    """The RCA, in Markdown, in the seed's form; everything in it was masked when recorded. Every string it quotes
    (from the container, the daemon, the playbook, the engineer) is escaped (`md`, `md_text`, `md_code`,
    `md_fence`). `recorded`: from an incident record (False: from a scan just now, nothing was recorded)."""
    o = incident.opened
    f = o.get("finding") or {}
    pb = catalog.get(f.get("playbook", ""))
    values = incident.values()
    raw_name = o.get("container", "?")
    name = md(raw_name)
    title = f.get("title", "container failure")
    lines: list[str] = [f"# Incident: {md(title)} — {name}", ""]
    verified = incident.verified
    first = f"{name} ({md(o.get('image', '?'))})"
    when = (f"{_when(o.get('at'))} (incident record opened)" if recorded
            else f"{_when(o.get('at'))} (from a scan now: no incident record, no step recorded)")
    lines += ["## Incident", "",
              f"{first} was found {md(o.get('state', '?'))} by troubleshoot: **{md(f.get('title', '?'))}** "
              f"({md_code(f.get('playbook', '?'))}, {md(f.get('severity', '?'))}, {md(f.get('confidence', '?'))})."
              + (f" Also matched: {md(', '.join(map(str, o['also'])))}." if o.get("also") else ""), "",
              f"- **Time:** {when}" + (f"; verified fixed at {_when(verified['at'])}" if verified else ""),
              f"- **Service:** {md(o.get('service') or raw_name)} (container {md_code(raw_name)}, "
              f"id {md_code(str(o.get('container_id') or '')[:12])}, "
              f"image {md_code(o.get('image', '?'))} = {md_code(str(o.get('image_id') or '?')[:19])})",
              f"- **Impact:** {md(o.get('impact', '?'))}", f"- **Source:** {md(o.get('source', '?'))}", "", "---", "",
              "## Step-by-step troubleshooting", ""]
    lines += ["Evidence collected when the incident was opened:", ""]
    lines += [f"- {md(e)}" for e in f.get("evidence") or ["(none recorded)"]]
    lines.append("")
    timeline = [e for e in incident.events if e.get("kind") in ("step", "note", "recheck", "verdict", "rollback")]
    if not any(e.get("kind") == "step" for e in timeline):
        lines += ["No step was run from troubleshoot; the playbook's first checks are:", ""]
        lines += [_step_line(i, s, values) for i, s in enumerate(pb.diagnose if pb else (), 1)]
        lines.append("")
    for e in timeline:
        kind = e["kind"]
        if kind == "step":
            lines += _step_block(e)
        elif kind == "note":
            lines += [f"**Note** ({_hm(e.get('at'))}): {md(e.get('text', ''))}", ""]
        elif kind == "recheck":
            verdict = ("still present" if e.get("still_present")
                       else f"gone (now: {md(', '.join(map(str, e.get('now') or [])) or 'nothing')})")
            lines += [f"**Re-check** ({_hm(e.get('at'))}): {md_code(e.get('playbook'))} {verdict}", ""]
        elif kind == "verdict":
            why = _reasons(e)
            lines += [f"**Verdict** ({_hm(e.get('at'))}): {md_code(e.get('playbook'))} **{md(e.get('status', '?'))}**"
                      + (f": {md(why)}" if why else ""), ""]
        else:
            lines += [f"**Rollback** ({_hm(e.get('at'))}): restored {md_code(str(e.get('restored_id') or '?')[:12])}, "
                      f"removed {md_code(str(e.get('removed_id') or '?')[:12])}, exit {md(e.get('exit_code'))}", ""]
    lines += ["---", "", "## Root Cause Analysis (RCA)", ""]
    cause = incident.root_cause
    confirmed = bool(incident.of("root_cause"))
    general = list(pb.root_cause) if pb else []
    if cause:
        lines += [f"1. {md_text(cause)}"
                  + (" (confirmed by the engineer)" if confirmed else " (written from the evidence)")]
        others = [c for c in general if c != cause]
        if others:
            lines += ["", "What usually causes this kind of incident (the playbook):", ""]
            lines += [f"- {md_text(c)}" for c in others]
    else:
        lines += [f"{i}. {md_text(c)}" for i, c in enumerate(general, 1)] or ["(the playbook names no root cause)"]
    final = cause or (general[0] if general else str(title))
    lines += ["", f"**Final RCA:** {md_text(final.rstrip('.'))} → {md(f.get('title', '?'))} → "
              f"{md(str(o.get('impact', '?')).rstrip('.'))}.", "", "---", ""]
    outcomes = incident.fixes()
    applied = [x for x in outcomes if x.status == "applied"]
    tried = [x for x in outcomes if x.status == "tried"]
    failed = [x for x in outcomes if x.status == "failed"]
    lines += ["## Fix Applied" if applied else "## Fix Applied: none", ""]

    def fix_line(i: int, x: FixOutcome) -> str:
        e = x.event
        number = e.get("number")
        step = f"step {number}, " if isinstance(number, int) and not isinstance(number, bool) else ""
        return (f"{i}. {md(e.get('title', '?'))}: {md_code(e.get('command', ''))} ({step}{_hm(e.get('at'))}): "
                f"{md(x.why)}")
    if applied:
        lines += [fix_line(i, x) for i, x in enumerate(applied, 1)]
    elif outcomes:
        lines.append("No fix run from troubleshoot passed its verification.")
    if tried:
        lines += ["", "**Tried (not verified):**", ""] + [fix_line(i, x) for i, x in enumerate(tried, 1)]
    if failed:
        lines += ["", "**Failed:**", ""] + [fix_line(i, x) for i, x in enumerate(failed, 1)]
    compose = o.get("compose") if isinstance(o.get("compose"), dict) else {}
    if not outcomes:
        lines += ["No fix was run from troubleshoot. The playbook's fix:", ""]
        for i, s in enumerate(pb.fix if pb else (), 1):
            cfix = compose_fix(compose, step_changes(s, values), lambda _k, v: v) if compose else None
            if cfix is None:
                lines.append(_step_line(i, s, values))
            else:  # a Compose service: its file's fragment and `up -d`, not a docker run it would undo
                lines += [f"{i}. {md_text(s.title)}: in {md_code(cfix.target.file)}, service "
                          f"{md_code(cfix.target.service)}:", "", md_fence([cfix.fragment]), cfix.fragment,
                          md_fence([cfix.fragment]), "", f"   then {md_code(cfix.commands[0])}"]
    judged = [e for e in incident.events if e.get("kind") in ("verdict", "recheck")]
    lines.append("")
    if verified:
        how = ("verdict **pass**" + (f" ({md(_reasons(verified))})" if _reasons(verified) else "")
               if verified.get("kind") == "verdict" else "re-check: no longer found")
        lines.append(f"Verified at {_hm(verified.get('at'))}: {md_code(verified.get('playbook'))} {how}.")
    elif judged:
        last = judged[-1]
        state = (f"verdict {md(last.get('status', '?'))}" + (f" ({md(_reasons(last))})" if _reasons(last) else "")
                 if last.get("kind") == "verdict" else
                 ("still present" if last.get("still_present") else "gone, but a later step undid it"))
        if incident.of("rollback") and last.get("kind") == "verdict" and last.get("status") == "pass":
            state += ", then rolled back"
        lines.append(f"Not verified: at {_hm(last.get('at'))} {md_code(last.get('playbook'))}: {state}.")
    else:
        lines.append("Not verified from troubleshoot (no re-check recorded).")
    lines += ["", "---", "", "## Preventive Actions", ""]
    prevent = ([compose_prevention(compose)] if compose_prevention(compose) else []) + list(pb.prevent if pb else ())
    lines += [f"{i}. {md_text(p)}" for i, p in enumerate(prevent, 1)] or ["(none in the playbook)"]
    lines += ["", "---", "", "## Lesson", "", f"> {md_text(pb.lesson)}" if pb and pb.lesson else "(none)", ""]
    notes = incident.of("note")
    if notes:
        lines += ["## Notes", ""] + [f"- {_hm(e.get('at'))} {md(e.get('text', ''))}" for e in notes] + [""]
    lines += ["## Timeline", ""]
    for e in incident.events:
        lines.append(f"- {_hm(e.get('at'))} {md(describe(e))}")
    return "\n".join(lines) + "\n"


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
    if kind == "verdict":
        reasons = e.get("reasons")
        why = "; ".join(map(str, reasons)) if isinstance(reasons, list) and reasons else ""
        return f"verdict: {e.get('playbook')} {e.get('status')}" + (f" ({why})" if why else "")
    if kind == "rollback":
        return (f"rollback: restored {str(e.get('restored_id') or '?')[:12]}, removed "
                f"{str(e.get('removed_id') or '?')[:12]} (exit {e.get('exit_code')})")
    if kind == "root_cause":
        return f"root cause confirmed: {e.get('text')}"
    if kind == "followed":
        return (f"after up -d: {e.get('service')}'s container is now {str(e.get('new_id') or '?')[:12]} "
                f"(was {str(e.get('old_id') or '?')[:12]})")
    if kind == "exported":
        return f"RCA exported to {e.get('path')}"
    return str(kind)
