"""From bytes to events: framing, envelope unwrapping, detection, mapping and validation.

Plain functions, testable without Beam; the pipeline calls them in batches. Every record that goes in
comes out as exactly one of: an ``Event``, a ``DeadLetter`` or a ``NonEvent``. That one-to-one rule is
what makes the run summary's invariant (read = written + dead letters + duplicates + non-events) hold.

What is a record: one JSON line, one element of a ``Records``/``records``/array container, one message
inside a delivery envelope; or, when a file cannot be read at all (empty, corrupt gzip), the file.

Memory stays bounded whatever a file's size: a document that starts ``{"Records": [`` (or ``records``)
and is larger than ``STREAM_FROM_BYTES`` is parsed incrementally with ijson (its C backend), one record
at a time, instead of as one value; smaller documents take orjson's faster whole-document path.

Integers beyond 64 bits are kept exactly: orjson would read them as floats, so a record whose text has
a run of 20 or more digits is parsed by the standard library instead (exact ints), and serialized back
the same way where orjson refuses them. ijson's C backend refuses such integers too: a large document
whose first ``STREAM_FROM_BYTES`` hold a run of 20 digits is parsed by ijson's Python backend (exact,
about 30 times slower); one that shows its first such integer only later becomes a dead letter from
that point on, with a reason that says so (``parse/integer_overflow``).
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO, cast

import orjson
from pydantic import ValidationError

from connectors.base import Connector, MapContext, Unwrapped
from connectors.errors import MappingError, NonEvent
from connectors.registry import connectors
from schemas.deadletter import DeadLetter
from schemas.event import Event
from schemas.fastpath import event_document

# ``Normalizer(documents=True)`` yields canonical documents (``schemas.fastpath.Doc``: the event as
# ``Event.model_dump()`` gives it, without the model instances) where this says ``Event``.
Result = Event | DeadLetter | NonEvent

MAX_RECORD_BYTES = 1 << 20  # 1 MiB: larger than any audit record the three clouds emit
MAX_LINE_BYTES = 256 << 20  # a line (or whole document) past this is not read into memory
MAX_DEPTH = 4  # envelopes inside envelopes (SNS in SQS in ...), no deeper
EMPTY_ARRAY = "empty_json_array"  # the non-event of a JSON array with nothing in it (a file, an item)
EMPTY_ENVELOPE = "empty_envelope"  # <connector format>.empty_envelope: a source's envelope without items
_GZIP_MAGIC = b"\x1f\x8b"
STREAM_FROM_BYTES = 16 << 20  # a Records document larger than this is parsed record by record
_RECORDS_HEAD = re.compile(rb'^(?:\xef\xbb\xbf)?\s*\{\s*"(Records|records)"\s*:\s*\[')
# A run of 20 digits may be an integer past 64 bits (or just digits in a string). Found by mapping every
# digit to "0" and looking for 20 zeros: C-speed translate + find, ten times faster than re's \d{20}.
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_TWENTY_DIGITS = b"0" * 20


def has_long_number(data: bytes) -> bool:
    """True when ``data`` holds a run of 20 or more ASCII digits."""
    return _TWENTY_DIGITS in data.translate(_DIGITS_TO_ZERO)


def loads(data: bytes) -> Any:
    """orjson, unless the text may hold an integer orjson would turn into a float."""
    if not has_long_number(data):
        return orjson.loads(data)
    try:
        return json.loads(data)
    except ValueError as exc:
        raise orjson.JSONDecodeError(str(exc), data.decode("utf-8", "replace"), 0) from None


class Normalizer:
    """Holds the options and the connector list; ``records``/``stream``/``blob`` do the work."""

    def __init__(
        self,
        max_record_bytes: int = MAX_RECORD_BYTES,
        keep_raw: bool = True,
        registered: Iterable[Connector] | None = None,
        documents: bool = False,
    ) -> None:
        self.max_record_bytes = max_record_bytes
        self.keep_raw = keep_raw
        # Events as canonical documents (plain dicts, schemas/fastpath.py) for callers that serialize rather
        # than read attributes: the same validation, without building the models.
        self.documents = documents
        self.connectors = tuple(registered) if registered is not None else connectors()

    @property
    def connectors(self) -> tuple[Connector, ...]:
        return self._connectors

    @connectors.setter
    def connectors(self, value: tuple[Connector, ...]) -> None:
        # Set anew (a stage may wrap a connector to watch it), the dispatch table follows.
        self._connectors = value
        # Who may claim the items of a record envelope: its connector and those that go before it.
        self._claimants = {c.name: tuple(x for x in value if x is c or c.name in x.before) for c in value}

    # --- files -----------------------------------------------------------------------------------

    def blob(self, data: bytes, location: str) -> Iterator[Result]:
        """A whole file's bytes (plain or gzip)."""
        return self.stream(io.BytesIO(data), location)

    def stream(self, f: BinaryIO, location: str) -> Iterator[Result]:
        """A file object, read incrementally: memory stays bounded by the largest line, whatever the
        file's size. Gzip is detected by its magic bytes, not by the name."""
        head = f.read(2)
        if not head:
            yield _dead("read", "empty_file", "file is empty (0 bytes)", b"", location)
            return
        src: BinaryIO = io.BufferedReader(_Prepend(head, f), buffer_size=1 << 20)  # type: ignore[assignment]
        if head == _GZIP_MAGIC:
            src = gzip.GzipFile(fileobj=src, mode="rb")  # type: ignore[assignment]
        ingested = datetime.now(UTC)
        counter = [0]
        try:
            yield from self._lines(src, location, ingested, counter)
        except (EOFError, OSError, zlib.error) as exc:
            # The records before the damage have been yielded already; the rest is one dead letter.
            yield _dead(
                "read",
                "corrupt_gzip",
                f"gzip stream is truncated or corrupt after {counter[0]} records: {exc}",
                b"",
                f"{location}#{counter[0]}",
            )

    def _lines(self, f: BinaryIO, location: str, ingested: datetime, counter: list[int]) -> Iterator[Result]:
        peek = getattr(f, "peek", None)
        head = peek(4096)[:4096] if peek is not None else b""
        match = _RECORDS_HEAD.match(head) if head else None
        if match is not None:
            first_part = f.read(STREAM_FROM_BYTES)
            more = f.read(1)
            if more:  # larger than the threshold: record by record
                src = cast(BinaryIO, _Prepend(first_part + more, f))
                exact = has_long_number(first_part)
                yield from self._stream_records(src, match.group(1).decode(), location, ingested, counter, exact)
                return
            f = io.BytesIO(first_part)  # small: the whole-document path below
        first = True
        saw_content = False
        while True:
            line = f.readline(MAX_LINE_BYTES + 1)
            if not line:
                break
            if len(line) > MAX_LINE_BYTES:
                rest = _drain_line(f)
                yield self._dead_record(
                    "parse",
                    "oversized_record",
                    f"line longer than {MAX_LINE_BYTES} bytes (at least {len(line) + rest}); first "
                    f"{self.max_record_bytes} bytes kept",
                    line[: self.max_record_bytes],
                    location,
                    counter,
                )
                first = False
                continue
            stripped = line.strip()
            if first and stripped.startswith(b"\xef\xbb\xbf"):
                stripped = stripped[3:].strip()
            if not stripped:
                continue
            saw_content = True
            try:
                obj = loads(stripped)
            except orjson.JSONDecodeError as exc:
                if first and stripped[:1] in (b"{", b"["):
                    # Perhaps a pretty-printed document (gcloud --format=json, the REST API sample):
                    # read it whole, within bounds, and try again.
                    more = f.read(MAX_LINE_BYTES)
                    doc = stripped + b"\n" + more
                    try:
                        obj = loads(doc)
                    except orjson.JSONDecodeError:
                        yield from self._lines_of(doc, location, ingested, counter)
                        return
                    yield from self._expand(obj, doc, location, ingested, counter, None, 0)
                    return
                yield self._dead_record("parse", "invalid_json", f"invalid JSON: {exc}", stripped, location, counter)
                first = False
                continue
            first = False
            yield from self._expand(obj, stripped, location, ingested, counter, None, 0)
        if not saw_content:
            yield _dead("read", "empty_file", "file has no content (only white space)", b"", location)

    def _stream_records(
        self, src: BinaryIO, key: str, location: str, ingested: datetime, counter: list[int], exact: bool
    ) -> Iterator[Result]:
        """``{"Records": [...]}`` read one record at a time (ijson); the envelope is the one a connector
        gives the document, found from its first record."""
        import ijson

        backend = ijson.get_backend("python") if exact else ijson
        envelope: str | None = None
        owner: Connector | None = None
        try:
            for i, record in enumerate(backend.items(src, f"{key}.item", use_float=True)):
                if i == 0:
                    envelope, owner = self._envelope_of(key, record)
                if owner is not None and envelope is not None:
                    yield from self._record_item(record, None, owner, envelope, location, ingested, counter, 1)
                else:
                    yield from self._expand(record, None, location, ingested, counter, envelope or "json_array", 1)
        except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError) as exc:
            text = " ".join(str(exc).split())
            code = "integer_overflow" if "integer overflow" in text else "invalid_json"
            what = "an integer beyond 64 bits" if code == "integer_overflow" else "invalid JSON"
            reason = f"{what} after {counter[0]} records of a {key} document; the rest is not read: {text}"
            yield _dead("parse", code, reason[:1000], b"", f"{location}#{counter[0]}")

    def _envelope_of(self, key: str, record: Any) -> tuple[str | None, Connector | None]:
        """The envelope a connector gives ``{key: [record]}``, and that connector when the envelope is one
        of its record envelopes (then it is asked for the records, not every connector)."""
        for c in self.connectors:
            try:
                u = c.unwrap({key: [record]})
            except MappingError:
                continue
            if isinstance(u, Unwrapped):
                return u.envelope, (c if u.envelope in c.record_envelopes else None)
        return None, None

    def _lines_of(self, doc: bytes, location: str, ingested: datetime, counter: list[int]) -> Iterator[Result]:
        # The document did not parse whole either: judge each line alone so one bad line costs one record.
        for raw_line in doc.split(b"\n"):
            s = raw_line.strip()
            if not s:
                continue
            try:
                obj = loads(s)
            except orjson.JSONDecodeError as exc:
                yield self._dead_record("parse", "invalid_json", f"invalid JSON: {exc}", s, location, counter)
                continue
            yield from self._expand(obj, s, location, ingested, counter, None, 0)

    # --- parsed objects --------------------------------------------------------------------------

    def records(
        self, objs: Iterable[Any], location: str, envelope: str | None = None
    ) -> Iterator[Result]:
        """Already-parsed JSON values (from a queue message, an API page, a test)."""
        ingested = datetime.now(UTC)
        counter = [0]
        for obj in objs:
            yield from self._expand(obj, None, location, ingested, counter, envelope, 0)

    def _expand(
        self,
        obj: Any,
        raw: bytes | None,
        location: str,
        ingested: datetime,
        counter: list[int],
        envelope: str | None,
        depth: int,
    ) -> Iterator[Result]:
        if isinstance(obj, list):
            if not obj:  # read and counted, as a source's empty envelope is: nothing vanishes unseen
                yield self._non_event(EMPTY_ARRAY, location, counter)
                return
            for item in obj:
                yield from self._expand(item, None, location, ingested, counter, envelope or "json_array", depth + 1)
            return
        if not isinstance(obj, dict):
            raw_b = raw if raw is not None else _dumps(obj)
            yield self._dead_record(
                "parse",
                "unknown_shape",
                f"a JSON {type(obj).__name__} is not an audit record",
                raw_b,
                location,
                counter,
            )
            return
        if depth <= MAX_DEPTH:
            for c in self.connectors:
                try:
                    u = c.unwrap(obj)
                except MappingError as exc:
                    yield self._dead_record(
                        "parse", exc.code, exc.reason, raw if raw is not None else _dumps(obj), location, counter
                    )
                    return
                if u is None:
                    continue
                if isinstance(u, NonEvent):
                    yield self._non_event(u.kind, location, counter)
                    return
                yield from self._expand_items(u, c, location, ingested, counter, depth)
                return
        yield self.map_one(obj, raw, location, ingested, counter, envelope)

    def _expand_items(
        self, u: Unwrapped, owner: Connector, location: str, ingested: datetime, counter: list[int], depth: int
    ) -> Iterator[Result]:
        # Dispatch once per envelope: the items of a record envelope are the owner's records (or those of
        # a connector that goes before it); an item none of them claims takes the general path, unchanged.
        if not u.items:  # an envelope with nothing in it is read and counted, not lost unseen
            yield self._non_event(f"{owner.format}.{EMPTY_ENVELOPE}", location, counter)
            return
        records = u.envelope in owner.record_envelopes and depth + 1 <= MAX_DEPTH
        for item in u.items:
            if records and type(item) is dict:
                yield from self._record_item(item, None, owner, u.envelope, location, ingested, counter, depth + 1)
            elif isinstance(item, str | bytes):
                b = item.encode("utf-8") if isinstance(item, str) else item
                try:
                    parsed = loads(b)
                except orjson.JSONDecodeError as exc:
                    yield self._dead_record(
                        "parse", "invalid_json", f"invalid JSON inside {u.envelope}: {exc}", b, location, counter
                    )
                    continue
                yield from self._expand(parsed, b, location, ingested, counter, u.envelope, depth + 1)
            else:
                yield from self._expand(item, None, location, ingested, counter, u.envelope, depth + 1)

    def _record_item(
        self,
        item: Any,
        raw: bytes | None,
        owner: Connector,
        envelope: str,
        location: str,
        ingested: datetime,
        counter: list[int],
        depth: int,
    ) -> Iterator[Result]:
        """One item of a record envelope: claimed by the owner (or a connector that goes before it) and
        mapped; anything else (not an object, an envelope, another source's record) goes the general way."""
        if type(item) is dict:
            for c in self._claimants[owner.name]:
                if c.claims(item):
                    yield self.map_one(item, raw, location, ingested, counter, envelope, c)
                    return
        yield from self._expand(item, raw, location, ingested, counter, envelope, depth)

    def map_one(
        self,
        record: dict[str, Any],
        raw: bytes | None,
        location: str,
        ingested: datetime,
        counter: list[int],
        envelope: str | None,
        connector: Connector | None = None,
    ) -> Result:
        loc = _next_location(location, counter)
        raw_b = raw if raw is not None else _dumps(record)
        if len(raw_b) > self.max_record_bytes:
            return _dead(
                "parse",
                "oversized_record",
                f"record of {len(raw_b)} bytes exceeds the limit of {self.max_record_bytes} bytes",
                raw_b,
                loc,
            )
        if connector is None:
            connector = self.detect(record)
        if connector is None:
            keys = ", ".join(sorted(str(k) for k in record)[:8]) or "none"
            return _dead(
                "parse", "unknown_shape", f"no connector recognises a record with keys: {keys}", raw_b, loc
            )
        raw_s = raw_b.decode("utf-8", "replace")
        ctx = MapContext(location=loc, raw=raw_s, envelope=envelope, ingested=ingested)
        try:
            out = connector.map(record, ctx)
        except MappingError as exc:
            return _dead("map", exc.code, f"{connector.format}: {exc.reason}", raw_b, loc)
        except Exception as exc:  # a mapper bug must cost one record, not the run
            return _dead(
                "map", "mapper_error", f"{connector.format}: {type(exc).__name__}: {exc}", raw_b, loc
            )
        if isinstance(out, NonEvent):
            return NonEvent(out.kind, loc)
        if not self.keep_raw:
            out["raw"] = None
        try:
            if self.documents:
                return event_document(out)  # type: ignore[return-value]  # a document, see Result
            return Event.model_validate(out)
        except ValidationError as exc:
            return _dead("validate", "invalid_event", f"{connector.format}: {_summarize(exc)}", raw_b, loc)

    def detect(self, record: dict[str, Any]) -> Connector | None:
        for c in self.connectors:
            if c.claims(record):
                return c
        return None

    def _non_event(self, kind: str, location: str, counter: list[int]) -> NonEvent:
        return NonEvent(kind, _next_location(location, counter))

    def _dead_record(
        self, stage: str, code: str, reason: str, payload: bytes, location: str, counter: list[int]
    ) -> DeadLetter:
        return _dead(stage, code, reason, payload, _next_location(location, counter))


def _next_location(location: str, counter: list[int]) -> str:
    """``location#N`` of the next record read from ``location`` (each record takes one number)."""
    loc = f"{location}#{counter[0]}"
    counter[0] += 1
    return loc


def _dead(stage: str, code: str, reason: str, payload: bytes, location: str) -> DeadLetter:
    return DeadLetter(stage=stage, code=code, reason=reason, payload=payload, location=location)


def _dumps(obj: Any) -> bytes:
    try:
        return orjson.dumps(obj)
    except TypeError:
        try:  # an integer past 64 bits: the standard library writes it exactly
            return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8", "replace")
        except (TypeError, ValueError):
            return repr(obj).encode("utf-8", "replace")


def _summarize(exc: ValidationError, n: int = 3) -> str:
    parts = []
    for err in exc.errors()[:n]:
        path = ".".join(str(p) for p in err["loc"])
        parts.append(f"{path}: {err['msg']}")
    more = exc.error_count() - n
    return "invalid event: " + "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def _drain_line(f: BinaryIO) -> int:
    n = 0
    while True:
        chunk = f.readline(1 << 20)
        n += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return n


class _Prepend(io.RawIOBase):
    """A read-only stream that gives back already-read head bytes before the rest of ``f``."""

    def __init__(self, head: bytes, f: BinaryIO) -> None:
        self._head = head
        self._f = f

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            if n < len(b) and not self._head:  # fill the rest, so a peek sees more than the head
                data = self._f.read(len(b) - n)
                b[n:n + len(data)] = data
                n += len(data)
            return n
        data = self._f.read(len(b))
        n = len(data)
        b[:n] = data
        return n


def normalize_bytes(data: bytes, location: str = "<bytes>") -> list[Result]:
    """Convenience for tests and the CLI: a whole file's bytes to results."""
    return list(Normalizer().blob(data, location))
