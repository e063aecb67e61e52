"""Account context from tags and labels: the same keys and words for AWS tags, GCP labels, Azure tags.

Owners write ``Environment: Production`` in one cloud and ``env: prd`` in another; the inventory has one
vocabulary (``enrichers.resources``). This maps the first tag that names a field onto that vocabulary,
and leaves out (with a warning) a value that maps to nothing, because the inventory loader would refuse
it at start-up.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

# Inventory field -> tag keys tried in order (compared without case, '-' and '_').
DEFAULT_TAG_KEYS: dict[str, tuple[str, ...]] = {
    "environment": ("environment", "env", "stage"),
    "owner": ("owner", "owner-team", "team", "owning-team"),
    "criticality": ("criticality", "business-criticality", "tier"),
    "data_classification": ("data-classification", "dataclassification", "classification", "data-class"),
}
# Tag values people write, mapped onto the inventory's vocabulary (enrichers.resources).
ENVIRONMENTS = {"prod": "prod", "production": "prod", "prd": "prod", "live": "prod", "staging": "staging",
                "stage": "staging", "stg": "staging", "preprod": "staging", "pre-prod": "staging",
                "uat": "staging", "dev": "dev", "development": "dev", "test": "test", "testing": "test",
                "qa": "test", "sandbox": "sandbox", "sbx": "sandbox", "playground": "sandbox"}
CRITICALITIES = {"low": "low", "medium": "medium", "med": "medium", "moderate": "medium", "high": "high",
                 "critical": "critical", "tier0": "critical", "tier-0": "critical", "tier1": "high",
                 "tier-1": "high", "tier2": "medium", "tier-2": "medium", "tier3": "low", "tier-3": "low"}


def default_warn(message: str) -> None:
    print(f"cloudaudit: warning: {message}", file=sys.stderr)


def context_from_tags(
    tags: dict[str, Any], where: str, tag_keys: dict[str, tuple[str, ...]] | None = None,
    warn: Callable[[str], None] = default_warn,
) -> dict[str, str]:
    """environment/owner/criticality/data_classification from a resource's tags (keys given in
    ``tag_keys`` are tried before the defaults)."""
    extra = tag_keys or {}
    out: dict[str, str] = {}
    for field, defaults in DEFAULT_TAG_KEYS.items():
        value = _tag(tags, (*extra.get(field, ()), *defaults))
        if value is None:
            continue
        if field == "environment":
            value = _vocab(value, ENVIRONMENTS, f"{where}: environment tag", warn)
        elif field == "criticality":
            value = _vocab(value, CRITICALITIES, f"{where}: criticality tag", warn)
        elif field == "data_classification":
            value = value.strip().lower()
        if value is not None:
            out[field] = value
    return out


def _tag(tags: dict[str, Any], candidates: tuple[str, ...]) -> str | None:
    folded = {_fold_key(k): v for k, v in tags.items()}
    for c in candidates:
        v = folded.get(_fold_key(c))
        if isinstance(v, str) and v.strip():
            return v.strip()
    return None


def _fold_key(key: str) -> str:
    return key.lower().replace("-", "").replace("_", "").replace(" ", "")


def _vocab(value: str, table: dict[str, str], where: str, warn: Any) -> str | None:
    got = table.get(value.strip().lower())
    if got is None:
        warn(f"{where} {value!r} is not one of {sorted(set(table.values()))}: left out")
    return got
