"""A variable the logs miss, looked for in the container's Compose service (core/compose_file.py): absent from its
`environment` and from its env_file(s), and whether the project's `.env` has it (Compose reads `.env` only to
interpolate `${...}` in the file: a variable there reaches no container unless the service names it)."""
from __future__ import annotations

from ..compose_file import reference
from ..facts import Host, Observation
from ..signals import SignalSpec, detector
from .env import read_logs


def _where(spec, key: str) -> str:
    return spec.where.get(key) or spec.where.get("service") or (spec.files[0] if spec.files else "its compose file")


@detector(
    SignalSpec("compose_env_missing", "list", "compose file",
               "for each variable in `missing_env`, what the container's Compose service says of it: absent from "
               "its `environment` and env_file(s) (file and service named), and whether the project's `.env` has "
               "it; or set in the file but not in the container (created before the file changed)"),
)
def detect(obs: Observation, host: Host):
    spec = obs.compose_service
    if spec is None or spec.why:
        return {"compose_env_missing": []}
    missing, _refused = read_logs(obs)
    dotenv = obs.compose_env.values if obs.compose_env is not None and not obs.compose_env.why else {}
    dotenv_path = obs.compose_env.path if obs.compose_env is not None else ""
    out = []
    for name in missing:
        svc = f"service {spec.service}"
        if name in spec.environment:
            value = spec.environment[name]
            ref = reference(value)
            how = (f"as `{value}`" + (" (from .env)" if ref and ref in dotenv else "")) if value is not None \
                else "from the shell (`- " + name + "`, no value)"
            out.append(f"{_where(spec, 'environment')} {svc} sets {name} {how}, but the container lacks it: "
                       f"created before the file changed, or the value was empty")
            continue
        in_files = [f.path for f in spec.env_files if name in f.keys]
        if in_files:
            out.append(f"{', '.join(in_files)} (env_file of {svc}, {_where(spec, 'env_file')}) sets {name}, but the "
                       f"container lacks it: created before the file changed")
            continue
        files = ", ".join(f.path + (f" ({f.why})" if f.why else "") for f in spec.env_files)
        line = (f"{name} is not in {svc}'s environment ({_where(spec, 'environment')})"
                + (f" nor in its env_file {files}" if files else ", and it has no env_file"))
        if name in dotenv:
            line += (f"; the project's {dotenv_path or '.env'} has it, but Compose passes a .env variable only where "
                     f"the file names it (`{name}: ${{{name}}}` under environment)")
        out.append(line)
    return {"compose_env_missing": out}
