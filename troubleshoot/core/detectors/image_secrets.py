"""Credentials baked into the image: secret-looking ENV, and secret files named in its history. Values masked."""
import re

from ..facts import Host, Observation
from ..secrets import is_masked, is_secret_name, mask, mask_text, secret_paths, token_shape
from ..signals import SignalSpec, detector


@detector(
    SignalSpec("secret_env", "list", "image ENV", "ENV keys of the image whose name or value looks like a credential "
               "(value masked)"),
    SignalSpec("secret_history", "list", "image history", "build steps (docker history) that carry a credential: ARG "
               "values (`|1 NPM_TOKEN=...`) and inline KEY=value (value masked)"),
    SignalSpec("secret_files", "list", "image history", "secret-looking files (.env, id_rsa, *.pem, credentials.json, "
               ".npmrc...) that a history step copied or wrote"),
)
def detect(obs: Observation, host: Host):
    image = obs.image
    if image is None:
        return {"secret_env": [], "secret_files": [], "secret_history": []}
    env = []
    for key, value in image.env:
        kind = token_shape(value)
        if value and (is_secret_name(key) or kind or is_masked(value)):  # masked: a snapshot's
            env.append(f"{key}={mask(value)}" + (f" ({kind})" if kind else ""))
    files = []
    for layer in image.history:
        for path in secret_paths(layer.created_by):
            entry = f"{path}  <- {mask_text(layer.created_by.replace('/bin/sh -c #(nop) ', '').strip())[:160]}"
            if entry not in files:
                files.append(entry)
    carried = []
    for layer in image.history:
        if re.search(r"(#\(nop\)\s+|^)ENV\s", layer.created_by):
            continue  # the image's ENV: already in secret_env
        for m in _KV.finditer(layer.created_by):
            key, value = m.group(1), m.group(2).strip("'\"")
            if value and not value.startswith("$") and (is_secret_name(key) or token_shape(value)):
                entry = f"{key}={mask(value)}  <- {mask_text(_step(layer.created_by))[:120]}"
                if entry not in carried:
                    carried.append(entry)
    return {"secret_env": env, "secret_files": files, "secret_history": carried}


# KEY=value; a value a snapshot already masked ("to****(19 chars)") is taken whole, so that masking is idempotent
_KV = re.compile(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=(.{0,2}\*\*\*\*\(\d+ chars\)|\S+)")


def _step(created_by: str) -> str:
    return created_by.replace("/bin/sh -c #(nop) ", "").strip()
