"""Writing the reference files the loaders build, and merging them into files people maintain.

The loaders write exactly the formats ``enrichers.identity`` (the directory: ``{"identities": [...]}``)
and ``enrichers.resources`` (the inventory: ``{"accounts": [...]}``) read, as YAML, JSON or CSV by the
output's extension. A cloud knows only its own identifiers, while one person has identifiers in three
clouds, so ``merge`` folds freshly loaded entries into an existing file instead of replacing it: the
refresh keeps what people wrote by hand and adds what the cloud says.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from enrichers._files import ReferenceDataError, kind_of, parse_document, read_bytes, split_list

# Directory fields that hold lists of identifiers (enrichers.identity.IDENTIFIER_FIELDS).
LIST_FIELDS = ("aws_iam_users", "aws_roles", "aws_sso_users", "emails", "gcp_principals", "azure_object_ids",
               "azure_upns", "identifiers", "aliases")
DIRECTORY_COLUMNS = ("id", "kind", "name", "email", "department", "manager", "status", "privileged",
                     "aws_iam_users", "aws_roles", "aws_sso_users", "emails", "gcp_principals", "azure_object_ids",
                     "azure_upns", "identifiers")
INVENTORY_COLUMNS = ("id", "provider", "kind", "name", "aliases", "environment", "owner", "criticality",
                     "data_classification")


def load_existing(path: str, section: str, what: str) -> list[dict[str, Any]]:
    """The entries of an existing directory/inventory file, for ``--merge``."""
    doc = parse_document(read_bytes(path, what), path, what)
    if isinstance(doc, dict):
        rows = doc.get(section, doc.get("people") if section == "identities" else None)
    else:
        rows = doc
    if rows is None:
        rows = []
    if not isinstance(rows, list) or any(not isinstance(r, dict) for r in rows):
        raise ReferenceDataError(f"{what} {path}: expected a list of entries under {section!r}")
    return [dict(r) for r in rows]


def merge(existing: list[dict[str, Any]], loaded: list[dict[str, Any]], *, cloud_wins: Iterable[str] = ()) -> list[
        dict[str, Any]]:
    """Fold loaded entries into existing ones, matched by ``id`` (case-insensitive).

    List fields are united (existing order first); for other fields the existing value stays unless it is
    empty or the field is in ``cloud_wins`` (fields the cloud is the authority on, such as an account's
    tags-derived environment). Entries only in the existing file are kept: a cloud listing cannot tell a
    removed person from one who never had an account there."""
    wins = set(cloud_wins)
    out = [dict(r) for r in existing]
    by_id = {str(r.get("id", "")).strip().lower(): r for r in out if r.get("id")}
    for new in loaded:
        key = str(new.get("id", "")).strip().lower()
        old = by_id.get(key)
        if old is None:
            row = dict(new)
            out.append(row)
            by_id[key] = row
            continue
        for field, value in new.items():
            if value is None or value == [] or value == "":
                continue
            if field in LIST_FIELDS:
                old[field] = list(dict.fromkeys([*split_list(old.get(field)), *split_list(value)]))
            elif field in wins or old.get(field) in (None, "", []):
                old[field] = value
    return out


def write(path: str, section: str, rows: list[dict[str, Any]], columns: tuple[str, ...], source: str) -> None:
    """Write ``{section: rows}`` as YAML/JSON (or a CSV with ``;``-joined lists) to ``path`` ('-' =
    stdout), atomically: a reader never sees half a file."""
    rows = [{k: v for k, v in r.items() if v not in (None, "", [])} for r in rows]
    kind = "yaml" if path == "-" else kind_of(path)
    if kind == "csv":
        buf = io.StringIO()
        extra = sorted({k for r in rows for k in r} - set(columns))
        w = csv.DictWriter(buf, fieldnames=[*columns, *extra], lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: ";".join(map(str, v)) if isinstance(v, list) else _cell(v) for k, v in r.items()})
        text = buf.getvalue()
    elif kind == "json":
        text = json.dumps({section: rows}, indent=2, ensure_ascii=False) + "\n"
    else:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = (f"# Written by cloudaudit from {source} at {stamp}.\n"
                "# Re-run the same command to refresh it (with --merge FILE to keep hand-written entries).\n"
                + yaml.safe_dump({section: rows}, sort_keys=False, allow_unicode=True, width=110))
    if path == "-":
        sys.stdout.write(text)
        return
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        raise ReferenceDataError(f"cannot write {path}: {exc.strerror or exc}") from None


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
