"""What looks like a credential, and how it is masked. Pure; used by detectors and every output path."""
from __future__ import annotations

import re
from typing import Iterable

# Env/ARG names that carry credentials. Matched on word parts so DB_PASSWORD and apiKey hit, PASSWORD_FILE does
# not (it names a path, which is how secrets should be injected).
_SECRET_NAME = re.compile(
    r"(PASSW(OR)?D|PASSWD|PWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?|AUTH|SESSION_?KEY|"
    r"CLIENT_?SECRET|DSN|CONN(ECTION)?_?STR(ING)?)", re.I)
_NOT_SECRET_NAME = re.compile(r"(_FILE|_PATH|_DIR|_URL_SCHEME|_ENABLED|_USER(NAME)?|_HOST|_PORT|_TTL|_LENGTH)$", re.I)

# Known token shapes (values), after gitleaks/trufflehog-style rules.
TOKEN_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("aws-access-key-id", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("private-key", re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")),
    ("github-token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("slack-token", re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}\b")),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("stripe-key", re.compile(r"\b[sr]k_live_[0-9A-Za-z]{20,}\b")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b")),
    ("npm-token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("url-password", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:([^/\s@]+)@")),
)

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


def mask_env_value(key: str, value: str) -> str:
    return mask(value) if is_secret_name(key) or token_shape(value) else value


def mask_text(text: str) -> str:
    """Mask known token shapes and KEY=value pairs whose key looks secret, inside free text (logs, commands)."""
    for _kind, pattern in TOKEN_SHAPES:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(0).replace(m.group(1), mask(m.group(1))), text)
        else:
            text = pattern.sub(lambda m: mask(m.group(0)), text)

    def _kv(m: re.Match[str]) -> str:
        key, sep, value = m.group(1), m.group(2), m.group(3)
        if is_secret_name(key) and value and "****(" not in value:
            return f"{key}{sep}{mask(value)}"
        return m.group(0)

    return re.sub(r"\b([A-Za-z_][A-Za-z0-9_]*)(\s*[=:]\s*)([^\s'\",;]+)", _kv, text)


def secret_paths(text: str) -> list[str]:
    """Secret-looking file paths mentioned in a text such as a history command (`COPY file:... in /app/.env`)."""
    found = []
    for token in re.split(r"[\s\"'\[\],]+", text):
        if token and SECRET_FILE.search(token):
            found.append(token)
    return found


def secret_values(env: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """The values of secret-looking env entries (by name or token shape), longest first: a container's own
    secrets, to be hidden wherever they show up (a log line that prints the password, a step's output)."""
    found = {v for k, v in env if len(v) >= 4 and not is_masked(v) and (is_secret_name(k) or token_shape(v))}
    return tuple(sorted(found, key=len, reverse=True))


def mask_known(text: str, values: Iterable[str]) -> str:
    """`mask_text`, and every occurrence of the given secret values masked too."""
    for value in values:
        if value in text:
            text = text.replace(value, mask(value))
    return mask_text(text)
