"""Image forensics from the layers themselves (what `docker save` holds, read by the adapter as a stream): the size
each instruction added, bytes wasted by files a later layer overwrote or deleted (what dive calls efficiency),
build tools and package caches left in the final filesystem, and secret files present in any layer — including
those a later layer deleted, which anyone who pulls the image can still extract. Pure.
"""
from __future__ import annotations

import re
import msgspec
from . import schema

from .secrets import SECRET_FILE

# What a runtime image should not carry: (label, path pattern)
BUILD_TOOLS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("compilers (gcc/g++/clang)", re.compile(r"^/usr/(bin/(gcc|g\+\+|cc|c\+\+|clang)(-[\d.]+)?|lib/gcc/|libexec/gcc/|"
                                             r"bin/[\w-]+-linux-gnu-(gcc|g\+\+)(-[\d.]+)?$)")),
    ("make/cmake", re.compile(r"^/usr/(local/)?bin/(make|cmake|gmake)$")),
    ("C headers (/usr/include, -dev packages)", re.compile(r"^/usr/include/")),
    ("apt package cache", re.compile(r"^/var/cache/apt/archives/.+\.deb$|^/var/lib/apt/lists/")),
    ("apk package cache", re.compile(r"^/var/cache/apk/")),
    ("pip cache", re.compile(r"^/root/\.cache/pip/")),
    ("npm cache", re.compile(r"^/root/\.npm/")),
    ("Go toolchain", re.compile(r"^/usr/local/go/")),
    ("Rust toolchain", re.compile(r"^/root/\.(cargo|rustup)/")),
)


class LayerInfo(msgspec.Struct, frozen=True):
    index: int  # 1-based, in build order
    size: int
    files: int
    created_by: str


class SecretFile(msgspec.Struct, frozen=True):
    path: str
    size: int
    layer: int
    created_by: str
    deleted_in: int | None  # the layer that deleted it (it is still in `layer`)
    has_token: bool


class Forensics(msgspec.Struct, frozen=True):
    layers: tuple[LayerInfo, ...]
    wasted_bytes: int
    wasted: tuple[tuple[str, int, str], ...]  # (path, bytes, why), biggest first
    build_tools: tuple[tuple[str, int, int], ...]  # (what, bytes, files)
    secret_files: tuple[SecretFile, ...]
    truncated: bool = False

    def largest(self, n: int = 3) -> tuple[LayerInfo, ...]:
        return tuple(sorted((l for l in self.layers if l.size), key=lambda l: -l.size)[:n])


def instruction(created_by: str) -> str:
    if not created_by.strip():
        return "(no instruction recorded: an imported or squashed layer)"
    text = created_by.replace("/bin/sh -c #(nop) ", "").replace("|1 ", "").strip()
    text = re.sub(r"^/bin/sh -c ", "RUN ", text)
    return text if len(text) <= 100 else text[:97] + "..."


def analyze(record: schema.ImageLayers) -> Forensics:
    """From the adapter's typed `image_layers` record."""
    history = [h for h in record.history if not h.empty_layer]
    raw = record.layers
    layers = []
    state: dict[str, tuple[int, int]] = {}  # path -> (layer, size) in the filesystem as built so far
    wasted: list[tuple[str, int, str]] = []
    secrets: list[dict] = []

    def drop(prefix_or_path: str, layer: int, why: str, children_only: bool = False) -> None:
        doomed = [p for p in state if (not children_only and p == prefix_or_path)
                  or p.startswith(prefix_or_path.rstrip("/") + "/")]
        for p in doomed:
            origin, size = state.pop(p)
            if size:
                wasted.append((p, size, f"{why} in layer {layer} (written in layer {origin})"))
        for s in secrets:
            if s["deleted_in"] is None and s["path"] in doomed:
                s["deleted_in"] = layer

    for i, layer in enumerate(raw, 1):
        created_by = history[i - 1].created_by if i <= len(history) else ""
        layers.append(LayerInfo(i, layer.size, len(layer.files), created_by))
        for d in layer.opaque:
            drop(d, i, "hidden by an opaque directory", children_only=True)
        for p in layer.deleted:
            drop(p, i, "deleted")
        for path, size in layer.files:
            if path in state:
                origin, old = state[path]
                if old:
                    wasted.append((path, old, f"overwritten in layer {i} (written in layer {origin})"))
            state[path] = (i, int(size))
        for path, size, has_token in layer.secrets:
            secrets.append({"path": path, "size": size, "layer": i, "created_by": created_by, "deleted_in": None,
                            "has_token": bool(has_token)})
    tools = []
    for label, pattern in BUILD_TOOLS:
        hits = [size for p, (_l, size) in state.items() if pattern.search(p)]
        if hits:
            tools.append((label, sum(hits), len(hits)))
    return Forensics(
        layers=tuple(layers),
        wasted_bytes=sum(w[1] for w in wasted),
        wasted=tuple(sorted(wasted, key=lambda w: -w[1])),
        build_tools=tuple(tools),
        secret_files=tuple(SecretFile(**s) for s in secrets if SECRET_FILE.search(s["path"])),
        truncated=record.truncated,
    )


def describe_secret(s: SecretFile, size: str) -> str:
    """One line for a secret file found in the layers (`size` already formatted)."""
    line = f"{s.path} ({size}) added in layer {s.layer}: {instruction(s.created_by)}"
    if s.deleted_in:
        line += f"; deleted in layer {s.deleted_in} but still in layer {s.layer}"
    if s.has_token:
        line += "; holds a credential"
    return line
