"""What looks like a credential, and how it is masked. Pure; used by detectors and every output path."""
from __future__ import annotations

import re
import threading
from typing import Iterable, Iterator

from .regex import compile_linear

# Env/ARG names that carry credentials. Matched on word parts so DB_PASSWORD and apiKey hit, PASSWORD_FILE does
# not (it names a path, which is how secrets should be injected).
_SECRET_NAME = re.compile(
    r"(PASSW(OR)?D|PASSWD|PWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?|AUTH|SESSION_?KEY|"
    r"CLIENT_?SECRET|DSN|CONN(ECTION)?_?STR(ING)?)", re.I)
_NOT_SECRET_NAME = re.compile(r"(_FILE|_PATH|_DIR|_URL_SCHEME|_ENABLED|_USER(NAME)?|_HOST|_PORT|_TTL|_LENGTH)$", re.I)

# Known token shapes (values), after gitleaks/trufflehog-style rules.
TOKEN_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("aws-access-key-id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("private-key", re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")),
    ("github-token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("slack-token", re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}\b")),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("stripe-key", re.compile(r"\b[sr]k_live_[0-9A-Za-z]{20,}\b")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b")),
    ("npm-token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    # scheme://[user]:password@host: the user may be empty (redis://:pw@h); the password may hold an @ (the last @
    # before the path ends it)
    ("url-password", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]*:([^/\s]+)@")),
)

_ANY_SHAPE = re.compile("|".join(f"(?:{pattern.pattern})" for _kind, pattern in TOKEN_SHAPES))

# Secret files that must never be in an image (paths as they appear in history or layer listings).
SECRET_FILE = re.compile(
    r"(^|/)(\.env(\.[\w.-]+)?|id_rsa|id_dsa|id_ecdsa|id_ed25519|[\w.-]+\.pem|[\w.-]+\.key|[\w.-]+\.p12|"
    r"[\w.-]+\.pfx|credentials(\.json)?|\.npmrc|\.pypirc|\.netrc|\.git-credentials|\.dockercfg|"
    r"\.docker/config\.json|service-account[\w.-]*\.json|secrets?\.(json|ya?ml|txt))$")


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET_NAME.search(name)


def token_shape(value: str) -> str | None:
    """The kind of known token this text contains, or None."""
    for kind, pattern in TOKEN_SHAPES:
        if pattern.search(value):
            return kind
    return None


MASKED = re.compile(r"^.{0,2}\*\*\*\*\(\d+ chars\)$")


def is_masked(value: str) -> bool:
    """A value that `mask` already hid (a snapshot's): masking it again changes nothing."""
    return bool(MASKED.match(value))


def mask(value: str) -> str:
    """Never shows more than 2 characters of a secret; keeps its length visible for recognition. Idempotent."""
    if not value:
        return ""
    if is_masked(value):
        return value
    shown = value[:2] if len(value) >= 8 else ""
    return f"{shown}****({len(value)} chars)"


_PLACEHOLDER = re.compile(r"^<[a-z][a-z_ ]*>$")


def mask_env_value(key: str, value: str) -> str:
    """A value masked when its name or shape is secret; a placeholder (`<env_value>`: for the engineer to write in a
    fix, no value) is kept as is: masked, copying it would write garbage."""
    if _PLACEHOLDER.match(value):
        return value
    return mask(value) if is_secret_name(key) or token_shape(value) else value


# KEY=value, KEY: value, "key": "value", 'key': 'value', --key=value, a=b&key=value&c=d. A key may hold - and . (a
# flag, a header); a quoted value runs to its closing quote; a bare value ends at whitespace, a quote, `,` or `;`,
# and at an `&` that starts the next key=value of a query string.
_KV = re.compile(r"""(?<![\w.])(?P<key>[A-Za-z_][\w.-]*)(?P<sep>["']?[ \t]*[=:][ \t]*)"""
                 r"""(?:"(?P<dq>[^"\n]*)"|'(?P<sq>[^'\n]*)'|(?P<bare>[^\s'",;&]+(?:&(?![\w.-]+=)[^\s'",;&]*)*))""")
# ('DB_PASSWORD', 'hunter2'): an env pair as Python prints it (a tuple in an exception's message, a debug line).
_PAIR = re.compile(r"""(?P<q>['"])(?P<key>[A-Za-z_][\w.-]*)(?P=q),[ \t]*(?P<vq>['"])(?P<value>[^'"\n]*)(?P=vq)""")
# --password hunter2 (a command's argument): a long flag whose name looks secret, then a value that is no flag.
_FLAG_ARG = re.compile(r"""(?<!\S)--(?P<key>[A-Za-z][\w-]*)[ \t]+(?P<value>[^\s'"-][^\s'"]*)""")
# Authorization: Bearer <token> (also Basic, Token, ...); a bare `Bearer <token>` only when the token has a digit or
# punctuation (so that `Bearer authentication failed` keeps its words).
AUTH_SCHEMES = ("bearer", "basic", "token", "digest", "negotiate", "apikey")
_AUTH = re.compile(r"(?i)(?:\b(?:proxy-)?authorization[\"']?[ \t]*[:=][ \t]*[\"']?"
                   r"(?:bearer|basic|token|digest|negotiate|apikey)[ \t]+"
                   r"|\bbearer[ \t]+(?=[^\s'\"]*[0-9._~+/=-]))"
                   r"(?P<value>[A-Za-z0-9._~+/=:-]+)(?![\w.~+/=:*(-])")
# Commands whose short flag takes a password: mysql -phunter2 or -p hunter2 (for mysql the spaced form names a
# database, but whoever typed it meant a password: it is masked too), sshpass -p, redis-cli -a.
_PASSWORD_FLAG_COMMANDS = re.compile(
    r"(?<![\w-])(?P<cmd>mysql|mysqldump|mysqladmin|mariadb|mariadb-dump|sshpass|redis-cli)\b")
_SHORT_FLAG = {"mysql": "p", "mysqldump": "p", "mysqladmin": "p", "mariadb": "p", "mariadb-dump": "p", "sshpass": "p",
               "redis-cli": "a"}


def _secret_key(key: str) -> bool:
    return is_secret_name(key.replace("-", "_").replace(".", "_"))


def _hide(value: str) -> str:
    return value if not value or "****(" in value else mask(value)


def _kv_pass(text: str) -> str:
    """Every secret-named key's value masked. A key that is not secret gives back its value to the scan, so the
    `password=` hidden inside `user=bob&password=hunter2` is found."""
    out, pos = [], 0
    while True:
        m = _KV.search(text, pos)
        if m is None:
            break
        key = m.group("key")
        which = next(g for g in ("dq", "sq", "bare") if m.group(g) is not None)
        value = m.group(which)
        if not _secret_key(key) or value.lower() in AUTH_SCHEMES:  # `Authorization: Bearer x`: x is _AUTH's
            out.append(text[pos:m.end("sep")])
            pos = m.end("sep")
            continue
        out.append(text[pos:m.start(which)] + _hide(value))
        pos = m.end(which)
    out.append(text[pos:])
    return "".join(out)


def _short_flags(text: str) -> str:
    def line(text_line: str) -> str:
        m = _PASSWORD_FLAG_COMMANDS.search(text_line)
        if m is None:
            return text_line
        flag = _SHORT_FLAG[m.group("cmd")]
        rest = re.sub(rf"""(?<!\S)-{flag}(?:(?P<att>[^\s'"]+)|[ \t]+(?P<sep>[^\s'"-][^\s'"]*))""",
                      lambda f: f"-{flag}" + (_hide(f.group("att")) if f.group("att") is not None
                                              else f.group(0)[2:len(f.group(0)) - len(f.group("sep"))]
                                              + _hide(f.group("sep"))),
                      text_line[m.end():])
        return text_line[:m.end()] + rest
    return "\n".join(line(x) for x in text.split("\n"))


# Any of the four things mask_text acts on (a token shape, an Authorization/Bearer header, a password-flag command, a
# secret-looking name), in one RE2 search (~1 us; Python's re takes ~7 us for the four): a text with none of them is
# returned as it is (most strings are). A superset of the four: RE2's \b and \s are ASCII (more boundaries, more
# non-spaces) and the commands' look-behind is left out, so it may say "maybe" where the passes then find nothing,
# never "no" where they would mask (tests/unit/test_secrets.py compares both on generated text).
_TRIGGER = compile_linear(f"{_ANY_SHAPE.pattern}|(?i:bearer|authorization)"
                          r"|(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump|sshpass|redis-cli)\b"
                          f"|(?i:{_SECRET_NAME.pattern})")


def nothing_to_mask(texts: list[str]) -> bool:
    """True when `mask_text` would leave every one of `texts` as it is: one search over them all joined by newlines
    (a trigger found in one text is found in the joined ones: its patterns have no anchors, and a newline is a
    non-word character as the start or end of a text is), instead of one search each (~2 us of call overhead)."""
    return _TRIGGER.search_whole("\n".join(texts)) is None


def mask_text(text: str) -> str:
    """`_mask_passes`, after one search that tells most texts have nothing to mask."""
    if _TRIGGER.search_whole(text) is None:
        return text
    return _mask_passes(text)


def _mask_passes(text: str) -> str:
    """Mask credentials inside free text (logs, commands, step output): known token shapes, passwords in URLs,
    `Authorization: Bearer x`, values of secret-looking keys (KEY=value, "key": "value", key: value, --key=value,
    --key value, query strings, ('KEY', 'value') pairs), and mysql/sshpass/redis-cli password flags. Idempotent:
    masked text stays as it is. A line with no secret-looking name skips the key passes (most log lines), one with
    no token shape the shape passes."""
    for _kind, pattern in TOKEN_SHAPES if _ANY_SHAPE.search(text) else ():
        if pattern.groups:
            text = pattern.sub(lambda m: (m.string[m.start(0):m.start(1)] + _hide(m.group(1))
                                          + m.string[m.end(1):m.end(0)]), text)
        else:
            text = pattern.sub(lambda m: _hide(m.group(0)), text)
    lower = text.lower()
    if "bearer" in lower or "authorization" in lower:
        text = _AUTH.sub(lambda m: m.group(0)[:m.start("value") - m.start(0)] + _hide(m.group("value")), text)
    if _PASSWORD_FLAG_COMMANDS.search(text):
        text = _short_flags(text)
    if not _SECRET_NAME.search(text):  # every pass below masks only after a secret-looking name: most lines have none
        return text
    text = _FLAG_ARG.sub(lambda m: (m.group(0)[:m.start("value") - m.start(0)] + _hide(m.group("value"))
                                    if _secret_key(m.group("key")) else m.group(0)), text)
    text = _PAIR.sub(lambda m: (m.group(0)[:m.start("value") - m.start(0)] + _hide(m.group("value")) + m.group("vq")
                                if _secret_key(m.group("key")) else m.group(0)), text)
    return _kv_pass(text)


def secret_paths(text: str) -> list[str]:
    """Secret-looking file paths mentioned in a text such as a history command (`COPY file:... in /app/.env`)."""
    found = []
    for token in re.split(r"[\s\"'\[\],]+", text):
        if token and SECRET_FILE.search(token):
            found.append(token)
    return found


class SecretValues:
    """Raw secret values, held so that nothing prints them: its repr (and rich's) shows only how many there are, so
    a crash dump or a debugger listing local variables never shows one. Immutable; iterates over the values
    (longest first); compares equal to the same values as a tuple."""
    __slots__ = ("_values",)
    _values: tuple[str, ...]  # (declared for the type checker: set once, in __init__, through object.__setattr__)

    def __init__(self, values: Iterable[str] = ()) -> None:
        object.__setattr__(self, "_values", tuple(values))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("SecretValues is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("SecretValues is immutable")

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __bool__(self) -> bool:
        return bool(self._values)

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SecretValues):
            return self._values == other._values
        if isinstance(other, tuple):
            return self._values == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values)

    def __add__(self, other: Iterable[str]) -> "SecretValues":
        return SecretValues(sorted(dict.fromkeys((*self._values, *other)), key=len, reverse=True))

    def __repr__(self) -> str:
        return f"SecretValues(<{len(self._values)} hidden>)"

    __str__ = __repr__

    def __rich_repr__(self):
        yield "hidden", len(self._values)

    def __reduce__(self):  # pickling or copying would carry the raw values somewhere: refuse
        raise TypeError("SecretValues cannot be pickled")


REMEMBER_AT_MOST = 4096  # raw secret values kept for `scrub`; the oldest go first
_seen: dict[str, None] = {}  # insertion-ordered set
_seen_lock = threading.Lock()


def remember(values: Iterable[str]) -> None:
    """Note raw secret values seen in this process, so `scrub` can hide them in a crash report. Values shorter than
    4 characters or already masked are not kept (masking every `x` in a report would hide nothing useful)."""
    with _seen_lock:
        for value in values:
            if isinstance(value, str) and len(value) >= 4 and not is_masked(value):
                _seen.pop(value, None)
                _seen[value] = None
        while len(_seen) > REMEMBER_AT_MOST:
            del _seen[next(iter(_seen))]


def remembered() -> SecretValues:
    """Every raw secret value `remember`ed (at most REMEMBER_AT_MOST), longest first."""
    with _seen_lock:
        values = list(_seen)
    return SecretValues(sorted(values, key=len, reverse=True))


def forget_all() -> None:
    """Empty the registry (tests)."""
    with _seen_lock:
        _seen.clear()


def scrub(text: str) -> str:
    """`mask_known` with every secret value seen in this process, then `mask_text`: for text that may quote
    anything, such as a crash report."""
    return mask_known(text, remembered())


def secret_values(env: Iterable[tuple[str, str]]) -> SecretValues:
    """The values of secret-looking env entries (by name or token shape), longest first: a container's own
    secrets, to be hidden wherever they show up (a log line that prints the password, a step's output). They are
    `remember`ed for `scrub`."""
    found = {v for k, v in env if len(v) >= 4 and not is_masked(v) and (is_secret_name(k) or token_shape(v))}
    remember(found)
    return SecretValues(sorted(found, key=len, reverse=True))


def mask_known(text: str, values: Iterable[str]) -> str:
    """`mask_text`, and every occurrence of the given secret values masked too."""
    for value in values:
        if value in text:
            text = text.replace(value, mask(value))
    return mask_text(text)
