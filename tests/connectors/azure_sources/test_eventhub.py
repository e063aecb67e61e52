"""Event Hubs source (kind ``eventhub``) against a local AMQP 1.0 Event Hubs server (the SDK's emulator mode)
with its checkpoints in Azurite."""

from __future__ import annotations

import dataclasses
import logging
import pickle
import secrets
import time
from collections import Counter
from typing import Any

import orjson
import pytest

from connectors.azure_activity.read_eventhub import (
    CheckpointTracker,
    EventHubSource,
    EventHubSourceError,
    location,
    options_from_spec,
    redact,
    split_container_url,
)
from connectors.normalize import Normalizer
from connectors.sources import Delivery, SourceError, SourceSpec, StreamSource, resolve
from schemas.deadletter import DeadLetter
from schemas.event import Event

from .amqp_server import EventHubServer
from .conftest import Identity
from .data import HUB, message
from .servers import TlsFiles


def open_source(spec: str, **options: Any) -> EventHubSource:
    src = resolve(SourceSpec.parse(spec)).factory(SourceSpec.parse(spec))
    assert isinstance(src, EventHubSource) and isinstance(src, StreamSource)
    src.options = dataclasses.replace(src.options, **options)
    src = pickle.loads(pickle.dumps(src))  # as the pipeline ships it to a worker
    src.open()
    return src


def drain(src: EventHubSource, want: int, timeout: float = 30.0) -> list[Delivery]:
    """Poll until ``want`` deliveries came, then once more to see that nothing else does."""
    got: list[Delivery] = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        got += src.poll(50, 0.5)
    got += src.poll(50, 1.0)
    return got


def event_ids(deliveries: list[Delivery]) -> list[str]:
    out = []
    for d in deliveries:
        for r in Normalizer().blob(d.data, d.location):
            assert isinstance(r, Event), r
            out.append(r.id)
    return out


# --- plain functions -----------------------------------------------------------------------------------


def test_spec_is_checked_before_the_run() -> None:
    o = options_from_spec(SourceSpec.parse(
        "eventhub:MyNs/insights-activity-logs?checkpoint=https://acct.blob.core.windows.net/cp&start=latest"
    ))
    assert (o.namespace, o.hub, o.consumer_group, o.start) == (
        "myns.servicebus.windows.net", "insights-activity-logs", "$Default", "latest")
    assert split_container_url("https://acct.blob.core.windows.net/cp") == ("https://acct.blob.core.windows.net", "cp")
    assert split_container_url("http://127.0.0.1:10000/devstoreaccount1/cp") == (
        "http://127.0.0.1:10000/devstoreaccount1", "cp")
    sig = "sig=" + secrets.token_hex(8)
    bad = {
        "eventhub:just-a-namespace": "not NAMESPACE",
        "eventhub:ns.servicebus.windows.net/hub": "needs \\?checkpoint=",
        f"eventhub:ns/hub?checkpoint=https://a.blob.core.windows.net/cp%3Fsv%3D1%26{sig}": "must not carry",
        "eventhub:ns/hub?checkpoint=https://a.blob.core.windows.net/cp&start=middle": "earliest or latest",
        "eventhub:ns/hub?checkpoint=ftp://a/cp": "blob container URL",
    }
    for text, message_ in bad.items():
        with pytest.raises(SourceError, match=message_) as exc:
            options_from_spec(SourceSpec.parse(text))
        assert sig not in str(exc.value)
    assert location("ns.servicebus.windows.net", "h", "1", "4096") == "eventhub://ns.servicebus.windows.net/h/1#4096"


def test_checkpoint_moves_only_over_an_acknowledged_prefix() -> None:
    t = CheckpointTracker()
    for seq in range(4):
        t.handed("0", seq, str(seq * 100))
    assert t.acked("0", 2) is None  # 0 and 1 are not acknowledged yet
    assert t.acked("0", 0) == (0, "0")
    assert t.acked("0", 1) == (2, "200")  # the prefix 0..2 is now all acknowledged
    t.handed("0", 1, "100")  # read again after a partition moved: already covered
    assert t.acked("0", 1) is None
    assert t.outstanding() == 1
    assert t.acked("1", 0) is None  # never handed out


def test_redact_removes_keys_signatures_and_tokens() -> None:
    text = ("Endpoint=sb://x/;SharedAccessKeyName=Root;SharedAccessKey=k3y/+=;EntityPath=h "
            "SharedAccessSignature sr=a&sig=s1g&se=1 https://a/c?sv=1&sig=s2g Bearer eyJ0.x.y AccountKey=acc==")
    out = redact(text)
    for secret in ("k3y", "s1g", "s2g", "eyJ0", "acc=="):
        assert secret not in out
    assert "SharedAccessKeyName=Root" in out and "because" in redact("because")


# --- over the wire -----------------------------------------------------------------------------------


def test_stream_reads_every_message_once_and_resumes_from_the_checkpoint(
    eventhubs: tuple[EventHubServer, str, str],
) -> None:
    server, spec, _ = eventhubs
    for i in range(6):
        server.publish(HUB, i % 2, message(i))
    src = open_source(spec)
    try:
        got = drain(src, 6)
        assert len(got) == 6
        assert {d.location.rsplit("/", 1)[1].split("#")[0] for d in got} == {"0", "1"}
        assert got[0].location.startswith(f"eventhub://127.0.0.1:{server.port}/{HUB}/")
        ids = event_ids(got)
        assert len(ids) == 12 and len(set(ids)) == 12
        src.ack(got)
        assert src.checkpoints_written >= 2
        # more events while running
        for i in range(6, 8):
            server.publish(HUB, i % 2, message(i))
        later = drain(src, 2)
        assert len(later) == 2
        src.ack(later)
    finally:
        src.close()

    # a new run resumes after the checkpoints: only what was published since
    for i in range(8, 11):
        server.publish(HUB, i % 2, message(i))
    src = open_source(spec)
    try:
        again = drain(src, 3)
        assert sorted(orjson.loads(d.data)["records"][0]["time"] for d in again) == sorted(
            orjson.loads(message(i))["records"][0]["time"] for i in range(8, 11))
        src.ack(again)
    finally:
        src.close()
    assert any("x-opt-offset > '" in s and "'-1'" not in s for s in server.selectors)
    assert server.consumer_groups == {"$Default"}


def test_crash_before_ack_reads_again_and_dedup_keeps_one(eventhubs: tuple[EventHubServer, str, str]) -> None:
    server, spec, _ = eventhubs
    for i in range(8):
        server.publish(HUB, i % 2, message(i))
    first = open_source(spec)
    try:
        got = drain(first, 8)
        assert len(got) == 8
        by_partition: dict[str, list[Delivery]] = {}
        for d in got:
            by_partition.setdefault(d.ack_id[0], []).append(d)
        # the pipeline took in the first two of partition 0 and the *second* of partition 1 (out of
        # order), then the process died: nothing else is acknowledged
        acked = [*by_partition["0"][:2], by_partition["1"][1]]
        first.ack(acked)
    finally:
        first.close()  # dropped without acknowledging the rest

    second = open_source(spec)
    try:
        again = drain(second, 6)
        second.ack(again)
    finally:
        second.close()
    # partition 0 resumes after its second message; partition 1 from its start (its first was never
    # acknowledged, so its second is read again too)
    assert len(again) == 6
    output = event_ids(acked) + event_ids(again)
    assert set(output) == set(event_ids(got))  # every record, nothing lost
    counts = Counter(output)
    assert sorted(counts.values()).count(2) == 2  # the re-read one: a duplicate dedup removes by id
    assert len(set(output)) == 16


def test_errors_are_clear_and_carry_no_secret(
    eventhubs: tuple[EventHubServer, str, str], azurite: Any, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server, spec, key = eventhubs
    secrets_ = [key, azurite.key]
    errors: list[str] = []

    # the checkpoint container does not exist
    bad = spec.rsplit("/", 1)[0] + "/no-such-container"
    with pytest.raises(EventHubSourceError, match="does not exist") as exc:
        open_source(bad)
    errors.append(str(exc.value))

    # the connection string names another namespace
    monkeypatch.setenv("AZURE_EVENTHUB_CONNECTION_STRING", server.connection_string(key).replace(
        "127.0.0.1", "localhost"))
    with pytest.raises(EventHubSourceError, match="is for namespace localhost") as exc:
        open_source(spec)
    errors.append(str(exc.value))

    # the hub is not there any more (connection refused): the receive loop logs and retries, nothing
    # is delivered, nothing is checkpointed, and close returns
    monkeypatch.setenv("AZURE_EVENTHUB_CONNECTION_STRING", server.connection_string(key))
    server.publish(HUB, 0, message(1))
    server.close()
    src = open_source(spec, retry_total=0)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any("load balancing" in r.getMessage() for r in caplog.records):
            assert src.poll(10, 0.5) == []
    finally:
        src.close()
    assert src.checkpoints_written == 0

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "load balancing: ConnectError" in logged
    for secret in secrets_:
        for text in [*errors, logged]:
            assert secret not in text


def test_a_message_that_is_not_json_becomes_a_dead_letter(eventhubs: tuple[EventHubServer, str, str]) -> None:
    server, spec, key = eventhubs
    server.publish(HUB, 0, b"\x00not json")
    src = open_source(spec)
    try:
        got = drain(src, 1)
        src.ack(got)
    finally:
        src.close()
    (d,) = got
    (result,) = list(Normalizer().blob(d.data, d.location))
    assert isinstance(result, DeadLetter) and result.location.startswith(f"eventhub://127.0.0.1:{server.port}/")
    assert key not in repr(result.to_dict()) and "SharedAccess" not in result.location


def test_production_path_default_credential_over_tls(
    azurite: Any, tls: TlsFiles, azure_identity: Identity, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No connection string for the hub: DefaultAzureCredential (managed identity) gets an Event Hubs
    token, which is put on ``$cbs`` over amqps; the hub is reached through ``endpoint=`` with the test
    CA trusted through SSL_CERT_FILE (the checkpoints still use the Azurite override)."""
    from azure.storage.blob import ContainerClient

    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    container = "cp-" + secrets.token_hex(6)
    with ContainerClient.from_connection_string(azurite.connection_string, container) as c:
        c.create_container()
    server = EventHubServer({HUB: 1}, tls=tls.server_context())
    try:
        server.publish(HUB, 0, message(1))
        spec = (f"eventhub:contoso-audit.servicebus.windows.net/{HUB}?endpoint=sb://127.0.0.1:{server.port}"
                f"&checkpoint={azurite.blob_endpoint}/{container}")
        src = open_source(spec)
        try:
            got = drain(src, 1)
            src.ack(got)
        finally:
            src.close()
    finally:
        server.close()
    assert len(got) == 1 and got[0].location.startswith(f"eventhub://contoso-audit.servicebus.windows.net/{HUB}/0#")
    assert azure_identity.token in server.tokens  # the managed identity's token, on $cbs
    assert "https://eventhubs.azure.net/" in azure_identity.requests
