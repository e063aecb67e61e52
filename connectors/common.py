"""Small mapping helpers the three connectors share, so the three clouds answer the same way.

Each is a plain, fast function over strings; connectors call them from their field-group functions.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from typing import Any

import orjson

_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

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
            "s3console.amazonaws.com", "appmanager.amazonaws.com")


@lru_cache(maxsize=65536)
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
    if value is None or value == {} or value == []:
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
