"""Property tests: whatever arrives, the GCP connector never breaks the normalizer's one-to-one rule.

(a) arbitrary JSON values, (b) records shaped like Cloud Audit Logs (their real keys, with arbitrary,
None or wrong-typed values) and (c) Pub/Sub envelopes around them: every record yields exactly one
Event, DeadLetter or NonEvent, and a shaped record is never a mapper crash or an invalid event.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.errors import NonEvent
from connectors.gcp_audit import CONNECTOR
from connectors.normalize import Normalizer
from schemas.deadletter import DeadLetter
from schemas.event import Event

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
AUDIT = "type.googleapis.com/google.cloud.audit.AuditLog"
# Dead-letter codes a record may honestly earn; mapper_error or invalid_event would be a connector bug.
HONEST = {"missing_operation", "missing_time", "bad_time", "absurd_time", "unknown_shape", "oversized_record"}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=5),
    max_leaves=25,
)
wrong = st.one_of(
    scalars,
    st.lists(st.one_of(st.none(), st.text(max_size=6), st.integers(-(2**63), 2**63 - 1)), max_size=3),
    st.dictionaries(st.text(max_size=6), st.one_of(st.none(), st.text(max_size=6)), max_size=3),
)


def maybe(s: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(s, wrong)


@st.composite
def timestamps(draw: st.DrawFn) -> Any:
    dt = draw(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1)))
    nanos = draw(st.integers(0, 999))
    form = draw(st.sampled_from(["z", "nanos", "bq", "naive", "offset", "epoch"]))
    if form == "z":
        return dt.isoformat() + "Z"
    if form == "nanos":
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%f") + f"{nanos:03d}Z"
    if form == "bq":
        return dt.strftime("%Y-%m-%d %H:%M:%S.%f") + " UTC"
    if form == "naive":
        return dt.strftime("%Y-%m-%d %H:%M:%S.%f")
    if form == "offset":
        return dt.isoformat() + "-07:00"
    return dt.replace(tzinfo=UTC).timestamp()


emails = st.sampled_from(
    [
        "alice@example.com", "deployer@acme-ci.iam.gserviceaccount.com", "service-1@gcp-sa-pubsub.iam.gserviceaccount.com",
        "1@cloudservices.gserviceaccount.com", "system@google.com", "no-at-sign.iam.gserviceaccount.com", "@", "a@",
    ]
)
subjects = st.sampled_from(
    [
        "user:alice@example.com", "serviceAccount:sa@p.iam.gserviceaccount.com", "serviceAccount:p.svc.id.goog[ns/ksa]",
        "principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/subject/s",
        "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/attribute.x/y",
        "principal://iam.googleapis.com/locations/global/workforcePools/w/subject/", "principalSet://", "serviceAccount:", "x",
    ]
)
log_names = st.sampled_from(
    [
        "projects/p/logs/cloudaudit.googleapis.com%2Factivity", "organizations/1/logs/cloudaudit.googleapis.com%2Fdata_access",
        "folders/2/logs/cloudaudit.googleapis.com%2Fsystem_event", "projects/p/logs/cloudaudit.googleapis.com%2Fpolicy",
        "projects/p/cloudaudit.googleapis.com%2Factivity", "/", "projects", "projects//logs/", "%E0%A4%A",
    ]
)
methods = st.one_of(
    st.sampled_from(
        ["v1.compute.firewalls.insert", "SetIamPolicy", "google.iam.admin.v1.CreateServiceAccountKey", "storage.objects.get",
         "google.login.LoginService.loginFailure", ".", "v1", "google.", "..x..", "A.b.C"]
    ),
    st.text(max_size=20),
)
hops = st.fixed_dictionaries(
    {},
    optional={
        "firstPartyPrincipal": maybe(st.fixed_dictionaries({}, optional={"principalEmail": maybe(emails)})),
        "thirdPartyPrincipal": maybe(
            st.fixed_dictionaries({}, optional={"thirdPartyClaims": maybe(st.dictionaries(st.sampled_from(["sub", "iss"]), wrong)),
                                                "thirdPartyClaimsJson": maybe(st.sampled_from(['{"sub":"x"}', "{", "[]"]))})
        ),
        "principalSubject": maybe(subjects),
    },
)
authentication = st.fixed_dictionaries(
    {},
    optional={
        "principalEmail": maybe(emails),
        "principalSubject": maybe(subjects),
        "serviceAccountKeyName": wrong,
        "serviceAccountDelegationInfo": maybe(st.lists(maybe(hops), max_size=3)),
        "oauthInfo": maybe(st.fixed_dictionaries({}, optional={"oauthClientId": wrong})),
    },
)
authorization = st.lists(
    maybe(st.fixed_dictionaries({}, optional={
        "permission": maybe(st.sampled_from(["storage.objects.get", "a.b.list", "x", ""])),
        "permissionType": maybe(st.sampled_from(["DATA_READ", "ADMIN_WRITE", "DATA_WRITE", "X"])),
        "granted": wrong,
    })),
    max_size=3,
)
payloads = st.fixed_dictionaries(
    {},
    optional={
        "@type": st.sampled_from([AUDIT, "type.googleapis.com/google.appengine.logging.v1.RequestLog"]),
        "at_sign_type": st.just(AUDIT),
        "methodName": maybe(methods),
        "serviceName": maybe(st.sampled_from(["compute.googleapis.com", "login.googleapis.com", "us-central1-ssh-serialport.googleapis.com", ".googleapis.com", ""])),
        "resourceName": maybe(st.sampled_from(["projects/p/zones/z/instances/i", "projects/_/buckets/b/objects/o/x", "organizations/1", "/", ""])),
        "status": maybe(st.fixed_dictionaries({}, optional={"code": maybe(st.integers(-5, 20)), "message": wrong})),
        "authenticationInfo": maybe(authentication),
        "authorizationInfo": maybe(authorization),
        "requestMetadata": maybe(st.fixed_dictionaries({}, optional={
            "callerIp": maybe(st.sampled_from(["1.2.3.4", "::1", "private", "gce-internal-ip", "1.2.3.4:80", "[::1]:443", ""])),
            "callerIP": wrong,
            "callerSuppliedUserAgent": wrong,
            "requestAttributes": maybe(st.fixed_dictionaries({}, optional={"id": wrong})),
        })),
        "resourceLocation": maybe(st.fixed_dictionaries({}, optional={"currentLocations": wrong})),
        "metadata": maybe(st.fixed_dictionaries({}, optional={"securityPolicyInfo": maybe(st.fixed_dictionaries({}, optional={"organizationId": wrong}))})),
        "request": json_values,
        "response": json_values,
        "requestJson": wrong,
        "responseJson": wrong,
    },
)
resources = st.fixed_dictionaries(
    {},
    optional={
        "type": wrong,
        "labels": maybe(st.dictionaries(st.sampled_from(["project_id", "location", "region", "zone", "service", "organization_id"]), wrong)),
    },
)


@st.composite
def audit_records(draw: st.DrawFn) -> dict[str, Any]:
    key = draw(st.sampled_from(["protoPayload", "protopayload", "protopayload_auditlog"]))
    rec = draw(
        st.fixed_dictionaries(
            {key: maybe(payloads)},
            optional={
                "insertId": wrong,
                "insertid": wrong,
                "logName": maybe(log_names),
                "logname": maybe(log_names),
                "timestamp": maybe(timestamps()),
                "receiveTimestamp": maybe(timestamps()),
                "receivetimestamp": maybe(timestamps()),
                "p_event_time": maybe(timestamps()),
                "resource": maybe(resources),
                "operation": maybe(st.fixed_dictionaries({}, optional={"id": wrong})),
                "serviceName": wrong,
                "severity": wrong,
            },
        )
    )
    return rec


def check(results: list[Any], expected: int, shaped: bool) -> None:
    assert len(results) == expected
    for r in results:
        assert isinstance(r, Event | DeadLetter | NonEvent)
        if shaped and isinstance(r, DeadLetter):
            assert r.code in HONEST, f"{r.code}: {r.reason}"


def leaves(value: Any) -> int:
    # JSON arrays are framing: the normalizer takes their elements (recursively) as the records; an empty
    # one is read and counted (one non-event, empty_json_array).
    if isinstance(value, list) and value:
        return sum(leaves(v) for v in value)
    return 1


@SETTINGS
@given(st.lists(json_values, max_size=5))
def test_arbitrary_json_values(values: list[Any]) -> None:
    results = list(Normalizer().records(values, "prop"))
    check(results, sum(leaves(v) for v in values), shaped=False)


@SETTINGS
@given(json_values)
def test_arbitrary_json_bytes(value: Any) -> None:
    results = list(Normalizer().blob(orjson.dumps(value), "prop.json"))
    check(results, leaves(value), shaped=False)


@SETTINGS
@given(st.lists(audit_records(), min_size=1, max_size=5))
def test_audit_shaped_records(records: list[dict[str, Any]]) -> None:
    results = list(Normalizer().records(records, "prop"))
    check(results, len(records), shaped=True)


@SETTINGS
@given(st.lists(audit_records(), min_size=1, max_size=5))
def test_audit_shaped_json_lines(records: list[dict[str, Any]]) -> None:
    data = b"\n".join(orjson.dumps(r) for r in records)
    check(list(Normalizer().blob(data, "prop.jsonl")), len(records), shaped=True)


@SETTINGS
@given(audit_records())
def test_claims_and_map_never_raise_unexpectedly(record: dict[str, Any]) -> None:
    assert isinstance(CONNECTOR.claims(record), bool)


@st.composite
def pubsub_envelopes(draw: st.DrawFn) -> tuple[dict[str, Any], int]:
    inner = draw(st.one_of(audit_records().map(orjson.dumps), st.binary(max_size=40)))
    data = draw(st.one_of(st.just(base64.b64encode(inner).decode()), st.just(base64.urlsafe_b64encode(inner).decode()), wrong))
    message = draw(st.fixed_dictionaries({"messageId": st.text(max_size=5)}, optional={"data": st.just(data), "publishTime": wrong, "attributes": wrong}))
    form = draw(st.sampled_from(["push", "item", "bare", "pull"]))
    if form == "push":
        return {"message": message, "subscription": "projects/p/subscriptions/s"}, 1
    if form == "item":
        return {"ackId": "a", "message": message}, 1
    if form == "bare":
        return message, 1
    n = draw(st.integers(0, 3))
    return {"receivedMessages": [{"ackId": str(i), "message": message} for i in range(n)]}, max(n, 1)


@SETTINGS
@given(pubsub_envelopes())
def test_pubsub_envelopes(envelope: tuple[dict[str, Any], int]) -> None:
    doc, expected = envelope
    results = list(Normalizer().records([doc], "prop"))
    assert len(results) == expected
    for r in results:
        assert isinstance(r, Event | DeadLetter | NonEvent)
        if isinstance(r, DeadLetter):
            assert r.code in HONEST | {"invalid_envelope", "empty_message", "invalid_json"}, f"{r.code}: {r.reason}"
