"""The cloudaudit event schema (pydantic v2) and everything derived from it."""

from schemas.event import (
    SCHEMA_VERSION,
    Activity,
    Actor,
    ActorType,
    Category,
    Client,
    CredentialType,
    Event,
    Format,
    Outcome,
    Provider,
)
from schemas.ids import event_id

__all__ = [
    "SCHEMA_VERSION",
    "Activity",
    "Actor",
    "ActorType",
    "Category",
    "Client",
    "CredentialType",
    "Event",
    "Format",
    "Outcome",
    "Provider",
    "event_id",
]
