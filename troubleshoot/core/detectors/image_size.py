"""Image size and the layers that make it."""
from ..facts import Host, Observation
from ..signals import SignalSpec, detector, human_bytes


def _instruction(created_by: str) -> str:
    text = created_by.replace("/bin/sh -c #(nop) ", "").replace("/bin/sh -c ", "RUN ").strip()
    return text if len(text) <= 120 else text[:117] + "..."


@detector(
    SignalSpec("image_size", "bytes", "Image.Size", "the image's size on disk (decimal units: 1GB = 10^9 bytes)"),
    SignalSpec("image_largest_layers", "list", "largest layers", "the three biggest layers with their instruction"),
)
def detect(obs: Observation, host: Host):
    image = obs.image
    if image is None:
        return {"image_size": None, "image_largest_layers": []}
    return {
        "image_size": image.size,
        "image_largest_layers": [f"{human_bytes(l.size)} {_instruction(l.created_by)}" for l in image.largest_layers()],
    }
