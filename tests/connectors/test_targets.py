"""Every row of the target tables (connectors/<src>/targets.py) on a record written for it.

For each (action, target rule) a record of that action is built with a distinct value at the rule's first
path, normalized, and the value must come out as a ``what.resources`` entry of the rule's type. The
tables must name at least 150 operations with a target across the three clouds.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from connectors.aws_cloudtrail import targets as aws
from connectors.azure_activity import targets as azure
from connectors.common import TargetRule
from connectors.gcp_audit import targets as gcp
from connectors.normalize import Normalizer
from schemas.event import Event


def _put(doc: dict[str, Any], path: str, value: str) -> None:
    """Write value at a table path (``a.b[].c``), making the objects and lists on the way."""
    keys = path.split(".")
    node = doc
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        name, is_list = (key[:-2], True) if key.endswith("[]") else (key, False)
        if last:
            node[name] = [value] if is_list else value
        elif is_list:
            child: dict[str, Any] = {}
            node[name] = [child]
            node = child
        else:
            node = node.setdefault(name, {})


def _rows(tables: dict[str, tuple[TargetRule, ...]]) -> list[tuple[str, int, TargetRule]]:
    return [(action, n, rule) for action, rules in tables.items() for n, rule in enumerate(rules)]


def _value(rule: TargetRule, n: int) -> str:
    if rule.type == "AWS::Organizations::Account":
        return f"{100000000000 + n}"
    return f"target-{n}-{rule.type.rsplit(':', 1)[-1].rsplit('/', 1)[-1].lower()}"


def _normalize(record: dict[str, Any]) -> Event:
    (e,) = Normalizer().blob(orjson.dumps(record), "targets-test.json")
    assert isinstance(e, Event), e
    return e


def _roots(first_path: str) -> tuple[str, str]:
    root, _, path = first_path.partition(":")
    return root, path


@pytest.mark.parametrize(("action", "n", "rule"), _rows(aws.TARGETS), ids=lambda v: v if isinstance(v, str) else None)
def test_aws_target(action: str, n: int, rule: TargetRule) -> None:
    service, operation = rule.action.split(":", 1)
    value = _value(rule, n)
    record: dict[str, Any] = {
        "eventVersion": "1.09", "eventTime": "2026-03-02T09:00:00Z", "eventID": f"tgt-{action}-{n}",
        "eventSource": f"{service}.amazonaws.com", "eventName": operation, "awsRegion": "eu-west-1",
        "recipientAccountId": "210987654321", "sourceIPAddress": "198.51.100.8",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::210987654321:user/tester", "accountId": "210987654321"},
        "requestParameters": {}, "responseElements": {},
    }
    root, path = _roots(rule.path_text.split("|", 1)[0])
    _put({"req": record["requestParameters"], "resp": record["responseElements"], "rec": record}[root]
         if root != "rec" else record, path, value)
    e = _normalize(record)
    template = aws.ARN_TEMPLATES.get(rule.type)
    want = template.format(value) if template else value
    got = {(r.id, r.type) for r in e.what.resources}
    assert (want, rule.type) in got, (rule, got)


def _gcp_method(action: str) -> tuple[str, str]:
    svc, short = action.split(":", 1)
    method = f"google.{svc}.v1.{short}" if short[:1].isupper() else f"v1.{svc}.{short}"
    return f"{svc}.googleapis.com", method


@pytest.mark.parametrize(("action", "n", "rule"), _rows(gcp.TARGETS), ids=lambda v: v if isinstance(v, str) else None)
def test_gcp_target(action: str, n: int, rule: TargetRule) -> None:
    service, method = _gcp_method(rule.action)
    value = f"projects/tgt-project/things/{_value(rule, n)}"
    payload: dict[str, Any] = {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog", "serviceName": service, "methodName": method,
        "authenticationInfo": {"principalEmail": "tester@example.org"}, "request": {}, "response": {},
    }
    record: dict[str, Any] = {
        "insertId": f"tgt-{n}", "timestamp": "2026-03-02T09:00:00Z", "resource": {"type": "x", "labels": {}},
        "logName": "projects/tgt-project/logs/cloudaudit.googleapis.com%2Factivity", "protoPayload": payload,
    }
    root, path = _roots(rule.path_text.split("|", 1)[0])
    _put({"req": payload["request"], "resp": payload["response"], "rec": record}[root], path, value)
    e = _normalize(record)
    assert e.what.action.lower() == action
    assert (value, rule.type) in {(r.id, r.type) for r in e.what.resources}


@pytest.mark.parametrize(("action", "n", "rule"), _rows(azure.TARGETS), ids=lambda v: v if isinstance(v, str) else None)
def test_azure_target(action: str, n: int, rule: TargetRule) -> None:
    namespace, rest = rule.action.split(":", 1)
    value = f"/subscriptions/0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9/resourceGroups/rg-{n}"
    body: dict[str, Any] = {}
    root, path = _roots(rule.path_text.split("|", 1)[0])
    _put(body, path, value)
    record = {
        "time": "2026-03-02T09:00:00Z", "operationName": f"{namespace}/{rest}".upper(), "category": "Administrative",
        "resultType": "Success", "callerIpAddress": "198.51.100.8", "correlationId": f"tgt-{n}",
        "resourceId": "/subscriptions/0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9/resourceGroups/rg-main",
        "properties": {"requestbody" if root == "req" else "responseBody": orjson.dumps(body).decode()},
    }
    e = _normalize(record)
    found = {r.id: r for r in e.what.resources}
    assert value in found
    if rule.type != "scope":
        assert found[value].type == rule.type
    else:
        assert found[value].type == "Microsoft.Resources/resourceGroups"


def test_the_tables_cover_at_least_150_operations_with_a_target() -> None:
    actions = {("aws", a) for a in aws.TARGETS} | {("gcp", a) for a in gcp.TARGETS} | {("azure", a) for a in azure.TARGETS}
    assert len(actions) >= 150


def test_every_catalogued_aws_action_has_a_target_row() -> None:
    # CloudTrail names the target of most calls only in the request: every catalogued action has a row
    # (Lambda's versioned event names are looked up without the version).
    from enrichers.catalog import default_catalog

    missing = sorted(
        a for _, a in default_catalog().actions("aws")
        if re.sub(r"\d{8}(v\d+)?$", "", a.lower()) not in aws.TARGETS
    )
    assert missing == []
