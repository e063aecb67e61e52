"""Lone Azure Start rows become events with outcome unknown (connectors/azure_activity/lone_start.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from connectors.azure_activity.lone_start import map_unresolved, resolve_lone_starts
from connectors.azure_activity.mapping import map_record
from connectors.base import MapContext
from connectors.errors import NonEvent
from schemas.event import Event

SUB = "/subscriptions/7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d/resourceGroups/rg-lone/providers/Microsoft.Storage"


def row(op: str, status: str, corr: str, minute: int, category: str = "Administrative") -> dict[str, Any]:
    return {
        "time": f"2026-03-02T10:{minute:02d}:00.0000000Z", "operationName": op, "category": category,
        "resultType": status, "correlationId": corr, "callerIpAddress": "198.51.100.30",
        "resourceId": f"{SUB}/storageAccounts/stlone{minute}",
        "identity": {"claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "ops@example.org"}},
    }


LIST_KEYS = "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION"
WRITE = "MICROSOFT.STORAGE/STORAGEACCOUNTS/WRITE"


def ctx(r: dict[str, Any]) -> MapContext:
    return MapContext("test#0", orjson.dumps(r).decode(), None, datetime(2026, 3, 2, tzinfo=UTC))


def test_only_operations_without_a_terminal_row_are_resolved() -> None:
    lone = row(LIST_KEYS, "Start", "c-1", 1)
    rows = [
        lone,
        row(WRITE, "Start", "c-2", 2), row(WRITE, "Accept", "c-2", 3), row(WRITE, "Succeeded", "c-2", 4),
        row(WRITE, "Accept", "c-3", 5), row(WRITE, "In Progress", "c-3", 6),  # no Start, no end
        row("Microsoft.Insights/AlertRules/Activated/Action", "Active", "c-4", 7, "Alert"),
        {"operationName": LIST_KEYS},  # no correlation id: left to the ordinary mapping
    ]
    got = resolve_lone_starts(rows)
    assert got == [lone, rows[4]]


def test_a_terminal_row_in_another_spelling_resolves_the_start() -> None:
    rows = [row(LIST_KEYS, "Started", "C-9", 1), row(LIST_KEYS.lower(), "Success", "c-9", 2)]
    assert resolve_lone_starts(rows) == []


def test_a_lone_start_maps_to_an_event_with_outcome_unknown() -> None:
    lone = row(LIST_KEYS, "Start", "c-1", 1)
    assert isinstance(map_record(lone, ctx(lone)), NonEvent)  # on its own it is an intermediate row
    ev = Event.model_validate(map_unresolved(lone, ctx(lone)))
    assert ev.what.outcome == "unknown" and ev.what.error is None
    assert ev.what.action == "microsoft.storage:storageaccounts/listkeys/action"
    assert ev.how.correlation_id == "c-1" and ev.who.actor.email == "ops@example.org"
    terminal = row(LIST_KEYS, "Success", "c-1", 2)
    assert Event.model_validate(map_record(terminal, ctx(terminal))).id != ev.id
