"""Sample Entra ID logs for the demo set (see connectors/sampledata.generate_identity).

The same tenant and users as the Azure Activity samples (their object ids and UPNs come from that
module's population with the same seed), so one person signs in here and then acts in Azure: each user
signs in once (admins with MFA, some others fail a password first), each workload identity gets a token,
and the directory logs a role assignment and a security-info change. Written as the storage-account
export of the diagnostic setting (``insights-logs-<category>/resourceId=/tenants/T/.../PT1H.json``).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sampledata import GenContext, Person

CLOUD = "entra"
PLANE = "identity"
PORTAL = ("c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal")
ARM = ("797f4846-ba00-4fd7-ba43-dac1f8f63013", "Windows Azure Service Management API")
GRAPH = ("00000003-0000-0000-c000-000000000000", "Microsoft Graph")
_CITIES = (("New York", "New York", "US"), ("Berlin", "Berlin", "DE"), ("Dublin", "Leinster", "IE"))
_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def _azure_population(people: Sequence[Person], seed: int) -> Any:
    from sampledata import azure_activity as az
    from sampledata import stable_seed

    return az.population(random.Random(stable_seed(seed, "azure", "population")), people)


def write_identity(ctx: GenContext, people: Sequence[Person], seed: int) -> None:
    pop = _azure_population(people, seed)
    tenant = pop.tenant
    by_email = {p.email: p for p in people}
    users: dict[str, tuple[str, Person, str]] = {}
    workloads: dict[str, tuple[str, str]] = {}
    for pr in pop.principals:
        if pr.kind == "user" and pr.oid not in users:
            users[pr.oid] = (pr.caller, by_email[pr.caller], pr.ips[0])
        elif pr.kind != "user" and pr.oid not in workloads:
            workloads[pr.oid] = (pr.kind, str(pr.claims.get("appid") or pr.oid))
    users_sorted = sorted(users.items(), key=lambda kv: kv[1][0])
    files: dict[str, list[dict[str, Any]]] = {}

    def put(category: str, ns: int, rec: dict[str, Any]) -> None:
        h = ns // 3_600_000_000_000
        rel = (f"{CLOUD}/stacmeauditlogs/insights-logs-{category.lower()}/resourceId=/tenants/{tenant.upper()}"
               f"/providers/MICROSOFT.AADIAM/y={ctx.day.year}/m={ctx.day.month:02d}/d={ctx.day.day:02d}"
               f"/h={h:02d}/m=00/PT1H.json")
        files.setdefault(rel, []).append(rec)

    def base(category: str, ns: int, name: str, props: dict[str, Any], result: str = "0") -> dict[str, Any]:
        return {"time": ctx.iso_7(ns + 2_000_000_000), "resourceId": f"/tenants/{tenant}/providers/Microsoft.aadiam",
                "operationName": name, "operationVersion": "1.0", "category": category, "tenantId": tenant,
                "resultType": result, "resultSignature": "None", "durationMs": 0,
                "callerIpAddress": props.get("ipAddress"), "correlationId": props.get("correlationId"),
                "Level": 4, "properties": props}

    times = ctx.times(len(users_sorted) + len(workloads) + 4)
    t = iter(times)
    for oid, (upn, person, ip) in users_sorted:
        ns = next(t)
        city, state, country = ctx.rng.choice(_CITIES)
        failed_first = not person.admin and ctx.rng.random() < 0.15
        steps = [{"authenticationMethod": "Password", "succeeded": True,
                  "authenticationStepRequirement": "Primary authentication"}]
        if person.admin:
            steps.append({"authenticationMethod": "Mobile app notification", "succeeded": True,
                          "authenticationStepRequirement": "MFA"})
        props = {
            "id": ctx.uuid(), "createdDateTime": ctx.iso_7(ns), "userDisplayName": person.name,
            "userPrincipalName": upn, "userId": oid, "userType": "Member", "homeTenantId": tenant,
            "appId": PORTAL[0], "appDisplayName": PORTAL[1], "resourceId": ARM[0], "resourceDisplayName": ARM[1],
            "ipAddress": ip, "clientAppUsed": "Browser", "userAgent": _UA, "correlationId": ctx.uuid(),
            "status": {"errorCode": 0}, "conditionalAccessStatus": "success" if person.admin else "notApplied",
            "riskLevelDuringSignIn": "none", "riskLevelAggregated": "none", "riskState": "none",
            "isInteractive": True,
            "authenticationRequirement": "multiFactorAuthentication" if person.admin else "singleFactorAuthentication",
            "authenticationDetails": steps,
            "deviceDetail": {"operatingSystem": "Windows10", "browser": "Chrome 131.0", "isCompliant": person.admin,
                             "isManaged": person.admin},
            "location": {"city": city, "state": state, "countryOrRegion": country},
        }
        if person.admin:
            props["mfaDetail"] = {"authMethod": "Mobile app notification"}
        if failed_first:
            bad = {**props, "id": ctx.uuid(), "createdDateTime": ctx.iso_7(max(ns - 40_000_000_000, 0)),
                   "status": {"errorCode": 50126, "failureReason": "Error validating credentials due to invalid "
                              "username or password."},
                   "authenticationDetails": [{"authenticationMethod": "Password", "succeeded": False}]}
            put("SignInLogs", ns, base("SignInLogs", max(ns - 40_000_000_000, 0), "Sign-in activity", bad, "50126"))
        put("SignInLogs", ns, base("SignInLogs", ns, "Sign-in activity", props))
    for oid, (kind, app_id) in sorted(workloads.items())[:4]:  # a few workloads: the demo set stays small
        ns = next(t)
        category = "ManagedIdentitySignInLogs" if kind == "managed_identity" else "ServicePrincipalSignInLogs"
        props = {"id": ctx.uuid(), "createdDateTime": ctx.iso_7(ns), "appId": app_id, "servicePrincipalId": oid,
                 "servicePrincipalName": app_id, "ipAddress": None, "correlationId": ctx.uuid(),
                 "resourceId": ARM[0], "resourceDisplayName": ARM[1], "status": {"errorCode": 0},
                 "conditionalAccessStatus": "notApplied"}
        put(category, ns, base(category, ns, "Sign-in activity", props))
    admins = [(oid, v) for oid, v in users_sorted if v[1].admin]
    if len(admins) >= 2:
        (a_oid, (a_upn, a_person, a_ip)), (b_oid, (b_upn, b_person, _)) = admins[0], admins[1]
        ns = next(t)
        props = {"id": f"Directory_{ctx.uuid()}", "category": "RoleManagement", "correlationId": ctx.uuid(),
                 "result": "success", "resultReason": "", "activityDisplayName": "Add member to role",
                 "activityDateTime": ctx.iso_7(ns), "loggedByService": "Core Directory", "operationType": "Assign",
                 "initiatedBy": {"user": {"id": a_oid, "displayName": a_person.name, "userPrincipalName": a_upn,
                                          "ipAddress": a_ip}},
                 "targetResources": [{"id": b_oid, "displayName": b_person.name, "type": "User",
                                      "userPrincipalName": b_upn, "modifiedProperties": [
                                          {"displayName": "Role.DisplayName", "oldValue": None,
                                           "newValue": "\"Privileged Role Administrator\""},
                                          {"displayName": "Role.TemplateId", "oldValue": None,
                                           "newValue": "\"e8611ab8-c189-46e8-94e1-60213ab1f814\""}]}]}
        put("AuditLogs", ns, base("AuditLogs", ns, "Add member to role", props))
    for rel, recs in sorted(files.items()):
        recs.sort(key=lambda r: r["time"])
        ctx.write(rel, ctx.jsonl(recs), len(recs))
