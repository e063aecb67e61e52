"""An OCSF copy of the events in Amazon Security Lake's custom-source layout.

```
ROOT/ext/<custom-source>/region=<region>/accountId=<account>/eventDay=<YYYYMMDD>/<first>-<last>-<hash>.parquet
```

Security Lake takes one OCSF class per custom source, so each class gets its own source name
(``<prefix>-api-activity``, ``<prefix>-authentication``, ...; see ``source_name``) and each Parquet
file holds one class. ``region`` is the event's region (``global`` when the cloud gives none, as for
most Azure and GCP records), ``accountId`` the account acted on (``where.account``). Rows are sorted
by ``time``; one file per source, region, account and day per run, so a file covers at most a day
(a batch run over a few minutes of logs writes a file of a few minutes: Security Lake's lower bound of
about 5 minutes per file is a matter of how often the pipeline runs). In streaming, each pane of an
event-time window (``pipelines.stages.cold.PaneStore``, default window 300 s) writes the files of its
events with ``write_security_lake``, beside its SIEM file and before its manifest: a file then covers
at most the window; a late pane, or an early one (memory bound), adds a file of its own. A pane written
again after a crash writes the same file names when it holds the same events (names hash the data).

The Arrow schema is fixed per class (``class_schema``): the attributes the OCSF projection fills, with
OCSF's JSON-valued attributes (``api.request.data``, ``api.response.data``, ``enrichments[].data``) as
JSON text and ``unmapped`` as ``map<string, string>`` (values as compact JSON), the way Security Lake's
own sources store them. Every file of a source thus has the same schema, which its Glue table needs.

``ROOT`` is any Beam filesystem path: a folder, ``s3://bucket/prefix`` (Security Lake's bucket), ...
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import apache_beam as beam
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from pipelines.cliparsers import DEFAULT_PREFIX  # beside the option that sets it (beam-free for --help)
from schemas.projections import ocsf
from schemas.projections import tables as t

NO_REGION = "global"
NO_ACCOUNT = "unknown"
COMPRESSION = "zstd"

Json = dict[str, Any]
Key = tuple[int, str, str, str]  # (class_uid, region, account, YYYYMMDD)

# --- the Arrow schema of each class ------------------------------------------------------------------

_s, _i32, _i64, _f64, _b = pa.string(), pa.int32(), pa.int64(), pa.float64(), pa.bool_()
_ACCOUNT = pa.struct([("uid", _s), ("name", _s), ("type", _s), ("type_id", _i32)])
_USER = pa.struct([
    ("uid", _s), ("uid_alt", _s), ("name", _s), ("email_addr", _s), ("type", _s), ("type_id", _i32),
    ("credential_uid", _s), ("account", _ACCOUNT),
])
_SESSION = pa.struct([
    ("uid", _s), ("uid_alt", _s), ("issuer", _s), ("is_mfa", _b), ("created_time", _i64), ("credential_uid", _s),
])
_AUTHORIZATION = pa.struct([("decision", _s), ("policy", pa.struct([("name", _s), ("uid", _s)]))])
_ACTOR = pa.struct([
    ("user", _USER), ("session", _SESSION), ("invoked_by", _s), ("app_uid", _s),
    ("authorizations", pa.list_(_AUTHORIZATION)), ("idp", pa.struct([("name", _s), ("issuer", _s)])),
])
_LOCATION = pa.struct([("country", _s), ("region", _s), ("city", _s), ("lat", _f64), ("long", _f64)])
_SRC_ENDPOINT = pa.struct([
    ("ip", _s), ("domain", _s), ("uid", _s), ("name", _s), ("location", _LOCATION),
    ("autonomous_system", pa.struct([("number", _i64), ("name", _s)])), ("intermediate_ips", pa.list_(_s)),
    ("subnet_uid", _s),
])
_API = pa.struct([
    ("operation", _s), ("service", pa.struct([("name", _s)])), ("request", pa.struct([("uid", _s), ("data", _s)])),
    ("response", pa.struct([("error", _s), ("message", _s), ("data", _s)])),
])
_RESOURCE = pa.struct([
    ("uid", _s), ("name", _s), ("type", _s), ("region", _s),
    ("owner", pa.struct([("account", pa.struct([("uid", _s)]))])),
    ("tags", pa.list_(pa.struct([("name", _s), ("value", _s)]))),
])
_METADATA = pa.struct([
    ("version", _s), ("profiles", pa.list_(_s)), ("product", pa.struct([("name", _s), ("vendor_name", _s)])),
    ("uid", _s), ("original_event_uid", _s), ("event_code", _s), ("log_name", _s), ("log_source", _s),
    ("log_format", _s), ("original_time", _s), ("logged_time", _i64), ("processed_time", _i64),
    ("correlation_uid", _s),
])
_CLOUD = pa.struct([
    ("provider", _s), ("region", _s), ("account", _ACCOUNT), ("project_uid", _s), ("org", pa.struct([("uid", _s)])),
])
_COMMON: list[tuple[str, pa.DataType]] = [
    ("class_uid", _i32), ("class_name", _s), ("category_uid", _i32), ("category_name", _s),
    ("activity_id", _i32), ("activity_name", _s), ("type_uid", _i64), ("severity_id", _i32), ("severity", _s),
    ("time", _i64), ("status_id", _i32), ("status", _s), ("status_code", _s), ("status_detail", _s),
    ("metadata", _METADATA), ("cloud", _CLOUD), ("actor", _ACTOR), ("src_endpoint", _SRC_ENDPOINT),
    ("api", _API), ("http_request", pa.struct([("user_agent", _s), ("uid", _s), ("x_forwarded_for", pa.list_(_s))])),
    ("enrichments", pa.list_(pa.struct([("name", _s), ("value", _s), ("type", _s), ("data", _s)]))),
    ("observables", pa.list_(pa.struct([("name", _s), ("type_id", _i32), ("type", _s), ("value", _s)]))),
    ("unmapped", pa.map_(_s, _s)), ("raw_data", _s),
]
_CLASS_FIELDS: dict[int, list[tuple[str, pa.DataType]]] = {
    t.API_ACTIVITY: [("resources", pa.list_(_RESOURCE))],
    t.ACCOUNT_CHANGE: [("user", _USER)],
    t.AUTHENTICATION: [("user", _USER), ("service", pa.struct([("name", _s)])), ("is_mfa", _b),
                       ("auth_factors", pa.list_(pa.struct([("factor_type_id", _i32), ("factor_type", _s)]))),
                       ("session", _SESSION)],
    t.USER_ACCESS: [("resources", pa.list_(_RESOURCE)), ("user", _USER), ("privileges", pa.list_(_s)),
                    ("resource", pa.struct([("uid", _s)]))],
}


def class_schema(class_uid: int) -> pa.Schema:
    return pa.schema(_COMMON + _CLASS_FIELDS[class_uid])


# --- layout ------------------------------------------------------------------------------------------


def source_name(class_uid: int, prefix: str = DEFAULT_PREFIX) -> str:
    """The custom source of a class: ``cloudaudit-api-activity``, ``cloudaudit-authentication``, ..."""
    slug = re.sub(r"[^a-z0-9]+", "-", t.OCSF_CLASSES[class_uid][0].lower()).strip("-")
    return f"{prefix}-{slug}"


def key_of(doc: Json) -> Key:
    cloud = doc.get("cloud") or {}
    day = datetime.fromtimestamp(doc["time"] / 1000, UTC).strftime("%Y%m%d")
    region = cloud.get("region") or NO_REGION
    account = (cloud.get("account") or {}).get("uid") or NO_ACCOUNT
    return doc["class_uid"], _segment(region), _segment(account), day


def _segment(value: str) -> str:
    # a partition value must stay one path segment ('/' in Azure ids, '=' never)
    return re.sub(r"[/=\\]", "_", value)


def partition_folder(root: str, key: Key, prefix: str = DEFAULT_PREFIX) -> str:
    class_uid, region, account, day = key
    return (f"{root.rstrip('/')}/ext/{source_name(class_uid, prefix)}/region={region}/accountId={account}/"
            f"eventDay={day}")


# --- rows --------------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def parquet_row(doc: Json) -> Json:
    """An OCSF event as its Parquet row: JSON-valued attributes as JSON text, unmapped as a map."""
    row = dict(doc)
    api = row.get("api")
    if api:
        api = row["api"] = dict(api)
        for part in ("request", "response"):
            if api.get(part) and "data" in api[part]:
                api[part] = {**api[part], "data": _text(api[part]["data"])}
    if row.get("enrichments"):
        row["enrichments"] = [{**e, "data": _text(e.get("data"))} for e in row["enrichments"]]
    row["unmapped"] = [(k, _text(v)) for k, v in (row.get("unmapped") or {}).items()]
    return row


def parquet_bytes(docs: list[Json]) -> bytes:
    """One class's events (one partition) -> a Parquet file, rows sorted by time."""
    class_uids = {d["class_uid"] for d in docs}
    if len(class_uids) != 1:
        raise ValueError(f"a Security Lake file holds one OCSF class, got {sorted(class_uids)}")
    rows = [parquet_row(d) for d in sorted(docs, key=lambda d: (d["time"], d["metadata"]["uid"]))]
    table = pa.Table.from_pylist(rows, schema=class_schema(class_uids.pop()))
    buf = io.BytesIO()
    pq.write_table(table, buf, compression=COMPRESSION)
    return buf.getvalue()


def file_name(docs: list[Json], data: bytes) -> str:
    times = [d["time"] for d in docs]
    first, last = (datetime.fromtimestamp(x / 1000, UTC).strftime("%Y%m%dT%H%M%SZ") for x in (min(times), max(times)))
    return f"{first}-{last}-{hashlib.sha256(data).hexdigest()[:16]}.parquet"


def write_partition(root: str, key: Key, docs: list[Json], prefix: str = DEFAULT_PREFIX) -> str:
    """Write one partition's file; returns its path (same events, same name: a rerun overwrites)."""
    data = parquet_bytes(docs)
    path = f"{partition_folder(root, key, prefix)}/{file_name(docs, data)}"
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        f.write(data)
    return path


def partitions(lines: Iterable[bytes], keep_raw: bool = False) -> dict[Key, list[Json]]:
    """Canonical event JSON lines -> OCSF events by Security Lake partition."""
    out: dict[Key, list[Json]] = {}
    for line in lines:
        if line.strip():
            doc = ocsf.project(orjson.loads(line), keep_raw)
            out.setdefault(key_of(doc), []).append(doc)
    return out


def write_security_lake(lines: Iterable[bytes], root: str, prefix: str = DEFAULT_PREFIX) -> list[str]:
    """Beam-free: every partition of the given events written under ``root``; the paths written."""
    return [write_partition(root, key, docs, prefix) for key, docs in sorted(partitions(lines).items())]


# --- Beam ----------------------------------------------------------------------------------------------


class _KeyByPartition(beam.DoFn):
    def process(self, batch: bytes) -> Iterator[tuple[Key, bytes]]:
        for key, docs in partitions(batch.split(b"\n")).items():
            for doc in docs:
                yield key, orjson.dumps(doc)


class _WritePartition(beam.DoFn):
    def __init__(self, root: str, prefix: str) -> None:
        self._root = root
        self._prefix = prefix

    def process(self, element: tuple[Key, Iterable[bytes]]) -> Iterator[str]:
        key, docs = element
        yield write_partition(self._root, key, [orjson.loads(d) for d in docs], self._prefix)


class WriteSecurityLake(beam.PTransform):
    """Batches of canonical event JSON lines (the SIEM batches) -> Parquet files in Security Lake's
    custom-source layout under ``root``; returns the paths written."""

    def __init__(self, root: str, prefix: str = DEFAULT_PREFIX) -> None:
        super().__init__()
        self._root = root
        self._prefix = prefix

    def expand(self, batches: beam.PCollection[bytes]) -> beam.PCollection[str]:
        return (
            batches
            | "OcsfByPartition" >> beam.ParDo(_KeyByPartition())
            | "GroupByPartition" >> beam.GroupByKey()
            | "WriteParquet" >> beam.ParDo(_WritePartition(self._root, self._prefix))
        )
