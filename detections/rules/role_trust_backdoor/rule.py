"""A role's trust policy is changed to let an outside account (or anyone) assume it."""
from datetime import timedelta

import orjson

from detections import Prefilter, rule
from detections import helpers as h


def outside_principals(e):
    """AWS principals in the new trust policy that are not of the role's own account."""
    try:
        req = orjson.loads(e.what.request or "null") or {}
        doc = req.get("policyDocument")
        policy = orjson.loads(doc) if isinstance(doc, str) else doc or {}
    except (orjson.JSONDecodeError, AttributeError):
        return set()
    found = set()
    statements = policy.get("Statement") or []
    for st in statements if isinstance(statements, list) else [statements]:
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal")
        aws = principal if principal == "*" else (principal or {}).get("AWS") if isinstance(principal, dict) else None
        for p in [aws] if isinstance(aws, str) else aws or []:
            if p == "*" or e.where.account not in str(p):
                found.add(p)
    return found


@rule(
    id="role_trust_backdoor",
    title="Role trust policy opened to another account",
    description="UpdateAssumeRolePolicy lets a principal of another AWS account (or everyone) assume a role "
    "of ours: a backdoor that survives credential rotation.",
    severity="high",
    owner="identity-security",
    tactics=("TA0003", "TA0004"),
    techniques=("T1098.003", "T1199"),
    scenario="federation, trust-anchor or identity-provider persistence (role trust backdoor)",
    references=("stratus:aws.persistence.iam-backdoor-role",),
    clouds=("aws",),
    mode="alert",
    suppress_for=timedelta(hours=1),
    prefilter=Prefilter(providers=("aws",), actions=("iam:UpdateAssumeRolePolicy", "iam:CreateRole")),
)
def match(e):
    return h.succeeded(e) and bool(outside_principals(e))
