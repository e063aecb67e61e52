"""What a connector is: the interface every log source implements, and the context a mapper gets.

A connector owns everything specific to one source: the envelopes its logs arrive in (``unwrap``), how
to recognise one of its records (``claims``) and how to map a record to an event (``map``). Mapping
returns a plain dict in the shape of ``schemas.Event``; the normalizer validates it once, in pydantic's
Rust core, which is much faster than building nested models field by field.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.errors import NonEvent


@dataclass(slots=True)
class MapContext:
    location: str  # where the record was read, e.g. /data/x.json.gz#12
    raw: str  # the original record as compact JSON text; mappers put it in Event.raw
    envelope: str | None  # the envelope it came out of (e.g. "s3_log_file", "eventbridge"), if any
    ingested: datetime  # when this pipeline processed it (one clock read per file or batch)


@dataclass(slots=True)
class Unwrapped:
    """The records inside an envelope. Items are dicts, or JSON texts (str/bytes) to parse."""

    envelope: str
    items: list[Any]


class Connector(ABC):
    name: str  # package name, e.g. "aws_cloudtrail"
    format: str  # source.format, "provider.log" (schemas.event.Format names the built-in ones)
    provider: str  # where.provider (open vocabulary: the registry collects the words)
    # Connectors whose claims overlap this one's and that must be asked after it (entra_id before
    # azure_activity: both read the same Event Hub records[]).
    before: tuple[str, ...] = ()
    # The docs page of the source; default docs/sources-<provider>.md. The contract suite checks it exists.
    docs: str | None = None
    # What where.account is for this source (tenant, customer, ...): the inventory's default account kind.
    account_kind: str | None = None
    # Envelopes of this source whose items are records, not further envelopes (a Records/records/entries
    # document): the normalizer asks only this connector and those listed ahead of it (``before``) to
    # claim them, once per envelope, instead of offering every item to every connector.
    record_envelopes: frozenset[str] = frozenset()

    def docs_page(self) -> str:
        return self.docs or f"docs/sources-{self.provider}.md"

    def unwrap(self, doc: dict[str, Any]) -> Unwrapped | NonEvent | None:
        """If ``doc`` is an envelope this source delivers, the records inside it (or a NonEvent for an
        envelope that holds no events, such as a CloudTrail digest file); otherwise None."""
        return None

    @abstractmethod
    def claims(self, record: dict[str, Any]) -> bool:
        """Cheap test: is this one of this source's records? Looks at keys only; no mapping."""

    @abstractmethod
    def map(self, record: dict[str, Any], ctx: MapContext) -> dict[str, Any] | NonEvent:
        """Map one record to an event dict (schemas.Event shape) or a NonEvent.

        Raise connectors.errors.MappingError when the record cannot say what happened or when.
        """
