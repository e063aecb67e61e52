"""Sample Cloud Audit Logs: realistic LogEntry records in every shape GCP delivers (see connectors/sampledata).

Shapes: a Cloud Logging sink to Cloud Storage (JSON lines under
``cloudaudit.googleapis.com/<log>/YYYY/MM/DD/HH:00:00_HH:59:59_S<n>.json``), ``gcloud logging read
--format=json`` output (a pretty-printed JSON array, keys sorted), Pub/Sub push deliveries (the entry
base64-encoded in ``message.data``), and rows of a BigQuery sink table exported as JSON lines
(``protopayload_auditlog`` with ``requestJson``/``metadataJson`` as strings).

Principals: users, service accounts (attached, with a key, Google-managed service agents), users
impersonating a service account (``serviceAccountDelegationInfo.firstPartyPrincipal``), GKE workload
identity and workload identity federation (``principalSubject``), and Google itself (system events).
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from sampledata import RollingFiles, lottery

if TYPE_CHECKING:
    from sampledata import GenContext, Person

CLOUD = "gcp"
SHARE = 0.30
SHAPES: dict[str, float] = {
    "gcs_sink": 0.50,
    "gcloud_json": 0.08,
    "pubsub_push": 0.22,
    "bigquery_sink": 0.20,
}
BENCH_SHAPE = "gcs_sink"

ERROR_RATE = 0.03
AUDIT_LOG = "type.googleapis.com/google.cloud.audit.AuditLog"

_GCLOUD_UA = (
    "google-cloud-sdk gcloud/503.0.0 command/gcloud.{cmd} invocation-id/{inv} environment/None "
    "environment-version/None client-os/MACOSX client-os-ver/24.2.0 client-pltf-arch/arm interactive/True "
    "from-script/False python/3.12.8 term/xterm-256color (Macintosh; Intel Mac OS X 24.2.0),gzip(gfe)"
)
_HUMAN_UAS = (
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36,gzip(gfe)",
        5,
    ),
    ("gcloud", 4),
    ("gsutil/5.33 (darwin) google-cloud-sdk/503.0.0 analytics/disabled,gzip(gfe)", 1),
)
_WORKLOAD_UAS = (
    ("gl-python/3.12.8 grpc/1.68.1 gax/2.24.0 gapic/2.19.0 gccl/2.19.0,gzip(gfe)", 4),
    ("google-api-go-client/0.5 gke-metadata-server,gzip(gfe)", 2),
    ("grpc-java-netty/1.68.1,gzip(gfe)", 2),
    (
        "Terraform/1.10.3 (+https://www.terraform.io) Terraform-Plugin-SDK/2.33.0 "
        "terraform-provider-google/6.14.1,gzip(gfe)",
        2,
    ),
    (
        "google-cloud-sdk gcloud/503.0.0 command/gcloud.storage.cp invocation-id/0 environment/GCE "
        "environment-version/None client-os/LINUX interactive/False from-script/True python/3.12.8,gzip(gfe)",
        1,
    ),
)
_HOME_IP_PREFIXES = ("192.0.2.", "203.0.113.", "198.51.100.")
_OFFICE_IPS = ("198.51.100.23", "198.51.100.24", "203.0.113.7")
_GCLOUD_CMDS = (
    "compute.instances.list",
    "projects.get-iam-policy",
    "storage.ls",
    "container.clusters.get-credentials",
    "iam.service-accounts.keys.create",
    "logging.read",
)
_ZONES = (
    ("us-central1-a", 5),
    ("us-central1-b", 3),
    ("europe-west1-b", 3),
    ("us-east4-c", 2),
    ("asia-northeast1-a", 1),
)


# --- population ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class Project:
    id: str
    number: str
    buckets: list[str]
    instances: list[tuple[str, str, str]]  # (name, id, zone)
    sas: list[str]
    datasets: list[str]
    secrets: list[str]
    clusters: list[str]


@dataclass(slots=True)
class Caller:
    kind: str
    auth: dict[str, Any]
    ips: list[str]
    agents: list[str]
    ops: list[Op]
    projects: list[Project]


@dataclass(slots=True)
class Population:
    org: str
    projects: list[Project]
    callers: list[Caller]
    zones: list[str]


OpFn = Callable[["GenContext", Project, str], tuple[str, dict[str, Any], Any, Any, str]]


@dataclass(slots=True)
class Op:
    service: str
    method: str
    log: str  # activity, data_access, system_event, policy
    permission: str
    fn: OpFn  # -> (resourceName, resource, request, response, permission type)
    lro: bool = False
    security: bool = False


def population(rng: random.Random, people: Sequence[Person]) -> Population:
    org = str(rng.randrange(10**11, 10**12))

    def hexid(n: int) -> str:
        return f"{rng.getrandbits(4 * n):0{n}x}"

    projects = []
    for name in ("acme-prod", "acme-staging", "acme-data", "acme-shared-infra", "acme-sandbox"):
        pid = f"{name}-{hexid(4)}"
        num = str(rng.randrange(10**11, 10**12))
        projects.append(
            Project(
                id=pid,
                number=num,
                buckets=[f"{pid}-{b}" for b in ("uploads", "exports", "tfstate")],
                instances=[
                    (
                        f"{w}-{i}",
                        str(rng.randrange(10**18, 10**19)),
                        rng.choice(("us-central1-a", "europe-west1-b")),
                    )
                    for w in ("web", "worker")
                    for i in range(3)
                ],
                sas=[
                    f"{s}@{pid}.iam.gserviceaccount.com" for s in ("app-runtime", "etl-pipeline", "terraform")
                ],
                datasets=["analytics", "billing_export", "raw_events"],
                secrets=["db-password", "stripe-api-key"],
                clusters=["gke-main"],
            )
        )
    prod, infra = projects[0], projects[3]
    human_ops, work_ops, agent_ops = (
        lottery(_HUMAN_OPS, 2048),
        lottery(_WORKLOAD_OPS, 2048),
        lottery(_AGENT_OPS, 256),
    )

    callers: list[tuple[Caller, float]] = []
    human_uas = lottery(_HUMAN_UAS, 32)
    work_uas = lottery(_WORKLOAD_UAS, 32)
    for person in people[: int(len(people) * 0.7)]:
        ips = [
            f"{rng.choice(_HOME_IP_PREFIXES)}{rng.randrange(2, 254)}",
            rng.choice(_OFFICE_IPS),
            f"2001:db8:77{rng.randrange(10, 99)}:{hexid(4)}::{hexid(2)}",
        ]
        mine = rng.sample(projects, k=rng.randint(1, 3))
        auth: dict[str, Any] = {"principalEmail": person.email, "principalSubject": f"user:{person.email}"}
        callers.append((Caller("user", auth, ips, human_uas, human_ops, mine), 3.0 if person.admin else 2.0))
        if person.admin:
            # Admins impersonate the Terraform service account instead of holding its key.
            sa = infra.sas[2]
            auth = {
                "principalEmail": sa,
                "serviceAccountDelegationInfo": [{"firstPartyPrincipal": {"principalEmail": person.email}}],
                "principalSubject": f"serviceAccount:{sa}",
            }
            callers.append((Caller("impersonation", auth, ips, work_uas, work_ops, projects), 0.8))

    for p in projects:
        nat = [f"10.{rng.randrange(128, 140)}.0.{rng.randrange(2, 250)}", "private", "gce-internal-ip"]
        for sa in p.sas[:2]:
            auth = {"principalEmail": sa, "principalSubject": f"serviceAccount:{sa}"}
            callers.append((Caller("service_account", auth, nat, work_uas, work_ops, [p]), 4.0))
        # An old user-managed key still in use from outside GCP.
        sa = p.sas[1]
        auth = {
            "principalEmail": sa,
            "principalSubject": f"serviceAccount:{sa}",
            "serviceAccountKeyName": f"//iam.googleapis.com/projects/{p.id}/serviceAccounts/{sa}/keys/{hexid(40)}",
        }
        callers.append((Caller("sa_key", auth, ["203.0.113.150"], work_uas, work_ops, [p]), 0.6))
        # GKE workload identity: a Kubernetes service account acting as a Google service account.
        ksa = rng.choice(("default/api", "jobs/etl-runner", "payments/checkout"))
        auth = {
            "principalEmail": p.sas[0],
            "serviceAccountDelegationInfo": [
                {"principalSubject": f"serviceAccount:{p.id}.svc.id.goog[{ksa}]"}
            ],
            "principalSubject": f"serviceAccount:{p.sas[0]}",
        }
        callers.append(
            (Caller("workload_identity", auth, ["private", "gce-internal-ip"], work_uas, work_ops, [p]), 2.0)
        )
        # Google-managed service agents.
        for agent in (
            f"service-{p.number}@container-engine-robot.iam.gserviceaccount.com",
            f"{p.number}@cloudservices.gserviceaccount.com",
            f"service-{p.number}@compute-system.iam.gserviceaccount.com",
        ):
            callers.append(
                (Caller("service_agent", {"principalEmail": agent}, ["private"], [""], agent_ops, [p]), 0.7)
            )

    # Workload identity federation from CI: no Google identity at all, only the federated subject...
    pool = f"principal://iam.googleapis.com/projects/{infra.number}/locations/global/workloadIdentityPools/github-actions"
    subj = f"{pool}/subject/repo:acme/infrastructure:ref:refs/heads/main"
    gh_ips = [f"20.{rng.randrange(1, 250)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(4)]
    callers.append(
        (Caller("federated", {"principalSubject": subj}, gh_ips, work_uas, work_ops, [infra, prod]), 0.8)
    )
    # ... or impersonating the deploy service account.
    sa = infra.sas[2]
    auth = {
        "principalEmail": sa,
        "serviceAccountDelegationInfo": [{"principalSubject": subj}],
        "principalSubject": f"serviceAccount:{sa}",
    }
    callers.append((Caller("federated_impersonation", auth, gh_ips, work_uas, work_ops, projects), 1.0))

    return Population(org=org, projects=projects, callers=lottery(callers, 2048), zones=lottery(_ZONES, 64))


# --- operations: (resourceName, resource, request, response, permissionType) ---------------------------


def _pick(c: GenContext, xs: Sequence[Any]) -> Any:
    return xs[int(c.rng.random() * len(xs))]


def _res(rtype: str, **labels: str) -> dict[str, Any]:
    return {"type": rtype, "labels": labels}


def _obj_get(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    b = _pick(c, p.buckets)
    return (
        f"projects/_/buckets/{b}/objects/exports/{c.day_text}/part-{c.hex(8)}.csv",
        _res("gcs_bucket", bucket_name=b, project_id=p.id, location="us"),
        None,
        None,
        "DATA_READ",
    )


def _obj_list(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    b = _pick(c, p.buckets)
    return (
        f"projects/_/buckets/{b}",
        _res("gcs_bucket", bucket_name=b, project_id=p.id, location="us"),
        None,
        None,
        "DATA_READ",
    )


def _obj_create(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    b = _pick(c, p.buckets)
    return (
        f"projects/_/buckets/{b}/objects/uploads/{c.hex(16)}.json",
        _res("gcs_bucket", bucket_name=b, project_id=p.id, location="us"),
        None,
        None,
        "DATA_WRITE",
    )


def _bucket_iam(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    b = _pick(c, p.buckets)
    return (
        f"projects/_/buckets/{b}",
        _res("gcs_bucket", bucket_name=b, project_id=p.id, location="us"),
        {
            "@type": "type.googleapis.com/google.iam.v1.SetIamPolicyRequest",
            "resource": f"projects/_/buckets/{b}",
        },
        None,
        "ADMIN_WRITE",
    )


def _instances_list(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    return (
        f"projects/{p.id}/zones/{zone}/instances",
        _res("gce_instance", instance_id="", project_id=p.id, zone=zone),
        {"@type": "type.googleapis.com/compute.instances.list"},
        None,
        "ADMIN_READ",
    )


def _instance_get(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    name, iid, z = _pick(c, p.instances)
    return (
        f"projects/{p.id}/zones/{z}/instances/{name}",
        _res("gce_instance", instance_id=iid, project_id=p.id, zone=z),
        {"@type": "type.googleapis.com/compute.instances.get"},
        None,
        "ADMIN_READ",
    )


def _instance_insert(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    name = f"worker-{c.hex(4)}"
    iid = c.digits(19)
    req = {
        "@type": "type.googleapis.com/compute.instances.insert",
        "name": name,
        "machineType": f"zones/{zone}/machineTypes/e2-standard-4",
        "canIpForward": False,
        "serviceAccounts": [
            {"email": p.sas[0], "scopes": ["https://www.googleapis.com/auth/cloud-platform"]}
        ],
    }
    resp = {
        "@type": "type.googleapis.com/operation",
        "id": c.digits(19),
        "name": f"operation-{c.epoch_ms(0)}-{c.hex(13)}",
        "operationType": "insert",
        "status": "RUNNING",
        "targetId": iid,
        "zone": zone,
        "targetLink": f"https://www.googleapis.com/compute/v1/projects/{p.id}/zones/{zone}/instances/{name}",
    }
    return (
        f"projects/{p.id}/zones/{zone}/instances/{name}",
        _res("gce_instance", instance_id=iid, project_id=p.id, zone=zone),
        req,
        resp,
        "ADMIN_WRITE",
    )


def _set_metadata(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    name, iid, z = _pick(c, p.instances)
    return (
        f"projects/{p.id}/zones/{z}/instances/{name}",
        _res("gce_instance", instance_id=iid, project_id=p.id, zone=z),
        {"@type": "type.googleapis.com/compute.instances.setMetadata", "Metadata Keys Added": ["ssh-keys"]},
        None,
        "ADMIN_WRITE",
    )


def _firewall(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    name = _pick(c, ("allow-ssh", "allow-https", "allow-internal", f"temp-debug-{c.hex(4)}"))
    req = {
        "@type": "type.googleapis.com/compute.firewalls.insert",
        "name": name,
        "network": f"projects/{p.id}/global/networks/default",
        "direction": "INGRESS",
        "sourceRanges": [_pick(c, ("0.0.0.0/0", "10.0.0.0/8", "35.235.240.0/20"))],
        "alloweds": [{"IPProtocol": "tcp", "ports": [_pick(c, ("22", "443", "3389"))]}],
    }
    return (
        f"projects/{p.id}/global/firewalls/{name}",
        _res("gce_firewall_rule", firewall_rule_id=c.digits(19), project_id=p.id),
        req,
        None,
        "ADMIN_WRITE",
    )


def _subnet_patch(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    region = zone.rsplit("-", 1)[0]
    req = {"@type": "type.googleapis.com/compute.subnetworks.patch", "logConfig": {"enable": False}}
    return (
        f"projects/{p.id}/regions/{region}/subnetworks/default",
        _res(
            "gce_subnetwork",
            subnetwork_id=c.digits(19),
            subnetwork_name="default",
            project_id=p.id,
            location=region,
        ),
        req,
        None,
        "ADMIN_WRITE",
    )


def _project_iam(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    return (
        f"projects/{p.id}",
        _res("project", project_id=p.id),
        {"@type": "type.googleapis.com/google.iam.v1.GetIamPolicyRequest", "resource": p.id},
        None,
        "ADMIN_READ",
    )


def _set_project_iam(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    role = _pick(
        c,
        (
            "roles/owner",
            "roles/editor",
            "roles/viewer",
            "roles/iam.serviceAccountTokenCreator",
            "roles/storage.admin",
        ),
    )
    member = _pick(
        c,
        (
            f"user:contractor-{c.hex(3)}@gmail.com",
            f"serviceAccount:{p.sas[0]}",
            f"group:platform@{p.id}.example.com",
        ),
    )
    req = {
        "@type": "type.googleapis.com/google.iam.v1.SetIamPolicyRequest",
        "resource": p.id,
        "policy": {"bindings": [{"role": role, "members": [member]}], "etag": "BwYo" + c.hex(6)},
        "updateMask": "bindings,etag",
    }
    resp = {
        "@type": "type.googleapis.com/google.iam.v1.Policy",
        "etag": "BwYp" + c.hex(6),
        "bindings": [{"role": role, "members": [member]}],
    }
    return f"projects/{p.id}", _res("project", project_id=p.id), req, resp, "ADMIN_WRITE"


def _get_project(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    return (
        f"projects/{p.id}",
        _res("project", project_id=p.id),
        {
            "@type": "type.googleapis.com/google.cloud.resourcemanager.v3.GetProjectRequest",
            "name": f"projects/{p.number}",
        },
        None,
        "ADMIN_READ",
    )


def _sa_key_create(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    sa = _pick(c, p.sas)
    uid = c.digits(21)
    return (
        f"projects/-/serviceAccounts/{uid}",
        _res("service_account", email_id=sa, project_id=p.id, unique_id=uid),
        {
            "@type": "type.googleapis.com/google.iam.admin.v1.CreateServiceAccountKeyRequest",
            "name": f"projects/-/serviceAccounts/{sa}",
            "private_key_type": 2,
        },
        {
            "@type": "type.googleapis.com/google.iam.admin.v1.ServiceAccountKey",
            "name": f"projects/{p.id}/serviceAccounts/{sa}/keys/{c.hex(40)}",
            "key_algorithm": 2,
            "valid_after_time": {"seconds": c.epoch_s},
            "key_origin": 2,
            "key_type": 1,
        },
        "ADMIN_WRITE",
    )


def _sa_create(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    acct = f"tmp-{c.hex(5)}"
    return (
        f"projects/{p.id}",
        _res(
            "service_account",
            email_id=f"{acct}@{p.id}.iam.gserviceaccount.com",
            project_id=p.id,
            unique_id=c.digits(21),
        ),
        {
            "@type": "type.googleapis.com/google.iam.admin.v1.CreateServiceAccountRequest",
            "name": f"projects/{p.id}",
            "account_id": acct,
            "service_account": {"display_name": acct},
        },
        None,
        "ADMIN_WRITE",
    )


def _generate_token(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    sa = _pick(c, p.sas)
    uid = c.digits(21)
    return (
        f"projects/-/serviceAccounts/{uid}",
        _res("service_account", email_id=sa, project_id=p.id, unique_id=uid),
        {
            "@type": "type.googleapis.com/google.iam.credentials.v1.GenerateAccessTokenRequest",
            "name": f"projects/-/serviceAccounts/{sa}",
        },
        None,
        "DATA_READ",
    )


def _secret_access(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    s = _pick(c, p.secrets)
    return (
        f"projects/{p.number}/secrets/{s}/versions/latest",
        _res(
            "audited_resource",
            method="google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion",
            project_id=p.id,
            service="secretmanager.googleapis.com",
        ),
        {
            "@type": "type.googleapis.com/google.cloud.secretmanager.v1.AccessSecretVersionRequest",
            "name": f"projects/{p.number}/secrets/{s}/versions/latest",
        },
        None,
        "DATA_READ",
    )


def _bq_job(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    job = f"projects/{p.id}/jobs/bquxjob_{c.hex(8)}_{c.hex(12)}"
    return (job, _res("bigquery_project", project_id=p.id, location="US"), None, None, "DATA_READ")


def _bq_get_table(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    ds = _pick(c, p.datasets)
    return (
        f"projects/{p.id}/datasets/{ds}/tables/events",
        _res("bigquery_dataset", dataset_id=ds, project_id=p.id),
        None,
        None,
        "ADMIN_READ",
    )


def _gke_get(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    cl = _pick(c, p.clusters)
    return (
        f"projects/{p.id}/locations/us-central1/clusters/{cl}",
        _res("gke_cluster", cluster_name=cl, location="us-central1", project_id=p.id),
        {
            "@type": "type.googleapis.com/google.container.v1.GetClusterRequest",
            "name": f"projects/{p.id}/locations/us-central1/clusters/{cl}",
        },
        None,
        "ADMIN_READ",
    )


def _list_logs(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    return (
        f"projects/{p.id}",
        _res(
            "audited_resource",
            method="google.logging.v2.LoggingServiceV2.ListLogEntries",
            project_id=p.id,
            service="logging.googleapis.com",
        ),
        {
            "@type": "type.googleapis.com/google.logging.v2.ListLogEntriesRequest",
            "resourceNames": [f"projects/{p.id}"],
            "filter": 'logName:"cloudaudit.googleapis.com"',
            "pageSize": 1000,
        },
        None,
        "DATA_READ",
    )


def _delete_sink(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    return (
        f"projects/{p.id}/sinks/audit-to-siem",
        _res(
            "logging_sink",
            destination=f"pubsub.googleapis.com/projects/{p.id}/topics/audit",
            name="audit-to-siem",
            project_id=p.id,
        ),
        {
            "@type": "type.googleapis.com/google.logging.v2.DeleteSinkRequest",
            "sinkName": f"projects/{p.id}/sinks/audit-to-siem",
        },
        None,
        "ADMIN_WRITE",
    )


def _kms_destroy(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    name = f"projects/{p.id}/locations/global/keyRings/app/cryptoKeys/data/cryptoKeyVersions/{c.rng.randint(1, 9)}"
    return (
        name,
        _res(
            "cloudkms_cryptokeyversion",
            crypto_key_id="data",
            key_ring_id="app",
            location="global",
            project_id=p.id,
            crypto_key_version_id=name.rsplit("/", 1)[-1],
        ),
        {"@type": "type.googleapis.com/google.cloud.kms.v1.DestroyCryptoKeyVersionRequest", "name": name},
        None,
        "ADMIN_WRITE",
    )


def _preempted(c: GenContext, p: Project, zone: str) -> tuple[str, dict[str, Any], Any, Any, str]:
    name, iid, z = _pick(c, p.instances)
    return (
        f"projects/{p.id}/zones/{z}/instances/{name}",
        _res("gce_instance", instance_id=iid, project_id=p.id, zone=z),
        {"@type": "type.googleapis.com/compute.instances.preempted"},
        None,
        "",
    )


def _o(service: str, method: str, log: str, permission: str, fn: OpFn, **kw: Any) -> Op:
    return Op(f"{service}.googleapis.com", method, log, permission, fn, **kw)


_DA, _AC = "data_access", "activity"
_HUMAN_OPS: list[tuple[Op, float]] = [
    (_o("compute", "v1.compute.instances.list", _DA, "compute.instances.list", _instances_list), 40),
    (_o("compute", "v1.compute.instances.get", _DA, "compute.instances.get", _instance_get), 20),
    (
        _o(
            "cloudresourcemanager", "GetIamPolicy", _DA, "resourcemanager.projects.getIamPolicy", _project_iam
        ),
        25,
    ),
    (
        _o(
            "cloudresourcemanager",
            "google.cloudresourcemanager.v3.Projects.GetProject",
            _DA,
            "resourcemanager.projects.get",
            _get_project,
        ),
        20,
    ),
    (_o("storage", "storage.objects.list", _DA, "storage.objects.list", _obj_list), 25),
    (_o("storage", "storage.objects.get", _DA, "storage.objects.get", _obj_get), 20),
    (
        _o("bigquery", "google.cloud.bigquery.v2.JobService.InsertJob", _DA, "bigquery.jobs.create", _bq_job),
        20,
    ),
    (
        _o(
            "bigquery",
            "google.cloud.bigquery.v2.TableService.GetTable",
            _DA,
            "bigquery.tables.get",
            _bq_get_table,
        ),
        10,
    ),
    (
        _o(
            "container",
            "google.container.v1.ClusterManager.GetCluster",
            _DA,
            "container.clusters.get",
            _gke_get,
        ),
        10,
    ),
    (
        _o(
            "logging",
            "google.logging.v2.LoggingServiceV2.ListLogEntries",
            _DA,
            "logging.logEntries.list",
            _list_logs,
        ),
        10,
    ),
    (
        _o(
            "secretmanager",
            "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion",
            _DA,
            "secretmanager.versions.access",
            _secret_access,
        ),
        4,
    ),
    (
        _o(
            "compute",
            "v1.compute.instances.insert",
            _AC,
            "compute.instances.create",
            _instance_insert,
            lro=True,
        ),
        3,
    ),
    (
        _o(
            "compute",
            "v1.compute.instances.setMetadata",
            _AC,
            "compute.instances.setMetadata",
            _set_metadata,
            lro=True,
        ),
        2,
    ),
    (
        _o(
            "compute",
            "v1.compute.firewalls.insert",
            _AC,
            "compute.firewalls.create",
            _firewall,
            lro=True,
            security=True,
        ),
        1,
    ),
    (
        _o(
            "compute",
            "v1.compute.subnetworks.patch",
            _AC,
            "compute.subnetworks.update",
            _subnet_patch,
            lro=True,
            security=True,
        ),
        0.3,
    ),
    (
        _o(
            "storage",
            "storage.setIamPermissions",
            _AC,
            "storage.buckets.setIamPolicy",
            _bucket_iam,
            security=True,
        ),
        0.6,
    ),
    (
        _o(
            "cloudresourcemanager",
            "SetIamPolicy",
            _AC,
            "resourcemanager.projects.setIamPolicy",
            _set_project_iam,
            security=True,
        ),
        0.8,
    ),
    (
        _o(
            "iam",
            "google.iam.admin.v1.CreateServiceAccountKey",
            _AC,
            "iam.serviceAccountKeys.create",
            _sa_key_create,
            security=True,
        ),
        0.5,
    ),
    (
        _o("iam", "google.iam.admin.v1.CreateServiceAccount", _AC, "iam.serviceAccounts.create", _sa_create),
        0.5,
    ),
    (
        _o(
            "logging",
            "google.logging.v2.ConfigServiceV2.DeleteSink",
            _AC,
            "logging.sinks.delete",
            _delete_sink,
            security=True,
        ),
        0.1,
    ),
    (
        _o(
            "cloudkms",
            "DestroyCryptoKeyVersion",
            _AC,
            "cloudkms.cryptoKeyVersions.destroy",
            _kms_destroy,
            security=True,
        ),
        0.1,
    ),
]
_WORKLOAD_OPS: list[tuple[Op, float]] = [
    (_o("storage", "storage.objects.get", _DA, "storage.objects.get", _obj_get), 60),
    (_o("storage", "storage.objects.create", _DA, "storage.objects.create", _obj_create), 25),
    (_o("storage", "storage.objects.list", _DA, "storage.objects.list", _obj_list), 15),
    (
        _o("bigquery", "google.cloud.bigquery.v2.JobService.InsertJob", _DA, "bigquery.jobs.create", _bq_job),
        20,
    ),
    (
        _o(
            "secretmanager",
            "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion",
            _DA,
            "secretmanager.versions.access",
            _secret_access,
        ),
        15,
    ),
    (
        _o(
            "iamcredentials",
            "GenerateAccessToken",
            _DA,
            "iam.serviceAccounts.getAccessToken",
            _generate_token,
        ),
        15,
    ),
    (_o("compute", "v1.compute.instances.list", _DA, "compute.instances.list", _instances_list), 8),
    (
        _o(
            "compute",
            "v1.compute.instances.insert",
            _AC,
            "compute.instances.create",
            _instance_insert,
            lro=True,
        ),
        1.5,
    ),
    (
        _o(
            "compute",
            "v1.compute.firewalls.insert",
            _AC,
            "compute.firewalls.create",
            _firewall,
            lro=True,
            security=True,
        ),
        0.3,
    ),
    (
        _o(
            "cloudresourcemanager",
            "SetIamPolicy",
            _AC,
            "resourcemanager.projects.setIamPolicy",
            _set_project_iam,
            security=True,
        ),
        0.3,
    ),
    (
        _o(
            "iam",
            "google.iam.admin.v1.CreateServiceAccountKey",
            _AC,
            "iam.serviceAccountKeys.create",
            _sa_key_create,
            security=True,
        ),
        0.1,
    ),
]
_AGENT_OPS: list[tuple[Op, float]] = [
    (_o("compute", "v1.compute.instances.get", _DA, "compute.instances.get", _instance_get), 5),
    (
        _o(
            "compute", "v1.compute.instances.setMetadata", _AC, "compute.instances.setMetadata", _set_metadata
        ),
        1,
    ),
    (
        _o(
            "iamcredentials",
            "GenerateAccessToken",
            _DA,
            "iam.serviceAccounts.getAccessToken",
            _generate_token,
        ),
        4,
    ),
]
_SYSTEM_OP = _o("compute", "compute.instances.preempted", "system_event", "", _preempted)

_SEVERITY = {"activity": "NOTICE", "data_access": "INFO", "system_event": "INFO", "policy": "ERROR"}
_LOG_ID = {
    "activity": "cloudaudit.googleapis.com%2Factivity",
    "data_access": "cloudaudit.googleapis.com%2Fdata_access",
    "system_event": "cloudaudit.googleapis.com%2Fsystem_event",
    "policy": "cloudaudit.googleapis.com%2Fpolicy",
}
_DENIED = {"code": 7, "message": "PERMISSION_DENIED"}
_NOT_FOUND = {"code": 5, "message": "NOT_FOUND"}


# --- records ------------------------------------------------------------------------------------------


def entry(c: GenContext, pop: Population, t: int) -> dict[str, Any]:
    """One Cloud Audit Logs LogEntry at ``t`` (ns into the day)."""
    rnd = c.rng.random
    u = rnd()
    if u < 0.006:
        return _system_event(c, pop, t)
    if u < 0.009:
        return _policy_denial(c, pop, t)
    caller = pop.callers[int(rnd() * len(pop.callers))]
    op = caller.ops[int(rnd() * len(caller.ops))]
    proj = caller.projects[int(rnd() * len(caller.projects))]
    zone = pop.zones[int(rnd() * len(pop.zones))]
    rname, resource, req, resp, ptype = op.fn(c, proj, zone)
    ip = caller.ips[int(rnd() * len(caller.ips))]
    agent = caller.agents[int(rnd() * len(caller.agents))]
    if agent == "gcloud":
        agent = _GCLOUD_UA.format(cmd=_pick(c, _GCLOUD_CMDS), inv=c.hex(32))

    failed = rnd() < (ERROR_RATE * 3 if op.security else ERROR_RATE)
    status: dict[str, Any] = {}
    if failed:
        status = _DENIED if rnd() < 0.8 else _NOT_FOUND
    meta: dict[str, Any] = {"callerIp": ip}
    if agent:
        meta["callerSuppliedUserAgent"] = agent
    meta["requestAttributes"] = {"time": c.iso_ns(max(t - 2_000_000, 0)), "auth": {}}
    meta["destinationAttributes"] = {}
    payload: dict[str, Any] = {
        "@type": AUDIT_LOG,
        "status": status,
        "authenticationInfo": caller.auth,
        "requestMetadata": meta,
        "serviceName": op.service,
        "methodName": op.method,
        "authorizationInfo": [
            {
                "resource": rname,
                "permission": op.permission,
                "granted": not (failed and status is _DENIED),
                "resourceAttributes": {"service": op.service, "name": rname},
                "permissionType": ptype,
            }
        ],
        "resourceName": rname,
    }
    if req is not None:
        payload["request"] = req
    if resp is not None and not failed:
        payload["response"] = resp
    if op.service == "bigquery.googleapis.com" and op.method.endswith("InsertJob") and not failed:
        payload["metadata"] = {
            "@type": "type.googleapis.com/google.cloud.audit.BigQueryAuditMetadata",
            "jobInsertion": {
                "job": {
                    "jobName": rname,
                    "jobConfig": {
                        "type": "QUERY",
                        "queryConfig": {
                            "query": f"SELECT user_id, COUNT(*) FROM `{proj.id}.analytics.events` WHERE day = '{c.day_text}' GROUP BY 1",
                            "statementType": "SELECT",
                            "priority": "QUERY_INTERACTIVE",
                        },
                    },
                    "jobStatus": {"jobState": "DONE"},
                },
                "reason": "JOB_INSERT_REQUEST",
            },
        }
    if op.method == "storage.setIamPermissions" and not failed:
        payload["serviceData"] = {
            "@type": "type.googleapis.com/google.iam.v1.logging.AuditData",
            "policyDelta": {
                "bindingDeltas": [
                    {
                        "action": "ADD",
                        "role": "roles/storage.objectViewer",
                        "member": _pick(c, ("allUsers", "allAuthenticatedUsers")),
                    }
                ]
            },
        }
    if "zone" in resource["labels"]:
        payload["resourceLocation"] = {"currentLocations": [resource["labels"]["zone"]]}
    out: dict[str, Any] = {
        "protoPayload": payload,
        "insertId": _insert_id(c),
        "resource": resource,
        "timestamp": c.iso_ns(t),
        "severity": "ERROR" if failed else _SEVERITY[op.log],
        "logName": f"projects/{proj.id}/logs/{_LOG_ID[op.log]}",
    }
    if op.lro:
        out["operation"] = {
            "id": f"operation-{c.epoch_ms(t)}-{c.hex(13)}-{c.hex(8)}-{c.hex(8)}",
            "producer": op.service,
            "first": True,
            "last": failed,
        }
    out["receiveTimestamp"] = c.iso_ns(t + 300_000_000 + int(rnd() * 900_000_000))
    return out


def _insert_id(c: GenContext) -> str:
    return c.token(12) if c.rng.random() < 0.7 else f"-{c.token(6)}{c.hex(6)}"


def _system_event(c: GenContext, pop: Population, t: int) -> dict[str, Any]:
    proj = _pick(c, pop.projects)
    rname, resource, req, _resp, _ = _preempted(c, proj, "")
    return {
        "protoPayload": {
            "@type": AUDIT_LOG,
            "status": {"message": "Instance was preempted."},
            "authenticationInfo": {"principalEmail": "system@google.com"},
            "serviceName": "compute.googleapis.com",
            "methodName": "compute.instances.preempted",
            "resourceName": rname,
            "request": req,
        },
        "insertId": _insert_id(c),
        "resource": resource,
        "timestamp": c.iso_ns(t),
        "severity": "INFO",
        "logName": f"projects/{proj.id}/logs/{_LOG_ID['system_event']}",
        "operation": {
            "id": f"systemevent-{c.epoch_ms(t)}-{c.hex(13)}-{c.hex(8)}-{c.hex(8)}",
            "producer": "compute.instances.preempted",
            "first": True,
            "last": True,
        },
        "receiveTimestamp": c.iso_ns(t + 700_000_000),
    }


def _policy_denial(c: GenContext, pop: Population, t: int) -> dict[str, Any]:
    """A VPC Service Controls denial (the policy log): a caller outside the perimeter reading a bucket."""
    proj = _pick(c, pop.projects)
    rname, *_ = _obj_get(c, proj, "")
    uid = c.token(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    who = _pick(c, ("alice.nguyen@example.com", f"etl-pipeline@{proj.id}.iam.gserviceaccount.com"))
    return {
        "protoPayload": {
            "@type": AUDIT_LOG,
            "status": {
                "code": 7,
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.PreconditionFailure",
                        "violations": [{"type": "VPC_SERVICE_CONTROLS", "description": uid}],
                    }
                ],
                "message": f"Request is prohibited by organization's policy. vpcServiceControlsUniqueIdentifier: {uid}",
            },
            "authenticationInfo": {"principalEmail": who},
            "requestMetadata": {
                "callerIp": f"203.0.113.{c.rng.randrange(2, 254)}",
                "callerSuppliedUserAgent": "gsutil/5.33 (linux) google-cloud-sdk/503.0.0,gzip(gfe)",
                "requestAttributes": {},
                "destinationAttributes": {},
            },
            "serviceName": "storage.googleapis.com",
            "methodName": "google.storage.objects.get",
            "resourceName": f"projects/{proj.number}",
            "metadata": {
                "@type": "type.googleapis.com/google.cloud.audit.VpcServiceControlAuditMetadata",
                "violationReason": "NO_MATCHING_ACCESS_LEVEL",
                "securityPolicyInfo": {
                    "servicePerimeterName": f"accessPolicies/{pop.org[:9]}/servicePerimeters/prod",
                    "organizationId": pop.org,
                },
                "resourceNames": [rname],
                "deviceState": "Unknown",
                "vpcServiceControlsUniqueId": uid,
            },
        },
        "insertId": _insert_id(c),
        "resource": {
            "type": "audited_resource",
            "labels": {
                "method": "google.storage.objects.get",
                "project_id": proj.id,
                "service": "storage.googleapis.com",
            },
        },
        "timestamp": c.iso_ns(t),
        "severity": "ERROR",
        "logName": f"projects/{proj.id}/logs/{_LOG_ID['policy']}",
        "receiveTimestamp": c.iso_ns(t + 500_000_000),
    }


def _log_of(e: dict[str, Any]) -> str:
    return e["logName"].rsplit("%2F", 1)[-1]


# --- shapes -------------------------------------------------------------------------------------------


def write_shape(shape: str, n: int, c: GenContext, pop: Population) -> None:
    if shape == "gcs_sink":
        _write_gcs(n, c, pop, "gcp/acme-audit-logs")
    elif shape == "gcloud_json":
        _write_gcloud(n, c, pop)
    elif shape == "pubsub_push":
        _write_pubsub(n, c, pop)
    elif shape == "bigquery_sink":
        _write_bigquery(n, c, pop)
    elif shape == "bench":
        _write_bench(n, c, pop)
    else:
        raise ValueError(f"unknown GCP sample shape {shape!r}")


def _entries(c: GenContext, pop: Population, n: int) -> Iterator[tuple[int, dict[str, Any], bool]]:
    """``n`` (time, entry, redelivered?) slots in time order, produced lazily; a few slots repeat a
    recent entry (redelivery)."""
    red = c.redelivery
    for t in c.times(n):
        again = red.repeat()
        if again is not None:
            yield t, again, True
            continue
        e = entry(c, pop, t)
        yield t, e, False
        if "operation" not in e:  # how a long-running operation's entries count is the connector's call
            red.remember(e)


SHARD_LINES = 50_000
HOUR_NS = 3600 * 10**9


def _gcs_object(base: str) -> Callable[[int, int], str]:
    return lambda h, s: f"{base}/{h:02d}:00:00_{h:02d}:59:59_S{s}.json"


def _bq_shard(table: str) -> Callable[[int, int], str]:
    return lambda _slot, s: f"gcp/bigquery-export/{table}/{table}-{s:012d}.json.gz"


def _write_gcs(n: int, c: GenContext, pop: Population, prefix: str) -> None:
    """A logging sink to Cloud Storage: hourly JSON-lines objects per log (``_S0``, ``_S1``... when an
    hour is large), each written as soon as its hour is over."""
    ymd = c.day.strftime("%Y/%m/%d")
    logs: dict[str, RollingFiles] = {}
    for t, e, again in _entries(c, pop, n):
        log = _log_of(e)
        out = logs.get(log)
        if out is None:
            base = f"{prefix}/cloudaudit.googleapis.com/{log}/{ymd}"
            out = logs[log] = RollingFiles(c, _gcs_object(base), max_lines=SHARD_LINES)
        out.add(t // HOUR_NS, orjson.dumps(e), duplicates=int(again))
    for log in sorted(logs):
        logs[log].close()


GCLOUD_LIMIT = 1_000


def _write_gcloud(n: int, c: GenContext, pop: Population) -> None:
    """``gcloud logging read ... --format=json``: newest first, a pretty-printed array, keys sorted."""
    slots = list(_entries(c, pop, n))
    for i, start in enumerate(range(0, len(slots), GCLOUD_LIMIT)):
        part = slots[start : start + GCLOUD_LIMIT][::-1]
        body = (
            orjson.dumps([e for _, e, _ in part], option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
        )
        c.write(
            f"gcp/gcloud/logging-read-{c.day_compact}-{i:03d}.json",
            body,
            len(part),
            duplicates=sum(1 for *_, again in part if again),
        )


def _write_pubsub(n: int, c: GenContext, pop: Population) -> None:
    """Pub/Sub push requests of a logging sink's topic, one request body per line, hourly files."""
    red = c.redelivery
    sub = f"projects/{pop.projects[3].id}/subscriptions/cloudaudit-push"
    out = RollingFiles(c, lambda h, _part: f"gcp/pubsub-push/cloudaudit-push-{c.day_compact}T{h:02d}.jsonl")
    for t in c.times(n):
        again = red.repeat()
        if again is not None:  # the same message id delivered again, as Pub/Sub does
            out.add(t // HOUR_NS, again, duplicates=1)
            continue
        e = entry(c, pop, t)
        mid = c.digits(16)
        published = c.iso_ms(t + 1_200_000_000)
        body = {
            "message": {
                "attributes": {"logging.googleapis.com/timestamp": e["timestamp"]},
                "data": base64.b64encode(orjson.dumps(e)).decode(),
                "messageId": mid,
                "message_id": mid,
                "publishTime": published,
                "publish_time": published,
            },
            "subscription": sub,
        }
        line = orjson.dumps(body)
        out.add(t // HOUR_NS, line)
        if "operation" not in e:
            red.remember(line)
    out.close()


_BQ_NULLS = {
    "textPayload": None,
    "httpRequest": None,
    "trace": None,
    "spanId": None,
    "traceSampled": None,
    "sourceLocation": None,
    "split": None,
}


def bigquery_row(e: dict[str, Any]) -> dict[str, Any]:
    """A LogEntry as a row of a BigQuery sink table (``cloudaudit_googleapis_com_*``): the payload
    becomes ``protopayload_auditlog`` with request, response and metadata as JSON strings, and
    timestamps as BigQuery prints them ("2025-01-14 13:45:12.123456 UTC")."""
    p = e["protoPayload"]
    a = p.get("authenticationInfo", {})
    m = p.get("requestMetadata", {})
    st = p.get("status") or {}
    row_p = {
        "serviceName": p.get("serviceName"),
        "methodName": p.get("methodName"),
        "resourceName": p.get("resourceName"),
        "resourceLocation": p.get("resourceLocation"),
        "numResponseItems": None,
        "status": {"code": st.get("code"), "message": st.get("message")} if st else None,
        "authenticationInfo": {
            "principalEmail": a.get("principalEmail"),
            "authoritySelector": None,
            "serviceAccountKeyName": a.get("serviceAccountKeyName"),
            "serviceAccountDelegationInfo": [
                {
                    "firstPartyPrincipal": d.get("firstPartyPrincipal"),
                    "thirdPartyPrincipal": None,
                    "principalSubject": d.get("principalSubject"),
                }
                for d in a.get("serviceAccountDelegationInfo", [])
            ],
            "principalSubject": a.get("principalSubject"),
        },
        "authorizationInfo": p.get("authorizationInfo", []),
        "requestMetadata": {
            "callerIp": m.get("callerIp"),
            "callerSuppliedUserAgent": m.get("callerSuppliedUserAgent"),
            "callerNetwork": None,
            "requestAttributes": m.get("requestAttributes"),
            "destinationAttributes": None,
        }
        if m
        else None,
        "requestJson": orjson.dumps(p["request"]).decode() if "request" in p else None,
        "responseJson": orjson.dumps(p["response"]).decode() if "response" in p else None,
        "metadataJson": orjson.dumps(p["metadata"]).decode() if "metadata" in p else None,
        "servicedata_v1_iam": None,
        "policyViolationInfo": None,
    }
    return {
        "logName": e["logName"],
        "resource": e["resource"],
        "protopayload_auditlog": row_p,
        "timestamp": _bq_time(e["timestamp"]),
        "receiveTimestamp": _bq_time(e["receiveTimestamp"]),
        "severity": e["severity"],
        "insertId": e["insertId"],
        "operation": e.get("operation"),
        **_BQ_NULLS,
    }


def _bq_time(iso: str) -> str:
    """2025-01-14T13:45:12.123456789Z -> 2025-01-14 13:45:12.123456 UTC (TIMESTAMP keeps microseconds)."""
    return f"{iso[:10]} {iso[11:26]} UTC"


def _write_bigquery(n: int, c: GenContext, pop: Population) -> None:
    """``bq extract --destination_format NEWLINE_DELIMITED_JSON --compression GZIP`` of the sink's
    date-sharded tables, one table per log, ``-000000000000.json.gz`` shards."""
    tables: dict[str, RollingFiles] = {}
    for _t, e, again in _entries(c, pop, n):
        table = f"cloudaudit_googleapis_com_{_log_of(e)}_{c.day_compact}"
        out = tables.get(table)
        if out is None:
            out = tables[table] = RollingFiles(c, _bq_shard(table), gz=True, max_lines=SHARD_LINES)
        out.add(0, orjson.dumps(bigquery_row(e)), duplicates=int(again))
    for table in sorted(tables):
        tables[table].close()


BENCH_FILE_LINES = 100_000


def _write_bench(n: int, c: GenContext, pop: Population) -> None:
    """A few large JSON-lines files of LogEntry records."""
    out = RollingFiles(c, lambda _slot, i: f"gcp/bench-logentries-{i:04d}.json", max_lines=BENCH_FILE_LINES)
    for _t, e, again in _entries(c, pop, n):
        out.add(0, orjson.dumps(e), duplicates=int(again))
    out.close()
