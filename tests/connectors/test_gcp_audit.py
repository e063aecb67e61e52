"""GCP Cloud Audit Logs connector: every wire shape, every special caller, the failure cases, the corpus.

Golden files (connectors/gcp_audit/testdata) pin whole events; these tests assert the exact values of
the fields each special case is about, so that a regenerated golden cannot quietly change them.
"""

from __future__ import annotations

import base64
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.errors import NonEvent
from connectors.gcp_audit import CONNECTOR
from connectors.gcp_audit.mapping import (
    email_type,
    log_info,
    operation_names,
    short_method,
)
from connectors.normalize import Normalizer
from schemas.deadletter import DeadLetter
from schemas.event import Event

AUDIT = "type.googleapis.com/google.cloud.audit.AuditLog"


def entry(**over: Any) -> dict[str, Any]:
    """A realistic Admin Activity LogEntry; keyword arguments replace top-level keys, and ``pp`` merges
    into protoPayload (a value of None deletes the key)."""
    e: dict[str, Any] = {
        "protoPayload": {
            "@type": AUDIT,
            "status": {},
            "authenticationInfo": {"principalEmail": "alice@example.com", "principalSubject": "user:alice@example.com"},
            "requestMetadata": {
                "callerIp": "198.51.100.23",
                "callerSuppliedUserAgent": "google-cloud-sdk gcloud/467.0.0 command/gcloud.compute.instances.create,gzip(gfe)",
                "requestAttributes": {"time": "2024-03-14T09:26:53.101215Z", "auth": {}},
                "destinationAttributes": {},
            },
            "serviceName": "compute.googleapis.com",
            "methodName": "v1.compute.instances.insert",
            "authorizationInfo": [
                {"permission": "compute.instances.create", "granted": True, "resourceAttributes": {}},
            ],
            "resourceName": "projects/acme-prod/zones/us-central1-a/instances/vm-1",
            "request": {"@type": "type.googleapis.com/compute.instances.insert", "name": "vm-1"},
        },
        "insertId": "-abc123def",
        "resource": {"type": "gce_instance", "labels": {"project_id": "acme-prod", "zone": "us-central1-a", "instance_id": "1"}},
        "timestamp": "2024-03-14T09:26:52.961274386Z",
        "severity": "NOTICE",
        "logName": "projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity",
        "receiveTimestamp": "2024-03-14T09:26:53.587209823Z",
    }
    pp = over.pop("pp", None)
    for k, v in over.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    for k, v in (pp or {}).items():
        if v is None:
            e["protoPayload"].pop(k, None)
        else:
            e["protoPayload"][k] = v
    return e


def run(*objs: Any) -> list[Any]:
    return list(Normalizer().records(objs, "test"))


def one(obj: Any) -> Event:
    (r,) = run(obj)
    assert isinstance(r, Event), r
    return r


def dead(obj: Any) -> DeadLetter:
    (r,) = run(obj)
    assert isinstance(r, DeadLetter), r
    return r


def lines(data: bytes) -> list[Any]:
    return list(Normalizer().blob(data, "test.jsonl"))


def b64(obj: Any) -> str:
    return base64.b64encode(orjson.dumps(obj)).decode()


def auth(**kw: Any) -> dict[str, Any]:
    return {"authenticationInfo": kw}


# --- who ---------------------------------------------------------------------------------------


def test_user_with_principal_subject() -> None:
    a = one(entry()).who.actor
    assert (a.type, a.id, a.email, a.name) == ("human", "user:alice@example.com", "alice@example.com", "alice")
    assert a.credential_type is None and a.credential_id is None and a.account is None


def test_user_without_principal_subject_is_identified_by_email() -> None:
    a = one(entry(pp=auth(principalEmail="bob@example.com"))).who.actor
    assert (a.type, a.id, a.email, a.name) == ("human", "user:bob@example.com", "bob@example.com", "bob")


def test_service_account_key_is_a_long_lived_credential() -> None:
    key = "//iam.googleapis.com/projects/acme-ci/serviceAccounts/deployer@acme-ci.iam.gserviceaccount.com/keys/3f9a1c"
    e = one(entry(pp=auth(principalEmail="deployer@acme-ci.iam.gserviceaccount.com", serviceAccountKeyName=key)))
    a = e.who.actor
    assert (a.type, a.id, a.name, a.account) == (
        "service", "serviceAccount:deployer@acme-ci.iam.gserviceaccount.com", "deployer", "acme-ci"
    )
    assert (a.credential_id, a.credential_type) == (key, "long_lived")
    assert e.who.delegation == []


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("service-482749184637@gcp-sa-pubsub.iam.gserviceaccount.com", "cloud_service"),
        ("service-482749184637@compute-system.iam.gserviceaccount.com", "cloud_service"),
        ("service-org-417920380642@gcp-sa-logging.iam.gserviceaccount.com", "cloud_service"),
        ("482749184637@cloudservices.gserviceaccount.com", "cloud_service"),
        ("service-agent-manager@system.gserviceaccount.com", "cloud_service"),
        ("system@google.com", "cloud_service"),
        ("482749184637-compute@developer.gserviceaccount.com", "service"),  # default compute SA: a workload
        ("acme-prod@appspot.gserviceaccount.com", "service"),
        ("482749184637@cloudbuild.gserviceaccount.com", "service"),  # runs the customer's build steps
        ("deployer@acme-ci.iam.gserviceaccount.com", "service"),
        ("alice@example.com", "human"),
        ("support@google.com", "human"),
    ],
)
def test_email_types(email: str, expected: str) -> None:
    assert email_type(email) == expected


def test_service_agent_is_cloud_service_and_its_client_too() -> None:
    e = one(entry(pp=auth(principalEmail="service-482749184637@gcp-sa-pubsub.iam.gserviceaccount.com")))
    assert e.who.actor.type == "cloud_service"
    assert e.who.actor.id == "serviceAccount:service-482749184637@gcp-sa-pubsub.iam.gserviceaccount.com"
    assert e.who.actor.account is None  # a Google-owned project, not the customer's
    assert e.how.client == "cloud_service"


def test_appspot_service_account_belongs_to_its_project() -> None:
    a = one(entry(pp=auth(principalEmail="acme-prod@appspot.gserviceaccount.com"))).who.actor
    assert (a.type, a.account) == ("service", "acme-prod")


def test_system_event_without_principal_is_the_service() -> None:
    e = one(
        entry(
            logName="projects/acme-batch/logs/cloudaudit.googleapis.com%2Fsystem_event",
            pp={"authenticationInfo": {}, "methodName": "compute.instances.preempted"},
        )
    )
    a = e.who.actor
    assert (a.type, a.id, a.name, a.email) == ("cloud_service", "compute.googleapis.com", "compute.googleapis.com", None)
    # the helper's resource is in acme-prod, so the log's own project is kept in source.log
    assert e.source.log == "projects/acme-batch/logs/cloudaudit.googleapis.com/system_event"
    assert e.what.action == "compute:instances.preempted"
    assert e.what.read_only is False


def test_system_at_google_on_system_event() -> None:
    e = one(
        entry(
            logName="projects/acme-batch/logs/cloudaudit.googleapis.com%2Fsystem_event",
            pp={**auth(principalEmail="system@google.com"), "methodName": "compute.instances.migrateOnHostMaintenance"},
        )
    )
    assert (e.who.actor.type, e.who.actor.id) == ("cloud_service", "system@google.com")


def test_workload_identity_federation_principal() -> None:
    subject = (
        "principal://iam.googleapis.com/projects/739104582263/locations/global/workloadIdentityPools/"
        "github-pool/subject/repo:acme/release-tools:ref:refs/heads/main"
    )
    a = one(entry(pp=auth(principalSubject=subject))).who.actor
    assert (a.type, a.id, a.email) == ("service", subject, None)
    assert a.name == "repo:acme/release-tools:ref:refs/heads/main"  # the whole subject, slashes and all
    assert a.credential_type == "temporary"


def test_workload_identity_federation_principal_set() -> None:
    subject = (
        "principalSet://iam.googleapis.com/projects/739104582263/locations/global/workloadIdentityPools/"
        "github-pool/attribute.repository/acme/release-tools"
    )
    a = one(entry(pp=auth(principalSubject=subject))).who.actor
    assert (a.type, a.id, a.name, a.email, a.credential_type) == ("service", subject, "release-tools", None, "temporary")


def test_workforce_identity_federation_is_a_person() -> None:
    subject = "principal://iam.googleapis.com/locations/global/workforcePools/acme-okta/subject/bob@acme.example"
    a = one(entry(pp=auth(principalSubject=subject))).who.actor
    assert (a.type, a.id, a.name, a.email) == ("human", subject, "bob@acme.example", None)


def test_unknown_subject_form_is_kept_as_id_only() -> None:
    a = one(entry(pp=auth(principalSubject="example_principal_subject", serviceAccountDelegationInfo=[{}]))).who.actor
    assert (a.type, a.id, a.name, a.credential_type) == ("unknown", "example_principal_subject", None, None)


def test_impersonation_chain_original_caller_first_acting_principal_last() -> None:
    # gcloud --impersonate-service-account=deployer@... --delegates=ci-builder@...: AuditLog lists the
    # delegation in the order it happened (AuthenticationInfo.service_account_delegation_info).
    e = one(
        entry(
            pp=auth(
                principalEmail="deployer@acme-prod.iam.gserviceaccount.com",
                principalSubject="serviceAccount:deployer@acme-prod.iam.gserviceaccount.com",
                serviceAccountDelegationInfo=[
                    {"firstPartyPrincipal": {"principalEmail": "alice@example.com"}, "principalSubject": "user:alice@example.com"},
                    {"firstPartyPrincipal": {"principalEmail": "ci-builder@acme-ci.iam.gserviceaccount.com"}},
                ],
            )
        )
    )
    chain = [(p.id, p.type, p.email) for p in e.who.delegation]
    assert chain == [
        ("user:alice@example.com", "human", "alice@example.com"),
        ("serviceAccount:ci-builder@acme-ci.iam.gserviceaccount.com", "service", "ci-builder@acme-ci.iam.gserviceaccount.com"),
        ("serviceAccount:deployer@acme-prod.iam.gserviceaccount.com", "service", "deployer@acme-prod.iam.gserviceaccount.com"),
    ]
    a = e.who.actor
    assert (a.id, a.type, a.credential_type, a.account) == (
        "serviceAccount:deployer@acme-prod.iam.gserviceaccount.com", "service", "temporary", "acme-prod"
    )


def test_third_party_delegation_hop() -> None:
    e = one(
        entry(
            pp=auth(
                principalEmail="reports-writer@acme-prod.iam.gserviceaccount.com",
                serviceAccountDelegationInfo=[
                    {"principalSubject": "serviceAccount:acme-prod.svc.id.goog[reports/writer]",
                     "thirdPartyPrincipal": {"thirdPartyClaims": {"@type": "type.googleapis.com/x"}}},
                    {"thirdPartyPrincipal": {"thirdPartyClaims": {"sub": "repo:acme/x:ref:refs/heads/main"}}},
                ],
            )
        )
    )
    hops = [(p.id, p.type, p.name) for p in e.who.delegation]
    assert hops == [
        ("serviceAccount:acme-prod.svc.id.goog[reports/writer]", "service", "reports/writer"),
        ("repo:acme/x:ref:refs/heads/main", "unknown", None),
        ("serviceAccount:reports-writer@acme-prod.iam.gserviceaccount.com", "service", "reports-writer"),
    ]
    assert e.who.actor.credential_type == "temporary"


def test_bigquery_delegation_claims_as_json_string() -> None:
    row = bq_row()
    row["protopayload_auditlog"]["authenticationInfo"]["serviceAccountDelegationInfo"] = [
        {"firstPartyPrincipal": None, "thirdPartyPrincipal": {"thirdPartyClaimsJson": '{"sub":"wl-7"}'}, "principalSubject": None}
    ]
    e = one(row)
    assert [(p.id, p.type) for p in e.who.delegation] == [("wl-7", "unknown"), ("user:erin@example.com", "human")]


def test_empty_delegation_entries_say_nothing() -> None:
    e = one(entry(pp=auth(principalEmail="sa@p.iam.gserviceaccount.com", serviceAccountDelegationInfo=[{}, None, "x"])))
    assert e.who.delegation == []
    assert e.who.actor.credential_type is None


def test_oauth_client_is_the_app() -> None:
    a = one(entry(pp=auth(principalEmail="carol@example.com", oauthInfo={"oauthClientId": "7640-abc.apps.googleusercontent.com"}))).who.actor
    assert a.app_id == "7640-abc.apps.googleusercontent.com"


def data_read(**pp: Any) -> dict[str, Any]:
    return entry(
        logName="projects/acme-web/logs/cloudaudit.googleapis.com%2Fdata_access",
        resource={"type": "gcs_bucket", "labels": {"project_id": "acme-web", "bucket_name": "site", "location": "us"}},
        pp={
            "serviceName": "storage.googleapis.com",
            "methodName": "storage.objects.get",
            "resourceName": "projects/_/buckets/site/objects/index.html",
            "authorizationInfo": [{"permission": "storage.objects.get", "granted": True, "permissionType": "DATA_READ"}],
            "request": None,
            **pp,
        },
    )


def test_anonymous_public_read() -> None:
    a = one(data_read(authenticationInfo={})).who.actor
    assert (a.type, a.id, a.email) == ("anonymous", None, None)


@pytest.mark.parametrize(
    "record",
    [
        data_read(authenticationInfo=None),  # no authenticationInfo at all
        data_read(authenticationInfo={}, status={"code": 7, "message": "denied"}),  # not a public read
        entry(pp={"authenticationInfo": {}}),  # Admin Activity
        entry(logName="projects/p/logs/cloudaudit.googleapis.com%2Fpolicy", pp={"authenticationInfo": {}}),
    ],
)
def test_absent_principal_otherwise_is_unknown(record: dict[str, Any]) -> None:
    assert one(record).who.actor.type == "unknown"


# --- where -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "ip", "domain"),
    [
        ("private", None, "private"),
        ("gce-internal-ip", None, "gce-internal-ip"),
        ("2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329", None),
        ("10.128.0.12", "10.128.0.12", None),
        ("1.2.3.4:5678", "1.2.3.4", None),
        ("metadata.google.internal", None, "metadata.google.internal"),
    ],
)
def test_caller_ip_only_ever_an_ip(caller: str, ip: str | None, domain: str | None) -> None:
    e = one(entry(pp={"requestMetadata": {"callerIp": caller}}))
    assert (e.where.source.ip, e.where.source.domain) == (ip, domain)
    assert e.where.source.internal is None  # the token says Google redacted it, not that it is ours


def test_panther_caller_ip_spelling() -> None:
    assert one(entry(pp={"requestMetadata": {"callerIP": "203.0.113.9"}})).where.source.ip == "203.0.113.9"


def test_caller_network_is_not_a_vpc_endpoint() -> None:
    rm = {"callerIp": "10.0.0.2", "callerNetwork": "//compute.googleapis.com/projects/acme-net/global/networks/prod"}
    assert one(entry(pp={"requestMetadata": rm})).where.vpc_endpoint is None


@pytest.mark.parametrize(
    ("log_name", "account", "org", "log"),
    [
        ("projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity", "acme-prod", None, "cloudaudit.googleapis.com/activity"),
        ("projects/acme-prod/logs/cloudaudit.googleapis.com%2Fdata_access", "acme-prod", None, "cloudaudit.googleapis.com/data_access"),
        ("projects/acme-prod/logs/cloudaudit.googleapis.com%2Fsystem_event", "acme-prod", None, "cloudaudit.googleapis.com/system_event"),
        ("projects/acme-prod/logs/cloudaudit.googleapis.com%2Fpolicy", "acme-prod", None, "cloudaudit.googleapis.com/policy"),
        ("organizations/417920380642/logs/cloudaudit.googleapis.com%2Factivity", "organizations/417920380642", "417920380642", "cloudaudit.googleapis.com/activity"),
        ("folders/908152734661/logs/cloudaudit.googleapis.com%2Factivity", "folders/908152734661", None, "cloudaudit.googleapis.com/activity"),
        ("billingAccounts/01A2B3-C4D5E6-F7A8B9/logs/cloudaudit.googleapis.com%2Factivity", "billingAccounts/01A2B3-C4D5E6-F7A8B9", None, "cloudaudit.googleapis.com/activity"),
        ("/projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity", "acme-prod", None, "cloudaudit.googleapis.com/activity"),
        ("projects/acme-prod/cloudaudit.googleapis.com%2Factivity", "acme-prod", None, "cloudaudit.googleapis.com/activity"),
    ],
)
def test_log_names(log_name: str, account: str, org: str | None, log: str) -> None:
    e = one(entry(logName=log_name))
    assert (e.where.account, e.where.org, e.source.log) == (account, org, log)


def test_account_falls_back_to_the_resource_project() -> None:
    assert one(entry(logName=None)).where.account == "acme-prod"


@pytest.mark.parametrize(
    ("labels", "location", "region"),
    [
        ({"location": "us-central1", "zone": "x"}, None, "us-central1"),
        ({"region": "europe-west4"}, None, "europe-west4"),
        ({"zone": "us-central1-f"}, None, "us-central1-f"),  # a zone is kept as is
        ({"zone": ""}, {"currentLocations": ["asia-east1"]}, "asia-east1"),
        ({}, None, None),
    ],
)
def test_region(labels: dict[str, str], location: Any, region: str | None) -> None:
    e = one(entry(resource={"type": "gce_instance", "labels": labels}, pp={"resourceLocation": location}))
    assert e.where.region == region


def test_resource_from_resource_name_and_monitored_resource() -> None:
    (r,) = one(entry()).what.resources
    assert (r.type, r.id, r.name, r.account, r.region) == (
        "gce_instance", "projects/acme-prod/zones/us-central1-a/instances/vm-1", "vm-1", "acme-prod", "us-central1-a"
    )
    (obj,) = one(data_read()).what.resources
    assert (obj.id, obj.name, obj.account) == ("projects/_/buckets/site/objects/index.html", "index.html", "acme-web")


# --- what --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "service", "action"),
    [
        ("google.iam.admin.v1.CreateServiceAccountKey", "iam.googleapis.com", "iam:CreateServiceAccountKey"),
        ("v1.compute.firewalls.insert", "compute.googleapis.com", "compute:firewalls.insert"),
        ("beta.compute.instances.insert", "compute.googleapis.com", "compute:instances.insert"),
        ("SetIamPolicy", "cloudresourcemanager.googleapis.com", "cloudresourcemanager:SetIamPolicy"),
        ("google.logging.v2.ConfigServiceV2.DeleteSink", "logging.googleapis.com", "logging:ConfigServiceV2.DeleteSink"),
        ("storage.objects.get", "storage.googleapis.com", "storage:objects.get"),
        ("google.storage.objects.get", "storage.googleapis.com", "storage:objects.get"),
        ("google.cloud.bigquery.v2.JobService.InsertJob", "bigquery.googleapis.com", "bigquery:JobService.InsertJob"),
        ("jobservice.insert", "bigquery.googleapis.com", "bigquery:jobservice.insert"),
        ("v1beta1.compute.instances.insert", "compute.googleapis.com", "compute:instances.insert"),
        ("google.ssh-serialport.v1.connect", "us-central1-ssh-serialport.googleapis.com", "ssh-serialport:connect"),
        ("io.k8s.core.v1.pods.create", "k8s.io", "k8s:pods.create"),
        ("compute.instances.list", None, "compute:instances.list"),  # REST names carry their service
        ("GetIamPolicy", None, "unknown:GetIamPolicy"),  # RPC names do not: we do not guess
    ],
)
def test_action(method: str, service: str | None, action: str) -> None:
    assert operation_names(method, service)[0] == action
    svc = operation_names(method, service)[3]
    assert short_method(method, svc) == action.split(":", 1)[1]


def test_operation_and_service_as_the_source_names_them() -> None:
    w = one(entry()).what
    assert (w.operation, w.service, w.action, w.activity) == (
        "v1.compute.instances.insert", "compute.googleapis.com", "compute:instances.insert", "create"
    )


@pytest.mark.parametrize(
    ("status", "outcome", "code", "message"),
    [
        (None, "success", None, None),
        ({}, "success", None, None),
        ({"code": 0}, "success", None, None),
        ({"message": "Connection succeeded."}, "success", None, None),
        ({"code": 7, "message": "Permission 'iam.serviceAccounts.create' denied"}, "failure", "PERMISSION_DENIED", "Permission 'iam.serviceAccounts.create' denied"),
        ({"code": 5, "message": "The resource 'abc' was not found"}, "failure", "NOT_FOUND", "The resource 'abc' was not found"),
        ({"code": 3}, "failure", "INVALID_ARGUMENT", None),
        ({"code": 16}, "failure", "UNAUTHENTICATED", None),
        ({"code": 9, "message": "key is not enabled"}, "failure", "FAILED_PRECONDITION", "key is not enabled"),
        ({"code": "6"}, "failure", "ALREADY_EXISTS", None),
        ({"code": 99}, "failure", "99", None),
        ("...", "unknown", None, None),
    ],
)
def test_outcome_from_status(status: Any, outcome: str, code: str | None, message: str | None) -> None:
    w = one(entry(pp={"status": status})).what
    assert w.outcome == outcome
    assert (w.error.code, w.error.message) == (code, message) if w.error else code is None


def test_vpc_service_controls_denial_is_a_failed_audit_event() -> None:
    e = one(
        entry(
            logName="projects/acme-pii/logs/cloudaudit.googleapis.com%2Fpolicy",
            resource={"type": "audited_resource", "labels": {"project_id": "acme-pii", "service": "storage.googleapis.com"}},
            pp={
                "status": {"code": 7, "message": "Request is prohibited by organization's policy."},
                "authenticationInfo": {"principalEmail": "dave@example.com"},
                "serviceName": "storage.googleapis.com",
                "methodName": "google.storage.objects.get",
                "resourceName": "projects/562913478201",
                "authorizationInfo": None,
                "metadata": {
                    "@type": "type.googleapis.com/google.cloud.audit.VpcServiceControlAuditMetadata",
                    "violationReason": "NO_MATCHING_ACCESS_LEVEL",
                    "securityPolicyInfo": {"servicePerimeterName": "accessPolicies/1/servicePerimeters/pii", "organizationId": "417920380642"},
                },
            },
        )
    )
    assert (e.what.outcome, e.what.error.code if e.what.error else None) == ("failure", "PERMISSION_DENIED")
    assert e.what.action == "storage:objects.get"
    assert (e.source.log, e.where.org, e.where.account) == ("cloudaudit.googleapis.com/policy", "417920380642", "acme-pii")


def test_workspace_login_failure_is_a_failure() -> None:
    e = one(
        entry(
            logName="organizations/417920380642/logs/cloudaudit.googleapis.com%2Fdata_access",
            pp={"status": None, "serviceName": "login.googleapis.com", "methodName": "google.login.LoginService.loginFailure",
                "authenticationInfo": {"principalEmail": "grace@example.com"}, "authorizationInfo": None},
        )
    )
    assert (e.what.activity, e.what.category, e.what.outcome) == ("login", "authentication", "failure")


def _perm(permission: str, ptype: str | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"permission": permission, "granted": True}
    if ptype:
        d["permissionType"] = ptype
    return d


@pytest.mark.parametrize(
    ("log", "perms", "read_only"),
    [
        ("activity", [_perm("compute.instances.create")], False),  # Admin Activity: changes only
        ("system_event", [], False),
        ("data_access", [_perm("storage.objects.get")], True),
        ("data_access", [_perm("storage.objects.list"), _perm("storage.buckets.get")], True),
        ("data_access", [_perm("bigquery.tables.getData")], True),
        ("data_access", [_perm("storage.objects.create")], None),  # the source does not say
        ("data_access", [_perm("iam.serviceAccounts.getAccessToken")], None),  # minting a token is no read
        ("data_access", [], None),
        ("data_access", [_perm("storage.objects.create", "DATA_WRITE")], False),
        ("data_access", [_perm("cloudkms.cryptoKeyVersions.useToEncrypt", "DATA_READ")], True),
        ("policy", [_perm("storage.objects.get")], None),
    ],
)
def test_read_only_only_where_the_source_says(log: str, perms: list[dict[str, Any]], read_only: bool | None) -> None:
    e = one(entry(logName=f"projects/p/logs/cloudaudit.googleapis.com%2F{log}", pp={"authorizationInfo": perms}))
    assert e.what.read_only is read_only


@pytest.mark.parametrize(
    ("service", "method", "log", "perms", "category"),
    [
        ("iam.googleapis.com", "google.iam.admin.v1.CreateServiceAccountKey", "activity", [], "iam"),
        ("cloudresourcemanager.googleapis.com", "SetIamPolicy", "activity", [], "iam"),
        ("cloudresourcemanager.googleapis.com", "GetProject", "data_access", [], "configuration"),
        ("logging.googleapis.com", "google.logging.v2.ConfigServiceV2.DeleteSink", "activity", [], "logging"),
        ("cloudkms.googleapis.com", "DestroyCryptoKeyVersion", "activity", [], "encryption"),
        ("cloudkms.googleapis.com", "SetIamPolicy", "activity", [], "iam"),
        ("compute.googleapis.com", "v1.compute.firewalls.insert", "activity", [], "network"),
        ("compute.googleapis.com", "v1.compute.subnetworks.patch", "activity", [], "network"),
        ("compute.googleapis.com", "v1.compute.networks.insert", "activity", [], "network"),
        ("compute.googleapis.com", "v1.compute.instances.insert", "activity", [], "compute"),
        ("storage.googleapis.com", "storage.buckets.create", "activity", [], "storage"),
        ("storage.googleapis.com", "storage.objects.get", "data_access", [], "data_access"),
        ("storage.googleapis.com", "storage.buckets.list", "data_access", [_perm("storage.buckets.list", "ADMIN_READ")], "storage"),
        ("storage.googleapis.com", "storage.setIamPermissions", "activity", [], "iam"),
        ("bigquery.googleapis.com", "google.cloud.bigquery.v2.JobService.InsertJob", "data_access", [], "data_access"),
        ("bigquery.googleapis.com", "google.cloud.bigquery.v2.DatasetService.InsertDataset", "activity", [], "storage"),
        ("login.googleapis.com", "google.login.LoginService.loginSuccess", "data_access", [], "authentication"),
        ("example.googleapis.com", "Frobnicate", "activity", [], "other"),
    ],
)
def test_category(service: str, method: str, log: str, perms: list[Any], category: str) -> None:
    e = one(entry(logName=f"projects/p/logs/cloudaudit.googleapis.com%2F{log}",
                  pp={"serviceName": service, "methodName": method, "authorizationInfo": perms}))
    assert e.what.category == category


def test_request_and_response_as_compact_json() -> None:
    w = one(entry(pp={"response": {"@type": "type.googleapis.com/operation", "status": "DONE"}})).what
    assert w.request == '{"@type":"type.googleapis.com/compute.instances.insert","name":"vm-1"}'
    assert w.response == '{"@type":"type.googleapis.com/operation","status":"DONE"}'


# --- how ---------------------------------------------------------------------------------------


def test_request_and_correlation_ids() -> None:
    e = one(
        entry(
            operation={"id": "operation-1710408413012-613a7c5e9b3d1", "producer": "compute.googleapis.com", "first": True},
            pp={"requestMetadata": {"callerIp": "1.2.3.4", "requestAttributes": {"id": "AJ9k1zE3x8Yq2"}}},
        )
    )
    assert (e.how.request_id, e.how.correlation_id) == ("AJ9k1zE3x8Yq2", "operation-1710408413012-613a7c5e9b3d1")


@pytest.mark.parametrize(
    ("ua", "client"),
    [
        ("google-cloud-sdk gcloud/467.0.0 command/gcloud.compute.instances.create,gzip(gfe)", "cli"),
        ("Mozilla/5.0 (Macintosh) Chrome/124.0.0.0 Safari/537.36,gzip(gfe),gzip(gfe)", "console"),
        ("Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-google/5.21.0,gzip(gfe)", "terraform"),
        ("google-api-python-client/2.118.0 (gzip),gzip(gfe)", "sdk"),
        (None, "unknown"),
    ],
)
def test_client_from_user_agent(ua: str | None, client: str) -> None:
    e = one(entry(pp={"requestMetadata": {"callerIp": "1.2.3.4", "callerSuppliedUserAgent": ua}}))
    assert (e.how.user_agent, e.how.client) == (ua, client)


# --- when and ids ------------------------------------------------------------------------------


def test_nanosecond_timestamp_keeps_its_text() -> None:
    w = one(entry()).when
    assert w.time.isoformat() == "2024-03-14T09:26:52.961274+00:00"
    assert w.time_text == "2024-03-14T09:26:52.961274386Z"
    assert w.observed is not None and w.observed.isoformat() == "2024-03-14T09:26:53.587209+00:00"


def test_microsecond_timestamp_has_no_time_text() -> None:
    assert one(entry(timestamp="2024-03-14T09:26:52.961274Z")).when.time_text is None


def test_zoneless_timestamps_are_utc() -> None:
    w = one(entry(timestamp="2023-03-08 18:52:52.114", receiveTimestamp="2023-03-08 18:52:52.72")).when
    assert w.time.isoformat() == "2023-03-08T18:52:52.114000+00:00"
    assert w.observed is not None and w.observed.isoformat() == "2023-03-08T18:52:52.720000+00:00"


def test_missing_timestamp_falls_back_to_receive_time_not_collector_fields() -> None:
    w = one(entry(timestamp=None, p_event_time="2020-01-01 00:00:00.961274386")).when
    assert w.time == w.observed and w.time_text == "2024-03-14T09:26:53.587209823Z"
    # Logging stamps an entry without a timestamp with the time it received it: we do the same.
    w = one(entry(timestamp=None)).when
    assert w.time == w.observed
    assert w.time.isoformat() == "2024-03-14T09:26:53.587209+00:00"


def test_same_entry_same_id_whatever_the_shape() -> None:
    e = entry()
    ids = {
        one(e).id,
        one({"message": {"data": b64(e), "messageId": "1"}, "subscription": "projects/p/subscriptions/s"}).id,
        one(entry(timestamp="2024-03-14T09:26:52.961274386+00:00")).id,
    }
    assert len(ids) == 1


def test_insert_id_is_unique_only_with_log_and_time() -> None:
    base = one(entry()).id
    assert one(entry(timestamp="2024-03-14T09:26:52.961274387Z")).id != base
    assert one(entry(logName="projects/acme-prod/logs/cloudaudit.googleapis.com%2Fdata_access")).id != base
    assert one(entry(insertId="-other")).id != base


def test_without_insert_id_the_record_tells_entries_apart() -> None:
    a = one(entry(insertId=None))
    b = one(entry(insertId=None, pp={"methodName": "v1.compute.instances.delete"}))
    assert a.id != b.id
    assert a.id == one(entry(insertId=None)).id
    assert a.source.native_id is None


# --- shapes and envelopes ----------------------------------------------------------------------


def bq_row() -> dict[str, Any]:
    return {
        "logName": "projects/acme-analytics/logs/cloudaudit.googleapis.com%2Fdata_access",
        "resource": {"type": "bigquery_dataset", "labels": {"project_id": "acme-analytics", "dataset_id": "sales", "location": None}},
        "protopayload_auditlog": {
            "serviceName": "bigquery.googleapis.com",
            "methodName": "google.cloud.bigquery.v2.JobService.InsertJob",
            "resourceName": "projects/acme-analytics/datasets/sales/tables/customers",
            "status": None,
            "authenticationInfo": {"principalEmail": "erin@example.com", "serviceAccountKeyName": None,
                                   "serviceAccountDelegationInfo": [], "principalSubject": "user:erin@example.com"},
            "authorizationInfo": [{"resource": "projects/acme-analytics/datasets/sales/tables/customers",
                                   "permission": "bigquery.tables.getData", "granted": "true", "resourceAttributes": None}],
            "requestMetadata": {"callerIp": "198.51.100.61", "callerSuppliedUserAgent": None, "callerNetwork": None},
            "requestJson": '{"@type":"type.googleapis.com/google.cloud.bigquery.v2.InsertJobRequest"}',
            "metadataJson": '{"@type":"type.googleapis.com/google.cloud.audit.BigQueryAuditMetadata"}',
            "responseJson": None,
        },
        "timestamp": "2025-02-03 11:20:45.123456 UTC",
        "receiveTimestamp": "2025-02-03 11:20:46.001 UTC",
        "severity": "INFO",
        "insertId": "1x9c2v3b4n5m",
        "operation": None,
    }


def test_bigquery_row() -> None:
    e = one(bq_row())
    assert e.source.shape == "bigquery"
    assert (e.what.action, e.what.category, e.what.read_only) == ("bigquery:JobService.InsertJob", "data_access", True)
    assert e.when.time.isoformat() == "2025-02-03T11:20:45.123456+00:00"
    assert e.when.observed is not None and e.when.observed.isoformat() == "2025-02-03T11:20:46.001000+00:00"
    assert e.what.request == '{"@type":"type.googleapis.com/google.cloud.bigquery.v2.InsertJobRequest"}'
    assert (e.who.actor.id, e.where.source.ip, e.where.account) == ("user:erin@example.com", "198.51.100.61", "acme-analytics")


def test_bigquery_row_and_log_entry_of_one_entry_share_the_id() -> None:
    row = bq_row()
    log_entry = {
        "protoPayload": {"@type": AUDIT, **{k: v for k, v in row["protopayload_auditlog"].items() if not k.endswith("Json")}},
        "logName": row["logName"], "insertId": row["insertId"], "resource": row["resource"],
        "timestamp": "2025-02-03T11:20:45.123456Z", "receiveTimestamp": "2025-02-03T11:20:46.001Z",
    }
    assert one(row).id == one(log_entry).id


def test_json_lines_and_pretty_printed_and_array() -> None:
    e = entry()
    for data in (orjson.dumps(e) + b"\n" + orjson.dumps(entry(insertId="2")), orjson.dumps([e, entry(insertId="2")], option=orjson.OPT_INDENT_2)):
        rs = lines(data)
        assert [type(r) for r in rs] == [Event, Event]
        assert {r.source.shape for r in rs} == {"log_entry"}
    (r,) = lines(orjson.dumps(e, option=orjson.OPT_INDENT_2))
    assert isinstance(r, Event) and r.source.shape == "log_entry"


def test_pubsub_push_body() -> None:
    body = {"message": {"attributes": {"logging.googleapis.com/timestamp": "x"}, "data": b64(entry()),
                        "messageId": "10876543210987654", "publishTime": "2024-03-14T09:26:54.3Z"},
            "subscription": "projects/acme-secops/subscriptions/audit-push"}
    e = one(body)
    assert (e.source.shape, e.what.action) == ("pubsub", "compute:instances.insert")


def test_pubsub_pull_response_and_items() -> None:
    pull = {"receivedMessages": [
        {"ackId": "a1", "message": {"data": b64(entry()), "messageId": "1", "publishTime": "2024-03-14T09:26:54Z"}},
        {"ackId": "a2", "message": {"data": b64(entry(insertId="2")), "messageId": "2"}},
    ]}
    rs = run(pull)
    assert [r.source.shape for r in rs] == ["pubsub", "pubsub"]
    # one item of a pull, as gcloud pubsub subscriptions pull --format=json prints it
    assert one({"ackId": "a1", "message": {"data": b64(entry()), "messageId": "1"}}).source.shape == "pubsub"


def test_pubsub_bare_message_and_urlsafe_base64() -> None:
    data = base64.urlsafe_b64encode(orjson.dumps(entry(pp={"request": {"k": "\u00ff\u00fe>>>???"}}))).decode().rstrip("=")
    e = one({"data": data, "messageId": "5550001112223", "publishTime": "2025-01-14T19:02:35.1Z"})
    assert e.source.shape == "pubsub"


def test_pubsub_bad_messages_cost_one_record_each() -> None:
    pull = {"receivedMessages": [
        {"ackId": "a1", "message": {"data": "not base64 at all!", "messageId": "1"}},
        {"ackId": "a2", "message": {"messageId": "2", "attributes": {"k": "v"}}},
        {"ackId": "a3", "message": {"data": base64.b64encode(b"{not json").decode(), "messageId": "3"}},
        {"ackId": "a4", "message": {"data": b64(entry()), "messageId": "4"}},
    ]}
    rs = run(pull)
    assert [(type(r).__name__, getattr(r, "code", None)) for r in rs] == [
        ("DeadLetter", "invalid_envelope"), ("DeadLetter", "empty_message"), ("DeadLetter", "invalid_json"), ("Event", None)
    ]
    assert "message.data" in rs[0].reason and "message.data" in rs[1].reason


def test_empty_containers_are_counted_not_lost() -> None:
    (r,) = run({"receivedMessages": []})
    assert isinstance(r, NonEvent) and r.kind == "empty_pubsub_pull"
    (r,) = run({"entries": []})
    assert isinstance(r, NonEvent) and r.kind == "empty_logging_page"


def test_eventarc_cloudevent() -> None:
    ce = {"specversion": "1.0", "id": "x", "source": "//cloudaudit.googleapis.com/projects/acme-prod/logs/activity",
          "type": "google.cloud.audit.log.v1.written", "time": "2024-03-14T09:26:53Z", "data": entry()}
    assert one(ce).source.shape == "cloudevent"


def test_logging_api_page() -> None:
    rs = run({"entries": [entry(), entry(insertId="2")], "nextPageToken": "EAA4"})
    assert [r.source.shape for r in rs] == ["log_entry", "log_entry"]


def test_panther_style_record() -> None:
    rec = {"insertid": "-x1", "logname": "projects/acme-dev/logs/cloudaudit.googleapis.com%2Factivity",
           "p_event_time": "2024-04-22 13:05:44.918", "p_log_type": "GCP.AuditLog",
           "protopayload": {"at_sign_type": AUDIT, "methodName": "google.logging.v2.ConfigServiceV2.DeleteSink",
                            "serviceName": "logging.googleapis.com", "authenticationInfo": {"principalEmail": "frank@example.com"}},
           "receivetimestamp": "2024-04-22 13:05:45.88", "timestamp": "2024-04-22 13:05:44.918"}
    e = one(rec)
    assert (e.source.native_id, e.where.account, e.source.log) == ("-x1", "acme-dev", "cloudaudit.googleapis.com/activity")
    assert e.when.observed is not None and e.when.observed.isoformat() == "2024-04-22T13:05:45.880000+00:00"


@pytest.mark.parametrize(
    ("record", "claimed"),
    [
        ({"protoPayload": {"@type": AUDIT}}, True),
        ({"protoPayload": {"at_sign_type": AUDIT}}, True),
        ({"protopayload": {"methodName": "x"}}, True),  # Panther fragment without @type
        ({"protopayload_auditlog": {"methodName": "x"}}, True),
        ({"protoPayload": {"@type": "type.googleapis.com/google.appengine.logging.v1.RequestLog"}}, False),
        ({"jsonPayload": {"message": "hi"}, "logName": "projects/p/logs/app"}, False),
        ({"textPayload": "hi"}, False),
        ({"protoPayload": "..."}, False),
        ({"protopayload_auditlog": None}, False),
        ({"methodName": "v1.compute.firewalls.insert"}, False),
        ({"eventVersion": "1.08", "eventSource": "iam.amazonaws.com"}, False),
    ],
)
def test_claims(record: dict[str, Any], claimed: bool) -> None:
    assert CONNECTOR.claims(record) is claimed


def test_non_audit_entries_are_not_ours() -> None:
    app = {"jsonPayload": {"message": "order shipped"}, "logName": "projects/p/logs/run.googleapis.com%2Fstdout",
           "timestamp": "2024-03-14T09:30:00Z", "resource": {"type": "cloud_run_revision"}}
    gae = {"protoPayload": {"@type": "type.googleapis.com/google.appengine.logging.v1.RequestLog", "method": "GET"},
           "timestamp": "2024-03-14T09:30:01Z"}
    for rec in (app, gae):
        d = dead(rec)
        assert (d.stage, d.code) == ("parse", "unknown_shape")


# --- failures ----------------------------------------------------------------------------------


def test_missing_method_is_a_dead_letter_naming_the_field() -> None:
    d = dead(entry(pp={"methodName": None}))
    assert (d.stage, d.code) == ("map", "missing_operation")
    assert "protoPayload.methodName" in d.reason
    row = bq_row()
    del row["protopayload_auditlog"]["methodName"]
    assert "protopayload_auditlog.methodName" in dead(row).reason


def test_missing_time_is_a_dead_letter_naming_the_field() -> None:
    d = dead(entry(timestamp=None, receiveTimestamp=None))
    assert (d.stage, d.code) == ("map", "missing_time")
    assert "timestamp" in d.reason


@pytest.mark.parametrize(
    ("over", "code", "field"),
    [
        ({"timestamp": "1970-01-01T00:00:00Z"}, "absurd_time", "timestamp"),
        ({"timestamp": "2999-01-01T00:00:00Z"}, "absurd_time", "timestamp"),
        ({"timestamp": "yesterday at noon"}, "bad_time", "timestamp"),
        ({"timestamp": ["2024"]}, "bad_time", "timestamp"),
        ({"timestamp": None, "receiveTimestamp": "..."}, "bad_time", "receiveTimestamp"),
    ],
)
def test_bad_times_are_dead_letters(over: dict[str, Any], code: str, field: str) -> None:
    d = dead(entry(**over))
    assert (d.stage, d.code) == ("map", code)
    assert field in d.reason


def test_present_but_bad_timestamp_is_not_replaced_by_receive_time() -> None:
    assert dead(entry(timestamp="not a time")).code == "bad_time"


# --- the corpus --------------------------------------------------------------------------------

# Records that cannot say what happened or when (Panther rule-test fragments): (file, index) -> code.
CORPUS_DEAD = {
    ("panther_gcp_auditlog_test_events.jsonl", 4): "missing_operation",  # no methodName, no serviceName
    ("panther_gcp_auditlog_test_events.jsonl", 9): "missing_operation",  # no methodName
    ("panther_gcp_auditlog_test_events.jsonl", 28): "bad_time",  # no timestamp, receiveTimestamp "..."
    ("panther_gcp_auditlog_test_events.jsonl", 30): "missing_operation",  # methodName nested in metadata
    ("panther_gcp_auditlog_test_events.jsonl", 38): "unknown_shape",  # only {"methodName": ...}
    ("panther_gcp_auditlog_test_events.jsonl", 39): "unknown_shape",
    ("panther_gcp_auditlog_test_events.jsonl", 40): "missing_time",  # no timestamp of any kind
    ("panther_gcp_auditlog_test_events.jsonl", 43): "unknown_shape",
    ("panther_gcp_auditlog_test_events.jsonl", 44): "missing_time",
    ("panther_gcp_auditlog_test_events.jsonl", 47): "missing_time",
    ("panther_gcp_auditlog_test_events.jsonl", 65): "missing_operation",  # only authorizationInfo
    ("panther_gcp_auditlog_test_events.jsonl", 66): "missing_operation",
    ("panther_gcp_auditlog_test_events.jsonl", 101): "missing_operation",  # methodName nested in metadata
    ("panther_gcp_auditlog_test_events.jsonl", 116): "missing_time",
}


def test_corpus(corpus_dir: Path) -> None:
    files = sorted(p for p in (corpus_dir / "gcp").rglob("*") if p.is_file() and p.suffix in (".json", ".jsonl"))
    assert len(files) == 13
    counts: Counter[str] = Counter()
    norm = Normalizer()
    for path in files:
        for r in norm.blob(path.read_bytes(), path.name):
            location = r.source.location if isinstance(r, Event) else r.location
            assert location is not None
            name, _, index = location.rpartition("#")
            key = (name, int(index))
            if isinstance(r, Event):
                counts["event"] += 1
                assert key not in CORPUS_DEAD, f"{key} is expected to be a dead letter"
                # Workspace activities shared into Cloud Logging belong to the google_workspace connector.
                assert (r.where.provider, r.source.format) in (
                    ("gcp", "gcp.audit"), ("google_workspace", "google_workspace.audit")
                )
                assert r.what.action and ":" in r.what.action
                assert r.where.source.ip is None or "." in r.where.source.ip or ":" in r.where.source.ip
            else:
                assert isinstance(r, DeadLetter), r
                counts["dead"] += 1
                assert CORPUS_DEAD.get(key) == r.code, f"{key}: {r.code}: {r.reason}"
                if r.code != "unknown_shape":
                    assert "methodName" in r.reason or "timestamp" in r.reason or "receiveTimestamp" in r.reason
    assert counts == {"event": 132, "dead": len(CORPUS_DEAD)}


def test_corpus_bigquery_file_is_the_bigquery_shape(corpus_dir: Path) -> None:
    path = corpus_dir / "gcp" / "google_security_analytics" / "google.cloud.bigquery.v2.JobService.InsertJob-dataRead.json"
    (e,) = Normalizer().blob(path.read_bytes(), path.name)
    assert isinstance(e, Event)
    assert (e.source.shape, e.what.category, e.what.read_only, e.who.actor.email) == (
        "bigquery", "data_access", True, "test-user@example.com"
    )


def test_corpus_vpc_sc_file_is_a_failure(corpus_dir: Path) -> None:
    path = corpus_dir / "gcp" / "google_security_analytics" / "google.storage.objects.get-notInSameVPC.json"
    (e,) = Normalizer().blob(path.read_bytes(), path.name)
    assert isinstance(e, Event)
    assert (e.what.outcome, e.what.error.code if e.what.error else None, e.source.log, e.where.org) == (
        "failure", "PERMISSION_DENIED", "cloudaudit.googleapis.com/policy", "123"
    )


def test_log_info() -> None:
    info = log_info("organizations/417920380642/logs/cloudaudit.googleapis.com%2Fdata_access")
    assert tuple(info) == ("organizations/417920380642", "417920380642", "cloudaudit.googleapis.com/data_access", "data_access")
    assert log_info("projects/p/logs/run.googleapis.com%2Fstdout").kind is None
