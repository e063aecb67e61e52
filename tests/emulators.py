"""Local stand-ins for the clouds, started by the test suite and bound to 127.0.0.1.

Each stand-in starts once per test session, on first use, and stops at the end; function-scoped fixtures
point the clients at it through the environment variables the cloud SDKs themselves read, so product code
under test uses its normal default-chain configuration:

- ``aws``: moto in server mode (S3, SQS, Organizations, Identity Store, ...); state is reset per test.
  Sets ``AWS_ENDPOINT_URL``, random test keys and ``AWS_DEFAULT_REGION``.
- ``azurite``: Azurite's Blob service (installed from npm into ``.tools/`` by ``make tools``), with an
  account and key made up per session. Sets ``AZURE_STORAGE_CONNECTION_STRING``.
- ``gcs``: gcp-storage-emulator, in memory. Sets ``STORAGE_EMULATOR_HOST`` and ``GOOGLE_CLOUD_PROJECT``.
- ``pubsub``: the gcloud Pub/Sub emulator (Java). Sets ``PUBSUB_EMULATOR_HOST`` and ``GOOGLE_CLOUD_PROJECT``.

A stand-in that is not installed makes its tests skip with a message saying how to get it. Nothing here
downloads anything.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AZURITE_BIN = Path(os.environ.get("CLOUDAUDIT_AZURITE", ROOT / ".tools" / "node_modules" / ".bin" / "azurite-blob"))
GCP_PROJECT = "cloudaudit-test"
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Until something accepts connections on host:port; raises if ``proc`` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with status {proc.returncode} before listening on {host}:{port}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.0f} s")


# A run killed by hand never runs its fixtures' teardown. Where util-linux's setpriv is there, a stand-in
# starts under a small shell with the parent-death signal set: when the test process dies the kernel sends
# the shell SIGTERM, and the shell passes it on to its process group and to the stand-in's own group (a
# stand-in may be a tree of processes: gcloud puts itself and the Pub/Sub emulator's JVM in a group of
# their own). The normal stop signals the shell's group, which does the same.
_PASS_TERM_ON = "trap 'trap - TERM; kill -TERM -$! 2>/dev/null; kill 0' TERM; \"$@\" & wait $!"
_DIE_WITH_PARENT = (
    ["setpriv", "--pdeathsig", "TERM", "--", "sh", "-c", _PASS_TERM_ON, "sh"]
    if shutil.which("setpriv")
    else []
)


class _Process:
    """A stand-in running as a child process in its own process group, with its output in a log file."""

    def __init__(self, name: str, argv: list[str], port: int, env: dict[str, str] | None = None,
                 timeout: float = 30.0) -> None:
        self.name = name
        self.port = port
        self.log = tempfile.NamedTemporaryFile(prefix=f"cloudaudit-{name}-", suffix=".log", delete=False)  # noqa: SIM115
        self.proc = subprocess.Popen(
            [*_DIE_WITH_PARENT, *argv], stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, start_new_session=True,
        )
        try:
            wait_for_port(HOST, port, timeout, self.proc)
        except Exception as exc:
            self.stop()
            tail = Path(self.log.name).read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{name} did not start: {exc}\n{tail}") from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log.name)


# --- AWS: moto server ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MotoServer:
    endpoint: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def reset(self) -> None:
        req = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        pytest.skip("moto[server] is not installed (pip install -e '.[test]')")
    port = free_port()
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    wait_for_port(HOST, port)
    # Made-up keys: moto accepts any, and no test can then reach a real account by accident.
    yield MotoServer(f"http://{HOST}:{port}", "AKIATEST" + secrets.token_hex(6).upper(), secrets.token_hex(20))
    server.stop()


@pytest.fixture
def aws(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A clean moto server; boto3's default chain in this process (and its children) points at it."""
    moto_server.reset()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_server.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", moto_server.region)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return moto_server.endpoint


# --- Azure: Azurite Blob --------------------------------------------------------------------------


@dataclass(frozen=True)
class Azurite:
    account: str
    key: str
    blob_endpoint: str  # http://127.0.0.1:PORT/ACCOUNT

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={self.account};AccountKey={self.key};"
            f"BlobEndpoint={self.blob_endpoint};"
        )


@pytest.fixture(scope="session")
def azurite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    if not AZURITE_BIN.exists():
        pytest.skip(f"Azurite not found at {AZURITE_BIN} (run 'make tools', which installs it with npm)")
    account = "cloudaudittest"
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    port = free_port()
    folder = tmp_path_factory.mktemp("azurite")
    proc = _Process(
        "azurite",
        [str(AZURITE_BIN), "--blobHost", HOST, "--blobPort", str(port), "--location", str(folder),
         "--silent", "--skipApiVersionCheck", "--loose"],
        port,
        env={"AZURITE_ACCOUNTS": f"{account}:{key}"},
    )
    yield Azurite(account, key, f"http://{HOST}:{port}/{account}")
    proc.stop()


@pytest.fixture
def azurite(azurite_server: Azurite, monkeypatch: pytest.MonkeyPatch) -> Azurite:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_server.connection_string)
    return azurite_server


# --- GCP: Cloud Storage and Pub/Sub ---------------------------------------------------------------


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[str]:
    exe = Path(sys.executable).with_name("gcp-storage-emulator")
    if not exe.exists():
        found = shutil.which("gcp-storage-emulator")
        if not found:
            pytest.skip("gcp-storage-emulator is not installed (pip install -e '.[test]')")
        exe = Path(found)
    port = free_port()
    proc = _Process("gcs", [str(exe), "start", "--host", HOST, "--port", str(port), "--in-memory", "-q"], port)
    yield f"http://{HOST}:{port}"
    proc.stop()


@pytest.fixture
def gcs(gcs_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", GCP_PROJECT)
    return gcs_server


@pytest.fixture(scope="session")
def pubsub_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    gcloud = shutil.which("gcloud")
    if not gcloud or not shutil.which("java"):
        pytest.skip("the Pub/Sub emulator needs gcloud (with its pubsub-emulator component) and Java")
    port = free_port()
    folder = tmp_path_factory.mktemp("pubsub")
    try:
        proc = _Process(
            "pubsub",
            [gcloud, "beta", "emulators", "pubsub", "start", f"--host-port={HOST}:{port}",
             f"--data-dir={folder}", "--project", GCP_PROJECT, "--quiet"],
            port,
            env={"CLOUDSDK_CORE_DISABLE_PROMPTS": "1", "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "1"},
            timeout=60,
        )
    except RuntimeError as exc:
        pytest.skip(f"the Pub/Sub emulator did not start: {str(exc).splitlines()[0]}")
    _wait_http_ok(f"http://{HOST}:{port}/", 30)
    yield f"{HOST}:{port}"
    proc.stop()


def _wait_http_ok(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as resp:
            if resp.status == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f} s")


@pytest.fixture
def pubsub(pubsub_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_server)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", GCP_PROJECT)
    return pubsub_server
