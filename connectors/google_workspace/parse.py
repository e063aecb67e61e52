"""Wire shapes of Google Workspace audit activities, recognised per record.

- ``cloud_logging``: a LogEntry Workspace shares into Cloud Logging (an ``audited_resource`` entry whose
  ``protoPayload.metadata`` is an ActivityProto with ``event[]`` of ``eventType``/``eventName``/
  ``parameter[]``), read through the GCP connector's sources (Logging API, GCS sink, Pub/Sub, whose
  envelopes that connector opens). This connector is asked before gcp_audit, which would take it as an
  AuditLog of an unknown service.
- ``reports_api``: an activity of the Admin SDK Reports API ``activities.list``
  (``kind`` admin#reports#activity, ``id``, ``actor``, ``events[]`` of ``type``/``name``/``parameters[]``);
  a page ``{"kind": "admin#reports#activities", "items": [...]}`` is opened here.

Both are read into one ``View`` so the same activity gives the same event and id in both shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.base import Unwrapped
from connectors.common import as_list
from connectors.errors import NonEvent

from . import tables as T

CLOUD_LOGGING = "cloud_logging"
REPORTS = "reports_api"


def unwrap(doc: dict[str, Any]) -> Unwrapped | NonEvent | None:
    if doc.get("kind") == T.REPORTS_PAGE_KIND:
        items = doc.get("items")
        if isinstance(items, list) and items:
            return Unwrapped("reports_api_page", items)
        return NonEvent("google_workspace.empty_page")
    return None


def _payload(r: dict[str, Any]) -> dict[str, Any] | None:
    p = r.get("protoPayload")
    if p is None:
        p = r.get("protopayload")  # Panther-style copies lower-case the key, as gcp_audit accepts
    return p if isinstance(p, dict) else None


def claims(r: dict[str, Any]) -> bool:
    if r.get("kind") == T.REPORTS_KIND:
        return True
    p = _payload(r)
    if p is None:
        return False
    meta = p.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("event"), list):
        return False
    res = r.get("resource")
    service = p.get("serviceName")
    return (isinstance(service, str) and service in T.SERVICES) or (isinstance(res, dict) and res.get("type") == "audited_resource")


def value_of(param: dict[str, Any]) -> Any:
    """A parameter's value, whichever typed slot holds it (value, boolValue, intValue, multiValue, ...)."""
    for k in ("value", "boolValue", "intValue", "multiValue", "multiStrValue", "multiIntValue",
              "messageValue", "multiMessageValue"):
        if k in param:
            return param[k]
    return None


@dataclass(slots=True)
class View:
    shape: str
    app: str | None
    time: Any
    time_field: str
    unique: str | None
    customer: str | None
    org: str | None
    email: str | None
    profile_id: str | None
    caller_type: str | None
    ip: Any
    events: list[tuple[str | None, str | None, dict[str, Any]]] = field(default_factory=list)
    status_message: str | None = None


def _params(items: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(items, list):
        for p in items:
            if isinstance(p, dict) and isinstance(p.get("name"), str):
                out[p["name"]] = value_of(p)
    return out


def view_of(r: dict[str, Any]) -> View:
    if r.get("kind") == T.REPORTS_KIND:
        rid = _id if isinstance(_id := r.get("id"), dict) else {}
        actor = _actor if isinstance(_actor := r.get("actor"), dict) else {}
        events = [(e.get("type"), e.get("name"), _params(e.get("parameters")))
                  for e in as_list(r.get("events")) if isinstance(e, dict)]
        return View(
            shape=REPORTS, app=_s(rid.get("applicationName")), time=rid.get("time"), time_field="id.time",
            unique=_s(rid.get("uniqueQualifier")), customer=_s(rid.get("customerId")), org=None,
            email=_s(actor.get("email")), profile_id=_s(actor.get("profileId")),
            caller_type=_s(actor.get("callerType")), ip=r.get("ipAddress"), events=events,
        )
    p = _payload(r) or {}
    meta = _metadata if isinstance(_metadata := p.get("metadata"), dict) else {}
    act = _activity_id if isinstance(_activity_id := meta.get("activityId"), dict) else {}
    auth = _authentication_info if isinstance(_authentication_info := p.get("authenticationInfo"), dict) else {}
    req = _request_metadata if isinstance(_request_metadata := p.get("requestMetadata"), dict) else {}
    events = [(e.get("eventType"), e.get("eventName"), _params(e.get("parameter")))
              for e in as_list(meta.get("event")) if isinstance(e, dict)]
    log_name = _log_name if isinstance(_log_name := r.get("logName"), str) else ""
    org = log_name.split("/")[1] if log_name.startswith("organizations/") and log_name.count("/") >= 2 else None
    usec_ms = _usec_ms(act.get("timeUsec"))
    status = _status if isinstance(_status := p.get("status"), dict) else {}
    return View(
        shape=CLOUD_LOGGING, app=T.SERVICES.get(str(p.get("serviceName"))),
        time=usec_ms if usec_ms is not None else r.get("timestamp"),
        time_field="metadata.activityId.timeUsec" if usec_ms is not None else "timestamp",
        unique=_s(act.get("uniqQualifier")), customer=_s(meta.get("customerId")), org=org,
        email=_s(auth.get("principalEmail")), profile_id=None, caller_type=None, ip=req.get("callerIp"),
        events=events, status_message=_s(status.get("message")),
    )


def _s(v: Any) -> str | None:
    if v is None or v == "":
        return None
    return str(v)


def _usec_ms(usec: Any) -> int | None:
    try:
        n = int(usec)
    except (TypeError, ValueError):
        return None
    return n // 1000  # epoch milliseconds: what parse_time reads as a number
