"""What the image's layers hold (only when they were read: `scan --deep`, `troubleshoot image`): wasted bytes,
build tools left in the runtime image, secret files in any layer (even deleted later)."""
from ..facts import Host, Observation
from ..signals import SignalSpec, detector, human_bytes


@detector(
    SignalSpec("image_wasted_bytes", "bytes", "image layers", "bytes of files a later layer overwrote or deleted: "
               "still shipped in the earlier layer (dive's wasted space)"),
    SignalSpec("image_build_tools", "list", "image layers", "compilers, headers and package caches left in the final "
               "filesystem, with their size"),
    SignalSpec("image_layer_secrets", "list", "image layers", "secret-looking files (.env, id_rsa, *.pem, "
               "credentials.json, .npmrc with a token...) in any layer, including ones a later layer deleted"),
)
def detect(obs: Observation, host: Host):
    f = obs.forensics
    if f is None:
        return {"image_wasted_bytes": None, "image_build_tools": [], "image_layer_secrets": []}
    from ..forensics import describe_secret  # only with the layers read (`scan --deep`)
    secrets = [describe_secret(s, human_bytes(s.size)) for s in f.secret_files]
    return {
        "image_wasted_bytes": f.wasted_bytes,
        "image_build_tools": [f"{label}: {human_bytes(size)} in {n} files" for label, size, n in f.build_tools],
        "image_layer_secrets": secrets,
    }
