"""Configuration that was not injected: variables the logs ask for that the environment lacks.

The log patterns run with RE2 (core/regex.py): linear in the line, whatever a container prints."""
from ..facts import Host, Observation
from ..regex import Family, Linear, compile_linear
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
LOCALHOST_REFUSED = _LOCALHOST_REFUSED  # read by detectors/dependencies.py

# Missing configuration as each framework says it, as data: (framework, a real line it prints, the pattern, whose
# `name` group is the setting). A row holds whether or not the line has a complaint word; tests run every example.
_N = r"(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)"
MISSING_CONFIG: tuple[tuple[str, str, Linear], ...] = tuple((fw, example, compile_linear(pattern)) for fw, example, pattern in (
    ("Spring", "java.lang.IllegalArgumentException: Could not resolve placeholder 'DB_URL' in value \"${DB_URL}\"",
     r"Could not resolve placeholder '" + _N + "'"),
    ("Node.js", "TypeError: process.env.API_KEY is undefined", r"process\.env\." + _N + r" is (?:undefined|not set)"),
    ("Node.js", "TypeError: Cannot read properties of undefined (reading 'split') at process.env.ALLOWED_HOSTS",
     r"Cannot read propert(?:y|ies) of undefined[^\n]*process\.env\." + _N),
    ("Python", "KeyError: 'SECRET'", r"KeyError: ['\"]" + _N + r"['\"]"),
    ("Python", "raise KeyError(key) from None KeyError: 'DATABASE_URL'", r"KeyError: ['\"]" + _N + r"['\"]"),
    ("Go (envconfig)", "envconfig: required key DB_HOST missing value", r"required key " + _N + r" missing value"),
    ("Ruby/Rails (ENV.fetch)", 'key not found: "REDIS_URL" (KeyError)', r'key not found: "' + _N + r'"'),
    ("PHP", "PHP Notice:  Undefined index: APP_KEY in /var/www/config.php on line 3", r"Undefined index: " + _N),
    ("PHP 8", 'PHP Warning:  Undefined array key "APP_KEY" in /var/www/config.php on line 3',
     r'Undefined array key "' + _N + r'"'),
    (".NET", "System.ArgumentNullException: Value cannot be null. (Parameter 'ConnectionStrings__Default')",
     r"Value cannot be null\. \(Parameter '" + _N + r"'\)"),
))


_ANY = Family([*(pattern for _fw, _ex, pattern in MISSING_CONFIG), _COMPLAINT, _LOCALHOST_REFUSED])


def _env_name(name: str) -> str:
    """A setting as the env variable that sets it: Spring's relaxed binding (spring.datasource.url ->
    SPRING_DATASOURCE_URL); a name already in env form is kept."""
    if "." in name or "-" in name:
        return name.replace(".", "_").replace("-", "").upper()
    return name


@detector(
    SignalSpec("env_keys", "list", "Config.Env keys", "names of the variables set in the container"),
    SignalSpec("missing_env", "list", "named in logs but not in Config.Env",
               "variables a log line complains about (not set, missing, required, KeyError...) that are absent; "
               "also each framework's own words: Spring `Could not resolve placeholder`, Node `process.env.X is "
               "undefined`, Go envconfig `required key X missing value`, Rails `key not found`, PHP `Undefined "
               "index`/`Undefined array key`, .NET `Value cannot be null. (Parameter 'X')`"),
    SignalSpec("localhost_refused", "list", "log",
               "log lines where a connection to localhost was refused: a service address left at its default"),
)
def detect(obs: Observation, host: Host):
    missing, refused = read_logs(obs)
    return {"env_keys": sorted(obs.container.env_keys), "missing_env": missing, "localhost_refused": refused[-3:]}


def read_logs(obs: Observation) -> tuple[list[str], list[str]]:
    """(the variables the logs ask for that the environment lacks, the lines refused on localhost); also read by
    detectors/compose_env.py."""
    keys = set(obs.container.env_keys)
    missing: list[str] = []
    refused: list[str] = []
    for line in _ANY.lines(obs.logs):
        for _fw, _example, pattern in MISSING_CONFIG:
            m = pattern.search(line)
            if m is not None:
                name = _env_name(m.group("name"))
                if name not in keys and name.upper() not in _NOT_VARS and name not in missing:
                    missing.append(name)
        if _COMPLAINT.search(line):
            for m in _VAR.finditer(line):
                name = m.group(1) or m.group(2)
                if name not in keys and name not in _NOT_VARS and name not in missing:
                    missing.append(name)
        if _LOCALHOST_REFUSED.search(line):
            refused.append(line[:300])
    return missing, refused
