"""Property tests: whatever arrives, the CloudTrail connector never makes the Normalizer raise, and every
record fed in comes out as exactly one Event, DeadLetter or NonEvent."""

from __future__ import annotations

import os
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.aws_cloudtrail import CONNECTOR
from connectors.errors import NonEvent
from connectors.normalize import Normalizer
from schemas.deadletter import DeadLetter
from schemas.event import Event

# CT_EXAMPLES raises the count for a deeper run (3000 passes); the default keeps the suite fast.
SETTINGS = settings(
    max_examples=int(os.environ.get("CT_EXAMPLES", "200")), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Only this connector: the properties are about its unwrap/claims/map, not the others'.
NORMALIZER = Normalizer(registered=[CONNECTOR])

ENVELOPE_KEYS = {"Records", "detail-type", "messageType", "CloudTrailEvent", "Events", "digestStartTime", "logFiles"}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=24,
)


def _weighted(valid: st.SearchStrategy[Any], valid_in_ten: int) -> st.SearchStrategy[Any]:
    # Hypothesis leans to the simplest branch of one_of (None); an integer that shrinks towards the
    # valid branch keeps most examples realistic while still trying None and junk.
    return st.integers(0, 9).flatmap(
        lambda i: valid if i < valid_in_ten else (st.none() if i % 2 else json_values)
    )


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A real-looking value most of the time; None or any JSON value otherwise."""
    return _weighted(valid, 6)


def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """For the fields an event cannot do without: valid nine times in ten, so most examples map."""
    return _weighted(valid, 9)


good_times = st.sampled_from(["2024-03-14T10:02:37Z", "2024-12-12 21:44:35.000000000", "20131102T010628Z",
                              "2021-01-24 04:55:45.000", "2024-06-02T19:41:40.123+02:00"])
times = st.integers(0, 9).flatmap(lambda i: good_times if i < 8 else st.sampled_from([
    "1970-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "redacted", "", "2024-02-30T00:00:00Z"]))
names = st.integers(0, 9).flatmap(lambda i: st.sampled_from([
    "CreateAccessKey", "ConsoleLogin", "AssumeRole", "GetObject", "UpdateLoginProfile", "CredentialChallenge",
    "RunInstances"]) if i < 8 else st.one_of(st.sampled_from(["", "x"]), st.text(max_size=10)))
sources = st.integers(0, 9).flatmap(lambda i: st.sampled_from([
    "iam.amazonaws.com", "signin.amazonaws.com", "sts.amazonaws.com", "s3.amazonaws.com", "ec2.amazonaws.com",
    "sso.amazonaws.com", "weird"]) if i < 9 else st.sampled_from(["", "aws:s3"]))
arns = st.sampled_from(["arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_1a2b/kim@example.com",
                        "arn:aws:sts::111122223333:assumed-role/r", "arn:aws:iam::111122223333:user/alice",
                        "arn:aws:iam::111122223333:root", "arn:", "", "not an arn"])
identity_types = st.sampled_from(["AssumedRole", "IAMUser", "Root", "AWSService", "AWSAccount", "FederatedUser",
                                  "IdentityCenterUser", "SAMLUser", "WebIdentityUser", "Unknown", "Anonymous",
                                  "Directory", ""])
keys_ids = st.sampled_from(["AKIAIOSFODNN7EXAMPLE", "ASIAEXAMPLEKEY000001", "", "1111", "EXAMPLE_KEY_ID"])
addresses = st.sampled_from(["198.51.100.23", "2001:0db8::1", "AWS Internal", "lambda.amazonaws.com", "", "06.1.2.3",
                             "[::1]:443", "1.2.3.4:5678"])

session_contexts = st.fixed_dictionaries({}, optional={
    "sessionIssuer": maybe(st.fixed_dictionaries({}, optional={
        "type": maybe(st.sampled_from(["Role", "IAMUser", "Root"])), "arn": maybe(arns),
        "userName": maybe(st.text(max_size=10)), "accountId": maybe(st.text(max_size=12)),
    })),
    "attributes": maybe(st.fixed_dictionaries({}, optional={
        "creationDate": maybe(times), "mfaAuthenticated": maybe(st.sampled_from(["true", "false", True, False])),
    })),
    "webIdFederationData": maybe(st.fixed_dictionaries({}, optional={"federatedProvider": maybe(st.text(max_size=20))})),
    "sourceIdentity": maybe(st.text(max_size=10)),
})

user_identities = st.fixed_dictionaries({}, optional={
    "type": maybe(identity_types), "principalId": maybe(st.text(max_size=20)), "arn": maybe(arns),
    "accountId": maybe(st.sampled_from(["111122223333", "anonymous", "ANONYMOUS_PRINCIPAL", ""])),
    "accessKeyId": maybe(keys_ids), "userName": maybe(st.text(max_size=12)),
    "invokedBy": maybe(st.sampled_from(["lambda.amazonaws.com", "AWS Internal"])),
    "sessionContext": maybe(session_contexts),
    "onBehalfOf": maybe(st.fixed_dictionaries({}, optional={"userId": maybe(st.text(max_size=8)),
                                                            "identityStoreArn": maybe(st.text(max_size=8))})),
    "credentialId": maybe(st.text(max_size=8)), "identityProvider": maybe(st.text(max_size=20)),
})

cloudtrail_records = st.fixed_dictionaries(
    {"eventTime": mostly(times), "eventName": mostly(names), "eventSource": mostly(sources)},
    optional={
        "eventVersion": maybe(st.just("1.09")),
        "eventID": maybe(st.text(max_size=36)),
        "eventType": maybe(st.sampled_from(["AwsApiCall", "AwsConsoleSignIn", "AwsServiceEvent", "AwsApiCall",
                                            "AwsCloudTrailInsight"])),
        "userIdentity": maybe(user_identities),
        "awsRegion": maybe(st.sampled_from(["us-east-1", "eu-west-1"])),
        "sourceIPAddress": maybe(addresses),
        "userAgent": maybe(st.sampled_from(["aws-cli/2.15.30", "AWS Internal", "Mozilla/5.0", "Boto3/1.34.0"])),
        "requestParameters": json_values,
        "responseElements": maybe(st.fixed_dictionaries({}, optional={
            "ConsoleLogin": maybe(st.sampled_from(["Success", "Failure"]))})),
        "additionalEventData": maybe(st.fixed_dictionaries({}, optional={
            "MFAUsed": maybe(st.sampled_from(["Yes", "No"])), "UserName": maybe(st.text(max_size=10)),
            "SamlProviderArn": maybe(st.text(max_size=10))})),
        "serviceEventDetails": json_values,
        "errorCode": maybe(st.sampled_from(["AccessDenied", ""])),
        "errorMessage": maybe(st.sampled_from(["Failed authentication", ""])),
        "readOnly": maybe(st.sampled_from([True, False, "true", "false"])),
        "recipientAccountId": maybe(st.sampled_from(["111122223333", "444455556666"])),
        "resources": maybe(st.lists(maybe(st.fixed_dictionaries({}, optional={
            "ARN": maybe(arns), "type": maybe(st.text(max_size=10)), "accountId": maybe(st.text(max_size=12))})),
            max_size=3)),
        "tlsDetails": maybe(st.fixed_dictionaries({}, optional={"tlsVersion": maybe(st.text(max_size=8)),
                                                                "cipherSuite": maybe(st.text(max_size=8))})),
        "sharedEventID": maybe(st.text(max_size=8)),
        "vpcEndpointId": maybe(st.text(max_size=8)),
        "sessionCredentialFromConsole": maybe(st.sampled_from(["true", "false"])),
        "sourceIdentity": maybe(st.text(max_size=8)),
        "p_event_time": maybe(times),
    },
)


def check(results: list[Any], expected: int) -> None:
    assert len(results) == expected, results
    for r in results:
        assert isinstance(r, Event | DeadLetter | NonEvent), r
        # A mapper exception or an event that fails validation is a bug in the mapping, never the input's fault.
        assert not isinstance(r, DeadLetter) or r.code not in ("mapper_error", "invalid_event"), r.reason
        if isinstance(r, Event):
            assert r.where.provider == "aws" and r.source.format == "aws.cloudtrail"
            assert r.what.action and r.what.operation
            assert r.where.source.ip is None or r.where.source.domain is None


@SETTINGS
@given(st.dictionaries(st.text(max_size=12).filter(lambda k: k not in ENVELOPE_KEYS), json_values, max_size=6))
def test_any_json_object_is_one_result(obj: dict[str, Any]) -> None:
    check(list(NORMALIZER.records([obj], "prop")), 1)


@SETTINGS
@given(json_values)
def test_any_json_line_never_raises(value: Any) -> None:
    out = list(NORMALIZER.blob(orjson.dumps(value), "prop.jsonl"))
    for r in out:
        assert isinstance(r, Event | DeadLetter | NonEvent)


@SETTINGS
@given(cloudtrail_records)
def test_cloudtrail_shaped_record_is_one_result(rec: dict[str, Any]) -> None:
    check(list(NORMALIZER.records([rec], "prop")), 1)


@SETTINGS
@given(cloudtrail_records, st.booleans())
def test_lower_cased_record_is_one_result(rec: dict[str, Any], deep: bool) -> None:
    lowered = {k.lower(): v for k, v in rec.items()}
    if deep and isinstance(lowered.get("useridentity"), dict):
        lowered["useridentity"] = {k.lower(): v for k, v in lowered["useridentity"].items()}
    check(list(NORMALIZER.records([lowered], "prop")), 1)


def _not_notification(rec: dict[str, Any]) -> bool:
    source = rec.get("eventSource")
    return not (isinstance(source, str) and source.startswith("aws:"))


@SETTINGS
@given(st.lists(cloudtrail_records, max_size=3), st.sampled_from(["s3", "cloudwatch", "eventbridge", "lookup"]))
def test_every_record_in_an_envelope_is_one_result(recs: list[dict[str, Any]], shape: str) -> None:
    if shape == "s3":
        recs = [r for r in recs if _not_notification(r)]
        doc: Any = {"Records": recs}
    elif shape == "cloudwatch":
        doc = {"messageType": "DATA_MESSAGE", "logGroup": "g", "logStream": "s",
               "logEvents": [{"id": str(i), "timestamp": 1, "message": orjson.dumps(r).decode()}
                             for i, r in enumerate(recs)]}
    elif shape == "eventbridge":
        doc = [{"detail-type": "AWS API Call via CloudTrail", "source": "aws.iam", "detail": r} for r in recs]
    else:
        doc = {"Events": [{"EventId": "1", "CloudTrailEvent": orjson.dumps(r).decode()} for r in recs]}
    # An empty envelope or array is still one result (an empty_envelope / empty_json_array non-event; an
    # empty Events list is not lookup-events output we can recognise: one unknown record).
    check(list(NORMALIZER.blob(orjson.dumps(doc), "prop.json")), len(recs) or 1)
