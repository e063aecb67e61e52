"""A new long-lived credential is created for another principal (access key, service-account key)."""
from datetime import timedelta

import orjson

from detections import Prefilter, rule
from detections import helpers as h

# Actions that create a key for a principal named in the request (the field naming it).
FOR_PRINCIPAL = {
    "iam:createaccesskey": "userName",
    "iam:createloginprofile": "userName",
    "iam:createservicespecificcredential": "userName",
    "iam:uploadsshpublickey": "userName",
    "iam:createserviceaccountkey": None,  # GCP: always a service account's key, never the caller's own
    "iam:uploadserviceaccountkey": None,
}


def for_another_principal(e):
    field = FOR_PRINCIPAL.get(e.what.action.lower(), "")
    if field is None:
        return True
    if not field:
        return False
    try:
        target = (orjson.loads(e.what.request or "null") or {}).get(field)
    except orjson.JSONDecodeError:
        return False
    return bool(target) and target != e.who.actor.name


@rule(
    id="long_lived_credential_for_other",
    title="Long-lived credential created for another principal",
    description="An access key, console password or SSH key is created for another IAM user, or a key is "
    "created for a GCP service account: a classic way to keep access after the intruder's own session ends.",
    severity="medium",
    owner="identity-security",
    tactics=("TA0003",),
    techniques=("T1098.001",),
    scenario="new long-lived credentials for another principal: access keys, service-account keys",
    references=("stratus:aws.persistence.iam-create-admin-user", "stratus:aws.persistence.iam-create-user-login-profile",
                "stratus:gcp.persistence.create-service-account-key"),
    clouds=("aws", "gcp"),
    mode="alert",
    suppress_for=timedelta(hours=1),
    prefilter=Prefilter(actions=tuple(FOR_PRINCIPAL)),
)
def match(e):
    return h.succeeded(e) and for_another_principal(e)
