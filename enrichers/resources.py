"""Resources: what the account of an event is to the business, and the tags of the resources it touched.

The inventory lists accounts (AWS accounts, GCP projects, folders and organizations, Azure
subscriptions) with environment, owner team, criticality and data classification, and optionally
resources with their tags. ``where.account`` is looked up as the event names it (CloudTrail
``recipientAccountId``, the GCP project id or ``organizations/N``, the subscription id) or by one of the
account's ``aliases`` (a GCP project number, an AWS account alias).

``what.resources[].tags`` come from the inventory, or else from the request itself when it creates or
tags the resource (``tagSpecificationSet``/``tags`` in CloudTrail, ``tags`` in an Azure request body,
``labels`` in a GCP request): what the event says about its resource, not a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from enrichers._files import ReferenceDataError, as_text, parse_document, split_list
from enrichers.chain import Enricher, Explanation, Trace, register
from schemas.event import AccountContext, Tag
from schemas.fastpath import Doc

ENVIRONMENTS = ("prod", "staging", "dev", "test", "sandbox")
CRITICALITIES = ("low", "medium", "high", "critical")
ACCOUNT_FIELDS = (
    "id", "provider", "kind", "name", "aliases", "environment", "owner", "criticality", "data_classification",
)
PROVIDERS = ("aws", "gcp", "azure")  # built in; onboarded sources add theirs through the registry
ACCOUNT_KINDS = {"aws": "account", "gcp": "project", "azure": "subscription"}


def providers() -> tuple[str, ...]:
    """Every where.provider word: the built-in clouds and what registered connectors add."""
    from connectors.registry import words

    return tuple(dict.fromkeys((*PROVIDERS, *words("provider"))))


def account_kind(provider: str | None) -> str | None:
    """What an account is called for this provider (a connector's ``account_kind`` for onboarded ones)."""
    if provider is None or provider in ACCOUNT_KINDS:
        return ACCOUNT_KINDS.get(provider or "")
    from connectors.registry import connectors

    return next((c.account_kind for c in connectors() if c.provider == provider and c.account_kind), None)


@dataclass(frozen=True)
class Inventory:
    source: str
    accounts: dict[str, AccountContext]  # lower-cased id or alias -> context
    resources: dict[str, tuple[Tag, ...]]  # lower-cased resource id -> tags

    @classmethod
    def from_bytes(cls, data: bytes, path: str) -> Inventory:
        doc = parse_document(data, path, "inventory")
        if isinstance(doc, list):  # CSV, or a bare list: accounts only
            doc = {"accounts": doc}
        if not isinstance(doc, dict):
            raise ReferenceDataError(f"inventory {path}: expected a mapping with 'accounts' and/or 'resources'")
        extra = sorted(set(doc) - {"accounts", "resources"})
        if extra:
            raise ReferenceDataError(f"inventory {path}: unknown section(s) {', '.join(extra)}")
        accounts: dict[str, AccountContext] = {}
        for n, row in enumerate(doc.get("accounts") or [], start=1):
            ctx, keys = _account(row, f"inventory {path}: account {n}")
            for key in keys:
                if key in accounts:
                    raise ReferenceDataError(f"inventory {path}: account {n}: {key!r} is listed twice")
                accounts[key] = ctx
        resources: dict[str, tuple[Tag, ...]] = {}
        for n, row in enumerate(doc.get("resources") or [], start=1):
            where = f"inventory {path}: resource {n}"
            if not isinstance(row, dict) or not as_text(row.get("id")):
                raise ReferenceDataError(f"{where}: expected a mapping with 'id' and 'tags'")
            resources[str(row["id"]).strip().lower()] = _tags(row.get("tags"), where)
        if not accounts and not resources:
            raise ReferenceDataError(f"inventory {path}: no accounts and no resources")
        return cls(path, accounts, resources)


def _account(row: Any, where: str) -> tuple[AccountContext, list[str]]:
    if not isinstance(row, dict):
        raise ReferenceDataError(f"{where}: expected a mapping, got {type(row).__name__}")
    unknown = sorted(k for k in row if k not in ACCOUNT_FIELDS and row[k] not in (None, ""))
    if unknown:
        raise ReferenceDataError(f"{where}: unknown field(s) {', '.join(unknown)}")
    aid = as_text(row.get("id"))
    if not aid:
        raise ReferenceDataError(f"{where}: 'id' is required")
    env = (as_text(row.get("environment")) or "").lower() or None
    if env is not None and env not in ENVIRONMENTS:
        raise ReferenceDataError(f"{where} ({aid}): environment must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    crit = (as_text(row.get("criticality")) or "").lower() or None
    if crit is not None and crit not in CRITICALITIES:
        raise ReferenceDataError(f"{where} ({aid}): criticality must be one of {', '.join(CRITICALITIES)}, not {crit!r}")
    provider = (as_text(row.get("provider")) or "").lower() or None
    if provider is not None and provider not in providers():
        raise ReferenceDataError(f"{where} ({aid}): provider must be one of {', '.join(providers())}")
    kind = as_text(row.get("kind")) or account_kind(provider)
    ctx = AccountContext(
        id=aid,
        known=True,
        name=as_text(row.get("name")),
        kind=kind,
        environment=env,
        owner=as_text(row.get("owner")),
        criticality=crit,
        data_classification=(as_text(row.get("data_classification")) or "").lower() or None,
    )
    keys = [aid.lower(), *(a.lower() for a in split_list(row.get("aliases")))]
    return ctx, list(dict.fromkeys(keys))


def _tags(value: Any, where: str) -> tuple[Tag, ...]:
    """``{key: value}``, ``[{key|Key, value|Value}]`` or CSV ``k=v;k=v``."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        pairs = [p.split("=", 1) for p in split_list(value)]
        return tuple(Tag(key=k.strip(), value=(v[0].strip() if v else None)) for k, *v in pairs)
    if isinstance(value, dict):
        return tuple(Tag(key=str(k), value=None if v is None else str(v)) for k, v in value.items())
    tags = _tag_list(value)
    if tags is None:
        raise ReferenceDataError(f"{where}: tags must be a mapping or a list of key/value pairs")
    return tags


def _tag_list(value: Any) -> tuple[Tag, ...] | None:
    if not isinstance(value, list):
        return None
    out = []
    for item in value:
        if not isinstance(item, dict):
            return None
        k = item.get("key", item.get("Key"))
        v = item.get("value", item.get("Value"))
        if k is None:
            return None
        out.append(Tag(key=str(k), value=None if v is None else str(v)))
    return tuple(out)


# --- tags the request carries -------------------------------------------------------------------

_TAG_HINT = re.compile(r'"(?:tags|Tags|labels|tagSpecificationSet|TagSpecifications)"')


def tags_from_request(request: str | None) -> tuple[Tag, ...]:
    """Tags a create/tag request sets on its resource; () when there are none. Only parsed when the
    request text names tags at all (most requests do not), so the common case is one substring scan."""
    if not request or len(request) > 65536 or _TAG_HINT.search(request) is None:
        return ()
    try:
        doc = orjson.loads(request)
    except orjson.JSONDecodeError:
        return ()
    if not isinstance(doc, dict):
        return ()
    spec = doc.get("tagSpecificationSet") or doc.get("TagSpecifications")
    if isinstance(spec, dict):  # CloudTrail: {"items": [{"resourceType", "tags": [{key, value}]}]}
        spec = spec.get("items")
    if isinstance(spec, list):
        for item in spec:
            if isinstance(item, dict):
                found = _any_tags(item.get("tags") or item.get("Tags"))
                if found:
                    return found
    for key in ("tags", "Tags", "labels"):
        found = _any_tags(doc.get(key))
        if found:
            return found
    props = doc.get("properties")
    if isinstance(props, dict):
        return _any_tags(props.get("tags"))
    return ()


def _any_tags(value: Any) -> tuple[Tag, ...]:
    if isinstance(value, dict):
        if isinstance(value.get("items"), list):  # CloudTrail's {"items": [...]} wrapper
            return _tag_list(value["items"]) or ()
        if all(isinstance(v, str | int | float | bool) or v is None for v in value.values()):
            return tuple(Tag(key=str(k), value=None if v is None else str(v)) for k, v in value.items())
        return ()
    return _tag_list(value) or ()


# --- the enrichers ------------------------------------------------------------------------------


@register
class AccountEnricher(Enricher):
    """``where.account_context``: the inventory entry of ``where.account``, or ``known=False``."""

    name = "account"

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        # Canonical documents of the contexts (``model_dump``), built once; unknown accounts' on first sight.
        self._docs: dict[str, Doc] = {key: ctx.model_dump() for key, ctx in inventory.accounts.items()}
        self._unknown: dict[str, Doc] = {}

    def enrich(self, doc: Doc, trace: Trace | None = None) -> str:
        where = doc["where"]
        account = where["account"]
        if not account:
            return "none"
        ctx = self._docs.get(account.lower())
        outcome = "hit"
        if ctx is None:
            outcome = "miss"
            ctx = self._unknown.get(account)
            if ctx is None:
                if len(self._unknown) > 4096:
                    self._unknown.clear()
                ctx = self._unknown[account] = AccountContext(id=account, known=False).model_dump()
        where["account_context"] = ctx.copy()  # flat: a copy per event, so no two events share it
        if trace is not None:
            source = (
                f"inventory {self.inventory.source}: account {ctx['id']!r} matched where.account {account!r}"
                if outcome == "hit"
                else f"inventory {self.inventory.source}: no account {account!r}"
            )
            trace.append(Explanation("where.account_context", _without_none(ctx), source))
        return outcome


def _without_none(d: Doc) -> Doc:
    """A flat document as ``model_dump(exclude_none=True)`` gives it (for --explain)."""
    return {k: v for k, v in d.items() if v is not None}


def sets_tags(activity: str, operation: str) -> bool:
    """Whether a request's tags are the target's: a create, or a call that tags (CreateTags, TagResource,
    AddTagsToResource, tags/write, setLabels). Other calls carry tags of something else: AssumeRole's
    session tags are the session's, not the role's."""
    if activity == "create":
        return True
    if activity == "read":
        return False
    op = operation.lower()
    return "tag" in op or "label" in op


@register
class ResourceTagsEnricher(Enricher):
    """``what.resources[].tags``: from the inventory by resource id, else from the create request."""

    name = "resource_tags"

    def __init__(self, inventory: Inventory | None) -> None:
        # Resource id -> its tags as canonical documents (``Tag.model_dump()``), built once.
        self.resources: dict[str, list[Doc]] = (
            {rid: [t.model_dump() for t in tags] for rid, tags in inventory.resources.items()}
            if inventory is not None else {}
        )
        self.source = inventory.source if inventory is not None else None

    def enrich(self, doc: Doc, trace: Trace | None = None) -> str:
        what = doc["what"]
        resources = what["resources"]
        if not resources:
            return "none"
        outcome = "miss"
        if self.resources:
            for n, r in enumerate(resources):
                if r["id"] and r["tags"] is None:
                    tag_docs = self.resources.get(r["id"].lower())
                    if tag_docs:
                        r["tags"] = [t.copy() for t in tag_docs]
                        outcome = "hit"
                        if trace is not None:
                            trace.append(Explanation(
                                f"what.resources[{n}].tags", {t["key"]: t["value"] for t in tag_docs},
                                f"inventory {self.source}: resource {r['id']!r}",
                            ))
        first = resources[0]
        if first["tags"] is None and sets_tags(what["activity"], what["operation"]):
            tags = tags_from_request(what["request"])
            if tags:
                first["tags"] = [t.model_dump() for t in tags]
                outcome = "request" if outcome == "miss" else outcome
                if trace is not None:
                    trace.append(Explanation(
                        "what.resources[0].tags", {t.key: t.value for t in tags}, "the event's own request (what.request)"
                    ))
        return outcome
