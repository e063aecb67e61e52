"""An account or project leaves the organization (and its guardrails and central logging)."""
from datetime import timedelta

from detections import Prefilter, rule
from detections import helpers as h

LEAVE_ACTIONS = ("organizations:LeaveOrganization", "organizations:RemoveAccountFromOrganization",
                 "cloudresourcemanager:Projects.MoveProject", "cloudresourcemanager:MoveProject")


@rule(
    id="leave_organization",
    title="Account or project leaves the organization",
    description="An AWS account leaves (or is removed from) its organization, or a GCP project is moved to "
    "another parent: service control policies, org policies and organization trails stop applying.",
    severity="critical",
    owner="cloud-platform",
    tactics=("TA0005",),
    techniques=("T1666",),
    scenario="leave organization",
    references=("stratus:aws.defense-evasion.organizations-leave",),
    clouds=("aws", "gcp"),
    mode="alert",
    suppress_for=timedelta(hours=1),
    prefilter=Prefilter(actions=LEAVE_ACTIONS),
)
def match(e):
    return h.attempted(e)
