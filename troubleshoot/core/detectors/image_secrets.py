"""Credentials baked into the image: secret-looking ENV, and secret files named in its history. Values masked."""
from ..facts import Host, Observation
from ..secrets import is_masked, is_secret_name, mask, mask_text, secret_paths, token_shape
from ..signals import SignalSpec, detector


@detector(
    SignalSpec("secret_env", "list", "image ENV", "ENV keys of the image whose name or value looks like a credential "
               "(value masked)"),
    SignalSpec("secret_files", "list", "image history", "secret-looking files (.env, id_rsa, *.pem, credentials.json, "
               ".npmrc...) that a history step copied or wrote"),
)
def detect(obs: Observation, host: Host):
    image = obs.image
    if image is None:
        return {"secret_env": [], "secret_files": []}
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
    return {"secret_env": env, "secret_files": files}
