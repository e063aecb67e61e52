"""Identity enrichment: the directory formats, and matching each cloud's identifiers to one person."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest
import yaml

from enrichers._files import ReferenceDataError
from enrichers.chain import Chain
from enrichers.identity import Directory, IdentityEnricher, candidate_keys, identifier_key
from schemas.event import Event
from tests.enrichers.conftest import REF, connector_events, on_model


@pytest.fixture(scope="module")
def directory() -> Directory:
    return Directory.from_bytes((REF / "directory.yaml").read_bytes(), "directory.yaml")


def person_of(directory: Directory, event: Event) -> tuple[str | None, bool]:
    person, _, _ = directory.match(event.model_dump())
    return person.id, person.known


def first(name: str, action: str | None = None) -> Event:
    for e in connector_events(name):
        if action is None or e.what.action == action:
            return e
    raise AssertionError(f"no {action} in {name}")


def test_the_three_formats_load_the_same_entries(tmp_path: Path) -> None:
    from_yaml = Directory.from_bytes((REF / "directory.yaml").read_bytes(), "d.yaml")
    from_csv = Directory.from_bytes((REF / "directory.csv").read_bytes(), "d.csv")
    doc = yaml.safe_load((REF / "directory.yaml").read_text())
    from_json = Directory.from_bytes(orjson.dumps(doc), "d.json")
    assert from_json.index == from_yaml.index
    for key, person in from_csv.index.items():  # the CSV holds two of the entries, the same way
        assert from_yaml.index[key] == person


@pytest.mark.parametrize(("value", "key"), [
    ("arn:aws:iam::111122223333:user/Alice", "arn:arn:aws:iam::111122223333:user/alice"),
    ("Alice@Example.com", "email:alice@example.com"),
    ("user:alice@example.com", "email:alice@example.com"),
    ("serviceAccount:ci@p.iam.gserviceaccount.com", "email:ci@p.iam.gserviceaccount.com"),
    ("sso:alice", "sso:alice"),
    ("A11CE000-1D3F-4A5C-9E7B-0C2D4F6A8B10", "id:a11ce000-1d3f-4a5c-9e7b-0c2d4f6a8b10"),
    ("principal://iam.googleapis.com/locations/global/workforcePools/p/subject/bob",
     "id:principal://iam.googleapis.com/locations/global/workforcepools/p/subject/bob"),
])
def test_identifier_keys_are_typed_and_case_folded(value: str, key: str) -> None:
    assert identifier_key(value) == key


@pytest.mark.parametrize(("fixture", "action", "expected"), [
    # AWS: an IAM user ARN
    ("ipv6_source_address.jsonl", None, "P-1001"),
    # AWS: an AWSReservedSSO_ session whose name is an e-mail (the directory knows the e-mail)
    ("assumed_role_sso_permission_set.jsonl", None, "P-1002"),
    # AWS: an IAM Identity Center sign-in by identity store user id
    ("identity_center_user_signin.jsonl", None, "P-1004"),
    # AWS: a role used only by one service identity (session name is a run id: the role says who)
    ("s3_log_file_assumed_role.json", None, "S-0001"),
    # GCP: a service account key caller, known as the CI service identity
    ("gcs_sink_service_account_key.jsonl", None, "S-0001"),
    # GCP: impersonation: the first hop of the chain (alice) is the person, not the service account
    ("impersonation_chain.jsonl", "cloudresourcemanager:SetIamPolicy", "P-1001"),
    # GCP: user: subject
    ("gcloud_array_long_running_operation.json", None, "P-1001"),
    # Azure: object id in the claims
    ("rest_api_event.json", None, "P-1003"),
])
def test_each_cloud_identifier_finds_its_entry(directory: Directory, fixture: str, action: str | None,
                                                expected: str) -> None:
    assert person_of(directory, first(fixture, action)) == (expected, True)


def test_unknown_identifiers_are_unknown_not_guessed(directory: Directory) -> None:
    # "anaya" is an IAM user the directory does not hold; bob.smith@example.com's IAM user name "bob.smith"
    # is not his e-mail and must not be matched by its likeness.
    for event in connector_events("console_login_failures.jsonl"):
        person, key, _ = directory.match(event.model_dump())
        assert (person.known, person.id, key) == (False, None, None)
    ev = first("anonymous_unknown_and_missing_identity.jsonl", "s3:GetObject")
    assert person_of(directory, ev) == (None, False)


def test_sso_session_named_by_user_name(directory: Directory) -> None:
    ev = first("assumed_role_sso_permission_set.jsonl")
    ev.who.actor.id = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/alice"
    ev.who.actor.email = ev.who.actor.name = None
    person, key, origin = directory.match(ev.model_dump())
    assert (person.id, key, origin) == ("P-1001", "sso:alice", "who.actor.id")
    # The same session name under a role that is not an Identity Center permission set says nothing.
    ev.who.actor.id = "arn:aws:sts::111122223333:assumed-role/SomeRole/alice"
    ev.who.session = None
    assert directory.match(ev.model_dump())[0].known is False


def test_delegation_chain_original_caller_comes_first(directory: Directory) -> None:
    ev = first("impersonation_chain.jsonl", "cloudresourcemanager:SetIamPolicy")
    keys = [k for k, _ in candidate_keys(ev.model_dump())]
    assert keys[0] == "email:alice@example.com"
    assert "email:deployer@acme-prod.iam.gserviceaccount.com" in keys


def test_enricher_sets_person_and_counts_outcomes(directory: Directory) -> None:
    chain = Chain([IdentityEnricher(directory)])
    counts: Counter[str] = Counter()
    events = [*connector_events("rest_api_page.json"), first("anonymous_unknown_and_missing_identity.jsonl", "s3:GetObject")]
    for e in events:
        on_model(chain.apply, e, counts)
    assert events[0].who.person is not None and events[0].who.person.id == "P-1003"
    assert events[0].who.person.privileged is False and events[0].who.person.department == "Security"
    assert all(e.who.person is not None for e in events)
    assert counts["enrich/identity/hit"] == 1
    assert counts["enrich/identity/miss"] == 1  # the service principal is not in the directory
    assert counts["enrich/identity/none"] == 1  # anonymous: nothing to look up


@pytest.mark.parametrize(("text", "problem"), [
    ("identities: [{name: x, email: a@b.c}]", "'id' is required"),
    ("identities: [{id: a, kind: robot, email: a@b.c}]", "kind must be one of"),
    ("identities: [{id: a, email: a@b.c, shoe_size: 9}]", "unknown field(s) shoe_size"),
    ("identities: [{id: a, email: a@b.c}, {id: b, emails: [A@b.c]}]", "belongs to both 'a' and 'b'"),
    ("identities: [{id: a, email: a@b.c}, {id: a, email: c@d.e}]", "duplicate id 'a'"),
    ("identities: [{id: a, aws_iam_users: [alice]}]", "holds ARNs"),
    ("identities: [{id: a, email: a@b.c, privileged: maybe}]", "not a yes/no value"),
    ("identities: [{id: a}]", "no identifier"),
    ("identities: {id: a}", "expected a list"),
    ("identities: [a: [", "not valid YAML"),
])
def test_broken_directories_are_one_clear_error(text: str, problem: str) -> None:
    with pytest.raises(ReferenceDataError) as err:
        Directory.from_bytes(text.encode(), "bad.yaml")
    assert problem in str(err.value) and "bad.yaml" in str(err.value)
    assert "\n" not in str(err.value)
