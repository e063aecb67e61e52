"""The Dataflow path, offline: Beam's DataflowRunner with ``--dry_run=True`` builds the full runner-API
graph (and stages the package) without calling Google. The batch and the streaming pipelines are built
with production-like options and the graph is checked: the expected stages, nothing that only the local
runner needs, the worker container as the environment, and the package built from pyproject.toml."""

from __future__ import annotations

import base64
import bz2
import zlib
from pathlib import Path
from typing import Any

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from connectors.sources import SourceSpec
from pipelines import batch, streaming
from pipelines.layout import Layout
from pipelines.settings import RunConfig, Settings
from pipelines.sinks import parse_sink

pytest.importorskip("apache_beam.runners.dataflow.dataflow_runner")
pytest.importorskip("build", reason="the staged package is built with `python -m build` (test extra)")

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "europe-west1-docker.pkg.dev/audit-prod-4711/cloudaudit/worker:0.1.0"
BUCKET = "gs://audit-prod-4711-dataflow"
# What only the local runner needs, as it would appear in a graph: the package, its classes, TestStream.
LOCAL_ONLY = (b"pipelines.local", b"PollLoop", b"_LiveStream", b"TallyCountsFn", b"BundleBasedDirectRunner")


def dataflow_options(*extra: str) -> PipelineOptions:
    return PipelineOptions(
        [
            "--runner=DataflowRunner",
            "--project=audit-prod-4711",
            "--region=europe-west1",
            f"--temp_location={BUCKET}/tmp",
            f"--sdk_container_image={IMAGE}",
            "--sdk_location=container",
            f"--setup_file={ROOT / 'pyproject.toml'}",
            "--dry_run=True",
            *extra,
        ]
    )


def _payload_bytes(payload: bytes) -> bytes:
    """A pickled DoFn/transform payload as bytes to search (Beam base64s and compresses its pickles)."""
    try:
        raw = base64.b64decode(payload, validate=True)
    except Exception:
        return payload
    for decompress in (bz2.decompress, zlib.decompress):
        try:
            return decompress(raw)
        except Exception:
            continue
    return payload


def graph_text(proto: Any) -> tuple[set[str], set[str], bytes]:
    """(leaf transform names, URNs, every payload decoded) of a runner-API pipeline."""
    from apache_beam.portability.api import beam_runner_api_pb2

    names, urns, blobs = set(), set(), []
    for t in proto.components.transforms.values():
        names.add(t.unique_name)
        urns.add(t.spec.urn)
        blobs.append(t.spec.payload)
        if t.spec.urn == "beam:transform:pardo:v1":
            pardo = beam_runner_api_pb2.ParDoPayload.FromString(t.spec.payload)
            blobs.append(_payload_bytes(pardo.do_fn.payload))
    return names, urns, b"\n".join(blobs)


def check_common(result: Any) -> tuple[set[str], set[str], bytes]:
    proto = result.job.proto_pipeline
    names, urns, blob = graph_text(proto)
    for marker in LOCAL_ONLY:
        assert marker not in blob, f"local-only {marker!r} in the Dataflow graph"
    assert "beam:transform:teststream:v1" not in urns
    (env,) = proto.components.environments.values()
    from apache_beam.portability.api import beam_runner_api_pb2

    assert env.urn == "beam:env:docker:v1"
    assert beam_runner_api_pb2.DockerPayload.FromString(env.payload).container_image == IMAGE
    # The package staged for the workers is the sdist built from pyproject.toml.
    staged = [
        beam_runner_api_pb2.ArtifactStagingToRolePayload.FromString(d.role_payload).staged_name
        for d in env.dependencies
    ]
    assert "workflow.tar.gz" in staged, staged
    return names, urns, blob


@pytest.mark.slow
def test_batch_graph_for_dataflow() -> None:
    pipeline = beam.Pipeline(options=dataflow_options())
    layout = Layout(f"{BUCKET}/out", "run-1")
    sinks = [parse_sink("hec:https://splunk.example.com:8088?index=audit")]
    from pipelines.stages.shuffle import shuffles_events

    assert shuffles_events("DataflowRunner") and not shuffles_events("FnApiRunner")
    batch.build(pipeline, [f"{BUCKET}/AWSLogs/**"], layout, Settings(), sinks=sinks, shuffle=True)
    names, urns, blob = check_common(pipeline.run())
    expected = ("ReadFiles/", "DedupAndStore/", "Sinks/", "WriteSiem/", "DeadLetters/", "ManifestWrite/")
    for stage in expected:
        assert any(n.startswith(stage) for n in names), stage
    assert "beam:transform:group_by_key:v1" in urns  # the runner's own shuffle
    # Event batches go through the runner's shuffle, not spill files.
    assert b"ShuffleReadFilesFn" in blob and b"StoreBatchesFn" in blob
    assert b"write_spill" not in blob and b"_tmp-run-1" not in blob


@pytest.mark.slow
def test_streaming_graph_for_dataflow() -> None:
    pipeline = beam.Pipeline(options=dataflow_options("--streaming", "--enable_streaming_engine"))
    layout = Layout(f"{BUCKET}/out", "run-2")
    config = RunConfig(
        output=f"{BUCKET}/out",
        streaming=True,
        sources=[
            SourceSpec.parse(
                "pubsub:projects/audit-prod-4711/subscriptions/audit-logs?timestamp_attribute=ts&id_label=id"
            ),
            SourceSpec.parse("sqs:https://sqs.eu-west-1.amazonaws.com/123456789012/cloudtrail"),
        ],
        sinks=[parse_sink("hec:https://splunk.example.com:8088?index=audit")],
    )
    streaming.build_streaming(pipeline, config, layout, local=False)
    result = pipeline.run()
    names, urns, blob = check_common(result)
    expected = ("PubSub0/", "NormalizePubSub0/", "ReadStreams/", "Stages/DedupWindows", "Stages/DeadLetters/",
                "Stages/PushCounts", "Sinks/")
    for stage in expected:
        assert any(n.startswith(stage) for n in names), (stage, sorted(names))
    # Pub/Sub through Beam's own source (Dataflow's native read), with the id and timestamp attributes.
    from apache_beam.portability.api import beam_runner_api_pb2

    assert "beam:transform:pubsub_read:v1" in urns
    (read,) = [
        beam_runner_api_pb2.PubSubReadPayload.FromString(t.spec.payload)
        for t in result.job.proto_pipeline.components.transforms.values()
        if t.spec.urn == "beam:transform:pubsub_read:v1"
    ]
    assert read.subscription == "projects/audit-prod-4711/subscriptions/audit-logs"
    assert (read.timestamp_attribute, read.id_attribute) == ("ts", "id")
    assert b"PollSourcesFn" in blob and b"DedupWindowFn" in blob


@pytest.mark.slow
def test_command_line_submits_to_dataflow_without_waiting(cloudaudit, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`cloudaudit run ... --runner DataflowRunner --no_wait_until_finish` (what the Flex Template launcher
    runs) builds the job and ends with 'submitted' instead of waiting for a summary; nothing is written
    for a job that runs on elsewhere, and its spill folder is left to it."""
    import orjson

    from tests.pipelines.conftest import CLOUDTRAIL_FILE

    src = tmp_path / "trail.json"
    src.write_bytes(orjson.dumps(CLOUDTRAIL_FILE))
    out = tmp_path / "out"
    p = cloudaudit(
        "run", "--input", str(src), "--output", str(out),
        "--runner=DataflowRunner", "--project=audit-prod-4711", "--region=europe-west1",
        f"--temp_location={BUCKET}/tmp", f"--sdk_container_image={IMAGE}", "--dry_run=True",
        "--no_wait_until_finish",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "cloudaudit: job handed to the runner" in p.stderr, p.stderr
    assert not list(out.rglob("_summary.json"))
