"""Offline validation of projected events against the official schemas (used by the tests).

* OCSF: ``ocsf-json-schema`` (PyPI) ships the OCSF 1.8.0 export and builds a JSON Schema for a class
  with the ``cloud`` profile; ``jsonschema`` checks an event against it (Draft 2020-12).
* ECS: the field definitions ``ecs_flat`` from the npm package ``@elastic/ecs`` (installed into
  ``.tools/`` by ``make tools``), read through node: every field must exist (or be in the custom
  ``cloudaudit.*`` namespace), every value must have its field's type, and the categorization fields
  must hold allowed values.

Both test dependencies are optional at run time: ``ocsf_validator``/``ecs_fields`` raise
``SchemaUnavailable`` with what to install when they are missing.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from schemas.projections import tables as t

ROOT = Path(__file__).resolve().parents[2]
ECS_PACKAGE = "@elastic/ecs"


class SchemaUnavailable(RuntimeError):
    """A schema package is not installed: the message says which and how."""


# --- OCSF --------------------------------------------------------------------------------------------


@cache
def ocsf_validator(class_uid: int) -> Any:
    try:
        import ocsf_json_schema
        from jsonschema import Draft202012Validator
        from ocsf_json_schema import OcsfJsonSchema
        from ocsf_json_schema.embedded import OcsfJsonSchemaEmbedded
    except ImportError as exc:
        raise SchemaUnavailable(f"OCSF validation needs ocsf-json-schema and jsonschema (the test extra): {exc}") from None
    export = Path(ocsf_json_schema.__file__).parent / "ocsf" / f"{t.OCSF_VERSION}.json"
    schema = OcsfJsonSchemaEmbedded(OcsfJsonSchema(_load_ocsf(str(export))))
    class_schema = schema.get_class_schema(t.OCSF_CLASSES[class_uid][3], list(t.OCSF_PROFILES))
    Draft202012Validator.check_schema(class_schema)
    return Draft202012Validator(class_schema)


@cache
def _load_ocsf(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text())  # type: ignore[no-any-return]


def ocsf_errors(doc: dict[str, Any]) -> list[str]:
    """Every schema error of one OCSF event, as ``path: message`` lines (empty: valid)."""
    validator = ocsf_validator(doc["class_uid"])
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message[:300]}"
        for e in validator.iter_errors(doc)
    ]


# --- ECS ---------------------------------------------------------------------------------------------


def ecs_package_dir() -> Path | None:
    for base in (os.environ.get("CLOUDAUDIT_TOOLS"), ROOT / ".tools", ROOT.parent / "main" / ".tools"):
        if base:
            d = Path(base) / "node_modules" / ECS_PACKAGE
            if (d / "generated" / "ecs_flat.js").is_file():
                return d
    return None


@cache
def ecs_fields() -> dict[str, dict[str, Any]]:
    """``ecs_flat``: flat field name -> definition (type, normalize, allowed_values, ...)."""
    package = ecs_package_dir()
    if package is None:
        raise SchemaUnavailable(f"ECS validation needs the npm package {ECS_PACKAGE} in .tools/ (make tools)")
    node = shutil.which("node")
    if node is None:
        raise SchemaUnavailable("ECS validation reads ecs_flat through node, which is not installed")
    script = "process.stdout.write(JSON.stringify(require(process.argv[1]).EcsFlat))"
    out = subprocess.run([node, "-e", script, str(package / "generated" / "ecs_flat.js")],
                         check=True, capture_output=True, timeout=60).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def ecs_version() -> str:
    package = ecs_package_dir()
    if package is None:
        raise SchemaUnavailable(f"{ECS_PACKAGE} is not installed")
    return str(json.loads((package / "package.json").read_text())["version"])


_STRINGS = frozenset({"keyword", "text", "wildcard", "match_only_text", "constant_keyword"})


def _type_ok(kind: str, value: Any) -> bool:
    if kind in _STRINGS:
        return isinstance(value, str)
    if kind == "date":
        if not isinstance(value, str):
            return False
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return False
        return True
    if kind == "ip":
        try:
            ipaddress.ip_address(value)
        except (ValueError, TypeError):
            return False
        return True
    if kind in ("long", "integer", "short", "byte", "unsigned_long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("float", "double", "scaled_float", "half_float"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "geo_point":
        return isinstance(value, dict) and set(value) == {"lat", "lon"}
    if kind in ("object", "flattened", "nested"):
        return isinstance(value, dict | list)
    return False


def ecs_errors(doc: dict[str, Any]) -> list[str]:
    """Unknown non-custom fields, type errors and categorization values outside the allowed sets."""
    fields = ecs_fields()
    errors: list[str] = []

    def walk(prefix: str, value: Any) -> None:
        if prefix.split(".")[0] == t.ECS_CUSTOM_NAMESPACE:
            return
        spec = fields.get(prefix)
        if spec is None and isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
            return
        if spec is None:
            errors.append(f"{prefix}: not an ECS field")
            return
        values = value if isinstance(value, list) else [value]
        if isinstance(value, list) and "array" not in (spec.get("normalize") or []) and spec["type"] != "nested":
            errors.append(f"{prefix}: a list, but ECS does not declare it an array")
        for v in values:
            if not _type_ok(spec["type"], v):
                errors.append(f"{prefix}: {v!r} is not of type {spec['type']}")
        allowed = spec.get("allowed_values")
        if allowed:
            names = {a["name"] for a in allowed}
            errors.extend(f"{prefix}: {v!r} is not an allowed value" for v in values if v not in names)

    walk("", doc)
    return errors
