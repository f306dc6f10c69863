"""The one boundary where untrusted data enters: daemon answers and snapshot files become typed records here.

In one place, once:
1. decode and validate in one step (`core/schema.py`, msgspec): a wrong type is a `BoundaryError` naming the field
   (`Config.Env[0]: expected str, got int`), never a traceback later; unknown fields are dropped;
2. bound: documents by size, nesting by depth, lists by length, strings by length (with a count of what was cut);
3. clean every string of every terminal control (`clean.py`); names, ids and states are one line;
4. mask every secret: env values by name or token shape, and then the container's own secret values and every
   token shape wherever they appear (command, labels, health probe output, logs, image history...). The raw secret
   values are kept only in the record's `secrets` (never encoded, never printed: see core/secrets.py).

Facts (`core/facts.py`) are built only from records that passed through here.
"""
from __future__ import annotations

import re
import threading
from typing import Any, Iterable, TypeVar

import msgspec
from msgspec import Struct

from .clean import MAX_LINE, clean_text
from .core import schema
from .core.facts import split_env
from .core.secrets import SecretValues, mask_env_value, mask_known, nothing_to_mask, secret_values

T = TypeVar("T")

MAX_DOCUMENT = 64 * 1024 * 1024  # one JSON answer or snapshot file
MAX_STRING = 16 * 1024  # any one string field (an env entry holding a certificate is still whole)
MAX_LIST = 100_000  # any one list (a layer's files: daemon.image_layers bounds those itself)
MAX_LOG_LINES = 10_000  # log lines kept per container (live reads keep --tail, 200 by default)
MAX_CONTAINERS = 50_000  # containers in one snapshot

# Strings that may span lines: probe output and build steps. Everything else (names, ids, states, env entries,
# labels, log lines) is one line, so that a newline in a name cannot draw a second row.
_MULTILINE = {"Output", "CreatedBy", "created_by", "vmstat"}
_MASK_BY_KEY = {"Labels", "Config",  # maps whose keys say whether the value is a secret (labels, log options)
                "environment", "logging_options"}  # a Compose service's (schema.ComposeService)
# Identifiers and states: never a secret, and free-text masking would mistake `myrepo/secrets:1` for `secrets: 1`.
_IDENTIFIERS = {"Id", "ID", "Name", "Names", "Image", "ImageID", "RepoTags", "RepoDigests", "Status", "State",
                "Created", "StartedAt", "FinishedAt", "Start", "End", "Architecture", "Os", "Variant", "NetworkID",
                "IPAddress", "Type", "Driver", "Mode", "Destination", "Hostname", "WorkingDir", "User", "NetworkMode",
                "LogPath", "Action", "id", "format", "taken_at", "tool", "ServerVersion", "Version", "ApiVersion",
                "DockerRootDir", "KernelVersion", "OperatingSystem", "vmstat", "files", "deleted", "opaque",
                "action", "signal", "status", "forged"}


class BoundaryError(Exception):
    """Untrusted input that cannot be used; `str()` is one line naming what was wrong, and where."""


_decoders: dict[Any, msgspec.json.Decoder] = {}
# msgspec (0.22) builds a Struct's type information lazily, on first use; two threads doing it at once (the app's
# workers) crash the process (SIGSEGV, a decoder used while another thread still builds that information). Every
# first use of a type is made under this lock.
_first_use = threading.Lock()
_converted: set[Any] = set()


def _decoder(kind: Any) -> msgspec.json.Decoder:
    dec = _decoders.get(kind)
    if dec is None:
        with _first_use:
            dec = _decoders.get(kind)
            if dec is None:
                dec = _decoders[kind] = msgspec.json.Decoder(kind)
    return dec


_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)


def _say(exc: Exception) -> str:
    """msgspec's `Expected `str`, got `int` - at `$.Config.Env[0]`` as `Config.Env[0]: expected str, got int`."""
    m = _AT.match(" ".join(str(exc).split()))
    msg = (m.group("msg") if m else str(exc)).replace("`", "")
    msg = msg[:1].lower() + msg[1:]
    path = (m.group("path") or "").lstrip(".") if m else ""
    return f"{clean_text(path)}: {msg}" if path else msg


def decode(raw: bytes | str, kind: type[T], what: str, limit: int = MAX_DOCUMENT) -> T:
    """`raw` JSON as a `kind` record: validated, bounded, cleaned (not yet masked: see `container_record`)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > limit:
        raise BoundaryError(f"{what}: {len(raw):,} bytes, more than the {limit:,} troubleshoot reads")
    try:
        value = _decoder(kind).decode(raw)
    except msgspec.ValidationError as exc:
        raise BoundaryError(f"{what}: {_say(exc)}") from None
    except msgspec.DecodeError as exc:
        raise BoundaryError(_not_json(what, raw, exc)) from None
    except UnicodeDecodeError as exc:  # msgspec's own error for a string that is not UTF-8 (not a DecodeError)
        raise BoundaryError(f"{what}: not UTF-8 text ({exc.reason} at byte {exc.start} of a string)") from None
    except RecursionError:
        raise BoundaryError(f"{what}: nested too deeply") from None
    if kind not in _LOGS_INSIDE and _DIRTY.search(raw) is None and (len(raw) <= MAX_STRING or _bounded(raw)):
        return value  # nothing `clean` would change (most answers: no control character, no string or list too long)
    return clean(value)


# What `clean` would change, as it can appear in a JSON document's bytes: an escaped C0 control, DEL or C1 control
# or bidi mark, a short escape (\n \t ...: also one-line fields' newlines), or a raw DEL, C1 control or bidi mark in
# UTF-8 (a raw C0 control in a string is not JSON: msgspec refuses it). A document shorter than MAX_STRING cuts no
# string and no list; with none of these, `clean` leaves it as it is (tests/unit/test_boundary_fuzz.py).
_DIRTY = re.compile(
    rb"\\[bfnrt]|\\u00[0189]|\\u007[fF]|\\u061[cC]|\\u200[eEfF]|\\u202[a-eA-E]|\\u206[6-9]"
    rb"|\x7f|\xc2[\x80-\x9f]|\xd8\x9c|\xe2\x80[\x8e\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]")


# A document longer than MAX_STRING: no string longer than MAX_STRING characters (its JSON text is at least as many
# bytes: an escape is 2 or 6 bytes for one character, UTF-8 1 to 4) and no list or map of more than MAX_LIST items
# (each item after the first costs a comma). Escaped backslashes and quotes are made two plain bytes first, so that
# the quotes left are those around each string: a string too long is a quote followed by more than MAX_STRING
# bytes that are not one (one search that tries only at quotes: linear in the document).
_LONG_STRING = re.compile(rb'"[^"]{%d}' % (MAX_STRING + 1))
_LOGS_INSIDE = (schema.Snapshot, schema.ContainerRecord)  # their log lines have shorter bounds (`clean`): walked


def _bounded(raw: bytes) -> bool:
    """True when `clean` would cut no string and no list of this document (see above)."""
    if raw.count(b",") >= MAX_LIST:
        return False
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"xx").replace(b'\\"', b"xx")
    return _LONG_STRING.search(raw) is None


def _not_json(what: str, raw: bytes, exc: Exception) -> str:
    """`file:line:col: not JSON: why`, the line and column from msgspec's byte offset."""
    text = " ".join(str(exc).split())
    m = re.search(r"^(.*?)\s*\(byte (\d+)\)$", text)
    if m is None:  # "Input data was truncated": the error is at the end
        why, offset = text, len(raw)
    else:
        why, offset = m.group(1), int(m.group(2))
    line = raw.count(b"\n", 0, offset) + 1
    col = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    why = why.removeprefix("JSON is malformed: ").rstrip(":")
    return f"{what}:{line}:{col}: not JSON: {clean_text(why)}"


def convert(data: Any, kind: type[T], what: str) -> T:
    """Plain data (already parsed JSON: a recorded fixture) as a `kind` record, checked and cleaned like `decode`."""
    try:
        if kind in _converted:
            value = msgspec.convert(data, kind)
        else:
            with _first_use:
                value = msgspec.convert(data, kind)
                _converted.add(kind)
    except msgspec.ValidationError as exc:
        raise BoundaryError(f"{what}: {_say(exc)}") from None
    except RecursionError:
        raise BoundaryError(f"{what}: nested too deeply") from None
    return clean(value)


# -- cleaning and bounding --------------------------------------------------------------------------------------

def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]} ...[cut {len(text) - limit} chars]"


def _clean_str(text: str, multiline: bool, limit: int = MAX_STRING) -> str:
    return _cut(clean_text(text, keep_newlines=multiline), limit)


def _clean_value(value: Any, multiline: bool, limit: int = MAX_STRING) -> Any:
    if isinstance(value, str):
        return _clean_str(value, multiline, limit)
    if isinstance(value, Struct):
        return clean(value)
    if isinstance(value, list):
        if len(value) > MAX_LIST:
            del value[MAX_LIST:]
        for i, item in enumerate(value):
            new = _clean_value(item, multiline, limit)
            if new is not item:
                value[i] = new
        return value
    if isinstance(value, tuple):
        return tuple(_clean_value(v, multiline, limit) for v in value)
    if isinstance(value, dict):
        if len(value) > MAX_LIST:
            value = dict(list(value.items())[:MAX_LIST])
        return {_clean_str(k, False) if isinstance(k, str) else k: _clean_value(v, multiline, limit)
                for k, v in value.items()}
    return value


def clean(record: T) -> T:
    """Every string of a record cleaned and cut, in place; names and other one-line fields lose their newlines."""
    if isinstance(record, schema.ContainerRecord):
        if len(record.logs) > MAX_LOG_LINES:
            del record.logs[:-MAX_LOG_LINES]
        record.logs = [_clean_str(line, False, MAX_LINE) for line in record.logs]
    if not isinstance(record, Struct):
        return _clean_value(record, False)
    for name in record.__struct_fields__:
        if name == "logs" and isinstance(record, schema.ContainerRecord):
            continue
        value = getattr(record, name)
        if value is None or isinstance(value, (bool, int, float)):
            continue
        new = _clean_value(value, name in _MULTILINE)
        if new is not value:
            setattr(record, name, new)
    return record


# -- masking ----------------------------------------------------------------------------------------------------

def _mask_env(items: list[str] | None) -> list[str] | None:
    if not items:
        return items
    out = []
    for item in items:
        key, sep, value = item.partition("=")
        out.append(f"{key}{sep}{mask_env_value(key, value)}" if sep else item)
    return out


def _mask_value(value: Any, known: Iterable[str], by_key: bool = False) -> Any:
    if isinstance(value, str):
        return mask_known(value, known)
    if isinstance(value, Struct):
        _mask_struct(value, known)
        return value
    if isinstance(value, list):
        return [_mask_value(v, known) for v in value]
    if isinstance(value, tuple):
        return tuple(_mask_value(v, known) for v in value)
    if isinstance(value, dict):
        if by_key:
            return {k: mask_known(_mask_by_key(k, v), known) if isinstance(v, str) else _mask_value(v, known)
                    for k, v in value.items()}
        return {k: _mask_value(v, known) for k, v in value.items()}
    return value


def _mask_by_key(key: str, value: str) -> str:
    """`mask_env_value`, except for a value that only names a variable (`${DB_PASSWORD}` in a Compose file)."""
    if value.startswith("$"):
        from .core.compose_file import reference
        if reference(value):
            return value
    return mask_env_value(key, value)


def _mask_struct(record: Struct, known: Iterable[str], skip: Iterable[str] = ()) -> None:
    for name in record.__struct_fields__:
        if name in skip:
            continue
        value = getattr(record, name)
        if value is None or isinstance(value, (bool, int, float)):
            continue
        if name in _IDENTIFIERS:
            continue
        if name == "Env" and isinstance(value, list):
            new: Any = [mask_known(item, known) for item in _mask_env(value) or []]
        else:
            new = _mask_value(value, known, by_key=name in _MASK_BY_KEY)
        if new is not value:
            setattr(record, name, new)


def record_secrets(record: schema.ContainerRecord) -> SecretValues:
    """The container's own secret values (its env's and its image's), raw: to hide them wherever they appear."""
    env = split_env(record.inspect.Config.Env)
    if record.image is not None and record.image.Config is not None:
        env += split_env(record.image.Config.Env)
    return secret_values(env)


_SHARED = ("image", "tag_image", "history")  # one image's records, shared by the containers that run it


def mask_container(record: schema.ContainerRecord, done: set | None = None) -> SecretValues:
    """Mask every secret of a (cleaned) container record in place; returns the raw secret values it hid.
    `done` (one scan's): the shared image records already masked with the same secret values are not walked again
    (300 containers of one image: one walk of its inspect and history, not 300)."""
    known = record_secrets(record)
    skip = set()
    if done is not None:
        values = tuple(known)
        for name in _SHARED:
            shared = getattr(record, name)
            if shared:
                key = (id(shared), values)
                if key in done:
                    skip.add(name)
                else:
                    done.add(key)
    if not known and nothing_to_mask(_strings(record, [], skip)):
        return known  # no secret value of its own, and no text that looks like one: every string stays as it is
    _mask_struct(record, known, skip)
    return known


def _strings(value: Any, out: list[str], skip: Iterable[str] = ()) -> list[str]:
    """Every string `_mask_struct` would mask in `value` (map keys too: they decide by-key masking), into `out`."""
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, Struct):
        for name in value.__struct_fields__:
            if name in skip or name in _IDENTIFIERS:
                continue
            field = getattr(value, name)
            if field is not None and not isinstance(field, (bool, int, float)):
                _strings(field, out)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _strings(item, out)
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str):
                out.append(k)
            _strings(v, out)
    return out


def mask_host(record: schema.HostRecord) -> None:
    _mask_struct(record, ())


# -- what the adapter and the snapshot reader call ----------------------------------------------------------------

def container_record(inspect: schema.ContainerInspect, image: schema.ImageInspect | None = None,
                     history: list[schema.HistoryEntry] | None = None, logs: tuple[str, ...] | list[str] = (),
                     logs_error: str = "", tag_image: schema.ImageInspect | None = None,
                     layers: schema.ImageLayers | None = None,
                     events: schema.EventHistory | None = None,
                     files: schema.ContainerFiles | None = None,
                     resources: schema.Resources | None = None,
                     masked: set | None = None) -> tuple[schema.ContainerRecord, SecretValues]:
    """One container's record from decoded parts (each already cleaned), masked; and its raw secret values.
    `masked`: one scan's set of shared parts (an image, its history) already masked (see mask_container); the
    parts must then be the scan's own objects, kept alive for the scan."""
    record = schema.ContainerRecord(inspect=inspect, image=image,
                                    history=history if isinstance(history, list) else list(history or ()),
                                    logs=[_clean_str(line, False, MAX_LINE) for line in logs[-MAX_LOG_LINES:]],
                                    logs_error=_clean_str(logs_error, False), tag_image=tag_image, layers=layers,
                                    events=clean(events) if events is not None else None,
                                    files_seen=files, resources=resources)
    return record, mask_container(record, masked)


def probe_record(data: dict, kind: type[T], what: str, known: SecretValues) -> T:
    """A runtime probe's reading (plain data the adapter read on the daemon's host: /proc files) as a `kind` record:
    checked, bounded and cleaned like a daemon answer, and masked with the container's own secret values."""
    record = convert(data, kind, what)
    if isinstance(record, Struct):
        _mask_struct(record, known)
    return record


def compose_env_record(data: dict, known: SecretValues) -> schema.ComposeEnv:
    """A Compose env file's values as a record: every value whose name or shape is secret masked first (a password
    in `.env` is never a record), then like any probe reading."""
    from .core.secrets import mask_env_value
    values = {str(k): mask_env_value(str(k), str(v)) for k, v in (data.get("values") or {}).items()}
    return probe_record({**data, "values": values}, schema.ComposeEnv, "compose_env", known)


def compose_service_record(data: dict, known: SecretValues) -> schema.ComposeService:
    """A container's service as its Compose files say (probes/compose_file.py): every `environment` value whose name
    or shape is secret masked first (a value that only names a variable, `${DB_PASSWORD}`, is no secret and stays
    as written), logging options by name, then checked, cleaned and masked like any probe reading (a healthcheck's
    `--password x` too)."""
    from .core.compose_file import reference
    env = data.get("environment")
    if isinstance(env, dict):
        data = {**data, "environment": {str(k): v if v is None or reference(str(v)) else mask_env_value(str(k), str(v))
                                        for k, v in env.items()}}
    options = data.get("logging_options")
    if isinstance(options, dict):
        data = {**data, "logging_options": {str(k): mask_env_value(str(k), str(v)) for k, v in options.items()}}
    try:
        return probe_record(data, schema.ComposeService, "compose_service", known)
    except BoundaryError as exc:
        return schema.ComposeService(project=_clean_str(str(data.get("project") or ""), False),
                                     service=_clean_str(str(data.get("service") or ""), False),
                                     why=_clean_str(str(exc), False))


def read_snapshot_bytes(raw: bytes, name: str) -> schema.Snapshot:
    """A snapshot file: decoded, checked, bounded, cleaned and masked (a snapshot someone hands you is untrusted,
    and one made by hand may hold secrets). BoundaryError names the file and the field."""
    from .core.facts import parse_time
    from .core.snapshot import FORMAT, VERSION
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BoundaryError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        head = _decoder(_Head).decode(raw) if raw.lstrip()[:1] == b"{" else None
    except (msgspec.DecodeError, RecursionError):
        head = None
    if head is None or head.format != FORMAT:
        try:
            msgspec.json.decode(raw)
        except msgspec.DecodeError as exc:
            raise BoundaryError(_not_json(name, raw, exc)) from None
        except RecursionError:
            raise BoundaryError(f"{name}: nested too deeply") from None
        raise BoundaryError(f"{name}: not a troubleshoot snapshot (no \"format\": \"{FORMAT}\"); "
                            "make one with `troubleshoot snapshot -o FILE`")
    if not isinstance(head.version, int) or head.version > VERSION:
        raise BoundaryError(f"{name}: snapshot version {head.version!r} is not one this troubleshoot reads "
                            f"(it reads up to {VERSION}); upgrade troubleshoot")
    doc = decode(raw, schema.Snapshot, name)
    if parse_time(doc.taken_at) is None:
        raise BoundaryError(f"{name}: taken_at: not a time")
    if len(doc.containers) > MAX_CONTAINERS:
        raise BoundaryError(f"{name}: {len(doc.containers):,} containers, more than the {MAX_CONTAINERS:,} "
                            "troubleshoot reads")
    mask_host(doc.host)
    for rec in doc.containers:
        mask_container(rec)
    return doc


class _Head(Struct):
    """The first look at a file said to be a snapshot: is it one, and of which version."""
    format: Any = None
    version: Any = None


def fixture_record(data: dict) -> tuple[schema.ContainerRecord, SecretValues]:
    """A recorded container record (tests/fixtures, plain JSON data) through the same checks as a live one."""
    record = convert(data, schema.ContainerRecord, "record")
    return record, mask_container(record)


def fixture_host(data: dict) -> schema.HostRecord:
    host = convert(data, schema.HostRecord, "host")
    mask_host(host)
    return host
