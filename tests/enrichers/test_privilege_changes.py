"""The same grant in three clouds gives the same what.privilege_changes shape and the same risk tags.

Records in testdata/privilege/ are written for this test: a GCP SetIamPolicy that binds roles/owner, an
AWS AttachUserPolicy of AdministratorAccess and an Azure Owner role assignment, run through
``cloudaudit enrich``.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from connectors.normalize import Normalizer
from enrichers.catalog import CatalogError, PrivilegeTags, default_catalog
from pipelines.cli import main
from schemas.event import Event
from tests.enrichers.conftest import on_model

DATA = Path(__file__).resolve().parent / "testdata" / "privilege"


def test_admin_grant_has_one_shape_and_one_tag_in_every_cloud(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(DATA.glob("*.json"))
    assert main(["enrich", "--no-raw", *map(str, files)]) == 0
    events = {e["where"]["provider"]: e for e in map(orjson.loads, capsys.readouterr().out.splitlines())}
    assert set(events) == {"aws", "gcp", "azure"}
    for provider, e in events.items():
        (change,) = e["what"]["privilege_changes"]
        assert set(change) == {"op", "kind", "role", "role_name", "grantee", "scope", "condition"}, provider
        assert change["op"] == "add" and change["grantee"]["type"] == "user", provider
        assert change["scope"], provider
        assert {"iam.privilege_grant", "iam.admin_grant"} <= set(e["what"]["risk_tags"]), provider
    assert events["gcp"]["what"]["privilege_changes"][0]["role"] == "roles/owner"
    assert events["gcp"]["what"]["privilege_changes"][0]["grantee"]["id"] == "user:new.admin@example.org"
    assert events["aws"]["what"]["privilege_changes"][0]["role_name"] == "AdministratorAccess"
    assert events["aws"]["what"]["privilege_changes"][0]["grantee"]["id"] == "new.admin"
    assert events["aws"]["what"]["privilege_changes"][0]["scope"] == "210987654321"
    assert events["azure"]["what"]["privilege_changes"][0]["role_name"] == "Owner"
    assert events["azure"]["what"]["privilege_changes"][0]["grantee"]["id"] == "4e5f6071-8293-44a5-b6c7-d8e9f0a1b2c3"
    assert events["azure"]["what"]["privilege_changes"][0]["scope"] == "/subscriptions/0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9"


def _event(name: str, old: str = "", new: str = "") -> Event:
    (e,) = Normalizer().blob((DATA / name).read_bytes().replace(old.encode(), new.encode()), name)
    assert isinstance(e, Event)
    return e


def test_a_reader_grant_is_a_grant_but_not_admin() -> None:
    e = _event("gcp_set_iam_policy_owner.json", "roles/owner", "roles/viewer")
    tags = on_model(default_catalog().classify, e)
    assert "iam.privilege_grant" in tags and "iam.admin_grant" not in tags


def test_a_removal_is_no_grant() -> None:
    e = _event("aws_attach_user_policy_admin.json")
    e.what.privilege_changes[0].op = "remove"
    e.what.action = "iam:SomethingUncatalogued"
    e.what.risk_tags = []
    assert on_model(default_catalog().classify, e) == []


def test_a_customer_policy_named_like_an_aws_one_is_not_admin() -> None:
    e = _event("aws_attach_user_policy_admin.json")
    change = e.what.privilege_changes[0]
    change.role, change.role_name = "arn:aws:iam::210987654321:policy/AdministratorAccess", "AdministratorAccess"
    assert "iam.admin_grant" not in PrivilegeTags.load().tags(e.model_dump())


def test_privilege_table_file_problems_are_catalog_errors(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("grant_kinds: [policy]\nadmin_roles: {oracle: [x]}\n")
    with pytest.raises(CatalogError, match="unknown providers"):
        PrivilegeTags.load(bad)
