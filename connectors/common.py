"""Small mapping helpers the three connectors share, so the three clouds answer the same way.

Each is a plain, fast function over strings; connectors call them from their field-group functions.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

# Entries of a cache whose keys are long, many-valued strings (user agents, full resource names): each
# entry keeps its key alive (~300 bytes with the cache's own link), so 16,384 of them bound the cache
# to about 5 MiB. Real logs repeat a few hundred agents; a larger cache only filled with the generated
# data's one-off agents (65,536 entries were 15-20 MiB per cache: most of the pipeline's memory growth
# from 200k to 1M events, benchmarks/bench_memory.py).
LONG_KEY_CACHE = 16_384

# Verb words at the start (or end, for GCP/Azure dotted and slashed names) of an operation name.
_VERBS: dict[str, str] = {
    # create
    "create": "create", "insert": "create", "add": "create", "put": "update", "register": "create",
    "run": "create", "launch": "create", "allocate": "create", "generate": "create", "import": "create",
    "upload": "create", "copy": "create", "issue": "create", "request": "create", "start": "update",
    # read
    "get": "read", "list": "read", "describe": "read", "lookup": "read", "search": "read", "read": "read",
    "query": "read", "select": "read", "head": "read", "batchget": "read", "view": "read",
    "download": "read", "retrieve": "read", "test": "read", "check": "read", "validate": "read",
    "simulate": "read", "decrypt": "read", "predict": "read", "export": "read", "scan": "read",
    # update
    "update": "update", "modify": "update", "set": "update", "patch": "update", "attach": "update",
    "detach": "update", "enable": "update", "disable": "update", "change": "update", "replace": "update",
    "associate": "update", "disassociate": "update", "authorize": "update", "revoke": "update",
    "tag": "update", "untag": "update", "stop": "update", "reboot": "update", "reset": "update",
    "write": "update", "action": "other", "assign": "update", "unassign": "update", "move": "update",
    "restore": "update", "rotate": "update", "grant": "update", "apply": "update", "upsert": "update",
    "setiampolicy": "update",
    # delete
    "delete": "delete", "remove": "delete", "terminate": "delete", "destroy": "delete",
    "deregister": "delete", "purge": "delete", "release": "delete", "drop": "delete", "cancel": "delete",
    # login
    "login": "login", "signin": "login", "logon": "login", "authenticate": "login",
    "assumerole": "login", "assumerolewithsaml": "login", "assumerolewithwebidentity": "login",
    "getsessiontoken": "login", "getfederationtoken": "login",
}


@lru_cache(maxsize=65536)
def activity_from_operation(operation: str) -> str:
    """create/read/update/delete/login/other from an operation name in any cloud's style.

    ``CreateAccessKey`` (AWS), ``v1.compute.firewalls.insert`` and ``SetIamPolicy`` (GCP),
    ``Microsoft.Authorization/roleAssignments/write`` (Azure), ``ConsoleLogin``.
    """
    if not operation:
        return "other"
    whole = operation.replace("_", "").replace("-", "").lower()
    if _VERBS.get(whole) == "login":
        return "login"
    # Dotted and slashed names put the verb last (firewalls.insert, roleAssignments/write).
    for sep in ("/", "."):
        if sep in operation:
            last = operation.rsplit(sep, 1)[-1]
            if last.lower() in _VERBS:
                return _VERBS[last.lower()]
            operation = last
            break
    verb = _first_word(operation)
    if verb in _VERBS:
        return _VERBS[verb]
    # Only a name that starts with no known verb is a sign-in by its wording (ConsoleLogin,
    # loginFailure); CreateLoginProfile manages a password and is a create.
    low = operation.lower()
    if "login" in low or "signin" in low or "logon" in low:
        return "login"
    return "other"


def _first_word(name: str) -> str:
    m = _CAMEL.search(name)
    return m.group(0).lower() if m else name.lower()


_CLI = ("aws-cli", "command/gcloud", "gcloud-python", "azurecli", "azure-cli", "azure cli", "gsutil",
        "aws-shell", "powershell", "azurepowershell", "google-cloud-sdk gcloud", "cloud-sdk")
# Terraform and its provider agents; CloudFormation calls come from the service host name instead
# (cloudformation.amazonaws.com, a cloud service acting for the stack's caller).
_TERRAFORM = ("terraform", "hashicorp")
_SDK = ("boto3", "botocore", "aws-sdk", "aws-internal", "google-api-", "google-cloud-sdk", "grpc-",
        "gl-python", "gl-go", "gl-java", "gcloud-golang", "google-http-java-client", "azsdk",
        "azure-sdk", "python-requests", "okhttp", "go-http-client", "apache-httpclient", "jets3t",
        "s3fs", "rclone", "aws-sdk-go", "aws-sdk-java", "curl/", "axios", "node-fetch")
_CONSOLE = ("console.amazonaws.com", "signin.amazonaws.com", "console.ec2.amazonaws.com",
            "s3console.amazonaws.com", "appmanager.amazonaws.com",
            # console back ends that call with an SDK agent ("EC2ConsoleBackend, aws-sdk-java/...")
            # and the Google Cloud console's own agent
            "consolebackend", "googlecloudconsole")


@lru_cache(maxsize=LONG_KEY_CACHE)
def client_from_user_agent(user_agent: str | None) -> str:
    """console, cli, sdk, terraform, cloud_service, other or unknown, from a user agent string.

    Order matters: terraform and CLI agents embed SDK names (``aws-cli/2 ... botocore``), and a browser
    UA that passed through a service front end is still the console.
    """
    if not user_agent:
        return "unknown"
    ua = user_agent.lower()
    if any(t in ua for t in _TERRAFORM):
        return "terraform"
    if any(t in ua for t in _CONSOLE) or ua.startswith("mozilla/"):
        return "console"
    if any(t in ua for t in _CLI):
        return "cli"
    if ua == "aws internal" or ua.endswith(".amazonaws.com") or ua.endswith(".googleapis.com"):
        return "cloud_service"
    if any(t in ua for t in _SDK):
        return "sdk"
    return "other"


@lru_cache(maxsize=65536)
def ip_or_domain(value: str | None) -> tuple[str | None, str | None]:
    """Split a caller address into (ip, domain). Service host names and 'AWS Internal' are domains,
    never IPs. A CIDR (Azure sometimes logs one) keeps its address; IPv6 is kept compressed."""
    if value is None:
        return None, None
    v = str(value).strip()
    if not v:
        return None, None
    try:
        return str(ipaddress.ip_address(v)), None
    except ValueError:
        pass
    if "/" in v:
        try:
            return str(ipaddress.ip_interface(v).ip), None
        except ValueError:
            pass
    # "1.2.3.4:5678" (IPv4 with a port) and "[::1]:443"
    host = v
    if host.startswith("[") and "]" in host:
        host = host[1 : host.index("]")]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host != v:
        try:
            return str(ipaddress.ip_address(host)), None
        except ValueError:
            pass
    return None, v


def compact_json(value: Any) -> str | None:
    """Request/response parameters as compact JSON text (None for absent or empty)."""
    if type(value) is dict:  # the common case: an object straight from the parser
        if not value:
            return None
        try:
            return orjson.dumps(value).decode()
        except TypeError:
            pass
    elif value is None or value == {} or value == []:
        return None
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an integer past 64 bits (kept exactly by the standard library) or an odd type
        import json

        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def as_bool(value: Any) -> bool | None:
    """true/false as JSON booleans or strings ("true", "False", "yes"); None when absent or unclear."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("true", "yes", "1"):
            return True
        if v in ("false", "no", "0"):
            return False
    return None


def as_list(value: Any) -> list[Any]:
    """A list field as a list: anything else (a number, text, an object) is read as absent, so the record
    is judged without it rather than crashing its mapper."""
    return value if isinstance(value, list) else []


def text(value: Any) -> str | None:
    """A field as text: None for absent/empty, str() for numbers (account ids sometimes arrive as ints)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return compact_json(value)


# --- paths into request/response documents ------------------------------------------------------------
# The target and privilege tables name where a value lives as ``root:key.key[].key``: ``req``
# (request parameters), ``resp`` (response), ``rec`` (the record). Lists are walked through (``[]`` only
# documents that the key holds a list), JSON text met on the way is parsed (IAM policy documents, Azure
# request bodies), and a key missing in the source's spelling is looked up ignoring letter case (Azure
# writes ``Properties`` and ``properties``).


@lru_cache(maxsize=4096)
def compile_path(path: str) -> tuple[str, tuple[str, ...]]:
    root, sep, rest = path.partition(":")
    if not sep or not rest:
        raise ValueError(f"bad path {path!r}: expected root:key.key")
    return root, tuple(k for k in rest.replace("[]", "").split(".") if k)


def _child(node: dict[str, Any], key: str) -> Any:
    v = node.get(key)
    if v is None:
        low = key.lower()
        for k, candidate in node.items():
            if k.lower() == low:
                return candidate
    return v


def _as_doc(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return value


def values_at(doc: Any, keys: tuple[str, ...]) -> list[Any]:
    """Every value at ``keys`` under ``doc`` (lists expanded, JSON text parsed); empty strings dropped."""
    nodes = [doc]
    for key in keys:
        nxt: list[Any] = []
        for node in nodes:
            node = _as_doc(node)
            if isinstance(node, list):
                nxt.extend(_child(n, key) for n in node if isinstance(n, dict))
            elif isinstance(node, dict):
                nxt.append(_child(node, key))
        nodes = [n for n in nxt if n is not None]
        if not nodes:
            return []
    out: list[Any] = []
    for n in nodes:
        if isinstance(n, list):
            out.extend(x for x in n if x is not None and x != "")
        elif n != "":
            out.append(n)
    return out


def texts_at(doc: Any, keys: tuple[str, ...]) -> list[str]:
    """The text values at ``keys`` (numbers as text, objects skipped), in order, without repeats."""
    # The common case first: objects all the way down to one string, or a key that is not there. Only a
    # list or JSON text on the way (or a number at the end) takes the general walk below.
    node = doc
    for key in keys:
        if type(node) is not dict:
            if node is None:
                return []
            break
        v = node.get(key)
        node = _child(node, key) if v is None else v
    else:
        if type(node) is str:
            return [node] if node else []
        if node is None:
            return []
    out: list[str] = []
    for v in values_at(doc, keys):
        t = v if isinstance(v, str) else (str(v) if isinstance(v, int) and not isinstance(v, bool) else None)
        if t and t not in out:
            out.append(t)
    return out


# --- caller addresses ----------------------------------------------------------------------------------


# Addresses a proxy chain adds that are not the caller: RFC 1918, shared (CGNAT), loopback, link-local,
# unique-local. Documentation ranges count as public here: test records use them as public addresses.
_INTERNAL_NETS = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
              "169.254.0.0/16", "::1/128", "fc00::/7", "fe80::/10")
)


def _internal(ip: str) -> bool:
    a = ipaddress.ip_address(ip)
    return any(a.version == n.version and a in n for n in _INTERNAL_NETS)


@lru_cache(maxsize=65536)
def source_address(value: str | None) -> tuple[str | None, str | None, str | None, tuple[str, ...]]:
    """(ip, domain, network, forwarded) from a caller address as the clouds write it.

    A forwarded list (``"203.0.113.9, 10.0.0.1"``) gives its first public address as the ip (the first
    address when none is public) and keeps the others, in order, as forwarded. A network range
    (``"127.0.0.0/8"``, Azure) is a network, not an address; an address written with its prefix
    (``"10.1.2.3/24"``) is both. Anything else is ``ip_or_domain``.
    """
    if value is None:
        return None, None, None, ()
    if "," in value:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        found = [ip_or_domain(p)[0] for p in parts]
        ips = [i for i in found if i]
        if ips and len(ips) == len(found):
            chosen = next((i for i in ips if not _internal(i)), ips[0])
            rest = list(ips)
            rest.remove(chosen)
            return chosen, None, None, tuple(rest)
    elif "/" in value:
        v = value.strip()
        try:
            net = ipaddress.ip_network(v)
            if net.num_addresses > 1:
                return None, None, str(net), ()
        except ValueError:
            try:
                iface = ipaddress.ip_interface(v)
                return str(iface.ip), None, str(iface.network), ()
            except ValueError:
                pass
    ip, domain = ip_or_domain(value)
    return ip, domain, None, ()


def source_fields(value: Any) -> dict[str, Any]:
    """where.source from a caller address (only the keys that have a value, besides ip and domain)."""
    if not isinstance(value, str):
        return {"ip": None, "domain": None}
    ip, domain, network, forwarded = source_address(value)
    out: dict[str, Any] = {"ip": ip, "domain": domain}
    if network is not None:
        out["network"] = network
    if forwarded:
        out["forwarded"] = list(forwarded)
    return out


# --- declarative target and privilege tables -----------------------------------------------------------
# Each connector writes its tables as text, one rule a line, columns separated by runs of spaces; the
# docs (docs/mapping.md) are generated from the same text. ``-`` is an empty column, ``a|b`` tries the
# path a, then b. Lines starting with ``#`` are comments.


class TargetRule(NamedTuple):
    """``<action> <path>[|<path>...] <resource type>``: the target of the operation is at that path."""

    action: str
    paths: tuple[tuple[str, tuple[str, ...]], ...]
    type: str
    path_text: str


class PrivilegeRule(NamedTuple):
    """``<action> <op> <kind> <role> <grantee type>:<grantee path> <scope>``. Role and scope are paths or
    literal words; the grantee type is a word or a path (``req:principalType``)."""

    action: str
    op: str
    kind: str
    role: tuple[tuple[str, tuple[str, ...]], ...] | str | None
    grantee_type: tuple[tuple[str, tuple[str, ...]], ...] | str | None
    grantee: tuple[tuple[str, tuple[str, ...]], ...] | None
    scope: tuple[tuple[str, tuple[str, ...]], ...] | str | None


_ROOTS = ("req:", "resp:", "rec:", "who:")


def _paths_or_word(column: str) -> tuple[tuple[str, tuple[str, ...]], ...] | str | None:
    if column == "-":
        return None
    if column.startswith(_ROOTS):
        return tuple(compile_path(p) for p in column.split("|"))
    return column


def _rows(table: str, width: int) -> list[list[str]]:
    rows = []
    for n, line in enumerate(table.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        cols = line.split()
        if len(cols) != width:
            raise ValueError(f"table line {n}: expected {width} columns, got {len(cols)}: {line!r}")
        rows.append(cols)
    return rows


def target_table(table: str) -> dict[str, tuple[TargetRule, ...]]:
    out: dict[str, list[TargetRule]] = {}
    for action, path, rtype in _rows(table, 3):
        paths = tuple(compile_path(p) for p in path.split("|"))
        out.setdefault(action.lower(), []).append(TargetRule(action, paths, rtype, path))
    return {k: tuple(v) for k, v in out.items()}


def privilege_table(table: str) -> dict[str, tuple[PrivilegeRule, ...]]:
    out: dict[str, list[PrivilegeRule]] = {}
    for action, op, kind, role, grantee, scope in _rows(table, 6):
        if op not in ("add", "remove", "replace"):
            raise ValueError(f"privilege table: {action}: op {op!r} is not add, remove or replace")
        gtype: Any = None
        gpath = None
        if grantee != "-":
            gtype_text, sep, gpath_text = grantee.partition("=")
            if not sep:
                raise ValueError(f"privilege table: {action}: grantee {grantee!r} is not type=path")
            gtype = _paths_or_word(gtype_text)
            gpath = tuple(compile_path(p) for p in gpath_text.split("|"))
        out.setdefault(action.lower(), []).append(
            PrivilegeRule(action, op, kind, _paths_or_word(role), gtype, gpath, _paths_or_word(scope))
        )
    return {k: tuple(v) for k, v in out.items()}


def first_texts(roots: dict[str, Any], paths: tuple[tuple[str, tuple[str, ...]], ...]) -> list[str]:
    """The texts at the first of ``paths`` that has any."""
    for root, keys in paths:
        found = texts_at(roots.get(root), keys)
        if found:
            return found
    return []


# Grantees that are everyone: an AMI or snapshot shared with group "all", a policy principal "*".
PUBLIC_GRANTEES = frozenset({"*", "all", "allusers", "allauthenticatedusers"})


def privilege_changes(rules: tuple[PrivilegeRule, ...], roots: dict[str, Any]) -> list[dict[str, Any]]:
    """The privilege changes a call made, read from its request/response with the action's rules. A rule
    whose grantee path names nobody adds nothing; a rule without a grantee column adds one change."""
    out: list[dict[str, Any]] = []
    for rule in rules:
        role = rule.role
        role_text = ",".join(first_texts(roots, role)) or None if isinstance(role, tuple) else role
        scope = rule.scope
        scope_text = ",".join(first_texts(roots, scope)) or None if isinstance(scope, tuple) else scope
        if rule.grantee is None:
            grantees: list[dict[str, Any] | None] = [None]
        else:
            gtype = rule.grantee_type
            if isinstance(gtype, tuple):
                found = first_texts(roots, gtype)
                gtype = found[0].lower() if found else None
            grantees = []
            for g in first_texts(roots, rule.grantee):
                kind = "public" if g.lower() in PUBLIC_GRANTEES else gtype
                grantees.append({"type": kind, "id": g, "name": g.rsplit("/", 1)[-1] if g.startswith("arn:") else g})
            if not grantees:
                continue
        for grantee in grantees:
            out.append({
                "op": rule.op,
                "kind": rule.kind,
                "role": role_text,
                "role_name": role_text.rsplit("/", 1)[-1] if role_text and ":policy/" in role_text else None,
                "grantee": grantee,
                "scope": scope_text,
            })
    return out
