"""AWS CloudTrail connector: wire shapes, the identities existing mappings get wrong, outcomes, failures,
and the shared corpus.

Golden files (connectors/aws_cloudtrail/testdata) pin whole events; these tests name the fields that
matter for each case so that a regression says what broke.
"""

from __future__ import annotations

import copy
import gzip
import ipaddress
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.aws_cloudtrail import CONNECTOR
from connectors.aws_cloudtrail.mapping import names_for
from connectors.errors import NonEvent
from connectors.normalize import Normalizer
from schemas.deadletter import DeadLetter
from schemas.event import Event

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"

ASSUMED_ROLE: dict[str, Any] = {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLEDEPLOYROLE:ci-run-4821",
    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/ci-deploy/ci-run-4821",
    "accountId": ACCOUNT,
    "accessKeyId": "ASIAEXAMPLEDEPLOYKEY",
    "sessionContext": {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROAEXAMPLEDEPLOYROLE",
            "arn": f"arn:aws:iam::{ACCOUNT}:role/ci-deploy",
            "accountId": ACCOUNT,
            "userName": "ci-deploy",
        },
        "webIdFederationData": {},
        "attributes": {"creationDate": "2024-03-14T10:00:11Z", "mfaAuthenticated": "true"},
    },
}

IAM_USER: dict[str, Any] = {
    "type": "IAMUser",
    "principalId": "AIDAJ45Q7YFFAREXAMPLE",
    "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
    "accountId": ACCOUNT,
    "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
    "userName": "alice",
}


def record(**fields: Any) -> dict[str, Any]:
    """A complete management event; keyword arguments replace fields (None removes one)."""
    rec: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": copy.deepcopy(ASSUMED_ROLE),
        "eventTime": "2024-03-14T10:02:37Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "CreateAccessKey",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.77",
        "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22",
        "requestParameters": {"userName": "deploy-bot"},
        "responseElements": {"accessKey": {"accessKeyId": "AKIAI44QH8DHBEXAMPLE", "status": "Active"}},
        "requestID": "0e8c3b1a-6f2d-4c1e-9a4b-7d2f1e5c8a90",
        "eventID": "a3f1c9d2-5b7e-4e8a-9c1d-2f6b8e4a7c31",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    for k, v in fields.items():
        if v is None:
            rec.pop(k, None)
        else:
            rec[k] = v
    return rec


def results(*objs: Any, location: str = "test.jsonl") -> list[Any]:
    return list(Normalizer().records(objs, location))


def event(rec: dict[str, Any], location: str = "test.jsonl") -> Event:
    (out,) = results(rec, location=location)
    assert isinstance(out, Event), out
    return out


def blob(data: bytes, location: str = "file.json") -> list[Any]:
    return list(Normalizer().blob(data, location))


# --- wire shapes ----------------------------------------------------------------------------------


def test_s3_log_file_plain_and_gzip_unwrap_records() -> None:
    doc = {"Records": [record(), record(eventName="ListUsers", eventID="b1")]}
    for data in (orjson.dumps(doc), gzip.compress(orjson.dumps(doc))):
        out = blob(data, "s3://trail-bucket/AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/14/x.json.gz")
        assert [type(r) for r in out] == [Event, Event]
        assert [r.source.shape for r in out] == ["s3_log_file", "s3_log_file"]
        assert [r.what.operation for r in out] == ["CreateAccessKey", "ListUsers"]
        assert out[1].source.location.endswith("x.json.gz#1")


def test_s3_log_file_pretty_printed() -> None:
    data = orjson.dumps({"Records": [record()]}, option=orjson.OPT_INDENT_2)
    (out,) = blob(data)
    assert isinstance(out, Event) and out.source.shape == "s3_log_file"


def test_single_records_as_json_lines() -> None:
    data = orjson.dumps(record()) + b"\n" + orjson.dumps(record(eventID="x2")) + b"\n"
    out = blob(data, "export.jsonl")
    assert [type(r) for r in out] == [Event, Event]
    assert out[0].source.shape == "record"


def test_eventbridge_unwraps_detail() -> None:
    rec = record()
    envelope = {
        "version": "0",
        "id": "6f87d04b-9f74-4f04-a780-7acf4b0a9b38",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.iam",
        "account": ACCOUNT,
        "time": rec["eventTime"],
        "region": "us-east-1",
        "resources": [],
        "detail": rec,
    }
    ev = event(envelope)
    assert ev.source.shape == "eventbridge"
    assert ev.what.action == "iam:CreateAccessKey"
    assert ev.id == event(rec).id  # the same event through another shape keeps its id


def test_eventbridge_sign_in_and_insight_detail_types() -> None:
    signin = record(eventSource="signin.amazonaws.com", eventName="ConsoleLogin", eventType="AwsConsoleSignIn")
    ev = event({"detail-type": "AWS Console Sign In via CloudTrail", "source": "aws.signin", "detail": signin})
    assert ev.what.activity == "login"
    insight = {"detail-type": "AWS Insight via CloudTrail", "source": "aws.cloudtrail", "detail": _insight("Start")}
    assert results(insight) == [NonEvent("aws.cloudtrail.insight", "test.jsonl#0")]


def test_eventbridge_events_not_from_cloudtrail_are_not_unwrapped() -> None:
    other = {
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "detail": {"instance-id": "i-0123456789abcdef0", "state": "running"},
    }
    (out,) = results(other)
    assert isinstance(out, DeadLetter) and out.code == "unknown_shape"


def test_eventbridge_without_detail_is_a_dead_letter() -> None:
    (out,) = results({"detail-type": "AWS API Call via CloudTrail", "source": "aws.iam"})
    assert isinstance(out, DeadLetter) and out.code == "bad_envelope"
    assert "detail" in out.reason


def _cwl(messages: list[Any]) -> dict[str, Any]:
    return {
        "messageType": "DATA_MESSAGE",
        "owner": ACCOUNT,
        "logGroup": "aws-cloudtrail-logs-111122223333-5a1c2e3f",
        "logStream": "111122223333_CloudTrail_us-east-1",
        "subscriptionFilters": ["to-siem"],
        "logEvents": [
            {"id": str(i), "timestamp": 1710407564000 + i, "message": m} for i, m in enumerate(messages)
        ],
    }


def test_cloudwatch_logs_data_message_parses_each_message() -> None:
    payload = _cwl([orjson.dumps(record()).decode(), orjson.dumps(record(eventID="c2")).decode()])
    out = blob(gzip.compress(orjson.dumps(payload)), "firehose/part-0001.gz")
    assert [type(r) for r in out] == [Event, Event]
    assert {r.source.shape for r in out} == {"cloudwatch_logs"}


def test_cloudwatch_logs_bad_message_costs_one_record() -> None:
    payload = _cwl([orjson.dumps(record()).decode(), "not json {", 42])
    payload["logEvents"].append({"id": "x", "timestamp": 1})  # no message at all
    out = results(payload)
    assert len(out) == 4
    assert isinstance(out[0], Event)
    assert [(r.stage, r.code) for r in out[1:]] == [
        ("parse", "invalid_json"),
        ("parse", "unknown_shape"),
        ("parse", "unknown_shape"),
    ]


def test_cloudwatch_logs_control_message_is_a_non_event() -> None:
    control = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
               "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": 1, "message": "CWL CONTROL MESSAGE"}]}
    (out,) = results(control)
    assert out == NonEvent("aws.cloudwatch_logs.control_message", "test.jsonl#0")


def _lookup(rec: dict[str, Any]) -> dict[str, Any]:
    return {
        "EventId": rec["eventID"],
        "EventName": rec["eventName"],
        "ReadOnly": "false",
        "AccessKeyId": "ASIAEXAMPLEDEPLOYKEY",
        "EventTime": "2024-03-14T10:02:37+00:00",
        "EventSource": rec["eventSource"],
        "Username": "ci-run-4821",
        "Resources": [],
        "CloudTrailEvent": orjson.dumps(rec).decode(),
    }


def test_lookup_events_output_and_single_event() -> None:
    rec = record()
    whole = {"Events": [_lookup(rec), _lookup(record(eventID="l2"))], "NextToken": "abc"}
    out = blob(orjson.dumps(whole, option=orjson.OPT_INDENT_2), "lookup.json")
    assert [type(r) for r in out] == [Event, Event]
    assert out[0].source.shape == "lookup_events"
    single = event(_lookup(rec))
    assert single.source.shape == "lookup_events"
    assert single.id == out[0].id == event(rec).id


def test_lookup_event_whose_cloudtrail_event_is_not_text_is_one_dead_letter() -> None:
    for wrong in ([], [1, 2], 7, True):
        (out,) = blob(orjson.dumps({**_lookup(record()), "CloudTrailEvent": wrong}))
        assert isinstance(out, DeadLetter) and out.code == "bad_envelope", wrong
        assert "CloudTrailEvent is a" in out.reason


def test_an_empty_envelope_is_a_counted_non_event() -> None:
    (out,) = blob(b'{"Records": []}', "empty.json")
    assert out == NonEvent("aws.cloudtrail.empty_envelope", "empty.json#0")
    (out,) = blob(orjson.dumps({"messageType": "DATA_MESSAGE", "logGroup": "g", "logEvents": []}))
    assert out == NonEvent("aws.cloudtrail.empty_envelope", "file.json#0")


def test_json_array_of_records() -> None:
    out = blob(orjson.dumps([record(), record(eventID="j2")]))
    assert [r.source.shape for r in out] == ["json_array", "json_array"]


def test_digest_file_is_a_non_event() -> None:
    digest = {
        "awsAccountId": ACCOUNT,
        "digestStartTime": "2025-03-01T08:00:00Z",
        "digestEndTime": "2025-03-01T09:00:00Z",
        "digestS3Bucket": "trail-bucket",
        "digestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2025/03/01/x.json.gz",
        "newestEventTime": "2025-03-01T08:59:58Z",
        "oldestEventTime": "2025-03-01T07:55:01Z",
        "logFiles": [],
    }
    out = blob(gzip.compress(orjson.dumps(digest)))
    assert len(out) == 1 and isinstance(out[0], NonEvent) and out[0].kind == "aws.cloudtrail.digest"


def _insight(state: str) -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "eventTime": "2025-03-02T10:31:00Z",
        "awsRegion": "us-east-1",
        "eventID": "aaaabbbb-cccc-4ddd-8eee-ffff00001111",
        "eventType": "AwsCloudTrailInsight",
        "recipientAccountId": ACCOUNT,
        "sharedEventID": "12345678-1234-4abc-8def-123456789012",
        "insightDetails": {"state": state, "eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey",
                           "insightType": "ApiCallRateInsight"},
        "eventCategory": "Insight",
    }


def test_insights_events_are_non_events() -> None:
    out = blob(orjson.dumps({"Records": [_insight("Start"), _insight("End")]}))
    assert [(type(r), r.kind) for r in out] == [(NonEvent, "aws.cloudtrail.insight")] * 2


def test_s3_event_notification_is_not_taken_for_a_log_file() -> None:
    notification = {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2025-03-05T10:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAJ45Q7YFFAREXAMPLE"},
        "s3": {"bucket": {"name": "trail-bucket"}, "object": {"key": "AWSLogs/x.json.gz"}},
    }]}
    assert CONNECTOR.unwrap(notification) is None
    assert not CONNECTOR.claims(notification["Records"][0])
    (out,) = results(notification)
    assert isinstance(out, DeadLetter) and out.code == "unknown_shape"


def test_records_that_is_not_a_list_is_a_dead_letter() -> None:
    (out,) = results({"Records": {"eventName": "x"}})
    assert isinstance(out, DeadLetter) and out.code == "bad_envelope" and "Records" in out.reason


def test_claims_is_about_keys_and_types() -> None:
    assert CONNECTOR.claims(record())
    assert CONNECTOR.claims(_insight("Start"))
    assert CONNECTOR.claims({"eventname": "GetRecords", "eventtime": "2023-01-10 21:04:02"})
    # Azure's REST shape has eventName, as an object; GCP and Azure records have none of ours.
    assert not CONNECTOR.claims({"eventName": {"value": "EndRequest"}, "operationName": {"value": "x"}})
    assert not CONNECTOR.claims({"protoPayload": {}, "logName": "projects/p/logs/x", "insertId": "1"})
    assert not CONNECTOR.claims({"time": "2024-01-01T00:00:00Z", "operationName": "x", "resourceId": "/s"})


def test_unwrap_leaves_plain_records_and_other_clouds_alone() -> None:
    assert CONNECTOR.unwrap(record()) is None
    assert CONNECTOR.unwrap({"records": [{"operationName": "x"}]}) is None  # Azure's container
    assert CONNECTOR.unwrap({"protoPayload": {}}) is None


def test_data_lake_rows_with_lower_cased_keys() -> None:
    row = {
        "awsregion": "eu-west-1", "eventid": "5d4b45ed-a15c-41b6-80e9-031729fa060d", "eventname": "GetRecords",
        "eventsource": "dynamodb.amazonaws.com", "eventtime": "2023-01-10 21:04:02", "eventtype": "AwsApiCall",
        "readonly": "true", "recipientaccountid": ACCOUNT,
        "requestparameters": {"shardIterator": "arn:aws:dynamodb:eu-west-1:x", "userName": "kept-as-is"},
        "useridentity": {"type": "AssumedRole", "arn": ASSUMED_ROLE["arn"], "accountid": ACCOUNT,
                         "accesskeyid": "ASIAEXAMPLEDEPLOYKEY",
                         "sessioncontext": {"attributes": {"mfaauthenticated": "false"}}},
        "p_log_type": "AWS.CloudTrail", "p_event_time": "2023-01-10 21:04:02",
    }
    ev = event(row)
    assert ev.what.action == "dynamodb:GetRecords"
    assert ev.what.category == "data_access"
    assert ev.what.read_only is True
    assert ev.where.region == "eu-west-1" and ev.where.account == ACCOUNT
    assert ev.who.actor.type == "role_session" and ev.who.actor.account == ACCOUNT
    assert ev.who.actor.credential_id == "ASIAEXAMPLEDEPLOYKEY"
    assert ev.who.session is not None and ev.who.session.mfa is False
    assert ev.what.request == '{"shardIterator":"arn:aws:dynamodb:eu-west-1:x","userName":"kept-as-is"}'
    assert ev.source.native_id == "5d4b45ed-a15c-41b6-80e9-031729fa060d"


def test_panther_p_keys_are_ignored() -> None:
    plain = event(record())
    with_p = event(record(p_log_type="AWS.CloudTrail", p_event_time="2000-01-01 00:00:00",
                          p_any_aws_arns=["arn:aws:iam::1:user/x"], p_udm={"user": {"arn": "x"}}))
    ignore: Any = {"raw": True, "when": {"ingested"}}
    assert plain.model_dump(exclude=ignore) == with_p.model_dump(exclude=ignore)


# --- who ------------------------------------------------------------------------------------------


def test_assumed_role_actor_is_the_session_and_the_role_its_issuer() -> None:
    ev = event(record())
    a, s = ev.who.actor, ev.who.session
    assert a.type == "role_session"
    assert a.id == f"arn:aws:sts::{ACCOUNT}:assumed-role/ci-deploy/ci-run-4821"
    assert a.name == "ci-run-4821"
    assert a.email is None
    assert a.account == ACCOUNT
    assert a.credential_id == "ASIAEXAMPLEDEPLOYKEY"
    assert a.credential_type == "temporary"
    assert s is not None
    assert s.issuer == f"arn:aws:iam::{ACCOUNT}:role/ci-deploy"
    assert s.issuer_type == "Role"
    assert s.name == "ci-run-4821"
    assert s.mfa is True  # "true" as a string, as real logs write it
    assert s.created is not None and s.created.isoformat() == "2024-03-14T10:00:11+00:00"
    assert ev.how.auth is not None and ev.how.auth.method == "temporary_credentials"


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("false", False), (True, True), (False, False),
                                                  ("TRUE", True), (None, None), ("maybe", None)])
def test_mfa_authenticated_as_string_or_bool(value: Any, expected: bool | None) -> None:
    ui = copy.deepcopy(ASSUMED_ROLE)
    ui["sessionContext"]["attributes"]["mfaAuthenticated"] = value
    ev = event(record(userIdentity=ui))
    assert ev.who.session is not None and ev.who.session.mfa is expected


def test_session_creation_date_in_basic_iso_notation() -> None:
    ui = copy.deepcopy(ASSUMED_ROLE)
    ui["sessionContext"]["attributes"]["creationDate"] = "20131102T010628Z"  # the user guide's example
    ev = event(record(userIdentity=ui))
    assert ev.who.session is not None and ev.who.session.created is not None
    assert ev.who.session.created.isoformat() == "2013-11-02T01:06:28+00:00"


def _sso_role(session_name: str, with_issuer: bool = True) -> dict[str, Any]:
    role = "AWSReservedSSO_AdministratorAccess_3c2d5e7a9b1f4d68"
    ui: dict[str, Any] = {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLESSOADMIN01:{session_name}",
        "arn": f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/{role}/{session_name}",
        "accountId": OTHER_ACCOUNT,
        "accessKeyId": "ASIAEXAMPLESSOKEY001",
    }
    if with_issuer:
        ui["sessionContext"] = {
            "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLESSOADMIN01",
                              "arn": f"arn:aws:iam::{OTHER_ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/{role}",
                              "accountId": OTHER_ACCOUNT, "userName": role},
            "attributes": {"creationDate": "2024-05-02T07:45:19Z", "mfaAuthenticated": "false"},
        }
    return ui


def test_identity_center_permission_set_session_names_the_person() -> None:
    ev = event(record(userIdentity=_sso_role("maria.garcia@example.com"), recipientAccountId=OTHER_ACCOUNT))
    a = ev.who.actor
    assert a.type == "role_session"
    assert a.name == "maria.garcia@example.com"
    assert a.email == "maria.garcia@example.com"
    assert a.account == OTHER_ACCOUNT
    assert ev.who.session is not None
    assert ev.who.session.issuer == (
        f"arn:aws:iam::{OTHER_ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/"
        "AWSReservedSSO_AdministratorAccess_3c2d5e7a9b1f4d68"
    )
    assert ev.how.auth is not None and ev.how.auth.method == "sso"


def test_identity_center_session_with_a_user_name_and_no_issuer_block() -> None:
    ev = event(record(userIdentity=_sso_role("bob.ross", with_issuer=False)))
    assert ev.who.actor.name == "bob.ross"
    assert ev.who.actor.email is None
    assert ev.how.auth is not None and ev.how.auth.method == "sso"


def test_plain_role_session_name_that_looks_like_an_email_is_not_an_email() -> None:
    # In AssumeRole the caller picks the session name: it proves nothing about a mailbox.
    ui = copy.deepcopy(ASSUMED_ROLE)
    ui["arn"] = f"arn:aws:sts::{ACCOUNT}:assumed-role/ci-deploy/ceo@example.com"
    ev = event(record(userIdentity=ui))
    assert ev.who.actor.name == "ceo@example.com"
    assert ev.who.actor.email is None


def test_identity_center_user_sign_in() -> None:
    ui = {"type": "IdentityCenterUser", "accountId": "777788889999",
          "onBehalfOf": {"userId": "94d00cd8-e9e6-4810-b177-b08e84725435",
                         "identityStoreArn": "arn:aws:identitystore::777788889999:identitystore/d-1234567890"},
          "credentialId": "8f761cae-883d-4a3d-af67-3abf46488f71"}
    rec = record(userIdentity=ui, eventSource="signin.amazonaws.com", eventName="CredentialChallenge",
                 eventType="AwsServiceEvent", recipientAccountId="777788889999",
                 additionalEventData={"UserName": "bob.smith@example.com", "CredentialType": "PASSWORD"},
                 serviceEventDetails={"CredentialChallenge": "Success"})
    ev = event(rec)
    a = ev.who.actor
    assert a.type == "human"
    assert a.id == "94d00cd8-e9e6-4810-b177-b08e84725435"
    assert a.name == "bob.smith@example.com"
    assert a.email == "bob.smith@example.com"
    assert a.credential_id == "8f761cae-883d-4a3d-af67-3abf46488f71"
    assert ev.who.session is not None
    assert ev.who.session.issuer == "arn:aws:identitystore::777788889999:identitystore/d-1234567890"
    assert ev.what.activity == "login" and ev.what.category == "authentication"
    assert ev.what.outcome == "success"
    assert ev.how.auth is not None and ev.how.auth.method == "sso"

    failed = event(record(**{**rec, "eventName": "CredentialVerification",
                             "serviceEventDetails": {"CredentialVerification": "Failure"},
                             "additionalEventData": {"CredentialType": "PASSWORD"}}))
    assert failed.what.outcome == "failure"
    assert failed.who.actor.name is None  # this step does not carry the user name


def test_on_behalf_of_without_a_type_is_an_identity_center_user() -> None:
    ui = {"onBehalfOf": {"userId": "u-1", "identityStoreArn": "arn:aws:identitystore::1:identitystore/d-1"}}
    ev = event(record(userIdentity=ui, eventSource="sso.amazonaws.com", eventName="Federate",
                      additionalEventData={"UserName": "kim"}))
    assert (ev.who.actor.type, ev.who.actor.id, ev.who.actor.name) == ("human", "u-1", "kim")
    assert ev.what.activity == "login"


def test_identity_enhanced_role_session_puts_the_person_first_in_the_chain() -> None:
    ui = copy.deepcopy(ASSUMED_ROLE)
    ui["onBehalfOf"] = {"userId": "c4d8b468-d011-70f1-2d5d-19d5fbd5dd63",
                        "identityStoreArn": "arn:aws:identitystore::111122223333:identitystore/d-1234567890"}
    ev = event(record(userIdentity=ui))
    assert ev.who.actor.type == "role_session"
    chain = ev.who.delegation
    assert [(p.id, p.type) for p in chain] == [
        ("c4d8b468-d011-70f1-2d5d-19d5fbd5dd63", "human"),
        (ASSUMED_ROLE["arn"], "role_session"),
    ]


def test_source_identity_is_the_origin_of_the_chain() -> None:
    ui = copy.deepcopy(ASSUMED_ROLE)
    ui["sessionContext"]["sourceIdentity"] = "jane.doe@example.com"
    ev = event(record(userIdentity=ui))
    assert [p.name for p in ev.who.delegation] == ["jane.doe@example.com", "ci-run-4821"]


def test_root() -> None:
    root = {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT,
            "accessKeyId": "AKIAROOTEXAMPLEKEY01"}
    ev = event(record(userIdentity=root))
    a = ev.who.actor
    assert (a.type, a.id, a.name, a.account) == ("root", f"arn:aws:iam::{ACCOUNT}:root", "root", ACCOUNT)
    assert a.credential_type == "long_lived"
    assert ev.how.auth is not None and ev.how.auth.method == "access_key"
    aliased = event(record(userIdentity={**root, "userName": "acme-prod"}))
    assert aliased.who.actor.name == "acme-prod"  # userName is the account alias when set


def test_iam_user_long_lived_and_temporary_keys() -> None:
    ev = event(record(userIdentity=IAM_USER))
    a = ev.who.actor
    assert (a.type, a.id, a.name, a.account) == ("human", IAM_USER["arn"], "alice", ACCOUNT)
    assert (a.credential_id, a.credential_type) == ("AKIAIOSFODNN7EXAMPLE", "long_lived")
    assert ev.who.session is None
    console = {**IAM_USER, "accessKeyId": "ASIAZ3MHALICEEXAMPLE",
               "sessionContext": {"attributes": {"creationDate": "2024-03-14T08:58:02Z", "mfaAuthenticated": "true"}}}
    ev2 = event(record(userIdentity=console, userAgent="AWS Internal", sessionCredentialFromConsole="true"))
    assert ev2.who.actor.credential_type == "temporary"
    assert ev2.who.session is not None and ev2.who.session.mfa is True and ev2.who.session.issuer is None
    assert ev2.how.client == "console"  # the record says the session came from the console


def test_aws_service_principal() -> None:
    ui = {"type": "AWSService", "invokedBy": "lambda.amazonaws.com"}
    ev = event(record(userIdentity=ui, eventSource="sts.amazonaws.com", eventName="AssumeRole",
                      sourceIPAddress="lambda.amazonaws.com", userAgent="lambda.amazonaws.com"))
    a = ev.who.actor
    assert (a.type, a.id, a.name) == ("cloud_service", "lambda.amazonaws.com", "lambda.amazonaws.com")
    assert ev.who.invoked_by == "lambda.amazonaws.com"
    assert ev.how.client == "cloud_service"
    assert ev.where.source.ip is None and ev.where.source.domain == "lambda.amazonaws.com"
    assert ev.what.activity == "login"


def test_invoked_by_keeps_the_principal_as_actor() -> None:
    ui = {**copy.deepcopy(ASSUMED_ROLE), "invokedBy": "cloudformation.amazonaws.com"}
    ev = event(record(userIdentity=ui, sourceIPAddress="cloudformation.amazonaws.com", userAgent=None))
    assert ev.who.actor.type == "role_session"
    assert ev.who.actor.id == ASSUMED_ROLE["arn"]
    assert ev.who.invoked_by == "cloudformation.amazonaws.com"
    assert ev.how.client == "cloud_service"  # no user agent: the service is the client
    assert ev.where.source.domain == "cloudformation.amazonaws.com"


def test_aws_account_principal_of_another_account() -> None:
    ui = {"type": "AWSAccount", "principalId": "AROAEXAMPLEPARTNER01:etl-nightly", "accountId": "999988887777"}
    ev = event(record(userIdentity=ui, eventSource="s3.amazonaws.com", eventName="GetObject",
                      recipientAccountId=OTHER_ACCOUNT))
    a = ev.who.actor
    assert (a.type, a.id, a.account) == ("unknown", "AROAEXAMPLEPARTNER01:etl-nightly", "999988887777")
    assert ev.where.account == OTHER_ACCOUNT


@pytest.mark.parametrize("ui", [
    {"type": "AWSAccount", "principalId": "", "accountId": "anonymous"},
    {"type": "AWSAccount", "principalId": "ANONYMOUS_PRINCIPAL", "accountId": ""},
    {"type": "Unknown", "principalId": "ANONYMOUS_PRINCIPAL"},
    {"type": "Anonymous"},
])
def test_anonymous_callers(ui: dict[str, Any]) -> None:
    ev = event(record(userIdentity=ui, eventSource="s3.amazonaws.com", eventName="GetObject"))
    assert ev.who.actor.type == "anonymous"
    assert ev.who.actor.account is None


def test_federated_user_is_a_session_issued_by_the_user() -> None:
    ui = {"type": "FederatedUser", "principalId": f"{ACCOUNT}:partner-portal",
          "arn": f"arn:aws:sts::{ACCOUNT}:federated-user/partner-portal", "accountId": ACCOUNT,
          "accessKeyId": "ASIAEXAMPLEFEDUSER01",
          "sessionContext": {"sessionIssuer": {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/token-broker",
                                               "userName": "token-broker", "accountId": ACCOUNT},
                             "attributes": {"creationDate": "2024-11-12T09:00:00Z", "mfaAuthenticated": "false"}}}
    ev = event(record(userIdentity=ui))
    a, s = ev.who.actor, ev.who.session
    assert (a.type, a.id, a.name) == ("role_session", ui["arn"], "partner-portal")
    assert s is not None
    assert (s.issuer, s.issuer_type, s.name) == (f"arn:aws:iam::{ACCOUNT}:user/token-broker", "IAMUser", "partner-portal")
    bare = {k: v for k, v in ui.items() if k != "sessionContext"}
    ev2 = event(record(userIdentity=bare))
    assert ev2.who.actor.type == "role_session" and ev2.who.session is not None and ev2.who.session.issuer is None


def test_saml_and_web_identity_callers() -> None:
    saml = {"type": "SAMLUser", "principalId": "SjNk4mF0aE7EXAMPLE/RpPnRnm6A=:jane.doe@example.com",
            "userName": "jane.doe@example.com", "identityProvider": "SjNk4mF0aE7EXAMPLE/RpPnRnm6A="}
    ev = event(record(userIdentity=saml, eventSource="sts.amazonaws.com", eventName="AssumeRoleWithSAML"))
    assert (ev.who.actor.type, ev.who.actor.name, ev.who.actor.email) == ("human", "jane.doe@example.com",
                                                                          "jane.doe@example.com")
    assert ev.who.session is not None
    assert (ev.who.session.issuer, ev.who.session.issuer_type) == ("SjNk4mF0aE7EXAMPLE/RpPnRnm6A=", "SAML")
    assert ev.how.auth is not None and ev.how.auth.method == "saml"
    assert ev.what.activity == "login"

    google = {"type": "WebIdentityUser", "principalId": "accounts.google.com:app:1045", "userName": "1045",
              "identityProvider": "accounts.google.com"}
    ev = event(record(userIdentity=google, eventSource="sts.amazonaws.com", eventName="AssumeRoleWithWebIdentity"))
    assert ev.who.actor.type == "human"
    assert ev.who.session is not None and ev.who.session.issuer == "accounts.google.com"
    assert ev.how.auth is not None and ev.how.auth.method == "web_identity"


@pytest.mark.parametrize(("provider", "name"), [
    ("token.actions.githubusercontent.com", "repo:example-org/infra:ref:refs/heads/main"),
    ("arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71",
     "system:serviceaccount:default:my-sa"),
])
def test_web_identity_from_ci_and_kubernetes_is_a_service(provider: str, name: str) -> None:
    ui = {"type": "WebIdentityUser", "principalId": f"{provider}:sts.amazonaws.com:{name}", "userName": name,
          "identityProvider": provider}
    ev = event(record(userIdentity=ui, eventSource="sts.amazonaws.com", eventName="AssumeRoleWithWebIdentity"))
    assert ev.who.actor.type == "service"


def test_unknown_and_missing_identity() -> None:
    ui = {"type": "Unknown", "principalId": "94d00cd8", "accountId": "777788889999", "userName": "bob.smith"}
    ev = event(record(userIdentity=ui, eventSource="sso.amazonaws.com", eventName="ListAccounts"))
    assert (ev.who.actor.type, ev.who.actor.id, ev.who.actor.name) == ("unknown", "94d00cd8", "bob.smith")
    for missing in (None, {}, "not an object"):
        rec = record(userIdentity=missing) if missing is not None else record(userIdentity=None)
        ev = event(rec)
        assert ev.who.actor.type == "unknown" and ev.who.actor.id is None


def test_cross_account_call_keeps_both_accounts() -> None:
    ev = event(record(eventSource="sts.amazonaws.com", eventName="AssumeRole", recipientAccountId=OTHER_ACCOUNT,
                      sharedEventID="3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f"))
    assert ev.where.account == OTHER_ACCOUNT
    assert ev.who.actor.account == ACCOUNT
    assert ev.how.correlation_id == "3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f"


def test_account_falls_back_to_the_caller_only_without_recipient() -> None:
    ev = event(record(recipientAccountId=None))
    assert ev.where.account == ACCOUNT


def test_hidden_user_name_of_a_failed_sign_in_is_not_a_name() -> None:
    ui = {"type": "IAMUser", "accountId": ACCOUNT, "accessKeyId": "", "userName": "HIDDEN_DUE_TO_SECURITY_REASONS"}
    ev = event(_console_login(ui, errorMessage="No username found in supplied account",
                              responseElements={"ConsoleLogin": "Failure"}))
    assert ev.who.actor.name is None
    assert ev.what.outcome == "failure"


# --- where ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "ip", "domain"), [
    ("198.51.100.23", "198.51.100.23", None),
    ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1", None),
    ("lambda.amazonaws.com", None, "lambda.amazonaws.com"),
    ("AWS Internal", None, "AWS Internal"),
    (None, None, None),
])
def test_source_address_is_an_ip_or_a_domain(address: str | None, ip: str | None, domain: str | None) -> None:
    ev = event(record(sourceIPAddress=address))
    assert (ev.where.source.ip, ev.where.source.domain) == (ip, domain)


def test_region_vpc_endpoint_and_organization_from_the_key() -> None:
    loc = "s3://org-trail/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/eu-west-1/2024/03/14/x.json.gz"
    out = blob(orjson.dumps({"Records": [record(awsRegion="eu-west-1", vpcEndpointId="vpce-0a1b2c3d4e5f67890")]}), loc)
    ev = out[0]
    assert isinstance(ev, Event)
    assert ev.where.provider == "aws"
    assert ev.where.region == "eu-west-1"
    assert ev.where.vpc_endpoint == "vpce-0a1b2c3d4e5f67890"
    assert ev.where.org == "o-a1b2c3d4e5"
    assert event(record()).where.org is None
    local = "AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/eu-west-1/2024/03/14/x.json.gz#0"
    assert event(record(), location=local).where.org == "o-a1b2c3d4e5"
    assert event(record(), location="backups/NotAWSLogs/o-a1b2/x.json#0").where.org is None


# --- what -----------------------------------------------------------------------------------------


def _console_login(ui: dict[str, Any], **fields: Any) -> dict[str, Any]:
    base = {"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "eventType": "AwsConsoleSignIn",
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/122.0.0.0 Safari/537.36",
            "requestParameters": None, "responseElements": {"ConsoleLogin": "Success"}, "requestID": None,
            "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No",
                                    "MFAUsed": "No"}}
    return record(userIdentity=ui, **{**base, **fields})


def test_failed_console_login_with_only_an_error_message() -> None:
    ev = event(_console_login(IAM_USER, errorMessage="Failed authentication",
                              responseElements={"ConsoleLogin": "Failure"}))
    assert ev.what.outcome == "failure"
    assert ev.what.error is not None
    assert (ev.what.error.code, ev.what.error.message) == (None, "Failed authentication")
    assert (ev.what.action, ev.what.activity, ev.what.category) == ("signin:ConsoleLogin", "login", "authentication")


def test_console_login_outcome_from_response_elements() -> None:
    assert event(_console_login(IAM_USER, responseElements={"ConsoleLogin": "Failure"})).what.outcome == "failure"
    ok = event(_console_login(IAM_USER))
    assert ok.what.outcome == "success" and ok.what.error is None
    msg_only = event(_console_login(IAM_USER, responseElements=None, errorMessage="Failed authentication"))
    assert msg_only.what.outcome == "failure"


def test_error_code_means_failure() -> None:
    ev = event(record(errorCode="AccessDenied", errorMessage="User: x is not authorized", responseElements=None))
    assert ev.what.outcome == "failure"
    assert ev.what.error is not None and ev.what.error.code == "AccessDenied"
    assert event(record(errorCode="Client.UnauthorizedOperation")).what.outcome == "failure"


@pytest.mark.parametrize(("ui", "mfa_used", "method", "mfa"), [
    (IAM_USER, "Yes", "console_password", True),
    ({"type": "Root", "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT}, "No", "console_password", False),
])
def test_console_login_auth_method_and_mfa(ui: dict[str, Any], mfa_used: str, method: str, mfa: bool) -> None:
    extra = {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": mfa_used}
    ev = event(_console_login(ui, additionalEventData=extra))
    assert ev.how.auth is not None
    assert (ev.how.auth.method, ev.how.auth.mfa) == (method, mfa)
    assert ev.how.client == "console"


def test_console_login_through_saml_and_through_identity_center() -> None:
    extra = {"MobileVersion": "No", "MFAUsed": "No", "SamlProviderArn": f"arn:aws:iam::{ACCOUNT}:saml-provider/Okta"}
    ev = event(_console_login(ASSUMED_ROLE, additionalEventData=extra))
    assert ev.how.auth is not None and ev.how.auth.method == "saml"
    sso = event(_console_login(_sso_role("maria.garcia@example.com"), additionalEventData={"MFAUsed": "Yes"}))
    assert sso.how.auth is not None and (sso.how.auth.method, sso.how.auth.mfa) == ("sso", True)
    # The session said false when it was created; the sign-in event says MFA was used: both are kept.
    assert sso.who.session is not None and sso.who.session.mfa is False


@pytest.mark.parametrize(("value", "expected"), [(True, True), (False, False), ("true", True), ("false", False),
                                                  (None, None)])
def test_read_only_bool_or_string(value: Any, expected: bool | None) -> None:
    assert event(record(readOnly=value)).what.read_only is expected


@pytest.mark.parametrize(("source", "operation", "action", "activity", "category"), [
    ("iam.amazonaws.com", "CreateAccessKey", "iam:CreateAccessKey", "create", "iam"),
    ("iam.amazonaws.com", "UpdateLoginProfile", "iam:UpdateLoginProfile", "update", "iam"),
    ("iam.amazonaws.com", "DeleteLoginProfile", "iam:DeleteLoginProfile", "delete", "iam"),
    ("signin.amazonaws.com", "ConsoleLogin", "signin:ConsoleLogin", "login", "authentication"),
    ("sts.amazonaws.com", "AssumeRole", "sts:AssumeRole", "login", "iam"),
    ("sts.amazonaws.com", "GetCallerIdentity", "sts:GetCallerIdentity", "read", "iam"),
    ("sso.amazonaws.com", "GetRoleCredentials", "sso:GetRoleCredentials", "login", "iam"),
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupIngress", "update", "network"),
    ("ec2.amazonaws.com", "CreateVpc", "ec2:CreateVpc", "create", "network"),
    ("ec2.amazonaws.com", "RunInstances", "ec2:RunInstances", "create", "compute"),
    ("ec2.amazonaws.com", "ModifySnapshotAttribute", "ec2:ModifySnapshotAttribute", "update", "storage"),
    ("ec2.amazonaws.com", "DeleteFlowLogs", "ec2:DeleteFlowLogs", "delete", "logging"),
    ("ec2.amazonaws.com", "DisableEbsEncryptionByDefault", "ec2:DisableEbsEncryptionByDefault", "update",
     "encryption"),
    ("s3.amazonaws.com", "GetObject", "s3:GetObject", "read", "data_access"),
    ("s3.amazonaws.com", "PutObject", "s3:PutObject", "update", "data_access"),
    ("s3.amazonaws.com", "PutBucketPolicy", "s3:PutBucketPolicy", "update", "storage"),
    ("cloudtrail.amazonaws.com", "StopLogging", "cloudtrail:StopLogging", "update", "logging"),
    ("kms.amazonaws.com", "Decrypt", "kms:Decrypt", "read", "encryption"),
    ("secretsmanager.amazonaws.com", "GetSecretValue", "secretsmanager:GetSecretValue", "read", "data_access"),
    ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", "lambda:UpdateFunctionCode20150331v2", "update",
     "compute"),
    ("dynamodb.amazonaws.com", "Scan", "dynamodb:Scan", "read", "data_access"),
    ("health.amazonaws.com", "AWSHealthEvent", "health:AWSHealthEvent", "other", "other"),
    (None, "DeleteBucket", "DeleteBucket", "delete", "other"),
])
def test_action_activity_and_category(source: str | None, operation: str, action: str, activity: str,
                                      category: str) -> None:
    assert names_for(source, operation) == (action, activity, category)
    ev = event(record(eventSource=source, eventName=operation))
    assert (ev.what.action, ev.what.activity, ev.what.category) == (action, activity, category)
    assert ev.what.operation == operation and ev.what.service == source


def test_request_response_resources_tls_and_ids() -> None:
    rec = record(
        resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key",
                    "ARN": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
                   {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::bucket/key"}, "junk"],
        tlsDetails={"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                    "clientProvidedHostHeader": "iam.amazonaws.com"},
    )
    ev = event(rec)
    assert ev.what.request == '{"userName":"deploy-bot"}'
    assert ev.what.response == '{"accessKey":{"accessKeyId":"AKIAI44QH8DHBEXAMPLE","status":"Active"}}'
    assert [(r.type, r.id, r.account, r.region) for r in ev.what.resources] == [
        ("AWS::KMS::Key", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", ACCOUNT,
         "us-east-1"),
        ("AWS::S3::Object", "arn:aws:s3:::bucket/key", None, None),
        # the targets the request and response name (targets.py), after the record's own resources
        ("AWS::IAM::User", "deploy-bot", ACCOUNT, None),
        ("AWS::IAM::AccessKey", "AKIAI44QH8DHBEXAMPLE", ACCOUNT, None),
    ]
    assert ev.how.tls is not None and (ev.how.tls.version, ev.how.tls.cipher) == ("TLSv1.3", "TLS_AES_128_GCM_SHA256")
    assert ev.how.request_id == "0e8c3b1a-6f2d-4c1e-9a4b-7d2f1e5c8a90"
    assert ev.how.user_agent == rec["userAgent"] and ev.how.client == "cli"
    assert ev.source.native_id == "a3f1c9d2-5b7e-4e8a-9c1d-2f6b8e4a7c31"
    assert ev.source.format == "aws.cloudtrail" and ev.source.log == "AwsApiCall"
    assert ev.when.time.isoformat() == "2024-03-14T10:02:37+00:00" and ev.when.time_text is None
    assert ev.raw is not None and orjson.loads(ev.raw) == rec


def test_event_id_is_deterministic_and_disambiguates_reused_event_ids() -> None:
    a = event(record(eventID="1"))
    assert a.id == event(record(eventID="1")).id
    assert a.id != event(record(eventID="1", eventTime="2024-03-14T10:02:38Z")).id
    assert a.id != event(record(eventID="1", eventName="ListUsers")).id
    assert a.id != event(record(eventID="1", eventSource="sts.amazonaws.com")).id
    # The same instant written another way is the same event.
    assert a.id == event(record(eventID="1", eventTime="2024-03-14 10:02:37.000000000")).id


def test_nanosecond_time_text_is_kept() -> None:
    ev = event(record(eventTime="2024-12-12 21:44:35.123456789"))
    assert ev.when.time.isoformat() == "2024-12-12T21:44:35.123456+00:00"
    assert ev.when.time_text == "2024-12-12 21:44:35.123456789"


# --- records that cannot be events ----------------------------------------------------------------


@pytest.mark.parametrize(("fields", "code", "field"), [
    ({"eventTime": None}, "missing_time", "eventTime"),
    ({"eventTime": ""}, "missing_time", "eventTime"),
    ({"eventTime": "1970-01-01T00:00:00Z"}, "absurd_time", "eventTime"),
    ({"eventTime": "2999-12-31T23:59:59Z"}, "absurd_time", "eventTime"),
    ({"eventTime": "redacted"}, "bad_time", "eventTime"),
    ({"eventTime": {"date": "2024-01-01"}}, "bad_time", "eventTime"),
    ({"eventName": None}, "missing_operation", "eventName"),
    ({"eventName": ""}, "missing_operation", "eventName"),
    ({"eventName": ["CreateUser"]}, "bad_operation", "eventName"),
])
def test_dead_letters_name_the_field(fields: dict[str, Any], code: str, field: str) -> None:
    rec = record()
    for k, v in fields.items():
        if v is None:
            rec.pop(k)
        else:
            rec[k] = v
    (out,) = results(rec)
    assert isinstance(out, DeadLetter)
    assert (out.stage, out.code) == ("map", code)
    assert field in out.reason and out.reason.startswith("aws.cloudtrail: ")
    assert orjson.loads(out.payload) == rec
    assert out.location == "test.jsonl#0"


def test_wrong_typed_optional_fields_still_make_an_event() -> None:
    rec = record(awsRegion=5, sourceIPAddress={"ip": "1.2.3.4"}, userAgent=["x"], readOnly="sometimes",
                 recipientAccountId=111122223333, requestID=7, resources={"ARN": "x"}, tlsDetails="TLSv1.2",
                 errorCode=403, additionalEventData="none", serviceEventDetails=[1])
    ev = event(rec)
    assert ev.where.region == "5"
    assert ev.where.account == "111122223333"
    assert ev.what.read_only is None
    assert ev.what.outcome == "failure" and ev.what.error is not None and ev.what.error.code == "403"
    # resources that are not a list are ignored; the request still names the target
    assert [r.id for r in ev.what.resources] == ["deploy-bot", "AKIAI44QH8DHBEXAMPLE"] and ev.how.tls is None
    assert (ev.where.source.ip, ev.where.source.domain) == (None, None)
    assert ev.how.user_agent == '["x"]' and ev.how.request_id == "7"


# --- the shared corpus ------------------------------------------------------------------------------

# Records of the Panther corpus (hand-written rule tests) that carry no usable eventTime: they cannot
# say when they happened. Index in the file -> dead-letter code.
CORPUS_DEAD = {
    33: "missing_time", 34: "missing_time", 35: "missing_time", 36: "missing_time", 73: "missing_time",
    87: "missing_time", 312: "bad_time", 317: "missing_time", 318: "missing_time", 376: "missing_time",
    377: "missing_time", 378: "missing_time", 379: "missing_time", 380: "missing_time", 430: "missing_time",
    436: "missing_time", 438: "bad_time",
}


@pytest.mark.corpus
def test_corpus_records_all_map(corpus_dir: Path) -> None:
    path = corpus_dir / "aws" / "panther_cloudtrail_test_events.jsonl"
    lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    out = list(Normalizer().blob(path.read_bytes(), "aws/panther_cloudtrail_test_events.jsonl"))
    assert len(out) == len(lines) == 439
    dead = {}
    for i, r in enumerate(out):
        location = r.source.location if isinstance(r, Event) else r.location
        assert location == f"aws/panther_cloudtrail_test_events.jsonl#{i}"
        if isinstance(r, DeadLetter):
            assert "eventTime" in r.reason, r.reason
            dead[i] = r.code
        else:
            assert isinstance(r, Event), r
            assert r.where.provider == "aws" and r.source.format == "aws.cloudtrail"
            assert r.what.action and r.what.operation
    assert dead == CORPUS_DEAD
    assert sum(isinstance(r, Event) for r in out) == 422


@pytest.mark.corpus
def test_corpus_special_cases(corpus_dir: Path) -> None:
    path = corpus_dir / "aws" / "panther_cloudtrail_test_events.jsonl"
    out = list(Normalizer().blob(path.read_bytes(), "c"))
    by_type: dict[str, set[str]] = {}
    for r in out:
        if isinstance(r, Event):
            by_type.setdefault(orjson.loads(r.raw or "{}").get("userIdentity", {}).get("type") or "-", set()).add(
                r.who.actor.type)
    # service-linked role sessions (aws-service-role/...) are the service acting for itself
    assert by_type["AssumedRole"] == {"role_session", "cloud_service"}
    for r in out:
        if isinstance(r, Event) and r.who.actor.type == "cloud_service" and r.who.session is not None:
            assert r.who.session.issuer is not None and ":role/aws-service-role/" in r.who.session.issuer
    assert by_type["IAMUser"] == {"human"}
    assert by_type["Root"] == {"root"}
    assert by_type["AWSService"] == {"cloud_service"}
    assert by_type["FederatedUser"] == {"role_session"}
    assert by_type["AWSAccount"] == {"unknown"}
    # No caller address that is not an IP ends up in where.source.ip.
    for r in out:
        if isinstance(r, Event) and r.where.source.ip is not None:
            ipaddress.ip_address(r.where.source.ip)
