"""A preventive guardrail is removed: SCP detached, org policy deleted or relaxed, Azure policy not enforced."""
from datetime import timedelta

from detections import Prefilter, rule
from detections import helpers as h

LEAVE_ACTIONS = ("organizations:LeaveOrganization", "organizations:RemoveAccountFromOrganization")  # leave_organization


@rule(
    id="guardrail_removed",
    title="Preventive guardrail removed",
    description="A service control policy is detached or deleted, a GCP organization policy is deleted or "
    "relaxed, or an Azure Policy assignment is deleted, exempted or set to DoNotEnforce.",
    severity="high",
    owner="cloud-platform",
    tactics=("TA0005",),
    techniques=("T1562.001", "T1484"),
    scenario="detective and preventive controls disabled (organization guardrails)",
    references=("https://docs.aws.amazon.com/organizations/latest/APIReference/API_DetachPolicy.html",),
    clouds=("aws", "gcp", "azure"),
    mode="alert",
    suppress_for=timedelta(hours=1),
    suppress_by=("where.account",),
    prefilter=Prefilter(risk_tags=("guardrail.disable",)),
)
def match(e):
    return h.succeeded(e) and h.has_tag(e, "guardrail.disable") and not h.action_in(e, *LEAVE_ACTIONS)
