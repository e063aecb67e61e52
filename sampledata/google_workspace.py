"""Sample Google Workspace activities for the demo set (see connectors/sampledata.generate_identity).

The same people as the cloud samples (their e-mails): each signs in once (admins with 2-step
verification), a few mistype a password first; admins' changes come from the Reports API. Sign-ins are
written as Workspace shares them into Cloud Logging and a log sink writes them to Cloud Storage
(``cloudaudit.googleapis.com/data_access/YYYY/MM/DD/HH:00:00_HH:59:59_S0.json``); admin activities as a
Reports API ``activities.list`` page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from sampledata import GenContext, Person

CLOUD = "workspace"
PLANE = "identity"
ORG = "417920380642"
_IPS = ("198.51.100.23", "198.51.100.24", "203.0.113.7")


def _param(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"name": name, "type": "TYPE_BOOL", "boolValue": value}
    if isinstance(value, list):
        return {"name": name, "type": "TYPE_STRING", "multiStrValue": value}
    return {"name": name, "type": "TYPE_STRING", "value": value}


def write_identity(ctx: GenContext, people: Sequence[Person], seed: int) -> None:
    customer = "C0" + ctx.token(7, "abcdefghijklmnopqrstuvwxyz0123456789")
    signers = list(people[: int(len(people) * 0.6)])
    times = ctx.times(len(signers) * 2)
    hours: dict[int, list[dict[str, Any]]] = {}

    def entry(ns: int, email: str, name: str, params: list[dict[str, Any]], method: str) -> None:
        usec = (ctx.epoch_s * 1_000_000) + ns // 1000
        hours.setdefault(ns // 3_600_000_000_000, []).append({
            "protoPayload": {
                "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                "authenticationInfo": {"principalEmail": email},
                "requestMetadata": {"callerIp": ctx.rng.choice(_IPS), "requestAttributes": {},
                                    "destinationAttributes": {}},
                "serviceName": "login.googleapis.com", "methodName": f"google.login.LoginService.{method}",
                "resourceName": f"organizations/{ORG}",
                "metadata": {"@type": "type.googleapis.com/ccc_hosted_reporting.ActivityProto",
                             "activityId": {"timeUsec": str(usec), "uniqQualifier": "-" + ctx.digits(16)},
                             "event": [{"eventType": "login", "eventName": name, "parameter": params}]},
            },
            "insertId": "-" + ctx.token(12), "resource": {"type": "audited_resource", "labels": {
                "service": "login.googleapis.com", "method": f"google.login.LoginService.{method}"}},
            "timestamp": ctx.iso_us(ns), "severity": "NOTICE",
            "logName": f"organizations/{ORG}/logs/cloudaudit.googleapis.com%2Fdata_access",
            "receiveTimestamp": ctx.iso_ns(ns + 3 * 60 * 1_000_000_000 if ns < 86_000 * 10**9 else ns),
        })

    t = iter(times)
    for person in signers:
        ns = next(t)
        if not person.admin and ctx.rng.random() < 0.12:
            entry(max(ns - 30 * 10**9, 0), person.email, "login_failure", [
                _param("login_type", "google_password"), _param("login_challenge_method", ["password"]),
                _param("login_failure_type", "login_failure_invalid_password")], "loginFailure")
        methods = ["password", "google_prompt"] if person.admin else ["password"]
        entry(ns, person.email, "login_success", [
            _param("login_type", "google_password"), _param("login_challenge_method", methods),
            _param("is_suspicious", False)], "loginSuccess")
    for h, recs in sorted(hours.items()):
        rel = (f"{CLOUD}/acme-workspace-logs/cloudaudit.googleapis.com/data_access/{ctx.day.year}/"
               f"{ctx.day.month:02d}/{ctx.day.day:02d}/{h:02d}:00:00_{h:02d}:59:59_S0.json")
        ctx.write(rel, ctx.jsonl(recs), len(recs))

    admins = [p for p in signers if p.admin][:3]
    items: list[dict[str, Any]] = []
    for i, admin in enumerate(admins):
        ns = next(t)
        target = signers[-1 - i]
        items.append({
            "kind": "admin#reports#activity",
            "id": {"time": ctx.iso_ms(ns), "uniqueQualifier": "-" + ctx.digits(18), "applicationName": "admin",
                   "customerId": customer},
            "etag": f"\"{ctx.token(20)}\"",
            "actor": {"email": admin.email, "profileId": ctx.digits(21), "callerType": "USER"},
            "ipAddress": ctx.rng.choice(_IPS),
            "events": [{"type": "DELEGATED_ADMIN_SETTINGS", "name": "ASSIGN_ROLE", "parameters": [
                {"name": "ROLE_NAME", "value": "Groups Admin"}, {"name": "USER_EMAIL", "value": target.email}]}],
        })
    items.sort(key=lambda x: x["id"]["time"], reverse=True)  # the API answers newest first
    page = {"kind": "admin#reports#activities", "etag": f"\"{ctx.token(20)}\"", "items": items}
    ctx.write(f"{CLOUD}/reports-api/admin-{ctx.day_compact}-page-0000.json",
              orjson.dumps(page, option=orjson.OPT_INDENT_2) + b"\n", len(items))
