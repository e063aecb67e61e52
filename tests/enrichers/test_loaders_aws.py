"""The AWS loaders against moto in server mode (the suite's ``aws`` fixture): IAM Identity Center users
become a directory and Organizations accounts an inventory, in the formats the enrichers read."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from enrichers.identity import Directory
from enrichers.loaders import aws as loader
from enrichers.loaders.files import merge
from enrichers.resources import Inventory
from pipelines.cli import main
from schemas.event import Event

pytestmark = pytest.mark.emulator


def _store(ids: Any) -> str:
    """Users of a fresh identity store: three people, one disabled-looking, groups for privilege and
    department."""
    store = "d-" + uuid.uuid4().hex[:10]
    users = {}
    for user_name, display, email in [
        ("maria", "Maria Garcia", "Maria.Garcia@example.com"),
        ("li.wei", "Li Wei", "li.wei@example.com"),
        ("svc-deploy", None, None),
    ]:
        kw: dict[str, Any] = {"IdentityStoreId": store, "UserName": user_name,
                              "Name": {"GivenName": user_name.split(".")[0], "FamilyName": "X"}}
        kw["DisplayName"] = display or user_name
        if email:
            kw["Emails"] = [{"Value": "other-" + email, "Type": "home", "Primary": False},
                            {"Value": email, "Type": "work", "Primary": True}]
        users[user_name] = ids.create_user(**kw)["UserId"]
    for group, members in [("AWSAdmins", ["maria"]), ("dept-Platform", ["maria", "svc-deploy"]),
                           ("dept-Finance", ["li.wei"]), ("Everyone", ["maria", "li.wei", "svc-deploy"])]:
        gid = ids.create_group(IdentityStoreId=store, DisplayName=group)["GroupId"]
        for m in members:
            ids.create_group_membership(IdentityStoreId=store, GroupId=gid, MemberId={"UserId": users[m]})
    return store


def test_identity_center_people_against_moto(aws: str) -> None:
    ids = boto3.client("identitystore")
    store = _store(ids)
    rows = loader.identity_center_people(ids, store, privileged_groups=["awsadmins"], department_group_prefix="dept-",
                                      page_size=1)
    by_id = {r["id"]: r for r in rows}
    assert sorted(by_id) == ["li.wei@example.com", "maria.garcia@example.com", "svc-deploy"]
    maria = by_id["maria.garcia@example.com"]
    assert maria["name"] == "Maria Garcia"
    assert maria["email"] == "Maria.Garcia@example.com"  # the primary one, as written
    assert maria["aws_sso_users"] == ["maria"]
    assert maria["emails"] == ["other-Maria.Garcia@example.com", "Maria.Garcia@example.com"]
    assert maria["privileged"] is True and maria["department"] == "Platform"
    assert len(maria["identifiers"]) == 1  # the identity store user id
    assert by_id["li.wei@example.com"]["privileged"] is False
    assert by_id["li.wei@example.com"]["department"] == "Finance"
    assert by_id["svc-deploy"]["email"] is None  # no e-mail: the user name is the id


def test_unknown_privileged_group_is_a_clear_error(aws: str) -> None:
    ids = boto3.client("identitystore")
    store = _store(ids)
    with pytest.raises(loader.LoaderError, match="no group named breakglass"):
        loader.identity_center_people(ids, store, privileged_groups=["BreakGlass"])


def test_directory_command_writes_what_the_identity_enricher_reads(aws: str, tmp_path: Path) -> None:
    store = _store(boto3.client("identitystore"))
    out = tmp_path / "people.yaml"
    assert main(["directory", "aws-identity-center", "--identity-store-id", store, "--privileged-group",
                 "AWSAdmins", "--out", str(out)]) == 0
    assert out.read_text().startswith("# Written by cloudaudit from IAM Identity Center identity store")
    directory = Directory.from_bytes(out.read_bytes(), str(out))
    # An AWSReservedSSO_ role session of maria (the name Identity Center gives the session) is found.
    event = Event(
        id="e" * 32, when={"time": datetime(2026, 3, 2, tzinfo=UTC)},
        who={"actor": {"type": "role_session",
                       "id": "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_0123abcd/maria"}},
        what={"action": "sts:AssumeRole", "operation": "AssumeRole"}, where={"provider": "aws"},
        source={"format": "aws.cloudtrail"},
    )
    person, key, _origin = directory.match(event.model_dump())
    assert (person.id, person.known, person.privileged, key) == ("maria.garcia@example.com", True, True, "sso:maria")


def test_directory_merge_keeps_other_clouds_and_hand_written_fields(aws: str, tmp_path: Path) -> None:
    store = _store(boto3.client("identitystore"))
    existing = tmp_path / "people.yaml"
    existing.write_text(yaml.safe_dump({"identities": [
        {"id": "maria.garcia@example.com", "name": "María García", "manager": "cto@example.com",
         "gcp_principals": ["maria.garcia@example.com"], "azure_object_ids": ["0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"]},
        {"id": "contractor-7", "email": "c7@partner.example", "azure_upns": ["c7@partner.example"]},
    ]}))
    out = tmp_path / "merged.json"
    assert main(["directory", "aws-identity-center", "--identity-store-id", store, "--merge", str(existing),
                 "--out", str(out)]) == 0
    rows = {r["id"]: r for r in json.loads(out.read_text())["identities"]}
    maria = rows["maria.garcia@example.com"]
    assert maria["name"] == "María García"  # hand-written value kept
    assert maria["manager"] == "cto@example.com"
    assert maria["aws_sso_users"] == ["maria"] and maria["azure_object_ids"]  # both clouds
    assert "contractor-7" in rows and "li.wei@example.com" in rows
    Directory.from_bytes(out.read_bytes(), str(out))  # and the enricher accepts it


def test_identity_store_is_found_when_not_given(aws: str, tmp_path: Path) -> None:
    """Without --identity-store-id the account's one Identity Center instance is used (moto has one)."""
    store = loader.find_identity_store(boto3.client("sso-admin"))
    ids = boto3.client("identitystore")
    ids.create_user(IdentityStoreId=store, UserName="ana", DisplayName="Ana", Name={"GivenName": "Ana", "FamilyName": "Silva"},
                    Emails=[{"Value": "ana@example.com", "Primary": True}])
    out = tmp_path / "people.csv"
    assert main(["directory", "aws-identity-center", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.splitlines()[0].startswith("id,kind,name,email")
    assert "ana@example.com" in text
    Directory.from_bytes(out.read_bytes(), str(out))


def _org(org: Any) -> dict[str, str]:
    org.create_organization(FeatureSet="ALL")
    made = {}
    for name, tags in [
        ("prod-payments", {"Environment": "Production", "Owner": "payments-team", "Criticality": "Tier-0",
                           "DataClassification": "Confidential"}),
        ("dev-sandbox", {"env": "sbx", "team": "platform"}),
        ("weird", {"Environment": "moon", "Criticality": "urgent"}),
    ]:
        status = org.create_account(AccountName=name, Email=f"{name}@example.com",
                                    Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        made[name] = status["CreateAccountStatus"]["AccountId"]
    return made


def test_organizations_accounts_against_moto(aws: str) -> None:
    org = boto3.client("organizations")
    made = _org(org)
    warnings: list[str] = []
    rows = {r["id"]: r for r in loader.organizations_accounts(org, warn=warnings.append, page_size=1)}
    assert len(rows) == 4  # the management account and three members
    prod = rows[made["prod-payments"]]
    assert prod == {"id": made["prod-payments"], "provider": "aws", "kind": "account", "name": "prod-payments",
                    "environment": "prod", "owner": "payments-team", "criticality": "critical",
                    "data_classification": "confidential"}
    dev = rows[made["dev-sandbox"]]
    assert (dev["environment"], dev["owner"]) == ("sandbox", "platform")
    weird = rows[made["weird"]]
    assert "environment" not in weird and "criticality" not in weird
    assert len(warnings) == 2 and all("left out" in w for w in warnings)


def test_inventory_command_writes_what_the_account_enricher_reads(aws: str, tmp_path: Path) -> None:
    org = boto3.client("organizations")
    made = _org(org)
    org.tag_resource(ResourceId=made["dev-sandbox"], Tags=[{"Key": "CostOwner", "Value": "finops"}])
    existing = tmp_path / "accounts.yaml"
    existing.write_text(yaml.safe_dump({"accounts": [
        {"id": "acme-prod", "provider": "gcp", "environment": "prod"},
        {"id": made["prod-payments"], "aliases": ["payments"], "owner": "stale-owner"},
    ]}))
    out = tmp_path / "accounts.yaml"
    assert main(["inventory", "aws-organizations", "--tag", "owner=CostOwner", "--merge", str(existing),
                 "--out", str(out)]) == 0
    inv = Inventory.from_bytes(out.read_bytes(), str(out))
    assert inv.accounts["acme-prod"].environment == "prod"  # another cloud's entry kept
    assert inv.accounts["payments"].owner == "payments-team"  # alias kept, the tag wins over the stale owner
    assert inv.accounts[made["dev-sandbox"]].owner == "finops"  # --tag owner=CostOwner tried first


def test_bad_tag_option_is_a_usage_error(aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inventory", "aws-organizations", "--tag", "colour=Color", "--out", str(tmp_path / "a.yaml")]) == 2
    err = capsys.readouterr().err
    assert "expected FIELD=TAGKEY" in err and err.count("\n") == 1


def test_aws_error_is_one_line_without_secrets(aws: str) -> None:
    """An API error (here: tags of an account that does not exist) becomes one line naming the service,
    the operation and AWS's error code, with no key material."""
    import os

    from enrichers.loaders.aws import _pages

    org = boto3.client("organizations")
    org.create_organization(FeatureSet="ALL")
    with pytest.raises(loader.LoaderError) as info:
        list(_pages(org, "list_tags_for_resource", "Tags", None, ResourceId="999999999999"))
    msg = str(info.value)
    assert msg.startswith("organizations list_tags_for_resource: TargetNotFoundException: ")
    assert "\n" not in msg
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in msg and os.environ["AWS_ACCESS_KEY_ID"] not in msg


def test_unknown_group_from_the_command_line_is_exit_2(aws: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["directory", "aws-identity-center", "--identity-store-id", "d-0000000000", "--privileged-group", "x",
               "--out", str(tmp_path / "a.yaml")])
    err = capsys.readouterr().err
    assert rc == 2 and err == "cloudaudit: error: aws-identity-center: no group named x in d-0000000000\n"
    assert not (tmp_path / "a.yaml").exists()


def test_unreachable_endpoint_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.emulators import free_port

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATESTTESTTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    port = free_port()
    rc = main(["inventory", "aws-organizations", "--endpoint", f"http://127.0.0.1:{port}",
               "--out", str(tmp_path / "a.yaml")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "organizations list_accounts: Could not connect to the endpoint URL" in err


def test_merge_unites_lists_and_fills_empty_fields() -> None:
    old = [{"id": "A@x", "name": "", "emails": "a@x;b@x", "department": "Ops"}]
    new = [{"id": "a@x", "name": "A", "emails": ["b@x", "c@x"], "department": "Platform", "status": "active"},
           {"id": "z@x", "name": "Z"}]
    got = merge(old, new, cloud_wins=("status",))
    assert got[0] == {"id": "A@x", "name": "A", "emails": ["a@x", "b@x", "c@x"], "department": "Ops",
                      "status": "active"}
    assert got[1] == {"id": "z@x", "name": "Z"}


def test_person_from_user_reads_the_enterprise_extension() -> None:
    user = {"UserId": "u-1", "UserName": "maria", "UserStatus": "DISABLED",
            "Emails": [{"Value": "maria@example.com"}],
            "Extensions": {loader.ENTERPRISE_EXTENSION: {"department": "Security", "manager": {"value": "u-2"}}}}
    row = loader.person_from_user(user, {"u-1": "maria@example.com", "u-2": "boss@example.com"}, None, "Platform")
    assert (row["department"], row["manager"], row["status"], row["privileged"]) == (
        "Security", "boss@example.com", "disabled", None)
