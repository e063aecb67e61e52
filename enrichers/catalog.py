"""The action catalog: which operations of the three clouds change security posture, in one vocabulary.

The catalog is a data file (``enrichers/data/actions.yaml``), reviewed like code: each entry names a
provider, one or more canonical actions exactly as the mappers write ``what.action``, the schema
category, optionally a refined activity, the risk tags, an optional declarative condition on the request,
and the reason (why a responder cares). ``Catalog.classify`` applies it to an event (a canonical
document, ``schemas.fastpath``).

Lookups are one dict access on (provider, lower-cased action): Azure operation names arrive in any letter
case, GCP's differ by service (``SetIamPolicy``/``SetIAMPolicy``), and CloudTrail event names are unique
without case, so one rule for all three is both simpler and safe. GCP entries may name the service ``*``
(``*:setIamPolicy``) to match the method on any service: IAM policy methods exist on hundreds of resource
types and a catalog cannot list them all. Conditions are evaluated only for events whose action matched,
so an unmatched event costs a ``str.lower`` and one or two dict lookups.

Condition vocabulary (all keys of one ``when`` must hold):

* ``request_contains: [s, ...]``: any of the strings occurs in ``what.request`` (compact JSON);
* ``request_contains_all: [s, ...]``: all of them occur;
* ``request_lacks: [s, ...]``: none of them occurs (an absent request lacks everything);
* ``response_contains: [s, ...]``: any of them occurs in ``what.response``;
* ``raw_contains: [s, ...]``: any of them occurs in ``raw`` (the original record);
* ``raw_has_item: {list: KEY, match: {field: value, ...}}``: somewhere in ``raw`` a key ``KEY`` holds a
  list with an object whose fields equal the given values, letter case ignored; a list of values means
  any of them (GCP ``serviceData.policyDelta`` deltas).

Text matching ignores letter case and white space (Azure request bodies arrive as the client wrote
them, with or without spaces); a needle is written the way compact JSON spells it, e.g.
``'"cidrIp":"0.0.0.0/0"'``. A condition on a field that is absent does not hold (``request_lacks`` aside).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from schemas.event import Activity, Category, Provider
from schemas.fastpath import Doc

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "actions.yaml"
PRIVILEGES_PATH = Path(__file__).resolve().parent / "data" / "privileges.yaml"
GRANT_TAG = "iam.privilege_grant"
ADMIN_TAG = "iam.admin_grant"

_PROVIDERS = frozenset(p.value for p in Provider)  # built in; registered connectors add theirs (_providers)


def _providers() -> frozenset[str]:
    from connectors.registry import vocabulary

    return _PROVIDERS | vocabulary("provider")
_CATEGORIES = frozenset(c.value for c in Category)
_ACTIVITIES = frozenset(a.value for a in Activity)
_TAG = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_ACTION = re.compile(r"^[^\s:]+:\S+$")
_ENTRY_KEYS = frozenset({"provider", "actions", "category", "activity", "tags", "when", "reason", "ref"})
_WS = re.compile(r"\s+")
_MEMO_MAX = 1 << 16  # distinct actions remembered per provider; the clouds have some tens of thousands


class CatalogError(ValueError):
    """The catalog file is missing, not YAML/JSON, or breaks the format; the message names the file."""


# --- tags from privilege changes ----------------------------------------------------------------


@dataclass(frozen=True)
class PrivilegeTags:
    """iam.privilege_grant / iam.admin_grant from ``what.privilege_changes``: one rule for every cloud, the
    admin roles in a data table (``enrichers/data/privileges.yaml``)."""

    grant_kinds: frozenset[str]
    admin_roles: dict[str, frozenset[str]]

    @classmethod
    def load(cls, path: str | Path | None = None) -> PrivilegeTags:
        p = Path(path) if path is not None else PRIVILEGES_PATH
        try:
            doc = yaml.safe_load(p.read_text("utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise CatalogError(f"privilege tags {p}: {exc}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("grant_kinds"), list) or not isinstance(
            doc.get("admin_roles"), dict
        ):
            raise CatalogError(f"privilege tags {p}: expected 'grant_kinds' (a list) and 'admin_roles' (a mapping)")
        unknown = set(doc["admin_roles"]) - _PROVIDERS
        if unknown:
            raise CatalogError(f"privilege tags {p}: unknown providers {sorted(unknown)}")
        return cls(
            frozenset(str(k) for k in doc["grant_kinds"]),
            {prov: frozenset(str(r).lower() for r in roles or ()) for prov, roles in doc["admin_roles"].items()},
        )

    def tags(self, doc: Doc) -> list[str]:
        out: list[str] = []
        admin = self.admin_roles.get(doc["where"]["provider"], frozenset())
        for change in doc["what"]["privilege_changes"]:
            if change["op"] == "remove" or change["kind"] not in self.grant_kinds:
                continue
            if GRANT_TAG not in out:
                out.append(GRANT_TAG)
            role, role_name = change["role"], change["role_name"]
            if ADMIN_TAG not in out and (
                (role is not None and role.lower() in admin)
                or (role_name is not None and role_name.lower() in admin)
            ):
                out.append(ADMIN_TAG)
        return out


_privilege_tags: PrivilegeTags | None = None


def default_privilege_tags() -> PrivilegeTags:
    global _privilege_tags
    if _privilege_tags is None:
        _privilege_tags = PrivilegeTags.load()
    return _privilege_tags


# --- conditions ----------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """The form text is compared in: lower case, no white space."""
    return _WS.sub("", text).lower()


@dataclass(frozen=True, slots=True)
class Condition:
    """One ``when`` block, its needles folded at load time."""

    request_contains: tuple[str, ...] = ()
    request_contains_all: tuple[str, ...] = ()
    request_lacks: tuple[str, ...] = ()
    response_contains: tuple[str, ...] = ()
    raw_contains: tuple[str, ...] = ()
    raw_has_item: tuple[str, tuple[tuple[str, frozenset[str]], ...]] | None = None

    def holds(self, doc: Doc, memo: dict[str, Any]) -> bool:
        """True when every part holds; ``memo`` keeps the folded texts and parsed raw for one event, so
        several conditions on one action read each field once."""
        what = doc["what"]
        if self.request_contains or self.request_contains_all or self.request_lacks:
            req = _folded(memo, "request", what["request"])
            if self.request_contains and (req is None or not any(n in req for n in self.request_contains)):
                return False
            if self.request_contains_all and (req is None or not all(n in req for n in self.request_contains_all)):
                return False
            if self.request_lacks and req is not None and any(n in req for n in self.request_lacks):
                return False
        if self.response_contains:
            resp = _folded(memo, "response", what["response"])
            if resp is None or not any(n in resp for n in self.response_contains):
                return False
        if self.raw_contains:
            raw = _folded(memo, "raw", doc["raw"])
            if raw is None or not any(n in raw for n in self.raw_contains):
                return False
        if self.raw_has_item is not None:
            if "raw_doc" not in memo:
                memo["raw_doc"] = _parse(doc["raw"])
            key, pairs = self.raw_has_item
            if not _has_item(memo["raw_doc"], key, pairs):
                return False
        return True

    def describe(self) -> str:
        parts = []
        for name in ("request_contains", "request_contains_all", "request_lacks", "response_contains",
                     "raw_contains"):
            values = getattr(self, name)
            if values:
                parts.append(f"{name}={list(values)}")
        if self.raw_has_item is not None:
            key, pairs = self.raw_has_item
            parts.append(f"raw_has_item={key}{ {f: sorted(w) for f, w in pairs} }")
        return ", ".join(parts)


def _folded(memo: dict[str, Any], name: str, text: str | None) -> str | None:
    if name not in memo:
        memo[name] = _fold(text) if text else None
    return memo[name]


def _parse(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _has_item(doc: Any, key: str, pairs: tuple[tuple[str, frozenset[str]], ...]) -> bool:
    """Depth-first search for ``key: [ {..pairs..}, ... ]`` anywhere in a JSON document (bounded by the
    document, which the normalizer already capped at 1 MiB)."""
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if k == key and isinstance(v, list):
                    for item in v:
                        if isinstance(item, dict) and all(
                            str(item.get(f, "")).lower() in wanted for f, wanted in pairs
                        ):
                            return True
                if isinstance(v, dict | list):
                    stack.append(v)
        elif isinstance(node, list):
            stack.extend(x for x in node if isinstance(x, dict | list))
    return False


# --- rules ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """One catalog entry for one action (an entry listing several actions becomes several rules)."""

    provider: str
    action: str
    category: str | None
    activity: str | None
    tags: tuple[str, ...]
    reason: str
    ref: str | None = None
    when: Condition | None = None
    line: int | None = None

    def explain(self) -> dict[str, Any]:
        """What ``cloudaudit enrich --explain`` shows for this rule."""
        out: dict[str, Any] = {"source": "catalog", "provider": self.provider, "action": self.action}
        if self.category:
            out["category"] = self.category
        if self.activity:
            out["activity"] = self.activity
        out["tags"] = list(self.tags)
        if self.when is not None:
            out["when"] = self.when.describe()
        out["reason"] = self.reason
        if self.ref:
            out["ref"] = self.ref
        if self.line is not None:
            out["line"] = self.line
        return out


@dataclass
class Catalog:
    """The loaded catalog: ``classify`` an event, ``match`` to see which rules apply and why."""

    path: str
    vocabulary: dict[str, str]
    rules: tuple[Rule, ...]
    # provider -> lower-cased action -> rules in file order (unconditional rule first)
    _index: dict[str, dict[str, tuple[Rule, ...]]] = field(default_factory=dict, repr=False)
    _wildcards: frozenset[str] = field(default_factory=frozenset, repr=False)
    # provider -> action exactly as the event spells it -> rules (() for none): the answer of
    # ``rules_for`` remembered, so an event costs two dict lookups and no string work. Mappers cache their
    # action strings, so the keys' hashes are computed once. Bounded by _MEMO_MAX per provider.
    _memo: dict[str, dict[str, tuple[Rule, ...]]] = field(default_factory=dict, repr=False)

    # --- loading ---------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path | None = None) -> Catalog:
        """Read and check a catalog file (YAML or JSON); None = the catalog shipped with cloudaudit.

        Every problem is a ``CatalogError`` naming the file (and the entry), raised at start-up, so a bad
        catalog never becomes a failure per event."""
        p = Path(path) if path is not None else DEFAULT_PATH
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            raise CatalogError(f"action catalog {p}: file not found") from None
        except OSError as exc:
            raise CatalogError(f"action catalog {p}: cannot read: {exc.strerror or exc}") from None
        return cls.from_bytes(data, str(p))

    @classmethod
    def from_bytes(cls, data: bytes, name: str) -> Catalog:
        """A catalog from a file's bytes (read elsewhere, e.g. through Beam's FileSystems); ``name`` is
        what error messages call it."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CatalogError(f"action catalog {name}: not UTF-8 text: {exc.reason} at byte {exc.start}") from None
        try:
            doc = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no arbitrary objects
        except yaml.YAMLError as exc:
            raise CatalogError(f"action catalog {name}: not valid YAML/JSON: {_yaml_problem(exc)}") from None
        return cls.from_document(doc, name)

    @classmethod
    def from_document(cls, doc: Any, name: str = "<catalog>") -> Catalog:
        if not isinstance(doc, dict):
            raise CatalogError(f"action catalog {name}: expected a mapping with 'vocabulary' and 'entries'")
        unknown = set(doc) - {"version", "vocabulary", "entries"}
        if unknown:
            raise CatalogError(f"action catalog {name}: unknown top-level keys {sorted(unknown)}")
        vocab = doc.get("vocabulary")
        if not isinstance(vocab, dict) or not vocab:
            raise CatalogError(f"action catalog {name}: 'vocabulary' must map each risk tag to its meaning")
        for tag, meaning in vocab.items():
            if not isinstance(tag, str) or not _TAG.match(tag):
                raise CatalogError(f"action catalog {name}: vocabulary tag {tag!r} is not 'area.name'")
            if not isinstance(meaning, str) or not meaning.strip():
                raise CatalogError(f"action catalog {name}: vocabulary tag {tag!r} has no meaning text")
        entries = doc.get("entries")
        if not isinstance(entries, list) or not entries:
            raise CatalogError(f"action catalog {name}: 'entries' must be a non-empty list")
        rules: list[Rule] = []
        for n, entry in enumerate(entries, 1):
            rules.extend(_rules_from_entry(entry, n, vocab, name))
        return cls.from_rules(name, dict(vocab), rules)

    @classmethod
    def from_rules(cls, name: str, vocabulary: dict[str, str], rules: Iterable[Rule]) -> Catalog:
        index: dict[str, dict[str, list[Rule]]] = {}
        seen: dict[tuple[str, str, Condition | None], Rule] = {}
        for r in rules:
            key = (r.provider, r.action.lower(), r.when)
            if key in seen:
                raise CatalogError(
                    f"action catalog {name}: {r.provider} {r.action} is listed twice with the same "
                    f"condition (entries at {_where(seen[key])} and {_where(r)})"
                )
            seen[key] = r
            index.setdefault(r.provider, {}).setdefault(r.action.lower(), []).append(r)
        frozen = {
            prov: {a: tuple(sorted(rs, key=lambda r: r.when is not None)) for a, rs in table.items()}
            for prov, table in index.items()
        }
        wild = frozenset(p for p, table in frozen.items() if any(a.startswith("*:") for a in table))
        all_rules = tuple(r for table in frozen.values() for rs in table.values() for r in rs)
        return cls(path=name, vocabulary=vocabulary, rules=all_rules, _index=frozen, _wildcards=wild)

    # --- use -------------------------------------------------------------------------------------

    def rules_for(self, provider: str, action: str) -> tuple[Rule, ...]:
        """The rules that could apply to (provider, action), before conditions."""
        table = self._index.get(provider)
        if table is None:
            return ()
        low = action.lower()
        rules = table.get(low, ())
        if provider in self._wildcards:
            # An exact entry and an any-service entry for the same method both apply, exact ones first.
            wild = table.get(_wildcard_key(provider, low), ())
            if wild and wild is not rules:
                rules = rules + wild
        return rules

    def match(self, doc: Doc) -> list[Rule]:
        """The rules that apply to this event (a canonical document), conditions checked; nothing is
        changed."""
        rules = self.rules_for(doc["where"]["provider"], doc["what"]["action"])
        if not rules:
            return []
        memo: dict[str, Any] = {}
        return [r for r in rules if r.when is None or r.when.holds(doc, memo)]

    def classify(self, doc: Doc) -> list[str]:
        """Set ``what.category`` (and ``what.activity`` where the catalog refines it) and add the risk tags
        of every matching rule to ``what.risk_tags`` (no duplicates); return the catalog's tags for the
        event. An event no rule matches is left as it is and gets ``[]``. ``what.privilege_changes`` add
        iam.privilege_grant / iam.admin_grant whatever the action (PrivilegeTags). ``doc`` is a canonical
        event document, changed in place."""
        provider = doc["where"]["provider"]
        what = doc["what"]
        action = what["action"]
        memo = self._memo.get(provider)
        if memo is None:
            memo = self._memo.setdefault(provider, {})
        rules = memo.get(action)
        if rules is None:
            rules = self.rules_for(provider, action)
            if len(memo) < _MEMO_MAX:
                memo[action] = rules
        derived = default_privilege_tags().tags(doc) if what["privilege_changes"] else None
        if not rules:
            if not derived:
                return []
            tags, category, activity = [], None, None
        elif len(rules) == 1 and rules[0].when is None:  # most matched actions: no condition to check
            rule = rules[0]
            tags, category, activity = list(rule.tags), rule.category, rule.activity
        else:
            tags = []
            category, activity = _apply_order(rules, doc, tags)
        if derived:
            tags.extend(t for t in derived if t not in tags)
        if category is not None:
            what["category"] = category
        if activity is not None:
            what["activity"] = activity
        if tags:
            have = what["risk_tags"]
            for t in tags:
                if t not in have:
                    have.append(t)
        return tags

    def actions(self, provider: str | None = None) -> Iterator[tuple[str, str]]:
        """(provider, action) for every catalogued action, for docs and tests."""
        for r in self.rules:
            if provider is None or r.provider == provider:
                yield r.provider, r.action


# --- parsing entries -----------------------------------------------------------------------------


def _rules_from_entry(entry: Any, n: int, vocab: Mapping[str, str], name: str) -> list[Rule]:
    line = getattr(entry, "line", None)
    at = f"action catalog {name}: entry {n}" + (f" (line {line})" if line else "")
    if not isinstance(entry, dict):
        raise CatalogError(f"{at}: expected a mapping")
    unknown = set(entry) - _ENTRY_KEYS
    if unknown:
        raise CatalogError(f"{at}: unknown keys {sorted(unknown)} (allowed: {sorted(_ENTRY_KEYS)})")
    provider = entry.get("provider")
    if provider not in _providers():
        raise CatalogError(f"{at}: provider {provider!r} is not one of {sorted(_providers())}")
    actions = entry.get("actions")
    if isinstance(actions, str):
        actions = [actions]
    if not isinstance(actions, list) or not actions:
        raise CatalogError(f"{at}: 'actions' must list at least one 'service:operation'")
    for a in actions:
        if not isinstance(a, str) or not _ACTION.match(a):
            raise CatalogError(f"{at}: action {a!r} is not 'service:operation'")
        if a.startswith("*:") and not _valid_wildcard(provider, a):
            raise CatalogError(
                f"{at}: wildcard {a!r}: GCP entries may use '*:method' (the method's last dotted segment), "
                "Azure entries '*:resourcetype/verb' (the last two segments); AWS none"
            )
    category = entry.get("category")
    when = _condition(entry.get("when"), at)
    if category is None and when is None:
        raise CatalogError(f"{at}: 'category' is required unless the entry has a 'when' condition")
    if category is not None and category not in _CATEGORIES:
        raise CatalogError(f"{at}: category {category!r} is not one of {sorted(_CATEGORIES)}")
    activity = entry.get("activity")
    if activity is not None and activity not in _ACTIVITIES:
        raise CatalogError(f"{at}: activity {activity!r} is not one of {sorted(_ACTIVITIES)}")
    tags = entry.get("tags", [])
    if not isinstance(tags, list) or any(not isinstance(t, str) for t in tags):
        raise CatalogError(f"{at}: 'tags' must be a list of risk tags")
    for t in tags:
        if t not in vocab:
            raise CatalogError(f"{at}: risk tag {t!r} is not in the vocabulary")
    if len(set(tags)) != len(tags):
        raise CatalogError(f"{at}: a risk tag is listed twice")
    if not tags and category is None:
        raise CatalogError(f"{at}: a conditional entry must add at least one tag or a category")
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise CatalogError(f"{at}: 'reason' (why a responder cares) is required")
    ref = entry.get("ref")
    if ref is not None and not isinstance(ref, str):
        raise CatalogError(f"{at}: 'ref' must be a text (a documentation URL)")
    return [
        Rule(provider, a, category, activity, tuple(tags), " ".join(reason.split()), ref, when, line)
        for a in actions
    ]


_COND_LISTS = ("request_contains", "request_contains_all", "request_lacks", "response_contains", "raw_contains")


def _condition(when: Any, at: str) -> Condition | None:
    if when is None:
        return None
    if not isinstance(when, dict) or not when:
        raise CatalogError(f"{at}: 'when' must be a mapping of conditions")
    unknown = set(when) - {*_COND_LISTS, "raw_has_item"}
    if unknown:
        raise CatalogError(
            f"{at}: unknown condition {sorted(unknown)} (allowed: {[*_COND_LISTS, 'raw_has_item']})"
        )
    kw: dict[str, Any] = {}
    for key in _COND_LISTS:
        if key in when:
            values = when[key]
            if isinstance(values, str):
                values = [values]
            if not isinstance(values, list) or not values or any(not isinstance(v, str) or not v for v in values):
                raise CatalogError(f"{at}: condition {key} must be a non-empty list of texts")
            kw[key] = tuple(_fold(v) for v in values)
    if "raw_has_item" in when:
        item = when["raw_has_item"]
        if (
            not isinstance(item, dict)
            or set(item) != {"list", "match"}
            or not isinstance(item["list"], str)
            or not isinstance(item["match"], dict)
            or not item["match"]
        ):
            raise CatalogError(f"{at}: raw_has_item must be {{list: KEY, match: {{field: value, ...}}}}")
        found: list[tuple[str, frozenset[str]]] = []
        for k, v in sorted(item["match"].items()):
            values = v if isinstance(v, list) else [v]
            if not values or any(isinstance(x, dict | list) or x is None for x in values):
                raise CatalogError(f"{at}: raw_has_item match {k!r} must be a value or a list of values")
            found.append((str(k), frozenset(str(x).lower() for x in values)))
        kw["raw_has_item"] = (item["list"], tuple(found))
    return Condition(**kw)


def _apply_order(rules: tuple[Rule, ...], doc: Doc, tags: list[str]) -> tuple[str | None, str | None]:
    """Collect the tags of the matching rules (in file order, unconditional rule first) into ``tags`` and
    return (category, activity): a matching conditional rule's category/activity wins over the
    unconditional one's, because it says more about this very request."""
    memo: dict[str, Any] = {}
    category = activity = base_category = base_activity = None
    for r in rules:
        if r.when is None:
            base_category = base_category or r.category
            base_activity = base_activity or r.activity
        elif not r.when.holds(doc, memo):
            continue
        else:
            if category is None:
                category = r.category
            if activity is None:
                activity = r.activity
        for t in r.tags:
            if t not in tags:
                tags.append(t)
    return category or base_category, activity or base_activity


def _wildcard_key(provider: str, low: str) -> str:
    """The any-service key of a lower-cased action: GCP ``compute:instances.setiampolicy`` ->
    ``*:setiampolicy``; Azure ``microsoft.network:nsgs/providers/microsoft.insights/diagnosticsettings/
    delete`` -> ``*:diagnosticsettings/delete`` (settings nested under any resource type)."""
    op = low.partition(":")[2]
    if provider == "azure":
        return "*:" + "/".join(op.rsplit("/", 2)[-2:])
    return "*:" + op.rsplit(".", 1)[-1]


def _valid_wildcard(provider: str, action: str) -> bool:
    rest = action[2:]
    if provider == "gcp":
        return "." not in rest and "/" not in rest
    if provider == "azure":
        return rest.count("/") == 1
    return False


def _where(r: Rule) -> str:
    return f"line {r.line}" if r.line else "?"


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """One line: the problem and where (line, column), without PyYAML's multi-line source excerpt."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem}"
    return " ".join(str(exc).split())


class _Entry(dict):  # type: ignore[type-arg]
    """A mapping that remembers its line in the file, for error messages."""

    line: int | None = None


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (plain YAML keeps the last silently: a reviewed data file
    must not hide an entry that way) and records each mapping's line."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    out = _Entry()
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        out[key] = loader.construct_object(value_node, deep=True)  # type: ignore[no-untyped-call]
    return out


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_default: Catalog | None = None


def default_catalog() -> Catalog:
    """The shipped catalog, loaded once per process (Beam workers call this from ``setup``)."""
    global _default
    if _default is None:
        _default = Catalog.load()
    return _default
