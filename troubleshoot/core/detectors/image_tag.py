"""Which image a container runs against what its tag says: mutable tags and tags re-pointed since start."""
from __future__ import annotations

import msgspec

from ..facts import Host, Observation
from ..signals import SignalSpec, detector


class ImageRef(msgspec.Struct, frozen=True):
    repository: str  # normalized: docker.io/library/ stripped
    tag: str  # "" when pinned by digest or id
    digest: str  # "sha256:..." when pinned by digest
    is_id: bool  # the container was created from a bare image id
    implicit_tag: bool  # no tag written: Docker used "latest"

    @property
    def name(self) -> str:
        if self.is_id:
            return self.repository
        if self.digest:
            return f"{self.repository}@{self.digest}"
        return f"{self.repository}:{self.tag}"

    @property
    def mutable(self) -> bool:
        return bool(self.tag) and (self.tag == "latest" or self.implicit_tag)


def parse_ref(ref: str) -> ImageRef:
    ref = ref.strip()
    bare = ref.removeprefix("sha256:")
    if ref.startswith("sha256:") or (len(bare) in (12, 64) and all(ch in "0123456789abcdef" for ch in bare)):
        return ImageRef(ref, "", "", True, False)
    digest = ""
    if "@" in ref:
        ref, _, digest = ref.partition("@")
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/"):
        if ref.startswith(prefix):
            ref = ref[len(prefix):]
            break
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        repo, _, tag = ref.rpartition(":")
        return ImageRef(repo, "" if digest else tag, digest, False, False)
    return ImageRef(ref, "" if digest else "latest", digest, False, not digest)


@detector(
    SignalSpec("image_ref", "str", "Config.Image", "the image reference the container was created from"),
    SignalSpec("image_tag", "str", "image tag", "its tag ('latest' when none was written; empty when pinned)"),
    SignalSpec("tag_mutable", "bool", "mutable tag", "runs ':latest' or an untagged reference (implicitly latest)"),
    SignalSpec("tag_moved", "bool", "tag moved",
               "the tag now points to another image id than the one the container runs"),
    SignalSpec("image_id", "str", "Image", "the image id the container runs"),
    SignalSpec("tag_image_id", "str", "tag now points to", "the image id the tag resolves to now"),
    SignalSpec("image_created", "str", "running image created", "creation time of the image the container runs"),
    SignalSpec("tag_image_created", "str", "tagged image created", "creation time of the image the tag points to now"),
)
def detect(obs: Observation, host: Host):
    c = obs.container
    ref = parse_ref(c.image_ref)
    now = obs.tag_image
    moved = bool(ref.tag and now is not None and now.id and c.image_id and now.id != c.image_id)
    created = obs.image.created.isoformat(timespec="seconds") if obs.image and obs.image.created else ""
    return {
        "image_ref": c.image_ref,
        "image_tag": ref.tag,
        "tag_mutable": ref.mutable,
        "tag_moved": moved,
        "image_id": c.image_id.removeprefix("sha256:")[:12],
        "tag_image_id": now.id.removeprefix("sha256:")[:12] if now else "",
        "image_created": created,
        "tag_image_created": now.created.isoformat(timespec="seconds") if now and now.created else "",
    }
