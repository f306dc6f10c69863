"""Cleaning of untrusted text: everything a container, an image or a daemon error can put on our screen.

Removes every terminal control: ESC sequences (CSI incl. cursor moves and device queries such as 6n/21t, OSC incl.
title, OSC 8 links and OSC 52 clipboard writes, DCS/SOS/PM/APC strings, two-byte ESC codes), 8-bit C1 codes and the
sequences they introduce, other C0 controls and DEL, and Unicode bidi overrides/isolates. Tabs become spaces.
Pure and fast on clean input (one regex search). The adapter (`daemon.py`) applies it once, to every string it
receives; nothing downstream needs to think about it.
"""
from __future__ import annotations

import json
import re
from typing import Any

# A whole sequence, so that its parameters do not leak as text ("]0;evil title").
_SEQUENCE = re.compile(
    r"(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC ... BEL/ST (title, OSC 8 links, OSC 52 clipboard)
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS, SOS, PM, APC strings
    r"|(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"  # CSI (SGR, cursor moves, 6n, 21t, ...)
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"  # two-byte escapes (ESC 7, ESC c, charset selection) and a lone ESC
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_ANY = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
MAX_LINE = 2000


def clean_text(text: str, keep_newlines: bool = False) -> str:
    """`text` with no terminal control in it. Newlines are kept only when asked (multi-line fields)."""
    if not _ANY.search(text):
        return text
    text = _SEQUENCE.sub("", text)
    text = text.replace("\t", "    ").replace("\r\n", "\n").replace("\r", "\n")
    if not keep_newlines:
        text = text.replace("\n", " ")
    return _CONTROL.sub("", text)


def clean_line(line: str, max_len: int = MAX_LINE) -> str:
    """One log line: cleaned, and cut to `max_len` characters with a note of how much was cut."""
    line = clean_text(line)
    if len(line) > max_len:
        return f"{line[:max_len]} ...[cut {len(line) - max_len} chars]"
    return line


# In the raw JSON bytes the daemon sends, what may decode to something clean_text would change: \u escapes of C0/C1
# controls (Go also escapes < > & as \u003c \u003e \u0026: those are harmless), of bidi controls, the \t \r \b \f
# escapes, raw C1 and bidi characters in UTF-8, and raw control bytes.
_RAW_SUSPECT = re.compile(
    rb"\\u00(?!3[cCeE]|26)[0-9a-fA-F]{2}|\\u20(?:0[eEfF]|2[a-eA-E]|6[6-9])|\\u061[cC]|\\[trbf]"
    rb"|\xc2[\x80-\x9f]|\xe2\x80[\x8e\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]|\xd8\x9c|[\x00-\x1f\x7f]")


def loads_clean(raw: bytes) -> Any:
    """Parse a JSON document from the daemon with every string cleaned. Most documents contain nothing to clean:
    one scan of the raw bytes proves it and spares the walk over every string."""
    doc = json.loads(raw)
    return clean_json(doc) if _RAW_SUSPECT.search(raw) else doc


def clean_json(value: Any) -> Any:
    """Every string (keys and values) in a JSON document, cleaned; multi-line strings keep their newlines."""
    if isinstance(value, str):
        return clean_text(value, keep_newlines=True)
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    return value
