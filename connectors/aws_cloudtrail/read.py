"""What the CloudTrail readers share: boto3 clients from the default chain, fetching one S3 object, and
error text that is safe to print.

The two source kinds live beside this module: ``read_s3`` (batch over a trail's S3 prefix) and
``read_sqs`` (streaming from the queue that receives the trail's S3 notifications).

Credentials come only from boto3's default chain (environment, shared config, SSO, web identity, the
container and instance metadata services); no source kind takes one. Transient errors (throttling,
``SlowDown``, 5xx, connection resets) are retried by botocore's ``standard`` retry mode: capped exponential
backoff with full jitter, at most ``attempts`` tries in all.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .options import DEFAULT_ATTEMPTS

# Environment variables whose values must never be printed. The access key id is not a secret by itself,
# but it is half of one and names the principal: it is kept out of messages too.
SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ACCESS_KEY_ID")
# Presigned-URL and header fragments that can carry credentials, should a library ever echo them.
_SECRET_PATTERNS = re.compile(
    r"((?:X-Amz-(?:Signature|Credential|Security-Token)|Signature|Credential)=)[^&,\s\"']+"
    r"|(x-amz-security-token['\"]?\s*:\s*b?['\"]?)[^\s,'\"]+",
    re.IGNORECASE,
)
# The SDK's own loggers print requests at DEBUG (headers with a session token, signed query strings).
# Nothing here turns them on, but whoever does must not see a credential: their records are redacted.
SDK_LOGGERS = (
    "botocore.endpoint",
    "botocore.auth",
    "botocore.parsers",
    "botocore.hooks",
    "botocore.httpsession",
    "botocore.credentials",
    "urllib3.connectionpool",
)


@dataclass(frozen=True)
class ClientOptions:
    """How to reach AWS: everything here is safe to pickle and print (no credential)."""

    endpoint: str | None = None  # None: AWS_ENDPOINT_URL if set, else the service's public endpoint
    region: str | None = None  # None: the default chain's region (AWS_DEFAULT_REGION, config)
    attempts: int = DEFAULT_ATTEMPTS

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` with the default credential chain and standard retries."""
        import boto3
        from botocore.config import Config

        config = Config(
            retries={"mode": "standard", "max_attempts": max(1, self.attempts)},
            connect_timeout=10,
            read_timeout=70,  # above SQS's 20 s long poll, below a stuck connection
            max_pool_connections=32,
        )
        install_redaction(SDK_LOGGERS, redact)
        kwargs: dict[str, Any] = {"config": config}
        if self.endpoint:
            kwargs["endpoint_url"] = self.endpoint
        if self.region:
            kwargs["region_name"] = self.region
        return boto3.session.Session().client(service, **kwargs)


def redact(text: str) -> str:
    """``text`` with every credential value this process knows of, and signature fragments, removed."""
    for name in SECRET_ENV:
        value = os.environ.get(name)
        if value and len(value) >= 8 and value in text:
            text = text.replace(value, "<redacted>")
    return _SECRET_PATTERNS.sub(lambda m: (m.group(1) or m.group(2)) + "<redacted>", text)


class RedactingFilter(logging.Filter):
    """Rewrites a log record whose text holds a credential (see ``redact``); never drops one."""

    def __init__(self, scrub: Callable[[str], str]) -> None:
        super().__init__()
        self.scrub = scrub

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a record that cannot format itself is left to the handler
            return True
        clean = self.scrub(text)
        if clean != text:
            record.msg, record.args = clean, ()
        return True


def install_redaction(names: Sequence[str], scrub: Callable[[str], str]) -> None:
    """Attach a ``RedactingFilter`` (once) to each named logger."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) and f.scrub is scrub for f in logger.filters):
            logger.addFilter(RedactingFilter(scrub))


def describe(exc: BaseException) -> str:
    """One line naming what went wrong, without credentials: ``AccessDenied: Access Denied`` for an AWS
    error response, the exception's type and first line otherwise."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):
        error = response["Error"]
        code = str(error.get("Code") or "")
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = str(error.get("Message") or "") or _status_text(code, status)
        text = f"{code or status}: {message}"
    else:
        first = (str(exc).splitlines() or [""])[0]
        text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return redact(text)[:500]


def _status_text(code: str, status: Any) -> str:
    # HEAD and some 4xx answers carry no body: say what the status means.
    if code in ("404", "NoSuchKey", "NoSuchBucket") or status == 404:
        return "not found"
    if code in ("403", "AccessDenied") or status == 403:
        return "access denied"
    return f"HTTP {status}" if status else "no message"


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):
        return str(response["Error"].get("Code") or "")
    return ""


def s3_location(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def fetch_object(s3: Any, bucket: str, key: str) -> tuple[bytes | None, str | None]:
    """The object's bytes, or why they could not be read (after botocore's retries): ``(data, None)`` or
    ``(None, reason)``. The bytes are returned as stored (gzip stays gzip: the normalizer unpacks)."""
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
        with response["Body"] as body:
            return body.read(), None
    except Exception as exc:  # any failure of one object is that object's dead letter, never a crash
        return None, f"cannot read {s3_location(bucket, key)}: {describe(exc)}"


