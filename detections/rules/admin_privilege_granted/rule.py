"""A privilege change that grants admin."""
from datetime import timedelta

from detections import Prefilter, rule
from detections import helpers as h


@rule(
    id="admin_privilege_granted",
    title="Administrator privilege granted",
    description="AdministratorAccess (or an Action * policy) attached, roles/owner or another "
    "administrator role bound in GCP, Owner, Contributor or User Access Administrator assigned in Azure.",
    severity="high",
    owner="identity-security",
    tactics=("TA0003", "TA0004"),
    techniques=("T1098.003",),
    scenario="admin privilege granted",
    references=("stratus:aws.privilege-escalation.iam-update-user-login-profile",
                "stratus:gcp.privilege-escalation.impersonate-service-accounts"),
    clouds=("aws", "gcp", "azure"),
    mode="alert",
    suppress_for=timedelta(minutes=30),
    suppress_by=("where.account",),
    prefilter=Prefilter(risk_tags=("iam.admin_grant",)),
)
def match(e):
    return h.succeeded(e) and h.grants_admin(e)
