"""One redactor for every text the pipeline writes about what happened: dead-letter reasons and
locations, log lines and the run summary.

It removes two things:

- the values of the secrets this process holds: environment variables whose name says they are a
  secret (``*TOKEN*``, ``*SECRET*``, ``*PASSWORD*``, ``*API_KEY*``, ``*SAS*``, ...), the contents of the
  files their ``*_FILE`` variables name, and every value a sink registers (``register_secret``);
- common credential shapes, wherever they come from (an endpoint that echoes the request headers):
  ``Authorization: ...`` headers, ``Splunk``/``Bearer``/``ApiKey``/``Basic``/``SharedAccessSignature``
  credentials, AWS secret access keys and access key ids, and SAS signatures (``sig=``).

A dead letter's payload is the original record (the evidence, and what replay re-reads): it is kept as
it is, and protected by the output files' mode (0600) instead.
"""

from __future__ import annotations

import logging
import os
import re
import threading

MASK = "[REDACTED]"
MIN_SECRET = 6  # shorter values would blank common words
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_KEY|SAS|CREDENTIAL|AUTH|SHARED_?KEY|CONN(ECTION)?_?STR")
NOT_SECRET_NAME = re.compile(r"_(FILE|URL|URI|ENDPOINT|REGION|ID|NAME|HOST)$")

# (pattern, replacement): order matters, a header goes before the bare scheme.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)(\bauthorization\b[\"']?\s*[:=]\s*[\"']?)(?:(?:splunk|bearer|basic|apikey|sharedaccesssignature|token)\s+)?[^\s\"',;}]+"), rf"\1{MASK}"),
    (re.compile(r"(?i)\b(splunk|bearer|apikey|basic|sharedaccesssignature)(\s+)[A-Za-z0-9._~+/=:%-]{6,}"), rf"\1\2{MASK}"),
    (re.compile(r"(?i)([?&;](?:sig|signature|x-amz-signature|x-amz-security-token)=)[^&\s\"']+"), rf"\1{MASK}"),
    (re.compile(r"(?i)((?:aws_?)?secret_?(?:access_?)?key[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9/+=]{16,}"), rf"\1{MASK}"),
    # An AWS secret access key: 40 characters of base64 with a '/' or '+' and both cases (not a hex hash).
    (re.compile(r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[/+])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[A-Z])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"), MASK),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), MASK),
)

_lock = threading.Lock()
_registered: set[str] = set()
_env_cache: tuple[tuple[tuple[str, str], ...], frozenset[str]] | None = None


def register_secret(value: str | None) -> None:
    """A secret the process uses (a sink's token, read from a file): never written anywhere."""
    if value and len(value.strip()) >= MIN_SECRET:
        with _lock:
            _registered.add(value.strip())


def _env_secrets() -> frozenset[str]:
    global _env_cache
    items = tuple(sorted((k, v) for k, v in os.environ.items() if SECRET_NAME.search(k.upper())))
    if _env_cache is not None and _env_cache[0] == items:
        return _env_cache[1]
    found: set[str] = set()
    for name, value in items:
        if name.upper().endswith("_FILE"):
            try:
                with open(value, encoding="utf-8") as f:
                    value = f.read(1 << 16)
            except OSError:
                continue
        elif NOT_SECRET_NAME.search(name.upper()):
            continue
        value = value.strip()
        if len(value) >= MIN_SECRET:
            found.add(value)
    _env_cache = (items, frozenset(found))
    return _env_cache[1]


def secrets() -> list[str]:
    with _lock:
        values = set(_registered)
    values |= _env_secrets()
    return sorted(values, key=len, reverse=True)  # longest first: a secret that contains another


def redact(text: str) -> str:
    """``text`` without the secret values this process holds and without credential shapes."""
    if not text:
        return text
    for value in secrets():
        if value in text:
            text = text.replace(value, MASK)
    for pattern, repl in PATTERNS:
        text = pattern.sub(repl, text)
    return text


# --- log lines -------------------------------------------------------------------------------------

_installed = False


def install_log_redaction() -> None:
    """Every log record, of every logger, is redacted once it is made (its message formatted first)."""
    global _installed
    if _installed:
        return
    _installed = True
    make = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info, record.exc_text = None, text
        return record

    logging.setLogRecordFactory(factory)
