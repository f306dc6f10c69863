#!/usr/bin/env python3
"""TUI benchmark: the real `troubleshoot` in a real terminal (tmux, 120x40), read with capture-pane.

    .venv/bin/python bench/tui_bench.py [--containers 1000] [--runs 3] [--prefix bench-] [--own ht-bench-]
                                        [--keep] [--app-dir DIR] [--log-seconds 60] [--log-rate 10000] [--no-logs]
    .venv/bin/python bench/tui_bench.py --setup|--clean [--containers N] [--prefix ...] [--own ...]   # make, remove

Containers: N fillers named PREFIX-NNNN in mixed states (bench/containers.py; existing ones are reused, so the scan
benchmark's can be shared), and the bench's own, named OWN...: `worst` (OOM-killed; created before the fillers when
it can be, so last in the daemon's list: --setup), three event victims, a log writer. It only ever kills or starts
its own (OWN...) containers; at the end it removes them and the fillers, unless --keep.

Prints each goal's figure beside its target (issue 13), with `docker ps -a` on the same daemon for reference:
  launch -> first painted board (the sparse list on screen)                   goal <= 0.3 s
  launch -> the worst container's finding on screen                           goal <= 0.5 s
  launch -> every row diagnosed (the host strip's "inspecting n/N" gone)      goal <= 2 s
  a key pressed during the first load -> its effect on screen (other launches) goal <= 0.1 s
  a die / oom / health_status event (the daemon's event time) -> on screen    goal <= 0.3 s
  RSS with the board loaded                                                   goal <= 100 MB
  RSS while following the logs of a container writing --log-rate lines/s      goal: flat
"launch" is two instants, both printed (time.time(); each figure ends at the first capture-pane showing it):
  - the app's start (the figures beside the goals): the instant the pane's shell execs the app's Python, stamped
    by that shell right before the exec (bash's $EPOCHREALTIME, a builtin: no process runs between the stamp and
    the exec). What a user waits for after typing `troubleshoot` in a shell already open: Python's own start, the
    imports, the app, tmux drawing what the app wrote. Not counted: tmux's client and server, the pane's fork,
    bash's start.
  - `tmux new-session` (the figures "from tmux"; the only one the bench printed until session 5): the instant
    before the bench runs tmux's client, so also tmux's client start, its talk with the server (kept running by a
    session that stays), the pane's fork and its shell's start (/bin/bash -c) before the exec: 0.003-0.010 s on
    this machine (printed: "tmux new-session -> the app's start").
--app-dir runs another checkout's code (`python -m troubleshoot` there) with the same bench: before/after figures;
--against DIR launches the two checkouts in turn (the same minutes of a shared machine) and prints the first loads'.
A benchmark: it prints, it never fails on a figure.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.containers import create, remove  # noqa: E402
from tests.engine import BASE, docker, ensure_base  # noqa: E402

SESSION = "tui-bench"  # on a tmux server of its own (-L): never another user's sessions
KEY_PACE = 0.2  # seconds between a key's effect and the next key (a fast typist)
LOADING = "inspecting "  # the host strip says "inspecting n/N" until every row is diagnosed
STAMP = Path(f"/tmp/tui-bench-started-{os.getpid()}")  # the app's start, stamped by its shell (Bench.launch)
FIGURES = ("paint", "worst", "visible", "all")  # timed from the app's start; KEY + "_tmux": from tmux new-session


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SESSION, *args], capture_output=True, text=True).stdout


def screen() -> str:
    return tmux("capture-pane", "-p", "-t", SESSION)


def keys(*keys_: str, literal: bool = False) -> None:
    tmux("send-keys", "-t", SESSION, *(["-l"] if literal else []), *keys_)


def wait(pred, timeout: float = 30, step: float = 0.003, what: str = "") -> float:
    """Poll the screen until `pred(text)`; the time.time() it was first seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = screen()
        if pred(text):
            return time.time()
        time.sleep(step)
    raise SystemExit(f"timed out waiting for {what or pred}; screen:\n{screen()}")


def waiting(row: str) -> bool:
    """A row from the sparse list, not inspected yet: its age and finding cells are a lone "…" (a name or finding cut
    to fit has "…" inside a word)."""
    return "…" in row.split()


def median(xs: list[float]) -> str:
    if not xs:
        return "n/a"
    return f"median {statistics.median(xs):.3f} s ({', '.join(f'{x:.3f}' for x in xs)})"


class Bench:
    def __init__(self, args) -> None:
        self.args = args
        self.prefixes = (args.prefix, args.own)
        self.worst = f"{args.own}worst"
        self.app_dir: Path = args.app_dir  # the checkout launched next (--against: the two in turn)
        self.ev = f"{args.own}ev-"

    # -- the app --------------------------------------------------------------------------------------------------
    def launch(self) -> float:
        # a session that stays: killing the app's last session makes the server exit, and a new-session racing with
        # that exit fails ("server exited unexpectedly")
        if subprocess.run(["tmux", "-L", SESSION, "has-session", "-t", "keep"], capture_output=True).returncode:
            tmux("new-session", "-d", "-s", "keep", "sleep 86400")
        tmux("kill-session", "-t", SESSION)
        STAMP.unlink(missing_ok=True)
        t0 = time.time()
        # the shell stamps its clock right before it execs the app (the app's start: see the docstring); bash named
        # here (tmux runs a command of several arguments as it is), for $EPOCHREALTIME
        tmux("new-session", "-d", "-s", SESSION, "-x", "120", "-y", "40", "-c", str(self.app_dir),
             "-e", "TERM=xterm-256color", "-e", f"XDG_CACHE_HOME={self.cache_home()}",
             "/bin/bash", "-c", f"printf %s \"$EPOCHREALTIME\" > {STAMP}; "
                                f"exec {sys.executable} -m troubleshoot --no-user-playbooks")
        return t0

    @staticmethod
    def started() -> float:
        """The instant the app's process was started (its shell's stamp right before the exec); written before the
        app draws anything, so read once its first screen was seen."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                text = STAMP.read_text()
            except FileNotFoundError:
                text = ""
            if text.strip():
                return float(text.replace(",", "."))  # $EPOCHREALTIME uses the locale's decimal point
            time.sleep(0.01)
        raise SystemExit(f"no start stamp in {STAMP}: is /bin/bash >= 5 there?")

    def cache_home(self) -> Path:
        """The app's cache (its playbooks, playbook_cache.py) kept per checkout: the cache is keyed by the code's
        files, so two checkouts measured in turn (--app-dir), or the scan benchmark run meanwhile from another
        checkout, would each find the other's entries and parse every playbook again (~0.1 s) at every launch."""
        import hashlib
        digest = hashlib.sha256(str(self.app_dir.resolve()).encode()).hexdigest()[:12]
        return Path("/tmp") / f"tui-bench-cache-{digest}"

    def prepare(self) -> None:
        """The checkout as an installed package is: its modules compiled (pip writes the .pyc files; without them,
        e.g. under PYTHONDONTWRITEBYTECODE=1, every launch compiles ~70 modules: ~0.06 s), and its playbook cache
        filled once (as by any earlier run)."""
        app_dir = str(self.app_dir)
        subprocess.run([sys.executable, "-m", "compileall", "-q", "troubleshoot"], cwd=app_dir, check=True)
        subprocess.run([sys.executable, "-c", "from troubleshoot.playbook_cache import load_catalog_cached; "
                        "load_catalog_cached()"], cwd=app_dir, check=True,
                       env={**os.environ, "XDG_CACHE_HOME": str(self.cache_home())})

    def rows(self, text: str) -> list[str]:
        """The bench's own rows on screen (fillers and its own containers)."""
        return [line for line in text.splitlines() if line.lstrip().startswith(self.prefixes)]

    @staticmethod
    def board(text: str) -> list[str]:
        """Every container row on screen, whoever made it: the lines between the board's header and the tabs."""
        lines = text.splitlines()
        top = next((i for i, line in enumerate(lines) if "CONTAINER" in line and "STATE" in line), None)
        if top is None:
            return []
        end = next((i for i in range(top + 1, len(lines)) if "Findings" in lines[i] and "Logs" in lines[i]),
                   len(lines))
        return [line for line in lines[top + 1:end] if line.strip() and not set(line.strip()) <= set("▁▂▃▄▅▆▇█▉▊▋▌▍▎▏ ")]

    def pid(self) -> int:
        return int(tmux("display-message", "-p", "-t", SESSION, "#{pane_pid}").strip())

    def rss_mb(self) -> tuple[float, float]:
        """(VmRSS, VmHWM) of the app, in MB."""
        status = Path(f"/proc/{self.pid()}/status").read_text().splitlines()
        get = lambda key: int(next(line for line in status if line.startswith(key)).split()[1]) / 1024  # noqa: E731
        return get("VmRSS:"), get("VmHWM:")

    def loaded(self, text: str) -> bool:
        """Every row diagnosed: the host strip is read, it no longer says "inspecting", no visible row waits."""
        board = self.board(text)
        return ("OOM kills" in text or " load " in text) and LOADING not in text and bool(board) \
            and not any(waiting(r) for r in board)

    def filter_to(self, name: str) -> None:
        keys("Escape")
        # Escape's effect must show before the next key: an ESC followed within milliseconds by '/' reaches the
        # app as alt+/
        wait(lambda s: "filter:" not in s, what="the filter closed")
        keys("/")
        wait(lambda s: "filter:" in s, what="the filter box")
        keys(name, literal=True)
        keys("Enter")

    # -- the first load ---------------------------------------------------------------------------------------------
    def first_load(self, press: bool = False) -> dict[str, float | str | list]:
        """One launch: every figure of the first load from one polling loop; with `press`, keys all along the load
        (at most one every KEY_PACE s: each one relays the board out and repaints it, which the load pays for)."""
        t0 = self.launch()
        out: dict = {"keys": [], "escapes": []}
        pending: tuple[str, float] | None = None  # the key sent, and when
        answered = 0.0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = screen()
            now = time.time()
            rows = self.board(text)
            if "paint" not in out and len(rows) >= 5:
                out["paint"] = now
            if "worst" not in out and any(self.worst in r and "oom-killed" in r for r in rows):
                out["worst"] = now
            out["saw_loading"] = out.get("saw_loading", False) or LOADING in text
            if "visible" not in out and len(rows) >= 5 and not any(waiting(r) for r in rows):
                out["visible"] = now
            if "all" not in out and self.loaded(text):
                out["all"] = now
            loading = "paint" in out and "all" not in out
            if pending is not None:  # a key's effect: '/' opens the filter box, Escape closes it
                key, sent = pending
                if (key == "/") == ("filter:" in text):
                    out["keys" if key == "/" else "escapes"].append(now - sent)
                    pending, answered = None, now
            if pending is None and now - answered >= KEY_PACE:
                if "filter:" in text:
                    keys("Escape")
                    pending = ("Escape", time.time())
                elif press and loading:
                    keys("/")
                    pending = ("/", time.time())
            if all(k in out for k in FIGURES) and pending is None:
                break
            time.sleep(0.002)
        if "filter:" in screen():
            keys("Escape")
        start = self.started()
        for key in FIGURES:  # seen at -> seconds from the app's start, and from `tmux new-session`
            if key in out:
                out[key], out[key + "_tmux"] = out[key] - start, out[key] - t0
        out["exec"] = start - t0  # tmux's and the shell's part
        return out

    # -- events -----------------------------------------------------------------------------------------------------
    def watch_events(self) -> None:
        """The daemon's events for the victims, read live (a busy daemon keeps only its last 256 for `--since`)."""
        self.seen_events: list[tuple[str, str, float]] = []  # (name, action, the daemon's time)
        self.event_proc = subprocess.Popen(["docker", "events", "--format", "{{json .}}", "--filter", "type=container",
                                            *[a for v in ("die", "oom", "health_status") for a in ("--filter",
                                                                                                    f"event={v}")]],
                                           stdout=subprocess.PIPE, text=True)

        def read() -> None:
            assert self.event_proc.stdout is not None
            for line in self.event_proc.stdout:
                event = json.loads(line)
                name = (event.get("Actor") or {}).get("Attributes", {}).get("name", "")
                if name.startswith(self.ev):  # "die", "oom", "health_status: unhealthy"
                    self.seen_events.append((name, event["Action"], event["timeNano"] / 1e9))
        threading.Thread(target=read, daemon=True).start()

    def event_time(self, name: str, action: str, since: float) -> float:
        """When the daemon says `action` happened to `name` after `since` (its own clock: the event's timeNano)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            times = [t for n, a, t in self.seen_events if n == name and a == action and t >= since]
            if times:
                return times[0]
            time.sleep(0.05)
        raise SystemExit(f"no {action} event for {name}")

    def make_victims(self) -> None:
        ensure_base()
        docker("rm", "-f", f"{self.ev}die", f"{self.ev}oom", f"{self.ev}health", check=False)
        docker("run", "-d", "--name", f"{self.ev}die", BASE, "sleep", "3600")
        # OOM-killed once /tmp/go exists (a 64 MB buffer under an 8 MB limit)
        docker("run", "-d", "--name", f"{self.ev}oom", "--memory", "8m", "--memory-swap", "8m", BASE, "sh", "-c",
               "rm -f /tmp/go; while [ ! -f /tmp/go ]; do sleep 0.05; done; dd if=/dev/zero of=/dev/null bs=64M count=1")
        # unhealthy while /tmp/bad exists, checked every second
        docker("run", "-d", "--name", f"{self.ev}health", "--health-cmd", "test ! -f /tmp/bad", "--health-interval",
               "1s", "--health-timeout", "1s", "--health-retries", "1", BASE, "sleep", "3600")

    def row_of(self, text: str, name: str) -> str:
        return next((r for r in self.rows(text) if r.split()[0] == name), "")

    def events(self, runs: int) -> dict[str, list[float]]:
        lags: dict[str, list[float]] = {"die": [], "oom": [], "health_status": []}
        self.watch_events()
        self.filter_to(self.ev)
        wait(lambda s: "healthy" in self.row_of(s, f"{self.ev}health")
             and "running" in self.row_of(s, f"{self.ev}die") and "running" in self.row_of(s, f"{self.ev}oom"),
             timeout=30, what="the three victims running, healthy")
        for _ in range(runs):
            since = time.time()
            docker("kill", f"{self.ev}die")
            seen = wait(lambda s: "exited 137" in self.row_of(s, f"{self.ev}die"), what="the kill on screen")
            lags["die"].append(seen - self.event_time(f"{self.ev}die", "die", since))

            docker("exec", f"{self.ev}oom", "touch", "/tmp/go")
            seen = wait(lambda s: "oom-killed" in self.row_of(s, f"{self.ev}oom"), what="the OOM kill on screen")
            lags["oom"].append(seen - self.event_time(f"{self.ev}oom", "oom", since))

            docker("exec", f"{self.ev}health", "touch", "/tmp/bad")
            seen = wait(lambda s: "unhealthy" in self.row_of(s, f"{self.ev}health"), what="unhealthy on screen")
            lags["health_status"].append(seen - self.event_time(f"{self.ev}health", "health_status: unhealthy", since))

            docker("start", f"{self.ev}die", f"{self.ev}oom")
            docker("exec", f"{self.ev}health", "rm", "-f", "/tmp/bad")
            wait(lambda s: " healthy" in self.row_of(s, f"{self.ev}health")
                 and "running" in self.row_of(s, f"{self.ev}die") and "running" in self.row_of(s, f"{self.ev}oom"),
                 timeout=30, what="the victims back")
        keys("Escape")
        self.event_proc.terminate()
        return lags

    # -- log following ----------------------------------------------------------------------------------------------
    def follow_logs(self, seconds: int, rate: int) -> None:
        name = f"{self.args.own}logs"
        docker("rm", "-f", name, check=False)
        # `rate` numbered lines each wall-clock second
        script = (f"n=0; while :; do s=$(date +%s); seq $n $((n+{rate - 1})) | sed 's/^/log line /'; "
                  f"n=$((n+{rate})); while [ \"$(date +%s)\" = \"$s\" ]; do sleep 0.02; done; done")
        docker("run", "-d", "--name", name, BASE, "sh", "-c", script)
        self.filter_to(name)
        wait(lambda s: "running" in self.row_of(s, name), what="the log writer's row")
        keys("f")
        wait(lambda s: "log line" in s, what="its logs on screen")
        start = time.monotonic()
        samples: list[tuple[float, float]] = []
        shown = []
        while (elapsed := time.monotonic() - start) < seconds:
            samples.append((elapsed, self.rss_mb()[0]))
            lines = [line for line in screen().splitlines() if "log line " in line]
            if lines:
                shown.append(int(lines[-1].split("log line ")[1].split()[0]))
            time.sleep(1)
        docker("kill", name, check=False)
        written = int(docker("logs", "--tail", "1", name).stdout.decode().split()[-1]) + 1
        keys("f")
        keys("Escape")
        rss = [r for _, r in samples]
        tenth = next(r for t, r in samples if t >= min(10, seconds / 6))
        half = [r for t, r in samples if t >= seconds / 2]
        slope = (statistics.linear_regression([t for t, _ in samples if t >= seconds / 2], half).slope
                 if len(half) > 2 else 0.0)
        print(f"follow the logs of a container writing {rate:,} lines/s for {seconds} s ({written:,} lines written, "
              f"{written / seconds:,.0f}/s; the screen's last line went {shown[0] if shown else '?'} -> "
              f"{shown[-1] if shown else '?'}):")
        print(f"  RSS at the start {rss[0]:.1f} MB, after 10 s {tenth:.1f} MB, max {max(rss):.1f} MB, at the end "
              f"{rss[-1]:.1f} MB; end - 10 s: {rss[-1] - tenth:+.1f} MB; 2nd half slope {slope * 60:+.2f} MB/min"
              f"   goal: flat")
        docker("rm", "-f", name, check=False)

    def compare(self, mine: Path, other: Path) -> None:
        """--against: the first load's figures of two checkouts, launched in turn (A B A B ..., then the same with
        keys): the same minutes of a shared machine for both. Then it stops (no events, no logs)."""
        got: dict[Path, list[dict]] = {mine: [], other: []}
        pressed: dict[Path, list[dict]] = {mine: [], other: []}
        for press in (False, True):
            for _ in range(self.args.runs):
                for where in (mine, other):
                    self.app_dir = where
                    (pressed if press else got)[where].append(self.first_load(press=press))
        self.app_dir = mine
        for where in (mine, other):
            def get(key: str, runs: list[dict] = got[where]) -> list[float]:
                return [r[key] for r in runs if key in r and (not key.startswith("all") or r["saw_loading"])]
            keys_ = [k for r in pressed[where] for k in r["keys"]]
            print(f"{where}: from the app's start (from `tmux new-session`, tmux's start included, in brackets)")
            print(f"  first painted board:   {median(get('paint'))}   goal <= 0.3 s   [{median(get('paint_tmux'))}]")
            print(f"  the worst's finding:   {median(get('worst'))}   goal <= 0.5 s   [{median(get('worst_tmux'))}]")
            print(f"  every row diagnosed:   {median(get('all'))}   goal <= 2 s   [{median(get('all_tmux'))}]")
            print(f"  tmux new-session -> the app's start: {median(get('exec'))}")
            if keys_:
                print(f"  a key during the load: median {statistics.median(keys_):.3f} s, max {max(keys_):.3f} s, "
                      f"{sum(k > 0.1 for k in keys_)} of {len(keys_)} over 0.1 s   goal <= 0.1 s")

    # -- the run ----------------------------------------------------------------------------------------------------
    def setup(self) -> None:
        """The worst first (so that fillers made now are newer: it is last in the daemon's list), then the fillers."""
        ensure_base()
        for _ in range(5):  # under load dockerd may record the kill without OOMKilled: another one then
            state = docker("inspect", "-f", "{{.State.OOMKilled}}", self.worst, check=False)
            if state.stdout.decode().strip() == "true":
                break
            docker("rm", "-f", self.worst, check=False)
            docker("run", "-d", "--name", self.worst, "--memory", "8m", "--memory-swap", "8m", BASE, "sh", "-c",
                   "dd if=/dev/zero of=/dev/null bs=64M count=1")
            docker("wait", self.worst)
        create(self.args.containers, self.args.prefix)

    def run(self) -> None:
        args = self.args
        self.setup()
        self.make_victims()
        if args.against:
            self.app_dir = args.against
            self.prepare()
            self.app_dir = args.app_dir
        self.prepare()
        listed = docker("ps", "-a", "--format", "{{.Names}}\t{{.Status}}").stdout.decode().splitlines()
        names = [line.split("\t")[0] for line in listed]
        broken_before = sum(1 for line in listed[:names.index(self.worst)]
                            if line.split("\t")[1].startswith("Exited (") and not line.split("\t")[1]
                            .startswith("Exited (0)"))
        t = time.perf_counter()
        docker("ps", "-a")
        cli = time.perf_counter() - t
        print(f"{len(names)} containers on the daemon ({args.containers} {args.prefix}NNNN); {self.worst} is "
              f"{names.index(self.worst) + 1} of {len(names)} in the daemon's list, behind {broken_before} other "
              f"exited non-zero; `docker ps -a` takes {cli:.3f} s; app: {args.app_dir}")
        if args.against:
            self.compare(args.app_dir, args.against)
            return
        runs = [self.first_load() for _ in range(args.runs)]
        runs += [self.first_load(press=True) for _ in range(args.runs)]  # keys only in these: their figures apart
        runs, pressing = runs[:args.runs], runs[args.runs:]
        get = lambda key: [r[key] for r in runs if key in r  # noqa: E731
                           and (not key.startswith("all") or r["saw_loading"])]
        print("launch = the app's process started (its shell's stamp before the exec; the goals' measure):")
        print(f"launch -> first painted board:              {median(get('paint'))}   goal <= 0.3 s")
        print(f"launch -> the worst container's finding:    {median(get('worst'))}   goal <= 0.5 s")
        print(f"launch -> every row diagnosed:              {median(get('all'))}   goal <= 2 s"
              + ("" if get("all") else " (n/a: this app does not say when it is done)"))
        print(f"launch -> every visible row inspected:      {median(get('visible'))}")
        print("launch = `tmux new-session` run (tmux's client, server, fork and shell start included; the bench's "
              "only measure until session 5):")
        print(f"tmux -> first painted board:                {median(get('paint_tmux'))}")
        print(f"tmux -> the worst container's finding:      {median(get('worst_tmux'))}")
        print(f"tmux -> every row diagnosed:                {median(get('all_tmux'))}")
        print(f"tmux -> every visible row inspected:        {median(get('visible_tmux'))}")
        print(f"tmux new-session -> the app's start:        {median(get('exec'))}")
        pressed = [k for r in pressing for k in r["keys"]]
        escapes = [k for r in pressing for k in r["escapes"]]
        if pressed:
            print(f"a key during the first load -> on screen:   median {statistics.median(pressed):.3f} s, max "
                  f"{max(pressed):.3f} s ({len(pressed)} times '/', the filter box shown)   goal <= 0.1 s")
        else:
            print("a key during the first load: none pressed (the load ended before the first paint was seen)")
        if escapes:  # a lone ESC byte is told from an escape sequence by waiting (ESCDELAY, 100 ms in textual)
            print(f"  Escape (the filter box gone), ESCDELAY included: median {statistics.median(escapes):.3f} s, "
                  f"max {max(escapes):.3f} s")
        wait(self.loaded, what="the board loaded")
        time.sleep(1)
        rss, peak = self.rss_mb()
        print(f"RSS with the board loaded:                  {rss:.1f} MB (peak {peak:.1f} MB)   goal <= 100 MB")
        lags = self.events(args.runs)
        for action, xs in lags.items():
            print(f"{action + ' event -> on screen:':<44}{median(xs)}   goal <= 0.3 s")
        if not args.no_logs:
            self.follow_logs(args.log_seconds, args.log_rate)
        rss, peak = self.rss_mb()
        print(f"RSS at the end:                             {rss:.1f} MB (peak {peak:.1f} MB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--containers", type=int, default=300, help="fillers (default 300)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--prefix", default="bench-", help="the fillers' name prefix (default bench-, shared)")
    ap.add_argument("--own", default="tui-bench-", help="prefix of the containers this bench kills and removes")
    ap.add_argument("--setup", action="store_true", help="create the containers (the worst first), exit")
    ap.add_argument("--keep", action="store_true", help="keep the fillers and its own containers for the next run")
    ap.add_argument("--app-dir", type=Path, default=ROOT, help="the checkout whose code runs (default: this one)")
    ap.add_argument("--against", type=Path, metavar="DIR", help="another checkout: the first loads of both, launched "
                    "in turn, side by side (no events, no logs)")
    ap.add_argument("--log-seconds", type=int, default=60)
    ap.add_argument("--log-rate", type=int, default=10_000)
    ap.add_argument("--no-logs", action="store_true", help="skip the log-following run")
    ap.add_argument("--clean", action="store_true", help="remove the fillers (PREFIX) and its own (OWN), exit")
    args = ap.parse_args()
    if args.clean:
        remove(args.own)
        remove(args.prefix)
        return
    if args.setup:
        Bench(args).setup()
        return
    try:
        Bench(args).run()
    finally:
        tmux("kill-server")  # its own server (-L): the app's session and the keeper
        STAMP.unlink(missing_ok=True)
        if not args.keep:  # fillers too (`make bench` relies on it): pass --keep when they are shared
            remove(args.own)
            remove(args.prefix)


if __name__ == "__main__":
    main()
