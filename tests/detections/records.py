"""Raw records written for the detection tests, and the normalize+enrich step the rules see them through."""

from __future__ import annotations

from collections import Counter

import orjson

from connectors.normalize import normalize_bytes
from detections.testing import enrichment_context
from schemas.event import Event


def cloudtrail(name: str, source: str, t: str, user: str = "dana.ops", account: str = "360888508608",
               request: dict | None = None, error: str | None = None, n: int = 0) -> dict:
    rec = {
        "eventVersion": "1.10",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLEDETECT001", "accountId": account,
                         "arn": f"arn:aws:iam::{account}:user/{user}", "accessKeyId": "AKIAEXAMPLEDETECT001",
                         "userName": user},
        "eventTime": t, "eventSource": f"{source}.amazonaws.com", "eventName": name, "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.61", "userAgent": "aws-cli/2.15.0", "requestParameters": request,
        "responseElements": None, "eventID": f"00000000-0000-4000-8000-{n:012d}", "eventType": "AwsApiCall",
        "recipientAccountId": account, "readOnly": False,
    }
    if error:
        rec["errorCode"], rec["errorMessage"] = error, "not authorized"
    return rec


def gcp_entry(method: str, service: str, t: str, email: str = "dana.ops@example.com",
              project: str = "acme-prod-ed7d", n: int = 0) -> dict:
    return {
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog", "status": {},
            "authenticationInfo": {"principalEmail": email},
            "requestMetadata": {"callerIp": "203.0.113.62", "callerSuppliedUserAgent": "gcloud"},
            "serviceName": f"{service}.googleapis.com", "methodName": method,
            "resourceName": f"projects/{project}",
        },
        "insertId": f"detect-test-{n}", "resource": {"type": "project", "labels": {"project_id": project}},
        "timestamp": t, "logName": f"projects/{project}/logs/cloudaudit.googleapis.com%2Factivity",
    }


def events(*records: dict) -> list[Event]:
    """Normalize and enrich (with the pack's test reference data) records of any cloud."""
    ctx = enrichment_context()
    trail = [r for r in records if "eventVersion" in r]
    other = [r for r in records if "eventVersion" not in r]
    blobs = []
    if trail:
        blobs.append(orjson.dumps({"Records": trail}))
    blobs.extend(orjson.dumps(r) for r in other)
    out = []
    for blob in blobs:
        for result in normalize_bytes(blob, "test"):
            assert isinstance(result, Event), result
            out.append(ctx.enrich(result, Counter()))
    return out
