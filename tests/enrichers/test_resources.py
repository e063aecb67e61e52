"""Account context and resource tags from the inventory (and tags a request sets)."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from enrichers._files import ReferenceDataError
from enrichers.chain import Chain
from enrichers.resources import AccountEnricher, Inventory, ResourceTagsEnricher, tags_from_request
from schemas.event import Resource
from tests.enrichers.conftest import REF, connector_events, on_model


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return Inventory.from_bytes((REF / "inventory.yaml").read_bytes(), "inventory.yaml")


def test_csv_and_yaml_give_the_same_accounts(inventory: Inventory) -> None:
    from_csv = Inventory.from_bytes((REF / "inventory.csv").read_bytes(), "inventory.csv")
    for key, ctx in from_csv.accounts.items():
        assert inventory.accounts[key] == ctx


def test_account_context_for_each_cloud(inventory: Inventory) -> None:
    chain = Chain([AccountEnricher(inventory)])
    counts: Counter[str] = Counter()
    seen = {}
    for name in ("s3_log_file_iam_user.json.gz", "pubsub_push.json", "rest_api_event.json", "panther_style.jsonl"):
        for e in connector_events(name):
            on_model(chain.apply, e, counts)
            assert e.where.account_context is not None
            seen[e.where.provider, e.where.account] = e.where.account_context
    aws = seen["aws", "111122223333"]
    assert (aws.known, aws.environment, aws.owner, aws.criticality, aws.data_classification, aws.kind) == (
        True, "prod", "platform-team", "critical", "confidential", "account")
    assert seen["gcp", "acme-prod"].kind == "project" and seen["gcp", "acme-dev"].environment == "dev"
    assert seen["azure", "5f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"].owner == "cloud-ops"
    assert counts["enrich/account/miss"] == 0


def test_unknown_account_is_marked_unknown_and_alias_matches(inventory: Inventory) -> None:
    (e, *_) = connector_events("ipv6_source_address.jsonl")
    e.where.account = "999999999999"
    assert on_model(AccountEnricher(inventory).enrich, e) == "miss"
    assert e.where.account_context is not None
    assert (e.where.account_context.id, e.where.account_context.known) == ("999999999999", False)
    e.where.account = "482749184637"  # the project number of acme-prod
    assert on_model(AccountEnricher(inventory).enrich, e) == "hit"
    assert e.where.account_context.id == "acme-prod"
    e.where.account = None
    e.where.account_context = None
    assert on_model(AccountEnricher(inventory).enrich, e) == "none" and e.where.account_context is None


def test_resource_tags_from_the_inventory(inventory: Inventory) -> None:
    events = list(connector_events("caller_identities.jsonl"))
    counts: Counter[str] = Counter()
    chain = Chain([ResourceTagsEnricher(inventory)])
    for e in events:
        on_model(chain.apply, e, counts)
    vm = [e for e in events if e.what.resources and e.what.resources[0].name == "vm-batch-02"]
    assert vm and all(
        {t.key: t.value for t in e.what.resources[0].tags or []} == {"environment": "prod", "costCenter": "4711"}
        for e in vm
    )
    assert counts["enrich/resource_tags/hit"] == len(vm)


@pytest.mark.parametrize(("request_json", "tags"), [
    # CloudTrail RunInstances
    ({"instanceType": "t3.micro", "tagSpecificationSet": {"items": [
        {"resourceType": "instance", "tags": [{"key": "env", "value": "prod"}, {"key": "owner", "value": "ml"}]}]}},
     {"env": "prod", "owner": "ml"}),
    # CloudTrail CreateRole / TagResource
    ({"roleName": "x", "tags": [{"key": "team", "value": "sec"}]}, {"team": "sec"}),
    # Azure request body
    ({"location": "westeurope", "tags": {"env": "dev"}, "properties": {}}, {"env": "dev"}),
    # GCP labels
    ({"@type": "type.googleapis.com/compute.instances.insert", "labels": {"env": "staging"}}, {"env": "staging"}),
    ({"bucketName": "b"}, {}),
])
def test_tags_a_request_sets(request_json: dict, tags: dict) -> None:
    got = tags_from_request(orjson.dumps(request_json).decode())
    assert {t.key: t.value for t in got} == tags


def test_request_tags_fill_the_first_resource_without_an_inventory() -> None:
    (e, *_) = connector_events("ipv6_source_address.jsonl")
    e.what.resources = [Resource(id="arn:aws:iam::111122223333:role/new-role")]
    e.what.request = orjson.dumps({"tags": [{"key": "env", "value": "prod"}]}).decode()
    e.what.operation, e.what.activity = "CreateRole", "create"
    assert on_model(ResourceTagsEnricher(None).enrich, e) == "request"
    assert e.what.resources[0].tags is not None and e.what.resources[0].tags[0].key == "env"


@pytest.mark.parametrize(("operation", "activity", "tagged"), [
    ("CreateRole", "create", True),
    ("TagRole", "update", True),
    ("Microsoft.Resources/tags/write", "update", True),
    ("AssumeRole", "login", False),  # session tags belong to the session, not to the role
    ("UpdateAssumeRolePolicy", "update", False),
    ("ListRoleTags", "read", False),
])
def test_request_tags_are_the_target_s_only_when_the_call_creates_or_tags_it(
    operation: str, activity: str, tagged: bool
) -> None:
    (e, *_) = connector_events("ipv6_source_address.jsonl")
    e.what.resources = [Resource(id="arn:aws:iam::111122223333:role/app")]
    e.what.operation, e.what.activity = operation, activity  # type: ignore[assignment]
    e.what.request = orjson.dumps({"roleArn": "arn:aws:iam::111122223333:role/app",
                                   "tags": [{"key": "project", "value": "blue"}]}).decode()
    on_model(ResourceTagsEnricher(None).enrich, e)
    assert (e.what.resources[0].tags is not None) is tagged


@pytest.mark.parametrize(("text", "problem"), [
    ("accounts: [{id: '1', environment: production}]", "environment must be one of"),
    ("accounts: [{id: '1', criticality: extreme}]", "criticality must be one of"),
    ("accounts: [{id: '1'}, {id: '2', aliases: ['1']}]", "listed twice"),
    ("accounts: [{name: x}]", "'id' is required"),
    ("accounts: [{id: '1', colour: red}]", "unknown field(s) colour"),
    ("things: []", "unknown section(s) things"),
    ("resources: [{id: a, tags: 5}]", "tags must be"),
    ("{}", "no accounts and no resources"),
])
def test_broken_inventories_are_one_clear_error(text: str, problem: str) -> None:
    with pytest.raises(ReferenceDataError) as err:
        Inventory.from_bytes(text.encode(), "inv.yaml")
    assert problem in str(err.value) and "inv.yaml" in str(err.value)
