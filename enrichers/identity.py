"""Identity: which person or service identity a principal is, the same ``who.person.id`` in every cloud.

The directory maps cloud identifiers to entries. An event is matched by the identifiers its mapper
filled (``who.actor``, ``who.session``, and the first hop of ``who.delegation``: the original caller of an
impersonation), turned into typed keys so an e-mail never collides with an ARN or an object id:

=============  ============================================================================================
key            comes from
=============  ============================================================================================
``arn:``       an IAM user ARN (``arn:aws:iam::111122223333:user/alice``), a role ARN (service identities),
               a federated-user ARN
``sso:``       an IAM Identity Center user name: the session name of an ``AWSReservedSSO_*`` role, the name
               of an Identity Center sign-in
``email:``     an e-mail: GCP principalEmail and ``user:``/``serviceAccount:`` subjects, Azure UPNs, AWS role
               session names that are e-mails (``maria@example.com``), SAML/source-identity names
``id:``        anything else, exactly: Entra object ids, Identity Store user ids, ``principal://`` subjects,
               Workspace profile ids (``who.actor.unique_id``)
=============  ============================================================================================

Identity planes join like the clouds: an Entra sign-in or directory change offers the user's object id
(``entra_object_ids``/``azure_object_ids``) and UPN (``entra_upns``/``azure_upns``), a Workspace activity its
e-mail (``workspace_emails``/``emails``) and profile id (``workspace_ids``). ``privileged_roles`` beside the
identities lists roles (ids or names, any source) that make a grant a privileged one: a
``what.privilege_changes`` item adding one gets the risk tag ``privileged_role_granted``, and
``who.person.privileged`` says whether the acting person is privileged in the directory.

Nothing is guessed: an identifier the directory does not hold gives ``Person(known=False)``, and a
directory where one identifier names two entries is refused at load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from enrichers._files import ReferenceDataError, as_bool, as_text, parse_document, split_list
from enrichers.chain import Enricher, Explanation, Trace, register
from schemas.event import Person
from schemas.fastpath import Doc

# Directory fields holding identifiers, and the key type their values become.
IDENTIFIER_FIELDS: dict[str, str] = {
    "aws_iam_users": "arn",
    "aws_roles": "arn",
    "aws_sso_users": "sso",
    "emails": "email",
    "gcp_principals": "auto",
    "azure_object_ids": "id",
    "azure_upns": "email",
    "entra_object_ids": "id",
    "entra_upns": "email",
    "workspace_emails": "email",
    "workspace_ids": "id",
    "identifiers": "auto",
}
ENTRY_FIELDS = ("id", "kind", "name", "email", "department", "manager", "status", "privileged")
KINDS = ("person", "service")

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_CACHE_MAX = 1 << 16

UNKNOWN = Person(known=False)
_UNKNOWN_DOC = UNKNOWN.model_dump()


def identifier_key(value: str, kind: str = "auto") -> str:
    """The typed, lower-cased index key of one directory identifier."""
    v = value.strip()
    low = v.lower()
    if kind == "auto":
        if low.startswith("arn:"):
            kind = "arn"
        elif low.startswith("sso:"):
            return low
        elif low.startswith(("user:", "serviceaccount:", "group:")):
            return "email:" + low.split(":", 1)[1]
        elif "@" in low and "://" not in low and ":" not in low:
            kind = "email"
        else:
            kind = "id"
    if kind == "email" and low.startswith(("user:", "serviceaccount:")):
        low = low.split(":", 1)[1]
    return f"{kind}:{low}"


@dataclass(frozen=True)
class DirectoryEntry:
    person: Person
    keys: tuple[str, ...] = field(default=())


# (person, the key that matched, which event field it came from, the person's canonical document)
Match = tuple[Person, str | None, str | None, Doc]


class Directory:
    """Identifier key -> ``Person``, built once; ``match`` answers from a per-principal memo."""

    def __init__(
        self, entries: list[DirectoryEntry], source: str = "<directory>", privileged_roles: tuple[str, ...] = ()
    ) -> None:
        self.source = source
        self.entries = entries
        self.privileged_roles = frozenset(r.strip().lower() for r in privileged_roles if r.strip())
        self.index: dict[str, Person] = {}
        for entry in entries:
            for key in entry.keys:
                other = self.index.get(key)
                if other is not None and other.id != entry.person.id:
                    raise ReferenceDataError(
                        f"directory {source}: identifier {key!r} belongs to both {other.id!r} and "
                        f"{entry.person.id!r}"
                    )
                self.index[key] = entry.person
        # Each entry's canonical document (``who.person`` as ``model_dump`` gives it), built once.
        self._docs: dict[str | None, Doc] = {e.person.id: e.person.model_dump() for e in entries}
        self._memo: dict[tuple[Any, ...], Match] = {}

    # --- loading ---------------------------------------------------------------------------------

    @classmethod
    def from_bytes(cls, data: bytes, path: str) -> Directory:
        doc = parse_document(data, path, "directory")
        roles: list[str] = []
        if isinstance(doc, dict):
            roles = split_list(doc.get("privileged_roles"))
            doc = doc.get("identities", doc.get("people"))
        if not isinstance(doc, list):
            raise ReferenceDataError(
                f"directory {path}: expected a list of identities (or a mapping with 'identities')"
            )
        entries = []
        seen: set[str] = set()
        for n, row in enumerate(doc, start=1):
            entry = _entry(row, f"directory {path}: entry {n}")
            if entry.person.id in seen:
                raise ReferenceDataError(f"directory {path}: entry {n}: duplicate id {entry.person.id!r}")
            seen.add(entry.person.id or "")
            entries.append(entry)
        return cls(entries, path, tuple(roles))

    # --- matching --------------------------------------------------------------------------------

    def match(self, doc: Doc) -> tuple[Person, str | None, str | None]:
        """(person, the key that matched, which event field it came from) for a canonical event document;
        unknown -> (UNKNOWN, None, None)."""
        person, key, origin, _ = self.lookup(doc)
        return person, key, origin

    def lookup(self, doc: Doc) -> Match:
        """``match`` and the person's canonical document (not to be changed: copy it)."""
        who = doc["who"]
        a = who["actor"]
        s = who["session"]
        delegation = who["delegation"]
        hop = delegation[0] if delegation else None
        memo_key = (
            a["id"], a["email"], a["name"], a["unique_id"], s["issuer"] if s else None,
            s["issuer_type"] if s else None, (hop["id"], hop["email"], hop["name"]) if hop else None,
        )
        hit = self._memo.get(memo_key)
        if hit is not None:
            return hit
        result: Match = (UNKNOWN, None, None, _UNKNOWN_DOC)
        for key, origin in candidate_keys(doc):
            person = self.index.get(key)
            if person is not None:
                result = (person, key, origin, self._docs[person.id])
                break
        if len(self._memo) >= _CACHE_MAX:
            self._memo.clear()
        self._memo[memo_key] = result
        return result


def _entry(row: Any, where: str) -> DirectoryEntry:
    if not isinstance(row, dict):
        raise ReferenceDataError(f"{where}: expected a mapping, got {type(row).__name__}")
    known = set(ENTRY_FIELDS) | set(IDENTIFIER_FIELDS)
    unknown = sorted(k for k in row if k not in known and row[k] not in (None, ""))
    if unknown:
        raise ReferenceDataError(f"{where}: unknown field(s) {', '.join(unknown)}")
    pid = as_text(row.get("id"))
    if not pid:
        raise ReferenceDataError(f"{where}: 'id' is required")
    kind = (as_text(row.get("kind")) or "person").lower()
    if kind not in KINDS:
        raise ReferenceDataError(f"{where} ({pid}): kind must be one of {', '.join(KINDS)}, not {kind!r}")
    email = as_text(row.get("email"))
    person = Person(
        id=pid,
        known=True,
        kind=kind,
        name=as_text(row.get("name")),
        email=email,
        department=as_text(row.get("department")),
        manager=as_text(row.get("manager")),
        status=(as_text(row.get("status")) or "").lower() or None,
        privileged=as_bool(row.get("privileged"), f"{where} ({pid}) privileged"),
    )
    keys: list[str] = []
    if email:
        keys.append(identifier_key(email, "email"))
    for fname, kind_of_key in IDENTIFIER_FIELDS.items():
        for value in split_list(row.get(fname)):
            if kind_of_key == "arn" and not value.lower().startswith("arn:"):
                raise ReferenceDataError(f"{where} ({pid}): {fname} holds ARNs, not {value!r}")
            keys.append(identifier_key(value, kind_of_key))
    if not keys:
        raise ReferenceDataError(f"{where} ({pid}): no identifier (email, aws_*, gcp_*, azure_*, identifiers)")
    return DirectoryEntry(person, tuple(dict.fromkeys(keys)))


# --- the keys an event offers, most specific first ----------------------------------------------


def candidate_keys(doc: Doc) -> list[tuple[str, str]]:
    """(key, where it came from) in the order they are tried.

    The original caller of a delegation chain comes first (the person behind an impersonation or an
    on-behalf-of session), then the acting principal, then the role a session was issued by (a role
    used only by one service identity).
    """
    out: list[tuple[str, str]] = []
    who = doc["who"]
    if who["delegation"]:
        out.extend(_principal_keys(who["delegation"][0], "who.delegation[0]"))
    a = who["actor"]
    a_id, a_email, a_name, a_unique = a["id"], a["email"], a["name"], a["unique_id"]
    if a_id:
        out.extend((k, "who.actor.id") for k in _id_keys(a_id))
    if a_email:
        out.append((identifier_key(a_email, "email"), "who.actor.email"))
    if a_unique and a_unique != a_id:
        out.extend((k, "who.actor.unique_id") for k in _id_keys(a_unique))
    s = who["session"]
    if a_name:
        if "@" in a_name and " " not in a_name:
            out.append((identifier_key(a_name, "email"), "who.actor.name"))
        elif s is not None and s["issuer_type"] == "IdentityStore":
            out.append(("sso:" + a_name.lower(), "who.actor.name (Identity Center user name)"))
    if s is not None and s["issuer"] and s["issuer"].startswith("arn:"):
        out.append(("arn:" + s["issuer"].lower(), "who.session.issuer"))
    return out


def _principal_keys(p: Doc, origin: str) -> list[tuple[str, str]]:
    """The keys of one delegation hop (a ``Principal`` document)."""
    pid, email, name = p["id"], p["email"], p["name"]
    out = [(k, origin + ".id") for k in _id_keys(pid)] if pid else []
    if email:
        out.append((identifier_key(email, "email"), origin + ".email"))
    if name and "@" in name and " " not in name:
        out.append((identifier_key(name, "email"), origin + ".name"))
    return out


def _id_keys(ident: str) -> list[str]:
    low = ident.lower()
    if low.startswith("arn:"):
        return _arn_keys(low)
    if low.startswith(("user:", "serviceaccount:")):
        return ["email:" + low.split(":", 1)[1]]
    if low.startswith(("principal://", "principalset://")):
        keys = ["id:" + low]
        subject = low.rsplit("/subject/", 1)[1] if "/subject/" in low else None
        if subject and "@" in subject:  # workforce identity federation: the IdP's subject, often an e-mail
            keys.append("email:" + subject)
        return keys
    if "@" in low and ":" not in low and "/" not in low:
        return ["email:" + low]
    return ["id:" + low]


def _arn_keys(arn: str) -> list[str]:
    """``arn:aws:sts::ACCT:assumed-role/ROLE/SESSION``: the session tells who when the role is an
    Identity Center permission set (session = the SSO user name) or the session name is an e-mail."""
    keys = ["arn:" + arn]
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        _, role, session = [*parts[5].split("/", 2), "", ""][:3]
        if session:
            if role.startswith("awsreservedsso_"):
                keys.append("sso:" + session)
            if "@" in session:
                keys.append("email:" + session)
    return keys


def is_guid(text: str) -> bool:
    return bool(_GUID.match(text))


# --- the enricher -------------------------------------------------------------------------------


@register
class IdentityEnricher(Enricher):
    """``who.person`` from the directory: the entry, or ``known=False`` when no identifier matched."""

    name = "identity"

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def enrich(self, doc: Doc, trace: Trace | None = None) -> str:
        person, key, origin, person_doc = self.directory.lookup(doc)
        who = doc["who"]
        who["person"] = person_doc.copy()  # flat: a copy per event, so no two events share it
        if self.directory.privileged_roles and doc["what"]["privilege_changes"]:
            self._privileged_grants(doc, trace)
        if trace is not None:
            if key:
                source = f"directory {self.directory.source}: entry {person.id!r} matched {key!r} from {origin}"
            else:
                tried = ", ".join(k for k, _ in candidate_keys(doc)) or "none"
                source = f"directory {self.directory.source}: no entry for the event's identifiers ({tried})"
            trace.append(Explanation("who.person", person.model_dump(exclude_none=True), source))
        if key:
            return "hit"
        a = who["actor"]
        return "miss" if (a["id"] or a["email"] or a["name"] or who["delegation"]) else "none"

    def _privileged_grants(self, doc: Doc, trace: Trace | None) -> None:
        roles = self.directory.privileged_roles
        what = doc["what"]
        for ch in what["privilege_changes"]:
            role, role_name = ch["role"], ch["role_name"]
            if ch["op"] != "remove" and ((role or "").lower() in roles or (role_name or "").lower() in roles):
                if "privileged_role_granted" not in what["risk_tags"]:
                    what["risk_tags"].append("privileged_role_granted")
                if trace is not None:
                    trace.append(Explanation(
                        "what.risk_tags", "privileged_role_granted",
                        f"directory {self.directory.source}: privileged_roles holds {role_name or role!r}",
                    ))
                return

