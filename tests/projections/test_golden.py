"""Golden projections of the hard cases, in OCSF and in ECS.

Inputs are hand-written events (``testdata/<case>.event.json``); expected outputs sit beside them
(``<case>.ocsf.expected.json``, ``<case>.ecs.expected.json``). Regenerate with
``UPDATE_GOLDEN=1 pytest tests/projections/test_golden.py`` and review the diff.

Each case names the OCSF class it must become and why (CASES below).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.errors import NonEvent
from connectors.normalize import Normalizer
from schemas.event import Event
from schemas.projections import project
from schemas.projections.tables import ACCOUNT_CHANGE, API_ACTIVITY, AUTHENTICATION, USER_ACCESS
from schemas.projections.validate import SchemaUnavailable, ecs_errors, ocsf_errors

TESTDATA = Path(__file__).parent / "testdata"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

# case -> (OCSF class_uid, activity_id, why)
CASES: dict[str, tuple[int, int, str]] = {
    "aws_cross_account_call": (
        API_ACTIVITY, 3,
        "a bucket-policy change is a plain API call (Security Lake: management events are API Activity); "
        "cloud.account is the bucket owner's account, actor.user.account the caller's",
    ),
    "aws_assumed_role_session": (
        API_ACTIVITY, 1,
        "a call made with an assumed role's session is API Activity; the session (issuer, MFA, created) "
        "is actor.session, the failure is status Failure with the error code",
    ),
    "gcp_impersonation_chain": (
        API_ACTIVITY, 4,
        "a bucket delete through an impersonation chain is API Activity; OCSF has no chain, so the "
        "delegation list is kept in unmapped.delegation (original caller first)",
    ),
    "azure_role_assignment": (
        USER_ACCESS, 1,
        "a role assignment grants a privilege: User Access Management, Assign Privileges, with the "
        "grantee as user, the role as privileges and the scope as resource",
    ),
    "aws_failed_console_signin": (
        AUTHENTICATION, 1,
        "a console sign-in is Authentication/Logon (Security Lake: ConsoleLogin); failed is status Failure",
    ),
}


def _event(case: str) -> Event:
    return Event.model_validate_json((TESTDATA / f"{case}.event.json").read_bytes())


def _check(path: Path, doc: Any) -> None:
    text = orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"{path.name} missing: run UPDATE_GOLDEN=1 pytest {__file__}")
        path.write_bytes(text)
    assert orjson.loads(path.read_bytes()) == orjson.loads(text), f"{path.name} differs (UPDATE_GOLDEN=1 to review)"


@pytest.mark.parametrize("case", sorted(CASES))
def test_ocsf_golden(case: str) -> None:
    class_uid, activity_id, _why = CASES[case]
    doc = project(_event(case), "ocsf")
    assert doc is not None
    assert (doc["class_uid"], doc["activity_id"]) == (class_uid, activity_id)
    try:
        assert ocsf_errors(doc) == []
    except SchemaUnavailable as exc:
        pytest.skip(str(exc))
    _check(TESTDATA / f"{case}.ocsf.expected.json", doc)


@pytest.mark.parametrize("case", sorted(CASES))
def test_ecs_golden(case: str) -> None:
    doc = project(_event(case), "ecs")
    assert doc is not None
    try:
        assert ecs_errors(doc) == []
    except SchemaUnavailable as exc:
        pytest.skip(str(exc))
    _check(TESTDATA / f"{case}.ecs.expected.json", doc)


def test_cross_account_call_files_under_the_account_acted_on() -> None:
    event = _event("aws_cross_account_call")
    ocsf, ecs = project(event, "ocsf"), project(event, "ecs")
    assert ocsf is not None and ecs is not None
    assert ocsf["cloud"]["account"]["uid"] == "444455556666"
    assert ocsf["actor"]["user"]["account"]["uid"] == "111122223333"
    assert ecs["cloud"]["account"]["id"] == "444455556666"  # not the caller's, unlike some vendor mappings
    assert ecs["cloud"]["origin"]["account"]["id"] == "111122223333"


def test_impersonation_chain_is_kept() -> None:
    event = _event("gcp_impersonation_chain")
    ocsf, ecs = project(event, "ocsf"), project(event, "ecs")
    assert ocsf is not None and ecs is not None
    chain = [p["id"] for p in event.model_dump()["who"]["delegation"]]
    assert [p["id"] for p in ocsf["unmapped"]["delegation"]] == chain
    assert [p["id"] for p in ecs["cloudaudit"]["delegation"]] == chain
    assert set(chain) <= set(ecs["related"]["user"])


def test_admin_grant_keeps_grantee_and_role() -> None:
    """What a privilege-grant detection needs (who granted which role to whom on what) survives both
    projections. detections/ is not on this branch, so this runs on the hand-written role assignment
    rather than a bundled rule's must-match samples."""
    event = _event("azure_role_assignment")
    ocsf, ecs = project(event, "ocsf"), project(event, "ecs")
    assert ocsf is not None and ecs is not None
    assert ocsf["user"]["uid"] == "00000000-aaaa-4000-8000-000000000002"
    assert ocsf["privileges"] == ["Owner"]
    assert ocsf["resource"]["uid"] == "/subscriptions/00000000-cccc-4000-8000-000000000001"
    assert ocsf["actor"]["user"]["uid"] == "00000000-aaaa-4000-8000-000000000001"
    assert ecs["user"]["target"] == {"id": "00000000-aaaa-4000-8000-000000000002", "name": "Dave Example",
                                     "roles": ["Owner"]}
    assert ecs["user"]["id"] == "00000000-aaaa-4000-8000-000000000001"
    assert "admin" in ecs["event"]["type"]
    assert ecs["cloudaudit"]["privilege_changes"][0]["scope"] == ocsf["resource"]["uid"]


@pytest.mark.parametrize("name", ["native", "ocsf", "ecs"])
def test_digest_is_not_an_event_and_projects_to_nothing(name: str) -> None:
    """A CloudTrail digest file is a NonEvent (counted by kind in the run summary), never an event: it
    has no OCSF class and no ECS document; project() gives None and the sinks never see it."""
    results = list(Normalizer().blob((TESTDATA / "aws_digest_non_event.raw.json").read_bytes(), "digest"))
    assert len(results) == 1 and isinstance(results[0], NonEvent)
    assert project(results[0], name) is None


def test_account_change_targets_the_account_changed() -> None:
    data = orjson.loads((TESTDATA / "aws_failed_console_signin.event.json").read_bytes())
    data["what"].update(action="iam:CreateAccessKey", operation="CreateAccessKey", service="iam.amazonaws.com",
                        activity="create", category="iam", outcome="success", request='{"userName":"build-bot"}')
    data["what"].pop("error")
    doc = project(Event.model_validate(data), "ocsf")
    assert doc is not None
    assert (doc["class_uid"], doc["user"]) == (ACCOUNT_CHANGE, {"name": "build-bot"})
