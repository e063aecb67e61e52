"""Reading reference files: local paths or Beam filesystem URIs, CSV/JSON/YAML by extension.

Every problem is a ``ReferenceError`` naming the file and what is wrong with it, in one line: the run
stops at start-up with that line instead of failing per event.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from connectors.usage import UsageError


class ReferenceDataError(UsageError):
    """A reference file is missing, unreadable or malformed (a usage error: exit status 2)."""


def read_bytes(path: str, what: str) -> bytes:
    """The whole file; through Beam's FileSystems for URIs (gs://, s3://, azfs://)."""
    try:
        if "://" not in path:
            with open(path, "rb") as f:
                return f.read()
        from apache_beam.io.filesystem import CompressionTypes
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            return bytes(f.read())
    except FileNotFoundError:
        raise ReferenceDataError(f"{what} file not found: {path}") from None
    except OSError as exc:
        raise ReferenceDataError(f"cannot read {what} file {path}: {exc.strerror or exc}") from None
    except Exception as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ReferenceDataError(f"cannot read {what} file {path}: {first}") from None


def kind_of(path: str) -> str:
    lower = path.lower()
    for ext, kind in ((".csv", "csv"), (".json", "json"), (".yaml", "yaml"), (".yml", "yaml")):
        if lower.endswith(ext):
            return kind
    return "yaml"  # YAML is a superset of JSON: the forgiving default


def parse_document(data: bytes, path: str, what: str) -> Any:
    """JSON or YAML (by extension) to Python values; CSV to a list of row dicts."""
    kind = kind_of(path)
    try:
        if kind == "csv":
            text = data.decode("utf-8-sig")
            reader = csv.DictReader(io.StringIO(text))
            if not reader.fieldnames:
                raise ValueError("no header row")
            return [
                {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
                for row in reader
            ]
        if kind == "json":
            return json.loads(data)
        import yaml

        return yaml.safe_load(data)
    except Exception as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ReferenceDataError(f"{what} file {path} is not valid {kind.upper()}: {first}") from None


def split_list(value: Any) -> list[str]:
    """A list field: a YAML/JSON list, or a CSV cell with values separated by ``;`` or ``|``."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.replace("|", ";").split(";") if v.strip()]
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [str(value).strip()]


def as_bool(value: Any, where: str) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "y", "1"):
        return True
    if text in ("false", "no", "n", "0"):
        return False
    raise ReferenceDataError(f"{where}: not a yes/no value: {value!r}")


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
