"""Dockerfile review: pure rules over instructions that Docker's own parser produced (see troubleshoot/dockerfile.py),
plus what the build context holds (.dockerignore). Each finding names its line and shows the fixed fragment.

Rules (ids are a public contract, like playbook ids):
  slow-build-cache    the whole context is copied before the dependency install: every code change reinstalls
  no-multi-stage      build tools are installed in a single-stage image: they ship to production
  dockerignore        no .dockerignore (with `COPY .`), or one that lets .env / .git / node_modules in
  secret-in-build     ENV or ARG carrying a credential (the value is in the image's config and history)
  latest-base         FROM an image with no tag or `latest`: a rebuild takes whatever it points to that day
  no-healthcheck      the final stage has no HEALTHCHECK
  cmd-not-foreground  CMD/ENTRYPOINT starts a daemon and returns (or keeps the container alive with a hack)
"""
from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from .secrets import is_secret_name, mask, token_shape


@dataclass(frozen=True)
class Instruction:
    cmd: str  # upper case: FROM, RUN, COPY, ...
    value: tuple[str, ...]  # the parser's arguments
    line: int  # first line
    original: str
    flags: tuple[str, ...] = ()
    json: bool = False


@dataclass(frozen=True)
class DockerfileFinding:
    rule: str
    severity: str  # critical | warning | info
    line: int
    message: str
    fix: str  # the fixed fragment (Dockerfile or .dockerignore text)

    def to_json(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "line": self.line, "message": self.message,
                "fix": self.fix}


DEP_INSTALL = re.compile(
    r"\b(npm (ci|install|i)\b|yarn( install)?\s*($|&&|;)|yarn install|pnpm install|pip3? install\b.*(-r|requirements|"
    r"\.\s*$|-e \.)|poetry install|pipenv install|go mod download|bundle install|composer install|"
    r"mvn\b.*dependency|cargo fetch)")
# builds that fetch their dependencies themselves when none were installed first
IMPLICIT_DEPS = re.compile(r"\b(go build|go install|cargo build|mvn\b.*(package|install)|gradle\b.*build)")
MANIFESTS = {"npm": "package.json package-lock.json", "yarn": "package.json yarn.lock", "pnpm": "package.json pnpm-lock.yaml",
             "pip": "requirements.txt", "poetry": "pyproject.toml poetry.lock", "pipenv": "Pipfile Pipfile.lock",
             "go": "go.mod go.sum", "bundle": "Gemfile Gemfile.lock", "composer": "composer.json composer.lock",
             "mvn": "pom.xml", "gradle": "build.gradle settings.gradle", "cargo": "Cargo.toml Cargo.lock"}
BUILD_TOOLS = re.compile(r"\b(build-essential|build-base|gcc|g\+\+|clang|make|cmake|[a-z0-9.+-]+-dev|"
                         r"[a-z0-9.+-]+-devel|python3?-dev|musl-dev|libc6-dev|golang|rustc|cargo)\b")
INSTALLS = re.compile(r"\b(apt-get|apt|apk|yum|dnf|microdnf)\b[^;&|]*\b(install|add)\b([^;&|]*)")
BUILD_STEPS = re.compile(r"\b(npm run build|yarn build|go build|cargo build|mvn\b.*package|gradle\b.*build|"
                         r"make\b(?!\s*-C\s*/dev/null))")
DAEMONIZING = re.compile(r"(\bservice\s+\S+\s+start\b|\bsystemctl\b|\bnohup\b|&\s*$|\s-[dD]\b|--daemon\b|"
                         r"\bdaemon\s+on\b|\bstart-stop-daemon\b|/etc/init\.d/)")
KEEPALIVE = re.compile(r"(tail\s+-f\s+/dev/null|sleep\s+infinity|while\s+true)")
MUST_IGNORE = (".env", ".git")
_FOREGROUND = 'CMD ["nginx", "-g", "daemon off;"]   # the server itself, in the foreground, exec form'


def _stages(ins: list[Instruction]) -> list[list[Instruction]]:
    stages: list[list[Instruction]] = []
    for i in ins:
        if i.cmd == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(i)
    return stages


def _text(i: Instruction) -> str:
    return " ".join(i.value)


def _copies_whole_context(i: Instruction) -> bool:
    if i.cmd not in ("COPY", "ADD") or any(f.startswith("--from") for f in i.flags):
        return False
    sources = i.value[:-1]
    return any(s in (".", "./", "*", "./*") for s in sources)


def _tool(cmd: str) -> str:
    for name in ("npm", "yarn", "pnpm", "poetry", "pipenv", "pip", "go", "bundle", "composer", "mvn", "gradle", "cargo"):
        if re.search(rf"\b{name}", cmd):
            return name
    return "npm"


def _stage_name(stage: list[Instruction]) -> str:
    v = stage[0].value
    return v[2] if len(v) >= 3 and v[1].upper() == "AS" else ""


def review(instructions: list[Instruction], dockerignore: str | None, context_files: AbstractSet[str] = frozenset()
           ) -> list[DockerfileFinding]:
    """All findings for one Dockerfile. `dockerignore`: the .dockerignore text, None when there is none.
    `context_files`: top-level names in the build context (to say what .dockerignore lets in)."""
    found: list[DockerfileFinding] = []
    stages = _stages(instructions)
    if not stages:
        return [DockerfileFinding("no-from", "critical", 1, "no FROM instruction: not a Dockerfile", "FROM alpine:3.20")]
    empty = next((s[0] for s in stages if not s[0].value), None)
    if empty is not None:
        return [DockerfileFinding("no-from", "critical", empty.line, "FROM without an image", "FROM alpine:3.20")]
    names = {_stage_name(s) for s in stages} - {""}

    # slow-build-cache: per stage, the whole context copied before a dependency install
    for stage in stages:
        copied = None
        installed = False  # dependencies installed before the whole context was copied: the cache holds them
        for i in stage:
            if _copies_whole_context(i) and copied is None:
                copied = i
            elif i.cmd == "RUN" and copied is None and DEP_INSTALL.search(_text(i)):
                installed = True
            elif i.cmd == "RUN" and copied is not None and (
                    DEP_INSTALL.search(_text(i)) or (not installed and IMPLICIT_DEPS.search(_text(i)))):
                tool = _tool(_text(i))
                manifests = MANIFESTS[tool]
                dest = copied.value[-1]
                found.append(DockerfileFinding(
                    "slow-build-cache", "warning", copied.line,
                    f"line {copied.line} copies the whole build context before line {i.line} installs dependencies "
                    f"({tool}): any code change invalidates the cache and reinstalls every dependency",
                    f"COPY {manifests} {dest if dest.endswith('/') else dest + '/'}\n{i.original}\n{copied.original}"))
                break

    # no-multi-stage: one stage that installs build tools or builds
    if len(stages) == 1:
        stage = stages[0]
        for i in stage:
            if i.cmd != "RUN":
                continue
            text = _text(i)
            tools = [m.group(0) for inst in INSTALLS.finditer(text) for m in BUILD_TOOLS.finditer(inst.group(3))]
            step = BUILD_STEPS.search(text)
            if tools or step is not None:
                what = (f"installs build tools ({', '.join(dict.fromkeys(tools))})" if tools or step is None else
                        f"builds in place ({step.group(0)})")
                base = stage[0].value[0]
                found.append(DockerfileFinding(
                    "no-multi-stage", "warning", i.line,
                    f"single-stage image that {what}: compilers, headers and caches ship to production "
                    "(size, attack surface)",
                    f"FROM {base} AS build\n# ... install build tools, build ...\n\nFROM <a slim runtime image>\n"
                    "COPY --from=build /app/<the built artifact> /app/"))
                break

    # dockerignore
    whole = next((i for s in stages for i in s if _copies_whole_context(i)), None)
    if whole is not None:
        if dockerignore is None:
            found.append(DockerfileFinding(
                "dockerignore", "warning", whole.line,
                f"line {whole.line} copies the whole context and there is no .dockerignore: .env, .git, local "
                "dependencies and build output all go into the image (and into every build's upload)",
                ".dockerignore:\n.git\n.env\n.env.*\nnode_modules\n__pycache__\n*.pem\nDockerfile\n"))
        else:
            patterns = [p.strip().rstrip("/") for p in dockerignore.splitlines() if p.strip() and not p.startswith("#")]
            negated = {p[1:] for p in patterns if p.startswith("!")}
            let_in = [m for m in MUST_IGNORE if m in negated or not any(
                p.lstrip("/") in (m, f"{m}*", f"{m}.*", "*", "**") or (p.lstrip("/").startswith(m) and "*" in p)
                for p in patterns if not p.startswith("!"))]
            present = [m for m in let_in if not context_files or m in context_files]
            if present:
                found.append(DockerfileFinding(
                    "dockerignore", "warning", whole.line,
                    f".dockerignore lets {', '.join(present)} into the build context, and line {whole.line} copies "
                    "it all into the image",
                    ".dockerignore (add):\n" + "\n".join(present) + "\n"))

    # secret-in-build
    for s in stages:
        for i in s:
            if i.cmd not in ("ENV", "ARG"):
                continue
            pairs: list[tuple[str, str]] = []
            if i.cmd == "ENV":
                pairs = [(i.value[k], i.value[k + 1]) for k in range(0, len(i.value) - 1, 2)]
            else:
                for v in i.value:
                    key, _, value = v.partition("=")
                    pairs.append((key, value))
            for key, value in pairs:
                kind = token_shape(value) if value else None
                if is_secret_name(key) or kind:
                    shown = f"{key}={mask(value)}" if value else key
                    found.append(DockerfileFinding(
                        "secret-in-build", "critical" if value else "warning", i.line,
                        f"{i.cmd} {shown}: a credential in {'ENV is in the image config' if i.cmd == 'ENV' else 'ARG is in the image history'} "
                        "for anyone who can pull it" + (f" ({kind})" if kind else ""),
                        f"RUN --mount=type=secret,id={key.lower()} {key}=$(cat /run/secrets/{key.lower()}) <your command>\n"
                        f"# or inject {key} at run time: docker run -e {key} / --env-file (never baked in)"))

    # latest-base
    for s in stages:
        ref = s[0].value[0] if s[0].value else ""
        if ref in names or ref.lower() == "scratch" or ref.startswith("$"):
            continue
        name = ref.split("@")[0]
        tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else ""
        if "@sha256:" not in ref and tag in ("", "latest"):
            found.append(DockerfileFinding(
                "latest-base", "warning", s[0].line,
                f"FROM {ref}: {'no tag means latest' if not tag else 'latest'} — a rebuild silently takes another "
                "image (the seed RCA: the wrong code deployed)",
                f"FROM {name.rsplit(':', 1)[0] if tag else name}:<version>@sha256:<digest>"))

    final = stages[-1]
    if not any(i.cmd == "HEALTHCHECK" for i in final):
        found.append(DockerfileFinding(
            "no-healthcheck", "info", final[-1].line,
            "the final stage has no HEALTHCHECK: Docker cannot tell a running-but-broken container from a healthy one",
            "HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD wget -qO- http://localhost:8080/health || exit 1"))

    starts = [i for i in final if i.cmd in ("CMD", "ENTRYPOINT")]
    if starts:
        last = starts[-1]
        text = _text(last) if last.json else " ".join(last.value)
        daemonizing, keepalive = DAEMONIZING.search(text), KEEPALIVE.search(text)
        if daemonizing is not None:
            found.append(DockerfileFinding(
                "cmd-not-foreground", "critical", last.line,
                f"{last.cmd} starts a daemon in the background ({daemonizing.group(0).strip()}): the "
                "command returns, so the container exits at once (Exited 0)", _FOREGROUND))
        elif keepalive is not None:  # a placeholder only: the container stays up, but not with the real process
            found.append(DockerfileFinding(
                "cmd-not-foreground", "info", last.line,
                f"{last.cmd} keeps the container alive with a placeholder ({keepalive.group(0)}): the real "
                "process is not PID 1, so its crash is invisible to Docker", _FOREGROUND))
    return sorted(found, key=lambda f: (f.line, f.rule))
