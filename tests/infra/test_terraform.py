"""terraform/: formatting, wiring, documentation and checkov, checked offline; and the example root's output
values, evaluated from the HCL for test variables, driving ``cloudaudit run`` against the local stand-ins.

Providers cannot be downloaded here, so ``terraform init/validate/plan`` cannot run. What is checked instead:
``terraform fmt``; with python-hcl2, that every variable has a type and a description (and strings and numbers
a validation), that module calls pass only variables the module declares and every required one, and that the
example root uses every module output; that the READMEs' tables match the variables; checkov with no failed
check and a reason beside every skip. The end-to-end tests compute the ``--source`` values the example root
outputs, with a small evaluator of the few HCL forms those outputs use (template strings and references), and
create the stand-in bucket, queue, topic, subscription, hub and containers under the names the modules'
resources get: the runs reading them prove that the names the modules output are the names the pipeline reads.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import ROOT

# The Event Hubs test stand-ins' fixtures (a TLS CA, the managed-identity endpoint), shared with the source's tests.
from tests.connectors.azure_sources.conftest import azure_identity, tls  # noqa: F401

hcl2 = pytest.importorskip("hcl2", reason="python-hcl2 is not installed (pip install -e '.[test]')")

TF = ROOT / "terraform"
MODULES = TF / "modules"
EXAMPLE = TF / "examples" / "all-clouds"
CHECKOV = Path(os.environ.get("CLOUDAUDIT_CHECKOV", ROOT / ".tools" / "checkov-venv" / "bin" / "checkov"))
_spec = importlib.util.spec_from_file_location("cloudaudit_terraform_readme", TF / "readme.py")
assert _spec and _spec.loader
readme = importlib.util.module_from_spec(_spec)  # terraform/readme.py, the README table generator
_spec.loader.exec_module(readme)


# --- reading HCL ------------------------------------------------------------------------------------


def load_dir(folder: Path) -> dict[str, Any]:
    """Every top-level block of the .tf files of a folder: {kind: {name: body}}; resources and data
    sources as ``TYPE.NAME``."""
    out: dict[str, dict[str, Any]] = {"variable": {}, "output": {}, "locals": {}, "module": {}, "resource": {},
                                      "data": {}}
    for path in sorted(folder.glob("*.tf")):
        with path.open() as f:
            doc = hcl2.load(f)
        for kind in ("variable", "output", "module"):
            for item in doc.get(kind, []):
                for label, body in item.items():
                    out[kind][label.strip('"')] = body
        for item in doc.get("locals", []):
            out["locals"].update({k: v for k, v in item.items() if k != "__is_block__"})
        for kind in ("resource", "data"):
            for item in doc.get(kind, []):
                for rtype, named in item.items():
                    for name, body in named.items():
                        out[kind][f"{rtype.strip(chr(34))}.{name.strip(chr(34))}"] = body
    return out


def all_tf_dirs() -> list[Path]:
    return sorted({p.parent for p in TF.rglob("*.tf") if ".terraform" not in p.parts})


def unquote(value: Any) -> Any:
    return value[1:-1] if isinstance(value, str) and value.startswith('"') and value.endswith('"') else value


# --- a small evaluator for the outputs' expressions --------------------------------------------------

_REF = re.compile(r"^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)+$")


class Unsupported(Exception):
    """An expression form this evaluator does not know: the output must stay simpler, or this grow."""


class Scope:
    """One module instance: its variables (values or thunks from the caller), locals, resources and outputs.

    Knows template strings ("a-${var.x}"), references (var., local., module.M.O, TYPE.NAME.ARG, data.T.N.A)
    and lists of those. A resource attribute is its argument as written in the block; an attribute the
    provider computes (data sources) comes from ``computed``."""

    def __init__(self, folder: Path, inputs: dict[str, Callable[[], Any]], computed: dict[str, Any]) -> None:
        self.folder = folder
        self.blocks = load_dir(folder)
        self.inputs = inputs
        self.computed = computed

    def var(self, name: str) -> Any:
        if name in self.inputs:
            return self.inputs[name]()
        body = self.blocks["variable"][name]
        if "default" not in body:
            raise KeyError(f"{self.folder.name}: variable {name} has no value and no default")
        return self.eval(body["default"])

    def module(self, name: str) -> Scope:
        call = self.blocks["module"][name]
        inputs = {k: (lambda v=v: self.eval(v)) for k, v in call.items() if k not in ("source", "__is_block__")}
        return Scope((self.folder / unquote(call["source"])).resolve(), inputs, self.computed)

    def output(self, name: str) -> Any:
        return self.eval(self.blocks["output"][name]["value"])

    def ref(self, path: str) -> Any:
        parts = path.split(".")
        head = parts[0]
        if head == "var":
            return self.var(parts[1])
        if head == "local":
            return self.eval(self.blocks["locals"][parts[1]])
        if head == "module":
            return self.module(parts[1]).output(parts[2])
        if head == "data":
            return self.computed[path]
        key = f"{parts[0]}.{parts[1]}"
        body = self.blocks["resource"].get(key)
        if body is None:
            raise KeyError(f"{self.folder.name}: no resource {key}")
        if parts[2] not in body:
            raise Unsupported(f"{path}: computed by the provider")
        return self.eval(body[parts[2]])

    def eval(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.eval(v) for v in value]
        if not isinstance(value, str):
            return value
        if value.startswith('"') and value.endswith('"'):
            return self.template(value[1:-1])
        if value.startswith("${") and value.endswith("}") and "${" not in value[2:]:
            return self.expr(value[2:-1])
        return value

    def expr(self, text: str) -> Any:
        text = text.strip()
        if _REF.match(text):
            return self.ref(text)
        if text.startswith('"') and text.endswith('"'):
            return self.template(text[1:-1])
        raise Unsupported(text)

    def template(self, body: str) -> str:
        def one(m: re.Match[str]) -> str:
            v = self.expr(m.group(1))
            if isinstance(v, bool):
                return "true" if v else "false"
            return str(v)

        return re.sub(r"\$\{([^{}]*)\}", one, body)


# --- static checks ------------------------------------------------------------------------------------


def test_fmt() -> None:
    terraform = shutil.which("terraform")
    if not terraform:
        pytest.skip("terraform is not installed (CI's image has it)")
    done = subprocess.run([terraform, "fmt", "-check", "-recursive", "-diff", str(TF)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, f"terraform fmt -recursive terraform/ would change:\n{done.stdout}"


def test_the_three_modules_and_the_example_exist() -> None:
    assert {p.name for p in MODULES.iterdir() if p.is_dir()} == {"aws", "gcp", "azure"}
    for folder in [*(MODULES / m for m in ("aws", "gcp", "azure")), EXAMPLE]:
        for name in ("versions.tf", "variables.tf", "main.tf", "outputs.tf", "README.md"):
            assert (folder / name).is_file(), folder / name


@pytest.mark.parametrize("folder", all_tf_dirs(), ids=lambda p: str(p.relative_to(TF)))
def test_variables_are_typed_described_and_validated(folder: Path) -> None:
    variables = load_dir(folder)["variable"]
    assert variables
    for name, body in variables.items():
        assert "type" in body, f"{folder.name}: variable {name} has no type"
        assert len(unquote(body.get("description", ""))) >= 10, f"{folder.name}: variable {name} undescribed"
        if body["type"] in ("string", "number"):
            assert body.get("validation"), f"{folder.name}: {body['type']} variable {name} has no validation"
    for name, body in load_dir(folder)["output"].items():
        assert len(unquote(body.get("description", ""))) >= 10, f"{folder.name}: output {name} undescribed"


def test_the_example_wires_every_module_input_and_uses_every_output() -> None:
    root = load_dir(EXAMPLE)
    source = "\n".join(p.read_text() for p in sorted(EXAMPLE.glob("*.tf")))
    assert set(root["module"]) == {"aws", "gcp", "azure"}
    for name, call in root["module"].items():
        module = load_dir((EXAMPLE / unquote(call["source"])).resolve())
        given = {k for k in call if k not in ("source", "__is_block__", "providers", "depends_on")}
        unknown = given - set(module["variable"])
        assert not unknown, f"module {name} is given variables it does not declare: {unknown}"
        required = {k for k, v in module["variable"].items() if "default" not in v}
        assert required <= given, f"module {name} misses required variables {required - given}"
        unused = [o for o in module["output"] if not re.search(rf"\bmodule\.{name}\.{o}\b", source)]
        assert not unused, f"the example root does not use module.{name} outputs {unused}"
    for var in root["variable"]:
        assert re.search(rf"\bvar\.{var}\b", source), f"the example root never uses var.{var}"


def test_module_readmes_match_their_variables() -> None:
    assert readme.stale() == [], "run: python terraform/readme.py"
    for module in readme.module_dirs():
        text = (module / "README.md").read_text()
        for name in load_dir(module)["variable"]:
            assert f"| `{name}` |" in text


def test_checkov_passes_and_every_skip_says_why() -> None:
    skips = []
    for path in TF.rglob("*.tf"):
        for line in path.read_text().splitlines():
            if "checkov:skip=" in line:
                m = re.search(r"checkov:skip=([A-Z0-9_,]+):\s*(.+)", line)
                assert m and len(m.group(2)) >= 30, f"{path.name}: a skip without its reason: {line.strip()}"
                skips.append(m.group(1))
    checkov = str(CHECKOV) if CHECKOV.exists() else shutil.which("checkov")
    if not checkov:
        pytest.skip(f"checkov not found at {CHECKOV} nor on PATH (run 'make tools', which installs it in "
                    ".tools/checkov-venv)")
    done = subprocess.run(
        [checkov, "-d", str(TF), "--framework", "terraform", "-o", "json"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    report = json.loads(done.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [(c["check_id"], c["resource"]) for r in reports for c in r["results"]["failed_checks"]]
    passed = sum(r["summary"]["passed"] for r in reports)
    skipped = sorted(c["check_id"] for r in reports for c in r["results"]["skipped_checks"])
    assert failed == [], f"checkov failed checks: {failed}"
    # Every skip comment is used (none stale), and every skipped check has its comment.
    assert passed > 100 and skipped == sorted(skips)


# --- end to end: the outputs drive the pipeline's sources -----------------------------------------------

ACCOUNT = "111122223333"
ORG = "o-abc123def4"
AZURE_SUB = "6f0c1b2a-3d4e-4f50-8a9b-0c1d2e3f4a5b"
DAY = datetime(2024, 5, 1, tzinfo=UTC)


def example(project: str, storage_account: str) -> Scope:
    """The example root with test variable values; the provider-computed values it needs are given."""
    values: dict[str, Any] = {
        "name": "ca-e2e",
        "aws_region": "us-east-1",
        "aws_trail_bucket_name": "ca-e2e-trail-logs",
        "gcp_project_id": project,
        "gcp_region": "europe-west1",
        "gcp_organization_id": "123456789012",
        "azure_subscription_id": AZURE_SUB,
        "azure_storage_account_name": storage_account,
    }
    return Scope(EXAMPLE, {k: (lambda v=v: v) for k, v in values.items()},
                 {"data.aws_region.current.name": "us-east-1"})


def trail_file(n: int, hour: int) -> dict[str, Any]:
    return {"Records": [
        {
            "eventVersion": "1.09", "eventTime": f"2024-05-01T{hour:02d}:{i:02d}:11Z",
            "eventSource": "iam.amazonaws.com", "eventName": "AttachRolePolicy", "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.20", "userAgent": "terraform/1.11",
            "userIdentity": {"type": "AssumedRole", "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/ci/run{i}",
                             "accountId": ACCOUNT, "principalId": "AROAEXAMPLE:run"},
            "eventID": f"0d9a1c7e-1111-4222-8333-{hour:06d}{i:06d}", "eventType": "AwsApiCall",
            "recipientAccountId": ACCOUNT, "requestParameters": {"roleName": f"app-{i}"},
        }
        for i in range(n)
    ]}


def trail_key(hour: int, tag: str) -> str:
    return (f"AWSLogs/{ORG}/{ACCOUNT}/CloudTrail/us-east-1/2024/05/01/"
            f"{ACCOUNT}_CloudTrail_us-east-1_20240501T{hour:02d}05Z_{tag}.json.gz")


def log_entry(i: int, when: datetime, project: str) -> dict[str, Any]:
    return {
        "insertId": f"tf-e2e-{i}", "logName": f"projects/{project}/logs/cloudaudit.googleapis.com%2Factivity",
        "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.123456789Z"), "receiveTimestamp": when.isoformat(),
        "resource": {"type": "gcs_bucket", "labels": {"project_id": project, "bucket_name": f"b{i}"}},
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog", "methodName": "storage.buckets.create",
            "serviceName": "storage.googleapis.com", "resourceName": f"projects/_/buckets/b{i}",
            "authenticationInfo": {"principalEmail": "deployer@example.com"},
            "requestMetadata": {"callerIp": "192.0.2.44"},
        },
    }


def activity_record(i: int) -> dict[str, Any]:
    return {
        "time": f"2024-05-01T15:{i:02d}:00.1234567Z",
        "resourceId": f"/SUBSCRIPTIONS/{AZURE_SUB.upper()}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/"
                      f"VAULTS/KV{i}",
        "operationName": "MICROSOFT.KEYVAULT/VAULTS/WRITE", "category": "Administrative",
        "resultType": "Success", "callerIpAddress": "203.0.113.9", "level": "Information",
        "correlationId": f"5a5a5a5a-0000-4000-8000-{i:012d}", "identity": {"claims": {"name": "ops@example.com"}},
    }


def event_ids(data: bytes, location: str) -> set[str]:
    from connectors.normalize import normalize_bytes
    from schemas.event import Event

    return {r.id for r in normalize_bytes(data, location) if isinstance(r, Event)}


@pytest.mark.emulator
def test_batch_outputs_read_s3_gcs_and_the_azure_export(aws: str, gcs: str, azurite: Any, tmp_path: Path) -> None:
    import boto3
    from azure.storage.blob import BlobServiceClient
    from google.cloud import storage

    from pipelines import cli
    from tests.emulators import GCP_PROJECT
    from tests.pipelines.test_streaming_support import siem_ids

    root = example(GCP_PROJECT, azurite.account)
    sources = root.output("batch_sources")
    assert [s.split(":", 1)[0] for s in sources] == ["s3", "gcs", "azure-blob"]
    want: set[str] = set()

    # AWS: the trail bucket under the name the module's aws_s3_bucket.trail gets.
    bucket = root.module("aws").ref("aws_s3_bucket.trail.bucket")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    for hour, tag in ((13, "aaaa"), (14, "bbbb")):
        raw = orjson.dumps(trail_file(3, hour))
        s3.put_object(Bucket=bucket, Key=trail_key(hour, tag), Body=gzip.compress(raw, mtime=0))
        want |= event_ids(raw, trail_key(hour, tag))

    # GCP: the sink's export bucket, files where a sink to Cloud Storage writes them.
    export = storage.Client().create_bucket(root.module("gcp").ref("google_storage_bucket.export.name"))
    for hour in (10, 11):
        when = DAY + timedelta(hours=hour)
        lines = b"".join(orjson.dumps(log_entry(hour * 10 + i, when + timedelta(minutes=i), GCP_PROJECT)) + b"\n"
                         for i in range(2))
        name = f"cloudaudit.googleapis.com/activity/{when:%Y/%m/%d}/{hour:02d}:00:00_{hour:02d}:59:59_S0.json"
        export.blob(name).upload_from_string(lines, content_type="application/json")
        want |= event_ids(lines, name)

    # Azure: the Activity Log export of the module's subscription in its storage account (Azurite's).
    container = BlobServiceClient.from_connection_string(azurite.connection_string).create_container(
        "insights-activity-logs")
    blob = f"resourceId=/SUBSCRIPTIONS/{AZURE_SUB.upper()}/y=2024/m=05/d=01/h=15/m=00/PT1H.json"
    lines = b"".join(orjson.dumps(activity_record(i)) + b"\n" for i in range(3))
    container.upload_blob(blob, lines, blob_type="AppendBlob")
    want |= event_ids(lines, blob)
    assert len(want) == 6 + 4 + 3

    out = tmp_path / "out"
    argv = ["run", *(a for s in sources for a in ("--source", s)), "--start", "2024-05-01T00:00:00Z",
            "--end", "2024-05-02T00:00:00Z", "--output", str(out)]
    try:
        assert cli.main(argv) == 0
    finally:
        container.delete_container()
    ids = siem_ids(out)
    assert set(ids) == want and set(ids.values()) == {1}


@pytest.mark.emulator
def test_streaming_outputs_read_the_queue_the_subscription_and_the_hub(
    aws: str, pubsub: str, azurite: Any, azure_identity: Any, tls: Any, tmp_path: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3
    from azure.storage.blob import BlobServiceClient
    from google.cloud import pubsub_v1

    from pipelines import cli
    from tests.connectors.azure_sources.amqp_server import EventHubServer
    from tests.emulators import GCP_PROJECT
    from tests.pipelines.test_streaming_support import siem_ids

    root = example(GCP_PROJECT, azurite.account)
    sources = root.output("streaming_sources")
    assert [s.split(":", 1)[0] for s in sources] == ["sqs", "pubsub", "eventhub"]
    aws_module, gcp_module, azure_module = root.module("aws"), root.module("gcp"), root.module("azure")
    want: set[str] = set()

    # AWS: bucket -> object-created notification -> the module's queue, as aws_s3_bucket_notification wires it.
    bucket = aws_module.ref("aws_s3_bucket.trail.bucket")
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName=aws_module.ref("aws_sqs_queue.notifications.name"),
                             Attributes={"VisibilityTimeout": "600"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [
        {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
         "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "AWSLogs/"}]}}}]})
    raw = orjson.dumps(trail_file(4, 9))
    s3.put_object(Bucket=bucket, Key=trail_key(9, "cccc"), Body=gzip.compress(raw, mtime=0))
    want |= event_ids(raw, trail_key(9, "cccc"))

    # GCP: the sink's topic and the pipeline's subscription under the module's names.
    topic = f"projects/{GCP_PROJECT}/topics/{gcp_module.ref('google_pubsub_topic.audit.name')}"
    sub = f"projects/{GCP_PROJECT}/subscriptions/{gcp_module.ref('google_pubsub_subscription.audit.name')}"
    publisher = pubsub_v1.PublisherClient()
    publisher.create_topic(name=topic)
    with pubsub_v1.SubscriberClient() as subscriber:
        subscriber.create_subscription(name=sub, topic=topic, ack_deadline_seconds=60)
    entries = [log_entry(500 + i, DAY + timedelta(hours=9, minutes=i), GCP_PROJECT) for i in range(3)]
    for e in entries:
        publisher.publish(topic, orjson.dumps(e)).result(timeout=30)
        want |= event_ids(orjson.dumps(e), f"pubsub://{sub}")

    # Azure: the module's hub (AMQP stand-in over TLS, reached as a private endpoint through ?endpoint=, the
    # managed identity's token on $cbs) and its checkpoint container in the module's account (Azurite's).
    hub = azure_module.ref("azurerm_eventhub.audit.name")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)  # azure_identity unset it
    BlobServiceClient.from_connection_string(azurite.connection_string).create_container(
        azure_module.ref("azurerm_storage_container.checkpoints.name"))
    server = EventHubServer({hub: 2}, tls=tls.server_context())
    for i in range(2):
        body = orjson.dumps({"records": [activity_record(10 * i + j) for j in range(2)]})
        server.publish(hub, i, body)
        want |= event_ids(body, "eventhub")
    assert len(want) == 4 + 3 + 4

    out = tmp_path / "out"
    # Only the Event Hubs endpoint is overridden (the private-endpoint option); the other sources reach their
    # stand-ins through the SDKs' own variables, set by the fixtures.
    streaming = [f"{s}&endpoint=sb://127.0.0.1:{server.port}" if s.startswith("eventhub:") else s for s in sources]
    argv = ["run", "--streaming", *(a for s in streaming for a in ("--source", s)), "--idle-stop", "4",
            "--dedup-ttl", "86400", "--allowed-lateness", "86400", "--output", str(out)]
    try:
        assert cli.main(argv) == 0
    finally:
        server.close()
    ids = siem_ids(out)
    assert set(ids) == want and set(ids.values()) == {1}
    assert server.consumer_groups == {azure_module.ref("azurerm_eventhub_consumer_group.pipeline.name")}
    attrs = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_every_source_output_is_a_valid_source_value() -> None:
    """All six --source values (the eventhub one included, which no stand-in reads here) parse and pass the
    CLI's checks for their mode."""
    from pipelines.sourceargs import specs_from_args

    root = example("acme-security-logs", "acmecloudauditlogs")
    batch, streaming = root.output("batch_sources"), root.output("streaming_sources")
    assert batch == [
        "s3:ca-e2e-trail-logs/AWSLogs",
        "gcs:acme-security-logs-ca-e2e-audit-export",
        f"azure-blob:https://acmecloudauditlogs.blob.core.windows.net/insights-activity-logs?subscriptions={AZURE_SUB}",
    ]
    assert streaming == [
        "sqs:ca-e2e-trail-notifications?region=us-east-1&visibility=600",
        "pubsub:projects/acme-security-logs/subscriptions/ca-e2e-audit-logs-pipeline",
        "eventhub:ca-e2e-audit-ehns.servicebus.windows.net/ca-e2e-audit-logs?consumer_group=cloudaudit"
        "&checkpoint=https://acmecloudauditlogs.blob.core.windows.net/cloudaudit-checkpoints",
    ]
    assert len(specs_from_args(batch, "2024-05-01", "2024-05-02", streaming=False)) == 3
    assert len(specs_from_args(streaming, None, None, streaming=True)) == 3
    assert root.output("pipeline_output") == "gs://acme-security-logs-ca-e2e-pipeline/cloudaudit"
