"""Sample Azure Activity Logs: realistic records in every shape Azure delivers (see connectors/sampledata).

Shapes: Event Hub messages of a diagnostic setting (``{"records": [...]}``, one message a line), the
storage-account export (``insights-activity-logs/resourceId=/SUBSCRIPTIONS/<ID>/y=/m=/d=/h=/m=00/PT1H.json``,
JSON lines), REST API pages (``{"value": [...], "nextLink"}``; events in camelCase with
``eventTimestamp`` and ``operationName.value``), and Log Analytics ``AzureActivity`` rows (workspace data
export: JSON lines, ``PT05M.json`` blobs).

One write is several rows sharing a ``correlationId``: ``Start`` (BeginRequest), for long-running
operations ``Accept`` (HTTP 202), then ``Success`` or ``Failure``. Only the last row says how it ended;
the earlier ones are intermediate (non-events). Activity Logs hold control-plane writes, deletes and
actions; reads (GET) are not logged, so there are no "reads" here except POST actions such as listKeys.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from sampledata import RollingFiles, lottery

if TYPE_CHECKING:
    from sampledata import GenContext, Person

CLOUD = "azure"
SHARE = 0.25
SHAPES: dict[str, float] = {
    "eventhub": 0.35,
    "storage_export": 0.35,
    "rest_api": 0.10,
    "log_analytics": 0.20,
}
BENCH_SHAPE = "storage_export"

AUTHZ_FAILURE_RATE = 0.03
OTHER_FAILURE_RATE = 0.02
INTERMEDIATE = "azure.activity.intermediate"  # the NonEvent kind of Start/Accept rows

# Microsoft first-party application ids (public, the same in every tenant).
APP_PORTAL = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
APP_CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
APP_POWERSHELL = "1950a258-227b-4e31-a9cf-717495945fc2"
_USER_APPS = ((APP_PORTAL, 6), (APP_CLI, 3), (APP_POWERSHELL, 1))
_HOME_IP_PREFIXES = ("192.0.2.", "203.0.113.", "198.51.100.")
_OFFICE_IPS = ("198.51.100.23", "198.51.100.24", "203.0.113.7")
_LOCATIONS = ("eastus", "westeurope", "eastus2", "northeurope")
_TICKS_AT_EPOCH = 621_355_968_000_000_000  # .NET ticks (100 ns since 0001-01-01) at 1970-01-01


# --- population ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class Subscription:
    id: str
    name: str
    hierarchy: str
    rgs: list[str]
    resources: dict[str, list[str]]  # resource type key -> resource ids (mixed case)


@dataclass(slots=True)
class Principal:
    kind: str  # user, service_principal, managed_identity
    caller: str  # what REST and Log Analytics show as the caller: UPN for users, object id for apps
    oid: str
    claims: dict[str, Any]
    principal_type: str  # User, ServicePrincipal
    role: str
    ips: list[str]
    ops: list[Op]
    subs: list[Subscription]


@dataclass(slots=True)
class Population:
    tenant: str
    workspace_id: str
    workspace: str
    subs: list[Subscription]
    principals: list[Principal]
    role_ids: dict[str, str]


def population(rng: random.Random, people: Sequence[Person]) -> Population:
    def guid() -> str:
        h = f"{rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def tok(n: int) -> str:
        return "".join(
            rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n)
        )

    tenant = guid()
    subs = []
    for name in ("acme-prod", "acme-nonprod", "acme-data", "acme-connectivity"):
        sid = guid()
        mg = "mg-landingzones" if name != "acme-connectivity" else "mg-platform"
        rgs = [f"rg-{name.split('-')[1]}-{x}" for x in ("web", "data", "network", "aks")]
        base = f"/subscriptions/{sid}/resourceGroups"
        short = name.split("-")[1]
        res = {
            "vm": [
                f"{base}/{rgs[0]}/providers/Microsoft.Compute/virtualMachines/vm-{short}-web-{i:02d}"
                for i in range(4)
            ],
            "nsg": [
                f"{base}/{rgs[2]}/providers/Microsoft.Network/networkSecurityGroups/nsg-{short}-{x}"
                for x in ("web", "db")
            ],
            "nic": [
                f"{base}/{rgs[0]}/providers/Microsoft.Network/networkInterfaces/nic-{short}-web-{i:02d}"
                for i in range(4)
            ],
            "pip": [
                f"{base}/{rgs[2]}/providers/Microsoft.Network/publicIPAddresses/pip-{short}-{i}"
                for i in range(2)
            ],
            "storage": [
                f"{base}/{rgs[1]}/providers/Microsoft.Storage/storageAccounts/st{short}{tok(6).lower()}"
                for _ in range(2)
            ],
            "vault": [f"{base}/{rgs[1]}/providers/Microsoft.KeyVault/vaults/kv-{short}-{tok(4).lower()}"],
            "aks": [f"{base}/{rgs[3]}/providers/Microsoft.ContainerService/managedClusters/aks-{short}"],
            "site": [
                f"{base}/{rgs[0]}/providers/Microsoft.Web/sites/app-{short}-{x}" for x in ("api", "portal")
            ],
            "sql": [f"{base}/{rgs[1]}/providers/Microsoft.Sql/servers/sql-{short}-{tok(4).lower()}"],
            "disk": [
                f"{base}/{rgs[0]}/providers/Microsoft.Compute/disks/vm-{short}-web-{i:02d}_OsDisk_1_{tok(32).lower()}"
                for i in range(2)
            ],
            "rg": [f"/subscriptions/{sid}/resourceGroups/{rg}" for rg in rgs],
            "sub": [f"/subscriptions/{sid}"],
        }
        subs.append(Subscription(sid, name, f"{tenant}/mg-acme/{mg}/{sid}", rgs, res))

    role_ids = {
        r: f"{rng.getrandbits(128):032x}"
        for r in (
            "Owner",
            "Contributor",
            "User Access Administrator",
            "Virtual Machine Contributor",
            "Storage Account Contributor",
        )
    }
    human_ops, work_ops, mi_ops = (
        lottery(_HUMAN_OPS, 2048),
        lottery(_WORKLOAD_OPS, 2048),
        lottery(_MI_OPS, 512),
    )
    apps = lottery(_USER_APPS, 10)
    principals: list[tuple[Principal, float]] = []
    for person in people[: int(len(people) * 0.6)]:
        oid = guid()
        for app in sorted(set(apps)):
            claims = {
                "aud": "https://management.core.windows.net/",
                "iss": f"https://sts.windows.net/{tenant}/",
                "iat": "",
                "nbf": "",
                "exp": "",
                "http://schemas.microsoft.com/claims/authnclassreference": "1",
                "aio": tok(56),
                "http://schemas.microsoft.com/claims/authnmethodsreferences": "pwd,mfa"
                if person.admin
                else "pwd",
                "appid": app,
                "appidacr": "0",
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname": person.family.title(),
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname": person.given.title(),
                "idtyp": "user",
                "ipaddr": "",
                "name": person.name,
                "http://schemas.microsoft.com/identity/claims/objectidentifier": oid,
                "puid": f"{rng.getrandbits(64):016X}",
                "rh": tok(40) + ".",
                "http://schemas.microsoft.com/identity/claims/scope": "user_impersonation",
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": tok(43),
                "http://schemas.microsoft.com/identity/claims/tenantid": tenant,
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": person.email,
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": person.email,
                "uti": tok(22),
                "ver": "1.0",
                "wids": "62e90394-69f5-4237-9190-012177145e10" if person.admin and rng.random() < 0.2 else "",
                "xms_tcdt": "1613649600",
            }
            if not claims["wids"]:
                del claims["wids"]
            ips = [
                f"{rng.choice(_HOME_IP_PREFIXES)}{rng.randrange(2, 254)}",
                rng.choice(_OFFICE_IPS),
                f"2001:db8:c0de:{rng.randrange(16, 255):x}::{rng.randrange(16, 4095):x}",
            ]
            mine = rng.sample(subs, k=rng.randint(1, 3))
            role = rng.choice(("Owner", "Contributor")) if person.admin else "Contributor"
            w = (3.0 if person.admin else 1.5) * apps.count(app) / len(apps)
            principals.append(
                (Principal("user", person.email, oid, claims, "User", role, ips, human_ops, mine), w)
            )

    for name, acr, ips in (
        ("sp-terraform-platform", "2", ["20.42.7.19", "20.42.7.21"]),
        (
            "sp-github-deploy",
            "2",
            [f"4.{rng.randrange(148, 156)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(4)],
        ),
        ("sp-backup-automation", "1", ["203.0.113.150"]),
    ):
        appid, oid = guid(), guid()
        claims = {
            "aud": "https://management.azure.com/",
            "iss": f"https://sts.windows.net/{tenant}/",
            "iat": "",
            "nbf": "",
            "exp": "",
            "aio": tok(56),
            "appid": appid,
            "appidacr": acr,
            "http://schemas.microsoft.com/identity/claims/identityprovider": f"https://sts.windows.net/{tenant}/",
            "idtyp": "app",
            "http://schemas.microsoft.com/identity/claims/objectidentifier": oid,
            "rh": tok(40) + ".",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": oid,
            "http://schemas.microsoft.com/identity/claims/tenantid": tenant,
            "uti": tok(22),
            "ver": "1.0",
            "xms_tcdt": "1613649600",
        }
        role = "Owner" if "terraform" in name else "Contributor"
        principals.append(
            (
                Principal(
                    "service_principal", oid, oid, claims, "ServicePrincipal", role, ips, work_ops, subs
                ),
                3.0,
            )
        )

    for sub in subs:
        vm = sub.resources["vm"][0]
        appid, oid = guid(), guid()
        claims = {
            "aud": "https://management.azure.com/",
            "iss": f"https://sts.windows.net/{tenant}/",
            "iat": "",
            "nbf": "",
            "exp": "",
            "aio": tok(56),
            "appid": appid,
            "appidacr": "2",
            "http://schemas.microsoft.com/identity/claims/identityprovider": f"https://sts.windows.net/{tenant}/",
            "idtyp": "app",
            "http://schemas.microsoft.com/identity/claims/objectidentifier": oid,
            "rh": tok(40) + ".",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": oid,
            "http://schemas.microsoft.com/identity/claims/tenantid": tenant,
            "uti": tok(22),
            "ver": "1.0",
            "xms_mirid": vm,
            "xms_az_rid": vm,
        }
        ips = [f"20.{rng.randrange(30, 120)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"]
        principals.append(
            (
                Principal(
                    "managed_identity",
                    oid,
                    oid,
                    claims,
                    "ServicePrincipal",
                    "Storage Account Contributor",
                    ips,
                    mi_ops,
                    [sub],
                ),
                1.2,
            )
        )

    return Population(tenant, guid(), "log-acme-sentinel", subs, lottery(principals, 2048), role_ids)


# --- operations ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class Op:
    name: str  # e.g. Microsoft.Compute/virtualMachines/write
    target: str  # resource kind in Subscription.resources
    localized: str
    lro: float  # share that are long-running (Start, Accept, Success)
    method: str
    security: bool = False
    child: Callable[[GenContext, str], str] | None = None  # builds a child resource id from the target

    @property
    def provider(self) -> str:
        return self.name.split("/", 1)[0]


def _rule(c: GenContext, nsg: str) -> str:
    return f"{nsg}/securityRules/{c.rng.choice(('allow-https', 'allow-ssh-admin', 'deny-all-inbound', 'allow-rdp-temp'))}"


def _role_assignment(c: GenContext, scope: str) -> str:
    return f"{scope}/providers/Microsoft.Authorization/roleAssignments/{c.uuid()}"


def _diag_setting(c: GenContext, scope: str) -> str:
    return f"{scope}/providers/microsoft.insights/diagnosticSettings/to-sentinel"


def _deployment(c: GenContext, rg: str) -> str:
    return f"{rg}/providers/Microsoft.Resources/deployments/{c.rng.choice(('main', 'app', 'network'))}-{c.hex(8)}"


def _fw_rule(c: GenContext, sql: str) -> str:
    return f"{sql}/firewallRules/{c.rng.choice(('AllowAllWindowsAzureIps', 'office', 'temp-debug'))}"


def _lock(c: GenContext, rg: str) -> str:
    return f"{rg}/providers/Microsoft.Authorization/locks/do-not-delete"


_A = "Microsoft.Authorization"
_HUMAN_OPS: list[tuple[Op, float]] = [
    (Op("Microsoft.Compute/virtualMachines/write", "vm", "Create or Update Virtual Machine", 0.9, "PUT"), 10),
    (Op("Microsoft.Compute/virtualMachines/start/action", "vm", "Start Virtual Machine", 1.0, "POST"), 12),
    (
        Op(
            "Microsoft.Compute/virtualMachines/deallocate/action",
            "vm",
            "Deallocate Virtual Machine",
            1.0,
            "POST",
        ),
        10,
    ),
    (Op("Microsoft.Compute/virtualMachines/restart/action", "vm", "Restart Virtual Machine", 1.0, "POST"), 5),
    (Op("Microsoft.Compute/virtualMachines/delete", "vm", "Delete Virtual Machine", 1.0, "DELETE"), 2),
    (
        Op(
            "Microsoft.Compute/virtualMachines/runCommand/action",
            "vm",
            "Run Command on Virtual Machine",
            1.0,
            "POST",
            security=True,
        ),
        0.6,
    ),
    (
        Op(
            "Microsoft.Network/networkSecurityGroups/securityRules/write",
            "nsg",
            "Create or Update Security Rule",
            1.0,
            "PUT",
            security=True,
            child=_rule,
        ),
        3,
    ),
    (
        Op(
            "Microsoft.Network/networkInterfaces/write",
            "nic",
            "Create or Update Network Interface",
            0.5,
            "PUT",
        ),
        4,
    ),
    (
        Op(
            "Microsoft.Network/publicIPAddresses/write",
            "pip",
            "Create or Update Public Ip Address",
            0.8,
            "PUT",
        ),
        1.5,
    ),
    (
        Op("Microsoft.Storage/storageAccounts/write", "storage", "Create/Update Storage Account", 0.6, "PUT"),
        3,
    ),
    (
        Op(
            "Microsoft.Storage/storageAccounts/listKeys/action",
            "storage",
            "List Storage Account Keys",
            0.0,
            "POST",
            security=True,
        ),
        8,
    ),
    (
        Op(
            "Microsoft.Storage/storageAccounts/regenerateKey/action",
            "storage",
            "Regenerate Storage Account Keys",
            0.0,
            "POST",
            security=True,
        ),
        0.4,
    ),
    (Op("Microsoft.KeyVault/vaults/write", "vault", "Update Key Vault", 0.0, "PUT"), 1.5),
    (
        Op(
            "Microsoft.KeyVault/vaults/accessPolicies/write",
            "vault",
            "Update Access Policy",
            0.0,
            "PUT",
            security=True,
        ),
        0.8,
    ),
    (
        Op(
            "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
            "aks",
            "List clusterUser credential",
            0.0,
            "POST",
        ),
        8,
    ),
    (
        Op(
            "Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action",
            "aks",
            "List clusterAdmin credential",
            0.0,
            "POST",
            security=True,
        ),
        0.8,
    ),
    (Op("Microsoft.Web/sites/write", "site", "Create or Update Web App", 0.0, "PUT"), 4),
    (Op("Microsoft.Web/sites/restart/action", "site", "Restart Web App", 0.0, "POST"), 3),
    (
        Op(
            "Microsoft.Web/sites/config/list/action",
            "site",
            "List Web App Security Sensitive Settings",
            0.0,
            "POST",
            security=True,
        ),
        1,
    ),
    (
        Op(
            "Microsoft.Sql/servers/firewallRules/write",
            "sql",
            "Create/Update server firewall rule",
            1.0,
            "PUT",
            security=True,
            child=_fw_rule,
        ),
        0.5,
    ),
    (
        Op(
            "Microsoft.Compute/disks/beginGetAccess/action",
            "disk",
            "Get Disk SAS URI",
            1.0,
            "POST",
            security=True,
        ),
        0.2,
    ),
    (
        Op("Microsoft.Resources/deployments/write", "rg", "Create Deployment", 1.0, "PUT", child=_deployment),
        6,
    ),
    (
        Op(
            "Microsoft.Resources/subscriptions/resourceGroups/write",
            "rg",
            "Update Resource Group",
            0.0,
            "PUT",
        ),
        1.5,
    ),
    (
        Op(
            "Microsoft.Resources/subscriptions/resourceGroups/delete",
            "rg",
            "Delete Resource Group",
            1.0,
            "DELETE",
            security=True,
        ),
        0.2,
    ),
    (Op("Microsoft.Resources/tags/write", "rg", "Write Tags", 0.0, "PUT"), 3),
    (
        Op(
            f"{_A}/roleAssignments/write",
            "sub",
            "Create role assignment",
            0.0,
            "PUT",
            security=True,
            child=_role_assignment,
        ),
        1.2,
    ),
    (
        Op(
            f"{_A}/roleAssignments/delete",
            "sub",
            "Delete role assignment",
            0.0,
            "DELETE",
            security=True,
            child=_role_assignment,
        ),
        0.5,
    ),
    (
        Op(f"{_A}/locks/delete", "rg", "Delete management locks", 0.0, "DELETE", security=True, child=_lock),
        0.2,
    ),
    (
        Op(
            "microsoft.insights/diagnosticSettings/delete",
            "sub",
            "Delete diagnostic setting",
            0.0,
            "DELETE",
            security=True,
            child=_diag_setting,
        ),
        0.15,
    ),
    (
        Op(
            "microsoft.insights/diagnosticSettings/write",
            "sub",
            "Create or update resource diagnostic setting",
            0.0,
            "PUT",
            child=_diag_setting,
        ),
        0.5,
    ),
]
_WORKLOAD_OPS: list[tuple[Op, float]] = [
    (
        Op("Microsoft.Resources/deployments/write", "rg", "Create Deployment", 1.0, "PUT", child=_deployment),
        20,
    ),
    (
        Op(
            "Microsoft.Resources/deployments/validate/action",
            "rg",
            "Validate Deployment",
            0.0,
            "POST",
            child=_deployment,
        ),
        8,
    ),
    (Op("Microsoft.Web/sites/write", "site", "Create or Update Web App", 0.0, "PUT"), 8),
    (Op("Microsoft.Web/sites/restart/action", "site", "Restart Web App", 0.0, "POST"), 3),
    (Op("Microsoft.Compute/virtualMachines/write", "vm", "Create or Update Virtual Machine", 0.9, "PUT"), 6),
    (
        Op(
            "Microsoft.Network/networkSecurityGroups/securityRules/write",
            "nsg",
            "Create or Update Security Rule",
            1.0,
            "PUT",
            security=True,
            child=_rule,
        ),
        3,
    ),
    (
        Op("Microsoft.Storage/storageAccounts/write", "storage", "Create/Update Storage Account", 0.6, "PUT"),
        4,
    ),
    (
        Op(
            "Microsoft.Storage/storageAccounts/listKeys/action",
            "storage",
            "List Storage Account Keys",
            0.0,
            "POST",
            security=True,
        ),
        10,
    ),
    (
        Op(
            "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
            "aks",
            "List clusterUser credential",
            0.0,
            "POST",
        ),
        6,
    ),
    (Op("Microsoft.Resources/tags/write", "rg", "Write Tags", 0.0, "PUT"), 6),
    (
        Op(
            f"{_A}/roleAssignments/write",
            "sub",
            "Create role assignment",
            0.0,
            "PUT",
            security=True,
            child=_role_assignment,
        ),
        0.8,
    ),
    (Op("Microsoft.Compute/snapshots/write", "disk", "Create or Update Snapshot", 1.0, "PUT"), 3),
]
_MI_OPS: list[tuple[Op, float]] = [
    (
        Op(
            "Microsoft.Storage/storageAccounts/listKeys/action",
            "storage",
            "List Storage Account Keys",
            0.0,
            "POST",
            security=True,
        ),
        10,
    ),
    (Op("Microsoft.Compute/snapshots/write", "disk", "Create or Update Snapshot", 1.0, "PUT"), 4),
    (Op("Microsoft.Resources/tags/write", "rg", "Write Tags", 0.0, "PUT"), 2),
]
_POLICY_OP = Op(f"{_A}/policies/audit/action", "vm", "'audit' Policy action.", 0.0, "POST")


# --- one operation, then its rows in each wire shape ---------------------------------------------------


@dataclass(slots=True)
class Operation:
    """Everything the rows of one operation share; the rows differ by phase and time."""

    op: Op
    p: Principal
    sub: Subscription
    resource_id: str
    rg: str
    correlation: str
    operation_id: str
    request_id: str
    ip: str
    claims: dict[str, Any]
    evidence: dict[str, Any] | None
    category: str
    phases: list[tuple[str, int]]  # (Start | Accept | Success | Failure, ns into the day)
    failure: tuple[str, str, str] | None  # (statusCode, error code, message)


def operation(c: GenContext, pop: Population, t: int) -> Operation:
    rnd = c.rng.random
    p = pop.principals[int(rnd() * len(pop.principals))]
    op = p.ops[int(rnd() * len(p.ops))]
    category = "Administrative"
    if rnd() < 0.015:
        op, category = _POLICY_OP, "Policy"
    sub = p.subs[int(rnd() * len(p.subs))]
    targets = sub.resources[op.target]
    rid = targets[int(rnd() * len(targets))]
    if op.child is not None:
        rid = op.child(c, rid)
    rg = rid.split("/resourceGroups/", 1)[1].split("/", 1)[0] if "/resourceGroups/" in rid else ""
    ip = p.ips[int(rnd() * len(p.ips))]
    iat = c.epoch_s + t // 10**9 - int(rnd() * 3000)
    claims = {**p.claims, "iat": str(iat), "nbf": str(iat), "exp": str(iat + 4500)}
    if "ipaddr" in claims:
        claims["ipaddr"] = ip
    evidence: dict[str, str] | None = {
        "role": p.role,
        "roleAssignmentScope": f"/subscriptions/{sub.id}",
        "roleAssignmentId": c.hex(32),
        "roleDefinitionId": pop.role_ids[p.role],
        "principalId": p.oid.replace("-", ""),
        "principalType": p.principal_type,
    }
    failure = None
    u = rnd()
    if category == "Policy":
        phases = [("Success", t)]
    elif u < AUTHZ_FAILURE_RATE * (3 if op.security else 1):
        # ARM refuses before the resource provider sees it: one row, no role evidence.
        evidence = None
        msg = (
            f"The client '{p.caller}' with object id '{p.oid}' does not have authorization to perform action "
            f"'{op.name}' over scope '{rid}' or the scope is invalid. If access was recently granted, please "
            "refresh your credentials."
        )
        failure = ("Forbidden", "AuthorizationFailed", msg)
        phases = [("Failure", t)]
    elif u < AUTHZ_FAILURE_RATE * 3 + OTHER_FAILURE_RATE:
        code = c.rng.choice(
            (
                (
                    "Conflict",
                    "OperationNotAllowed",
                    "Operation is not allowed while the resource is being updated.",
                ),
                ("BadRequest", "InvalidParameter", "The value of parameter 'properties' is invalid."),
            )
        )
        failure = code
        phases = [("Start", t), ("Failure", t + 300_000_000 + int(rnd() * 2e9))]
    elif rnd() < op.lro:
        done = t + 20 * 10**9 + int(rnd() * 280e9)
        phases = [
            ("Start", t),
            ("Accept", t + 400_000_000 + int(rnd() * 1e9)),
            ("Success", min(done, NS_DAY_END)),
        ]
    else:
        phases = [("Start", t), ("Success", t + 150_000_000 + int(rnd() * 2e9))]
    phases = [(k, min(ts, NS_DAY_END)) for k, ts in phases]
    return Operation(
        op, p, sub, rid, rg, c.uuid(), c.uuid(), c.uuid(), ip, claims, evidence, category, phases, failure
    )


NS_DAY_END = 86_400 * 10**9 - 1

TERMINAL = ("Success", "Failure")  # the phases that end an operation (its event)
_SIGNATURE = {"Start": "Started.", "Accept": "Accepted.Created", "Success": "Succeeded.OK"}
_STATUS_CODE = {"Start": None, "Accept": "Accepted", "Success": "OK"}
_REST_STATUS = {"Start": "Started", "Accept": "Accepted", "Success": "Succeeded", "Failure": "Failed"}


def _properties(o: Operation, phase: str) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if o.category == "Policy":
        props = {
            "isComplianceCheck": "False",
            "resourceLocation": "eastus",
            "ancestors": o.sub.hierarchy.replace("/", ","),
            "policies": '[{"policyDefinitionName":"06a78e20-9358-41c9-923c-fb736d382a4d",'
            '"policyDefinitionEffect":"Audit","policyAssignmentName":"SecurityCenterBuiltIn"}]',
        }
    elif phase == "Failure" and o.failure is not None:
        status, code, msg = o.failure
        props = {
            "statusCode": status,
            "statusMessage": orjson.dumps({"error": {"code": code, "message": msg}}).decode(),
        }
    elif phase != "Start":
        props = {"statusCode": _STATUS_CODE[phase], "serviceRequestId": o.request_id}
    elif o.op.method == "PUT":
        props = {"requestbody": '{"properties":{},"tags":{"owner":"platform"}}'}
    props["eventCategory"] = o.category
    props["entity"] = o.resource_id
    props["message"] = o.op.name
    props["hierarchy"] = o.sub.hierarchy
    return props


def _authorization(o: Operation) -> dict[str, Any]:
    a: dict[str, Any] = {"scope": o.resource_id, "action": o.op.name}
    if o.evidence is not None:
        a["evidence"] = o.evidence
    return a


def diagnostic_record(c: GenContext, o: Operation, phase: str, t: int) -> dict[str, Any]:
    """The diagnostic-setting record (Event Hub and storage export): upper-case resourceId and
    operationName, resultType per phase."""
    failed = phase == "Failure"
    return {
        "time": c.iso_7(t),
        "resourceId": o.resource_id.upper(),
        "operationName": o.op.name.upper(),
        "category": o.category,
        "resultType": phase,
        "resultSignature": f"Failed.{o.failure[0]}"
        if failed and o.failure
        else _SIGNATURE.get(phase, "Succeeded."),
        "durationMs": 0 if phase == "Start" else (t - o.phases[0][1]) // 1_000_000,
        "callerIpAddress": o.ip,
        "correlationId": o.correlation,
        "identity": {"authorization": _authorization(o), "claims": o.claims},
        "level": "Error" if failed else "Information",
        "location": "global",
        "properties": _properties(o, phase),
        "tenantId": o.claims.get("http://schemas.microsoft.com/identity/claims/tenantid"),
    }


def _lv(v: str, loc: str | None = None) -> dict[str, str]:
    return {"value": v, "localizedValue": loc if loc is not None else v}


def rest_event(c: GenContext, o: Operation, phase: str, t: int) -> dict[str, Any]:
    """An event as the REST API (and ``az monitor activity-log list``) returns it."""
    failed = phase == "Failure"
    data_id = c.uuid()
    ticks = _TICKS_AT_EPOCH + (c.epoch_s * 10**9 + t) // 100
    status = _REST_STATUS[phase]
    sub_status = (
        o.failure[0] if failed and o.failure else ("" if phase == "Start" else _STATUS_CODE.get(phase) or "")
    )
    rp = o.op.provider
    rtype = "/".join(o.op.name.split("/")[:2]) if o.op.name.count("/") >= 2 else o.op.name
    props = _properties(o, phase)
    ev: dict[str, Any] = {
        "authorization": _authorization(o),
        "caller": o.p.caller,
        "channels": "Operation",
        "claims": o.claims,
        "correlationId": o.correlation,
        "description": "",
        "eventDataId": data_id,
        "eventName": _lv("BeginRequest", "Begin request")
        if phase == "Start"
        else _lv("EndRequest", "End request"),
        "category": _lv(o.category),
        "eventTimestamp": c.iso_7(t),
        "id": f"{o.resource_id}/events/{data_id}/ticks/{ticks}",
        "level": "Error" if failed else "Informational",
        "operationId": o.operation_id,
        "operationName": _lv(o.op.name, o.op.localized),
        "resourceGroupName": o.rg,
        "resourceProviderName": _lv(rp, rp),
        "resourceType": _lv(rtype),
        "resourceId": o.resource_id,
        "status": _lv(status),
        "subStatus": _lv(sub_status, sub_status),
        "submissionTimestamp": c.iso_7(min(t + 12 * 10**9 + int(c.rng.random() * 20e9), NS_DAY_END)),
        "subscriptionId": o.sub.id,
        "tenantId": o.claims.get("http://schemas.microsoft.com/identity/claims/tenantid", ""),
        "properties": props,
        "relatedEvents": [],
    }
    if o.ip:
        ev["httpRequest"] = {"clientRequestId": o.request_id, "clientIpAddress": o.ip, "method": o.op.method}
    return ev


def log_analytics_row(c: GenContext, pop: Population, o: Operation, phase: str, t: int) -> dict[str, Any]:
    """An ``AzureActivity`` row of a Log Analytics workspace, as its data export writes it."""
    failed = phase == "Failure"
    props = _properties(o, phase)
    auth = _authorization(o)
    sub_status = (
        o.failure[0] if failed and o.failure else ("" if phase == "Start" else _STATUS_CODE.get(phase) or "")
    )
    http = {"clientRequestId": o.request_id, "clientIpAddress": o.ip, "method": o.op.method}
    return {
        "TenantId": pop.workspace_id,
        "SourceSystem": "Azure",
        "TimeGenerated": c.iso_7(t),
        "CallerIpAddress": o.ip,
        "CategoryValue": o.category,
        "CorrelationId": o.correlation,
        "Authorization": orjson.dumps(auth).decode(),
        "Authorization_d": auth,
        "Claims": orjson.dumps(o.claims).decode(),
        "Claims_d": o.claims,
        "Level": "Error" if failed else "Informational",
        "OperationNameValue": o.op.name.upper(),
        "Properties": orjson.dumps(props).decode(),
        "Properties_d": props,
        "Caller": o.p.caller,
        "EventDataId": c.uuid(),
        "EventSubmissionTimestamp": c.iso_7(min(t + 12 * 10**9 + int(c.rng.random() * 20e9), NS_DAY_END)),
        "HTTPRequest": orjson.dumps(http).decode(),
        "OperationId": o.operation_id,
        "ResourceGroup": o.rg.upper(),
        "ResourceProviderValue": o.op.provider.upper(),
        "ActivityStatusValue": phase,
        "ActivitySubstatusValue": sub_status,
        "Hierarchy": o.sub.hierarchy,
        "SubscriptionId": o.sub.id,
        "_ResourceId": o.resource_id.lower(),
        "Type": "AzureActivity",
    }


# --- shapes -------------------------------------------------------------------------------------------

Render = Callable[["GenContext", Operation, str, int], dict[str, Any]]

# An operation's last row comes at most this long after it started (long-running operations: 300 s).
HORIZON_NS = 320 * 10**9
HOUR_NS = 3600 * 10**9


@dataclass(slots=True)
class Row:
    t: int
    data: bytes  # the row as JSON
    final: bool  # Success / Failure: the row that becomes the event
    again: bool  # a redelivered copy of an earlier row
    sub: str

    @property
    def books(self) -> tuple[int, dict[str, int] | None]:
        """(duplicates, non-events) this row adds to its file's books."""
        return int(self.again), None if self.final else _INTERMEDIATE_ONE


_INTERMEDIATE_ONE = {INTERMEDIATE: 1}


def _rows(c: GenContext, pop: Population, n: int, render: Render) -> Iterator[Row]:
    """Exactly ``n`` rows, in time order, produced lazily: operations until full (the last one may be
    cut short, as at the end of an export window); a few slots repeat a recent final row (redelivery,
    at the time it happens). Rows wait in a heap until no later operation can still put a row before
    them, so memory holds a few minutes of rows."""
    red: Any = c.redelivery
    heap: list[tuple[int, int, Row]] = []
    seq = 0
    made = 0
    for t in _starts(c, n):
        if made >= n:
            break
        while heap and heap[0][0] < t - HORIZON_NS:
            yield heapq.heappop(heap)[2]
        again = red.repeat()
        if again is not None:
            heapq.heappush(heap, (t, seq, Row(t, again.data, True, True, again.sub)))
            seq += 1
            made += 1
            continue
        o = operation(c, pop, t)
        for i, (phase, ts) in enumerate(o.phases):
            if made >= n:
                if i and o.phases[i - 1][0] not in TERMINAL:
                    c.lone_start()  # cut short: its Start row never sees a terminal row
                break
            # The bytes are copied to their own size: orjson's keep its whole working buffer.
            data = memoryview(orjson.dumps(render(c, o, phase, ts))).tobytes()
            row = Row(ts, data, phase in TERMINAL, False, o.sub.id)
            heapq.heappush(heap, (ts, seq, row))
            seq += 1
            made += 1
            if row.final:
                red.remember(row)
    while heap:
        yield heapq.heappop(heap)[2]


ROWS_PER_OPERATION = 2.42  # measured over the mix of operations above (Start, [Accept], end)


def _starts(c: GenContext, n: int) -> Iterator[int]:
    """Start times for the operations that make ``n`` rows, spread over the whole day; should the
    estimate fall short, more follow in the rest of the day (still in order)."""
    last = 0
    for t in c.times(max(1, round(n / ROWS_PER_OPERATION))):
        last = t
        yield t
    while True:
        more = sorted(last + int(c.rng.random() * (NS_DAY_END - last)) for _ in range(max(16, n // 50)))
        yield from more
        last = more[-1]


def write_shape(shape: str, n: int, c: GenContext, pop: Population) -> None:
    if shape == "eventhub":
        _write_eventhub(n, c, pop)
    elif shape == "storage_export":
        _write_storage(n, c, pop)
    elif shape == "rest_api":
        _write_rest(n, c, pop)
    elif shape == "log_analytics":
        _write_log_analytics(n, c, pop)
    elif shape == "bench":
        _write_bench(n, c, pop)
    else:
        raise ValueError(f"unknown Azure sample shape {shape!r}")


def _add(out: RollingFiles, slot: int, row: Row) -> None:
    dups, non = row.books
    out.add(slot, row.data, duplicates=dups, non_events=non)


def _write_eventhub(n: int, c: GenContext, pop: Population) -> None:
    """Event Hub messages of the diagnostic setting, one ``{"records": [...]}`` body a line, hourly files
    per partition (the layout a consumer archiving the hub would write)."""
    ymd = c.day.strftime("%Y/%m/%d")
    def partition_path(p: int) -> Callable[[int, int], str]:
        return lambda h, _i: f"azure/eventhub/acme-logs-ns/insights-activity-logs/{p}/{ymd}/{h:02d}/00/00.json"

    parts = [RollingFiles(c, partition_path(p)) for p in range(2)]
    batches: list[list[Row]] = [[], []]
    sizes = [0, 0]
    hours = [-1, -1]

    def send(p: int) -> None:
        rows = batches[p]
        if rows:
            body = b'{"records":[' + b",".join([r.data for r in rows]) + b"]}"
            dups = sum(r.again for r in rows)
            inter = sum(not r.final for r in rows)
            parts[p].add(hours[p], body, len(rows), dups, {INTERMEDIATE: inter} if inter else None)
        batches[p] = []
        sizes[p] = 1 + int(c.rng.random() * 40)  # the diagnostic setting batches a few dozen records

    for i, row in enumerate(_rows(c, pop, n, diagnostic_record)):
        p = i % 2
        h = row.t // HOUR_NS
        if h != hours[p] or len(batches[p]) >= sizes[p]:
            send(p)
            hours[p] = h
        batches[p].append(row)
    for p in range(2):
        send(p)
        parts[p].close()


def _write_storage(n: int, c: GenContext, pop: Population) -> None:
    """The diagnostic setting's storage-account export: one PT1H.json (JSON lines) per subscription and
    hour."""
    y, m, d = c.day.year, c.day.month, c.day.day
    subs: dict[str, RollingFiles] = {}
    for row in _rows(c, pop, n, diagnostic_record):
        out = subs.get(row.sub)
        if out is None:
            base = f"azure/stacmeauditlogs/insights-activity-logs/resourceId=/SUBSCRIPTIONS/{row.sub.upper()}"
            out = subs[row.sub] = RollingFiles(c, _hour_blob_path(base, y, m, d))
        _add(out, row.t // HOUR_NS, row)
    for sub in sorted(subs):
        subs[sub].close()


REST_PAGE = 200


def _write_rest(n: int, c: GenContext, pop: Population) -> None:
    """Responses of the REST API "Activity Logs - List" (what ``az monitor activity-log list`` pages
    through): ``{"value": [...], "nextLink": ...}`` per page, newest first, one file a page."""
    rows = list(_rows(c, pop, n, rest_event))
    rows.reverse()
    api = (
        f"https://management.azure.com/subscriptions/{pop.subs[0].id}/providers/Microsoft.Insights/"
        "eventtypes/management/values?api-version=2015-04-01&$filter=eventTimestamp ge "
        f"'{c.day_text}T00:00:00Z' and eventTimestamp le '{c.day_text}T23:59:59Z'"
    )
    for i, start in enumerate(range(0, len(rows), REST_PAGE)):
        part = rows[start : start + REST_PAGE]
        body = b'{"value":[' + b",".join([r.data for r in part]) + b"]"
        if start + REST_PAGE < len(rows):
            body += b',"nextLink":' + orjson.dumps(f"{api}&$skipToken={c.hex(48)}")
        inter = sum(not r.final for r in part)
        c.write(
            f"azure/rest-api/activity-logs-list-{c.day_compact}-page-{i:04d}.json",
            body + b"}\n",
            len(part),
            duplicates=sum(r.again for r in part),
            non_events={INTERMEDIATE: inter} if inter else None,
        )


def _write_log_analytics(n: int, c: GenContext, pop: Population) -> None:
    """A workspace data export of the AzureActivity table: five-minute PT05M.json blobs (JSON lines)."""

    def render(c: GenContext, o: Operation, phase: str, t: int) -> dict[str, Any]:
        return log_analytics_row(c, pop, o, phase, t)

    ws = (
        f"azure/am-azureactivity/WorkspaceResourceId=/subscriptions/{pop.subs[3].id}/resourcegroups/rg-monitoring/"
        f"providers/microsoft.operationalinsights/workspaces/{pop.workspace}"
    )
    y, m, d = c.day.year, c.day.month, c.day.day
    out = RollingFiles(
        c, lambda slot, _i: f"{ws}/y={y}/m={m:02d}/d={d:02d}/h={slot // 12:02d}/m={slot % 12 * 5:02d}/PT05M.json"
    )
    for row in _rows(c, pop, n, render):
        _add(out, row.t // (300 * 10**9), row)
    out.close()


BENCH_FILE_LINES = 100_000


def _write_bench(n: int, c: GenContext, pop: Population) -> None:
    """A few large JSON-lines files of diagnostic records (the storage-export record shape)."""
    out = RollingFiles(c, lambda _slot, i: f"azure/bench-activity-{i:04d}.json", max_lines=BENCH_FILE_LINES)
    for row in _rows(c, pop, n, diagnostic_record):
        _add(out, 0, row)
    out.close()


def _hour_blob_path(base: str, y: int, m: int, d: int) -> Callable[[int, int], str]:
    """(hour, part) -> the storage export's PT1H.json blob of that hour under ``base``."""
    return lambda h, _i: f"{base}/y={y}/m={m:02d}/d={d:02d}/h={h:02d}/m=00/PT1H.json"
