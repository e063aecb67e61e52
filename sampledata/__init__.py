"""Seeded sample data: realistic raw audit logs of every cloud, in every wire shape they arrive in.

``generate(out_dir, events, seed)`` writes ``events`` audit records split over the clouds and, inside
each cloud, over its wire shapes in fixed proportions, under the paths the clouds really use (CloudTrail
S3 keys, GCS sink objects, Azure storage-export blobs, ...). The same seed gives the same bytes.

This package is for a source checkout (the demo, the tests, the benchmarks): it is not in the installed
wheel. The cloud-specific parts are one module per connector, named after it (``sampledata/<connector
name>.py``, e.g. ``sampledata/aws_cloudtrail.py``), so a new log source brings its own samples: this module
finds them through the connector registry and only allocates counts, derives the random streams, writes
files and keeps the books. A samples module has:

- ``CLOUD`` (e.g. ``"aws"``), ``SHARE`` (its weight among the clouds), ``SHAPES`` (wire shape -> weight
  inside the cloud) and ``BENCH_SHAPE`` (the one shape ``layout="bench"`` writes, in a few large files);
- ``population(rng, people)``: the cloud's accounts, principals and resources, built once per seed;
- ``write_shape(shape, n, ctx, pop)``: exactly ``n`` records of that shape through ``ctx.write``.

What the books say (the returned manifest) is what a correct run must report: every record read is an
event, a duplicate (the same record delivered twice, as at-least-once delivery does) or a non-event
(CloudTrail digest files, intermediate Azure operation rows); ``malformed`` files add dead letters.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import importlib.util
import random
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, Generic, TypeVar

import orjson

from connectors.usage import UsageError

DEFAULT_SEED = 7
DEFAULT_DAY = date(2025, 1, 14)  # a Tuesday: office hours show in the time spread
DUP_RATE = 0.004  # share of slots that repeat a recent record (at-least-once redelivery)
GZIP_LEVEL = 6

NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S
# Relative activity per UTC hour: a working day across US and EU offices, quiet nights, never zero.
HOURLY_WEIGHT = (3, 2, 2, 2, 2, 3, 5, 8, 11, 13, 14, 14, 13, 14, 15, 15, 14, 12, 10, 8, 6, 5, 4, 3)

T = TypeVar("T")


class SampleDataError(UsageError, ValueError):
    """Bad arguments to the generator (the command line prints it as one line)."""


# --- people: the same humans appear in all three clouds (for cross-cloud identity enrichment) -------

_GIVEN = (
    "alice",
    "bruno",
    "chen",
    "dana",
    "emeka",
    "fatima",
    "gabriel",
    "hana",
    "ivan",
    "julia",
    "kwame",
    "lena",
    "mateo",
    "nadia",
    "omar",
    "priya",
    "quinn",
    "rosa",
    "samir",
    "tomas",
    "uma",
    "viktor",
    "wei",
    "ximena",
    "yusuf",
    "zoe",
    "aiko",
    "bilal",
    "carmen",
    "diego",
    "elif",
    "farid",
)
_FAMILY = (
    "nguyen",
    "schmidt",
    "okafor",
    "garcia",
    "kowalski",
    "tanaka",
    "haddad",
    "johansson",
    "rossi",
    "mehta",
    "dubois",
    "silva",
    "novak",
    "kim",
    "andersen",
    "moreau",
    "fischer",
    "costa",
    "ibrahim",
    "larsen",
    "petrov",
    "yamamoto",
    "osei",
    "walsh",
)
_DEPARTMENTS = (
    ("platform", 6),
    ("engineering", 10),
    ("security", 3),
    ("data", 4),
    ("finance", 1),
    ("support", 2),
)
EMAIL_DOMAIN = "example.com"


@dataclass(frozen=True, slots=True)
class Person:
    given: str
    family: str
    email: str
    department: str
    admin: bool  # holds privileged roles (platform/security engineers)

    @property
    def name(self) -> str:
        return f"{self.given.title()} {self.family.title()}"

    @property
    def user(self) -> str:
        return self.email.split("@", 1)[0]


def make_people(rng: random.Random, n: int = 72) -> list[Person]:
    pairs = [(g, f) for g in _GIVEN for f in _FAMILY]
    rng.shuffle(pairs)
    depts = [d for d, w in _DEPARTMENTS for _ in range(w)]
    out = []
    for given, family in pairs[:n]:
        dept = rng.choice(depts)
        admin = dept in ("platform", "security") or rng.random() < 0.05
        out.append(Person(given, family, f"{given}.{family}@{EMAIL_DOMAIN}", dept, admin))
    return out


# --- small fast helpers the samples modules use ------------------------------------------------------


def lottery(weighted: Sequence[tuple[T, float]], size: int = 4096) -> list[T]:
    """A list in which each item appears in proportion to its weight: ``lot[int(r * len(lot))]`` is a
    weighted draw at the cost of one index (``random.choices`` costs ~20 times more per draw)."""
    total = float(sum(w for _, w in weighted))
    out: list[T] = []
    for item, w in weighted:
        k = max(1, round(size * w / total)) if w > 0 else 0
        out.extend([item] * k)
    return out


def stable_seed(*parts: object) -> int:
    """A seed derived from the parts by a stable hash (``hash()`` of a str differs between runs)."""
    h = hashlib.blake2b(digest_size=8)
    for p in parts:
        h.update(str(p).encode())
        h.update(b"\x1f")
    return int.from_bytes(h.digest(), "big")


class Redelivery(Generic[T]):
    """At-least-once delivery: a small share of slots repeat, byte for byte, a record already delivered
    a little earlier (in the same file or a previous one of the same shape)."""

    def __init__(self, rng: random.Random, rate: float = DUP_RATE, memory: int = 48) -> None:
        self.rng = rng
        self.rate = rate
        self.memory = memory
        self.recent: list[T] = []
        self.count = 0

    def repeat(self) -> T | None:
        if self.recent and self.rng.random() < self.rate:
            self.count += 1
            return self.recent[int(self.rng.random() * len(self.recent))]
        return None

    def remember(self, item: T) -> None:
        """Only records that certainly map to one event are remembered (so a copy is one duplicate)."""
        recent = self.recent
        recent.append(item)
        if len(recent) > self.memory:
            del recent[0]


# --- the generation context -------------------------------------------------------------------------


@dataclass
class ShapeBooks:
    records: int = 0
    duplicates: int = 0
    files: int = 0
    bytes: int = 0
    non_events: dict[str, int] = field(default_factory=dict)


class GenContext:
    """What a samples module gets for one (cloud, shape): its random stream, time and id helpers, and
    ``write`` to put a file in place and account for its records."""

    def __init__(self, root: Path, cloud: str, shape: str, seed: int, day: date, books: Books) -> None:
        self.root = root
        self.cloud = cloud
        self.shape = shape
        self.rng = random.Random(stable_seed(seed, cloud, shape))
        self.day = day
        self.day_text = day.isoformat()
        self.day_compact = day.strftime("%Y%m%d")
        self.day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        self.epoch_s = int(self.day_start.timestamp())
        self._books = books
        self.redelivery: Redelivery[Any] = Redelivery(self.rng)

    # ids ---------------------------------------------------------------------------------------------

    def uuid(self) -> str:
        """A version-4 UUID from the seeded stream."""
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"

    def hex(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def digits(self, n: int) -> str:
        return f"{self.rng.randrange(10 ** (n - 1), 10**n)}"

    def token(self, n: int, alphabet: str = "abcdefghijklmnopqrstuvwxyz0123456789") -> str:
        r = self.rng.random
        k = len(alphabet)
        return "".join([alphabet[int(r() * k)] for _ in range(n)])

    # time --------------------------------------------------------------------------------------------

    def times(self, n: int) -> list[int]:
        """``n`` sorted instants (ns since the start of the day), spread over the day by HOURLY_WEIGHT."""
        hours = _HOUR_LOTTERY
        k = len(hours)
        r = self.rng.random
        hour_ns = 3600 * NS_PER_S
        out = [hours[int(r() * k)] * hour_ns + int(r() * hour_ns) for _ in range(n)]
        out.sort()
        return out

    def hms(self, ns: int) -> str:
        return _HMS[min(ns // NS_PER_S, 86_399)]

    def iso_s(self, ns: int) -> str:
        """2025-01-14T13:45:12Z (CloudTrail)."""
        return f"{self.day_text}T{_HMS[min(ns // NS_PER_S, 86_399)]}Z"

    def iso_ms(self, ns: int) -> str:
        return f"{self.day_text}T{_HMS[min(ns // NS_PER_S, 86_399)]}.{ns // 1_000_000 % 1000:03d}Z"

    def iso_us(self, ns: int) -> str:
        return f"{self.day_text}T{_HMS[min(ns // NS_PER_S, 86_399)]}.{ns // 1000 % 1_000_000:06d}Z"

    def iso_ns(self, ns: int) -> str:
        """2025-01-14T13:45:12.123456789Z (GCP LogEntry)."""
        return f"{self.day_text}T{_HMS[min(ns // NS_PER_S, 86_399)]}.{ns % NS_PER_S:09d}Z"

    def iso_7(self, ns: int) -> str:
        """2025-01-14T13:45:12.1234567Z (Azure, 100 ns ticks)."""
        return f"{self.day_text}T{_HMS[min(ns // NS_PER_S, 86_399)]}.{ns // 100 % 10_000_000:07d}Z"

    def epoch_ms(self, ns: int) -> int:
        return self.epoch_s * 1000 + ns // 1_000_000

    def clock(self, ns: int) -> tuple[int, int, int]:
        s = min(ns // NS_PER_S, 86_399)
        return s // 3600, s // 60 % 60, s % 60

    # files -------------------------------------------------------------------------------------------

    def write(
        self,
        rel: str,
        data: bytes,
        records: int,
        *,
        gz: bool = False,
        duplicates: int = 0,
        non_events: dict[str, int] | None = None,
        shape: str | None = None,
    ) -> None:
        """Write one file under the output root and account for the records in it (under ``shape``
        when the file is not of the context's shape, e.g. a trail's digest files)."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if gz:
            data = gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
        path.write_bytes(data)
        self._books.add(
            self.cloud, shape or self.shape, rel, len(data), records, duplicates, non_events or {}
        )

    def lone_start(self) -> None:
        """Account for an operation cut short after its Start row (no terminal row follows)."""
        self._books.lone_starts += 1

    @staticmethod
    def jsonl(items: Sequence[Any]) -> bytes:
        """JSON lines; items may be dicts or already serialized lines."""
        return b"".join([(x if isinstance(x, bytes) else orjson.dumps(x)) + b"\n" for x in items])

    @staticmethod
    def dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)


class RollingFiles:
    """Lines collected per time slot (an hour, five minutes, ...), each slot's file written as soon as a
    later slot starts: the input comes in time order, so memory holds one slot. A late line goes into
    the current slot's file, as a late delivery does. ``max_lines`` splits a slot into several files."""

    def __init__(
        self, ctx: GenContext, path: Callable[[int, int], str], gz: bool = False, max_lines: int = 0
    ) -> None:
        self.ctx = ctx
        self.path = path  # (slot, part) -> relative path
        self.gz = gz
        self.max_lines = max_lines
        self.slot = -1
        self.part = 0
        self._reset()

    def _reset(self) -> None:
        # One growing buffer rather than a list of lines: orjson's bytes keep their whole working buffer
        # (often 16 KiB for a 3 KiB record) for as long as they live.
        self.buf = bytearray()
        self.lines = 0
        self.records = 0
        self.duplicates = 0
        self.non_events: dict[str, int] = {}

    def add(
        self,
        slot: int,
        line: bytes,
        records: int = 1,
        duplicates: int = 0,
        non_events: dict[str, int] | None = None,
    ) -> None:
        if slot > self.slot:
            self.close()
            self.slot, self.part = slot, 0
        elif self.max_lines and self.lines >= self.max_lines:
            self.close()
            self.part += 1
        self.buf += line
        self.buf += b"\n"
        self.lines += 1
        self.records += records
        self.duplicates += duplicates
        if non_events:
            for k, v in non_events.items():
                self.non_events[k] = self.non_events.get(k, 0) + v

    def close(self) -> None:
        if self.lines:
            self.ctx.write(
                self.path(self.slot, self.part),
                bytes(self.buf),
                self.records,
                gz=self.gz,
                duplicates=self.duplicates,
                non_events=self.non_events,
            )
        self._reset()


_VARIANT = "89ab"
_HMS = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]
_HOUR_LOTTERY = lottery(list(enumerate(HOURLY_WEIGHT)), size=2048)


class Books:
    """Counts per cloud and shape, and the files written."""

    def __init__(self) -> None:
        self.shapes: dict[str, ShapeBooks] = {}
        self.files: list[str] = []
        self.lone_starts = 0  # intermediate rows of an operation cut short (see _manifest)

    def add(
        self,
        cloud: str,
        shape: str,
        rel: str,
        size: int,
        records: int,
        duplicates: int,
        non_events: dict[str, int],
    ) -> None:
        b = self.shapes.setdefault(f"{cloud}.{shape}", ShapeBooks())
        b.records += records
        b.duplicates += duplicates
        b.files += 1
        b.bytes += size
        for k, v in non_events.items():
            b.non_events[k] = b.non_events.get(k, 0) + v
        self.files.append(rel)


# --- discovery and allocation -------------------------------------------------------------------------


def samples_module(connector_name: str) -> ModuleType | None:
    """The samples of the connector named ``connector_name`` (``sampledata.<name>``), if it has any."""
    name = f"{__name__}.{connector_name}"
    return importlib.import_module(name) if importlib.util.find_spec(name) is not None else None


def sample_modules(plane: str = "cloud") -> list[ModuleType]:
    """The ``samples`` module of every registered connector that has one, in registry order.

    ``plane``: "cloud" modules share ``events`` by SHARE (``generate``); "identity" modules (``PLANE =
    "identity"``: directory sign-ins and changes) write a fixed scenario per person (``generate_identity``),
    so adding one leaves the clouds' samples byte for byte as they were."""
    from connectors.registry import connectors

    out = []
    for c in connectors():
        mod = samples_module(c.name)
        if mod is not None and mod not in out and getattr(mod, "PLANE", "cloud") == plane:
            out.append(mod)
    return out


def generate_identity(out_dir: str, seed: int = DEFAULT_SEED, day: date = DEFAULT_DAY) -> dict[str, Any]:
    """The identity planes' samples: each ``PLANE = "identity"`` module's ``write_identity(ctx, people,
    seed)`` writes its sign-ins and directory changes for the same people the clouds use (their Entra
    object ids and e-mails), so one person signs in and then acts in every cloud. Returns the manifest."""
    root = Path(out_dir)
    books = Books()
    people = make_people(random.Random(stable_seed(seed, "people")))
    for mod in sample_modules("identity"):
        ctx = GenContext(root, mod.CLOUD, "identity", seed, day, books)
        mod.write_identity(ctx, people, seed)
    return _manifest(books, root, sum(b.records for b in books.shapes.values()), seed, "real", day)


def allocate(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split ``total`` in proportion to the weights, exactly (largest remainder, ties by key order)."""
    s = sum(weights.values())
    raw = {k: total * w / s for k, w in weights.items()}
    out = {k: int(v) for k, v in raw.items()}
    left = total - sum(out.values())
    for k in sorted(raw, key=lambda k: (-(raw[k] - out[k]), list(weights).index(k)))[:left]:
        out[k] += 1
    return out


# --- the driver -----------------------------------------------------------------------------------------


def generate(
    out_dir: str,
    events: int,
    seed: int = DEFAULT_SEED,
    *,
    layout: str = "real",
    day: date = DEFAULT_DAY,
    clouds: Sequence[str] | None = None,
    malformed: bool = False,
) -> dict[str, Any]:
    """Write ``events`` raw audit records under ``out_dir``; return the manifest (counts and files).

    ``layout="real"`` spreads them over every wire shape under the clouds' real paths;
    ``layout="bench"`` writes each cloud's main shape as a few large files, for throughput runs.
    ``clouds`` limits generation to some clouds (their share of ``events`` is then all of it).
    ``malformed`` also writes the deliberately broken files of ``write_malformed`` (dead letters).

    ``records`` in the manifest counts what a reader sees: the ``events`` audit records (redelivered
    copies and intermediate Azure rows included) plus the documents that hold no event (one per
    CloudTrail digest file, one CloudWatch Logs control message). ``expected`` is the run summary a
    correct pipeline prints: events written, duplicates dropped, non-events, dead letters.
    """
    if layout not in ("real", "bench"):
        raise SampleDataError(f"layout must be 'real' or 'bench', not {layout!r}")
    if events < 0:
        raise SampleDataError(f"events must be 0 or more, not {events}")
    mods = [m for m in sample_modules() if clouds is None or m.CLOUD in clouds]
    if clouds is not None and len(mods) != len(set(clouds)):
        known = ", ".join(m.CLOUD for m in sample_modules())
        raise SampleDataError(f"unknown cloud in {list(clouds)!r}; known: {known}")
    root = Path(out_dir)
    # Old files beside new ones would make the books wrong for whoever reads the whole folder.
    stale = [d for d in (*(m.CLOUD for m in sample_modules()), "malformed") if (root / d).exists()]
    if stale:
        raise SampleDataError(
            f"{out_dir} already holds generated data ({', '.join(stale)}/): choose a new or empty folder"
        )
    root.mkdir(parents=True, exist_ok=True)
    books = Books()
    per_cloud = allocate(events, {m.CLOUD: float(m.SHARE) for m in mods})
    people = make_people(random.Random(stable_seed(seed, "people")))
    for mod in mods:
        pop = mod.population(random.Random(stable_seed(seed, mod.CLOUD, "population")), people)
        shapes = {mod.BENCH_SHAPE: 1.0} if layout == "bench" else dict(mod.SHAPES)
        for shape, n in allocate(per_cloud[mod.CLOUD], shapes).items():
            ctx = GenContext(root, mod.CLOUD, shape, seed, day, books)
            if n > 0:
                mod.write_shape("bench" if layout == "bench" else shape, n, ctx, pop)
    manifest = _manifest(books, root, events, seed, layout, day)
    if malformed:
        manifest["malformed"] = write_malformed(str(root / "malformed"), seed)
        mal = manifest["malformed"]
        manifest["records"] += mal["records"]
        manifest["bytes"] += mal["bytes"]
        manifest["files"] += [f"malformed/{f}" for f in mal["files"]]
        manifest["expected"]["dead_letters"] = mal["dead_letters"]
        manifest["expected"]["events"] += mal["events"]
    return manifest


def _manifest(books: Books, root: Path, events: int, seed: int, layout: str, day: date) -> dict[str, Any]:
    by_shape = {k: v.records for k, v in sorted(books.shapes.items())}
    by_cloud: dict[str, int] = {}
    non_events: dict[str, int] = {}
    dups = 0
    for key, b in sorted(books.shapes.items()):
        cloud = key.split(".", 1)[0]
        by_cloud[cloud] = by_cloud.get(cloud, 0) + b.records
        dups += b.duplicates
        for k, v in b.non_events.items():
            non_events[k] = non_events.get(k, 0) + v
    records = sum(by_shape.values())
    n_non = sum(non_events.values())
    return {
        "seed": seed,
        "layout": layout,
        "day": day.isoformat(),
        "out_dir": str(root),
        "events": events,  # audit records asked for (digests and malformed files come on top)
        "records": records,  # what a reader counts: events + digest files
        "by_cloud": by_cloud,
        "by_shape": by_shape,
        "duplicates": dups,
        "duplicates_by_shape": {k: v.duplicates for k, v in sorted(books.shapes.items()) if v.duplicates},
        "non_events": dict(sorted(non_events.items())),
        # Operations cut short after their Start row (the last one of an export window): the normalizer
        # counts the row as an intermediate non-event, as ``expected`` does; a batch run makes it the
        # operation's event (pipelines/stages/lone_start.py). benchmarks/_common.py accounts for both.
        "lone_starts": books.lone_starts,
        "expected": {
            "events": records - dups - n_non,
            "duplicates": dups,
            "non_events": n_non,
            "dead_letters": 0,
        },
        "files_by_shape": {k: v.files for k, v in sorted(books.shapes.items())},
        "bytes": sum(v.bytes for v in books.shapes.values()),
        "files": sorted(books.files),
    }


# --- deliberately broken input ----------------------------------------------------------------------


def write_malformed(out_dir: str, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Files that must become dead letters (and only those records): an invalid JSON line among good
    ones, a truncated gzip CloudTrail file, an empty file, records without a time.

    Returns the books: records a reader counts, the good events among them and the dead letters by code.
    """
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / ".src"
    gen = generate(str(tmp), 60, seed, layout="bench")
    by_cloud: dict[str, list[bytes]] = {}
    for rel in gen["files"]:
        raw = (tmp / rel).read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        for line in raw.splitlines():
            if line.strip():
                by_cloud.setdefault(rel.split("/", 1)[0], []).append(line)
    for p in sorted(tmp.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    tmp.rmdir()

    ct = orjson.loads(by_cloud["aws"][0])["Records"]
    ct_final = [r for r in ct if "errorCode" not in r] or ct
    gcp = [orjson.loads(x) for x in by_cloud["gcp"]]
    files: dict[str, bytes] = {}
    dead: dict[str, int] = {}
    good = 0

    # 1. One line is cut off mid-object: that line is a dead letter, its neighbours are events.
    lines = [orjson.dumps(e) for e in gcp[:3]]
    files["gcp_invalid_json_line.json"] = (
        lines[0] + b"\n" + lines[1][: len(lines[1]) // 2] + b"\n" + lines[2] + b"\n"
    )
    good += 2
    dead["invalid_json"] = dead.get("invalid_json", 0) + 1

    # 2. A CloudTrail log file whose gzip stream stops half way (an interrupted upload).
    full = gzip.compress(orjson.dumps({"Records": ct[:6]}), compresslevel=GZIP_LEVEL, mtime=0)
    files["aws_cloudtrail_truncated.json.gz"] = full[: len(full) // 2]
    dead["corrupt_gzip"] = dead.get("corrupt_gzip", 0) + 1

    # 3. An empty object (a zero-byte PT1H.json is what an hour without activity can leave behind).
    files["azure_empty_PT1H.json"] = b""
    dead["empty_file"] = dead.get("empty_file", 0) + 1

    # 4. Records that cannot say when: CloudTrail without eventTime, a LogEntry without timestamp.
    no_time_ct = {k: v for k, v in ct_final[0].items() if k != "eventTime"}
    files["aws_cloudtrail_missing_time.json"] = orjson.dumps(
        {"Records": [ct_final[1 % len(ct_final)], no_time_ct]}
    )
    good += 1
    no_time_gcp = {k: v for k, v in gcp[3].items() if k not in ("timestamp", "receiveTimestamp")}
    no_time_gcp["protoPayload"] = {
        k: v for k, v in no_time_gcp["protoPayload"].items() if k != "requestMetadata"
    }
    files["gcp_missing_timestamp.json"] = orjson.dumps(no_time_gcp) + b"\n"
    dead["missing_time"] = dead.get("missing_time", 0) + 2

    # 5. Something that is not an audit record at all.
    files["not_an_audit_record.json"] = b'{"hello": "world", "level": "info"}\n'
    dead["unknown_shape"] = dead.get("unknown_shape", 0) + 1

    for name, data in files.items():
        (root / name).write_bytes(data)
    n_dead = sum(dead.values())
    return {
        "files": sorted(files),
        "bytes": sum(len(d) for d in files.values()),
        "records": good + n_dead,
        "events": good,
        "dead_letters": n_dead,
        "dead_letters_by_code": dict(sorted(dead.items())),
    }


# --- the bundled demo set ---------------------------------------------------------------------------

# Small enough to commit (about 1 MB: most shapes are plain JSON, as they really are), large enough to
# show every shape, duplicates, non-events and the dead letters of the malformed files. No manifest is
# written beside them: the demo reads the whole folder, and a manifest would be one more (bad) record.
SAMPLES_EVENTS = 700
SAMPLES_DIRS = ("aws", "gcp", "azure", "malformed")


def write_samples(out_dir: str, events: int = SAMPLES_EVENTS, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """(Re)write the bundled demo set (``samples/`` in the repository); return its manifest.

    The generated sub-folders (aws, gcp, azure, malformed) are removed first, so the folder holds
    exactly what this seed generates; nothing else in it is touched."""
    root = Path(out_dir)
    for name in SAMPLES_DIRS:
        if (root / name).is_dir():
            shutil.rmtree(root / name)
    for mod in sample_modules("identity"):
        if (root / mod.CLOUD).is_dir():
            shutil.rmtree(root / mod.CLOUD)
    manifest = generate(str(root), events, seed, malformed=True)
    ident = generate_identity(str(root), seed)
    for key in ("records", "bytes", "duplicates"):
        manifest[key] += ident[key]
    manifest["files"] = sorted(manifest["files"] + ident["files"])
    manifest["by_shape"].update(ident["by_shape"])
    manifest["by_cloud"].update(ident["by_cloud"])
    for key in ("events", "duplicates", "non_events"):
        manifest["expected"][key] += ident["expected"][key]
    manifest["out_dir"] = root.name
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sampledata OUT [--events N] [--seed S] [--layout real|bench] [--malformed]``;
    ``python -m sampledata samples --samples`` rewrites the bundled demo set."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m sampledata", description=main.__doc__)
    p.add_argument("out_dir")
    p.add_argument("--events", type=int, default=SAMPLES_EVENTS)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--layout", choices=("real", "bench"), default="real")
    p.add_argument("--malformed", action="store_true", help="also write the broken files")
    p.add_argument("--samples", action="store_true", help="(re)write the bundled demo set into OUT")
    a = p.parse_args(argv)
    if a.samples:
        m = write_samples(a.out_dir, a.events, a.seed)
    else:
        m = generate(a.out_dir, a.events, a.seed, layout=a.layout, malformed=a.malformed)
    m = {k: v for k, v in m.items() if k != "files"}
    print(orjson.dumps(m, option=orjson.OPT_INDENT_2).decode())
    return 0
