"""OCSF Authentication (3002): the second factor of a sign-in is ``auth_factors``, not ``unmapped``.

The sign-in device stays in ``unmapped.auth.device``: 3002 has ``device`` only with the host profile,
and ``auth_factor.device`` is the device that completed the factor (see tables.OCSF_AUTH_FACTORS)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas.event import Device, Event
from schemas.projections import project
from schemas.projections import tables as t
from schemas.projections.validate import ocsf_errors

TESTDATA = Path(__file__).parent / "testdata"


def _signin(method: str | None, device: dict[str, object] | None = None) -> Event:
    event = Event.model_validate_json((TESTDATA / "aws_failed_console_signin.event.json").read_bytes())
    assert event.how.auth is not None
    auth = event.how.auth.model_copy(update={"mfa_method": method, "mfa": True, "failure_reason": None})
    if device is not None:
        auth = auth.model_copy(update={"device": Device.model_validate(device)})
    return event.model_copy(update={"how": event.how.model_copy(update={"auth": auth})})


@pytest.mark.parametrize(("method", "type_id", "factor_type"), [
    ("Mobile app notification", 5, "Push Notification"),  # Entra
    ("google_prompt", 5, "Push Notification"),  # Workspace
    ("Virtual MFA", 7, "OTP"),  # AWS CheckMfa
    ("U2F MFA", 9, "U2F"),
    ("idv_preregistered_phone", 99, "idv_preregistered_phone"),  # not in the table: Other, the provider's name
])
def test_the_second_factor_is_auth_factors(method: str, type_id: int, factor_type: str) -> None:
    doc = project(_signin(method), "ocsf")
    assert doc is not None and doc["class_uid"] == t.AUTHENTICATION
    assert doc["auth_factors"] == [{"factor_type_id": type_id, "factor_type": factor_type}]
    assert "mfa_method" not in doc["unmapped"].get("auth", {})
    assert doc["is_mfa"] is True


def test_no_factor_no_auth_factors() -> None:
    doc = project(_signin(None), "ocsf")
    assert doc is not None and "auth_factors" not in doc


def test_the_device_stays_unmapped() -> None:
    device = {"id": "d1e2f3a4", "name": "LT-DANA-01", "os": "Windows10", "compliant": True, "managed": True}
    doc = project(_signin("Mobile app notification", device), "ocsf")
    assert doc is not None
    assert doc["unmapped"]["auth"]["device"] == {**device, "browser": None, "trust_type": None}
    assert "device" not in doc


@pytest.mark.usefixtures("ocsf_schema")
def test_auth_factors_validate() -> None:
    device = {"os": "Windows10", "compliant": False}
    for method in ("Mobile app notification", "Virtual MFA", "something new"):
        doc = project(_signin(method, device), "ocsf")
        assert doc is not None
        assert ocsf_errors(doc) == []


@pytest.mark.usefixtures("ocsf_schema")
def test_factor_types_are_the_schemas() -> None:
    import ocsf_json_schema

    export = Path(ocsf_json_schema.__file__).parent / "ocsf" / f"{t.OCSF_VERSION}.json"
    enum = json.loads(export.read_text())["objects"]["auth_factor"]["attributes"]["factor_type_id"]["enum"]
    assert {int(k): v["caption"] for k, v in enum.items()} == t.OCSF_FACTOR_TYPES
    assert set(t.OCSF_AUTH_FACTORS.values()) <= set(t.OCSF_FACTOR_TYPES)
    assert all(k == k.lower() for k in t.OCSF_AUTH_FACTORS)
