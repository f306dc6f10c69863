"""Shared libraries the dynamic loader could not find (log patterns run with RE2: linear in the line)."""
from ..facts import Host, Observation
from ..regex import Family, compile_linear
from ..signals import SignalSpec, detector

_MISSING_SO = compile_linear(r"error while loading shared libraries: ([^\s:]+)")
_MUSL = compile_linear(r"Error loading shared library ([^\s:]+)")
_ANY = Family([_MISSING_SO, _MUSL])  # logs where neither can match (nearly all): one search, not two a line


@detector(
    SignalSpec("missing_library", "list", "missing shared library",
               "the .so files named by 'error while loading shared libraries' (glibc) or musl's loader"),
)
def detect(obs: Observation, host: Host):
    found: list[str] = []
    for line in _ANY.lines(obs.logs):
        for m in list(_MISSING_SO.finditer(line)) + list(_MUSL.finditer(line)):
            if m.group(1) not in found:
                found.append(m.group(1))
    return {"missing_library": found}
