"""Image architecture against the host's."""
from ..facts import Host, Observation
from ..signals import SignalSpec, detector


@detector(
    SignalSpec("image_architecture", "str", "Image.Architecture", "the architecture the image was built for"),
    SignalSpec("host_architecture", "str", "host architecture", "the daemon host's architecture"),
    SignalSpec("arch_mismatch", "bool", "image vs host architecture", "both are known and differ"),
)
def detect(obs: Observation, host: Host):
    image = obs.image
    image_arch = image.architecture if image else ""
    if image is not None and image_arch and image.variant:
        shown = f"{image_arch}/{image.variant}"
    else:
        shown = image_arch
    return {
        "image_architecture": shown,
        "host_architecture": host.architecture,
        "arch_mismatch": bool(image_arch and host.architecture and image_arch != host.architecture),
    }
