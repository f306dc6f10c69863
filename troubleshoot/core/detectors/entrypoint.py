"""The file the container execs: a #! line ending in CRLF, an interpreter or an ELF loader the image does not have
(read through the archive API by probes/files.py, only when the container failed to exec)."""
from ..facts import Host, Observation
from ..signals import SignalSpec, detector


@detector(
    SignalSpec("entrypoint_file", "str", "entrypoint file", "the file the container execs (Path, resolved through the "
               "PATH of Config.Env), when it was read because the container failed to exec it"),
    SignalSpec("entrypoint_interpreter", "str", "entrypoint interpreter", "the program its #! line names, or an ELF's "
               "dynamic loader (PT_INTERP)"),
    SignalSpec("entrypoint_problem", "list", "entrypoint file", "why the kernel cannot exec it although it is there: "
               "a #! line ending in CRLF, an interpreter or ELF loader missing from the image"),
)
def detect(obs: Observation, host: Host):
    files = obs.files
    entry = files.head("entrypoint")
    if entry is None:
        return {"entrypoint_file": "", "entrypoint_interpreter": "", "entrypoint_problem": []}
    problems: list[str] = []
    interp = ""
    if entry.shebang:
        interp = entry.shebang.split()[0] if entry.shebang.split() else ""
        if entry.crlf:
            problems.append(f"{entry.path} has Windows (CRLF) line endings: its first line `#!{entry.shebang}` ends "
                            f"with \\r, so the kernel looks for an interpreter named '{interp}\\r', which does not exist")
        for h in files.heads:
            if h.role == "interpreter" and not h.found and not h.error:
                problems.append(f"{entry.path} asks for the interpreter {h.path} (#!{entry.shebang}), which is not in "
                                f"the image")
    elif entry.elf_interp:
        interp = entry.elf_interp
        loader = files.head("loader")
        if loader is not None and not loader.found and not loader.error:
            libc = "glibc" if "ld-linux" in interp else ("musl" if "ld-musl" in interp else "another C library")
            problems.append(f"{entry.path} is an ELF for {entry.elf_machine} that needs the loader {interp} ({libc}), "
                            f"which is not in the image")
    return {"entrypoint_file": entry.path if entry.found else "", "entrypoint_interpreter": interp,
            "entrypoint_problem": problems}
