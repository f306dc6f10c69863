"""Configuration that was not injected: variables the logs ask for that the environment lacks.

The log patterns run with RE2 (core/regex.py): linear in the line, whatever a container prints."""
from ..facts import Host, Observation
from ..regex import compile_linear
from ..signals import SignalSpec, detector

# A line that complains about configuration...
_COMPLAINT = compile_linear(
    r"(not set|is unset|unset|missing|undefined|not defined|required|is empty|must be set|not provided|"
    r"not found in env|KeyError|no value|environment variable)", ignore_case=True)
# ...and the variable names in it: UPPER_SNAKE_CASE (DB_HOST), or any capitalised name read through an explicit
# environment access (process.env.PORT, os.environ['SECRET'], getenv("TOKEN"), ${HOST}, "env var PORT").
_VAR = compile_linear(r"\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b"
                      r"|(?:process\.env\.|KeyError: ['\"]|os\.environ\[['\"]|os\.getenv\(['\"]|getenv\(['\"]|\$\{|"
                      r"(?:env(?:ironment)? var(?:iable)?) ['\"]?)([A-Z][A-Z0-9_]*)")
_NOT_VARS = {"ERROR", "FATAL", "WARN", "WARNING", "INFO", "DEBUG", "TRACE", "PANIC", "NULL", "NONE", "TRUE",
             "FALSE", "HTTP", "HTTPS", "JSON", "YAML", "UTF8", "ECONNREFUSED", "ENOENT", "EACCES", "KEYERROR",
             "CRITICAL", "ENOTFOUND", "ETIMEDOUT", "EADDRINUSE", "TODO"}
_LOCALHOST_REFUSED = compile_linear(
    r"(ECONNREFUSED|[Cc]onnection refused|could not connect|[Cc]onnection.*failed).*(127\.0\.0\.1|localhost|\[?::1\]?)"
    r"|(127\.0\.0\.1|localhost|\[::1\])[^\n]*(refused|ECONNREFUSED)")


@detector(
    SignalSpec("env_keys", "list", "Config.Env keys", "names of the variables set in the container"),
    SignalSpec("missing_env", "list", "named in logs but not in Config.Env",
               "variables a log line complains about (not set, missing, required, KeyError...) that are absent"),
    SignalSpec("localhost_refused", "list", "log",
               "log lines where a connection to localhost was refused: a service address left at its default"),
)
def detect(obs: Observation, host: Host):
    keys = set(obs.container.env_keys)
    missing: list[str] = []
    refused: list[str] = []
    for line in obs.logs:
        if _COMPLAINT.search(line):
            for m in _VAR.finditer(line):
                name = m.group(1) or m.group(2)
                if name not in keys and name not in _NOT_VARS and name not in missing:
                    missing.append(name)
        if _LOCALHOST_REFUSED.search(line):
            refused.append(line[:300])
    return {"env_keys": sorted(keys), "missing_env": missing, "localhost_refused": refused[-3:]}
