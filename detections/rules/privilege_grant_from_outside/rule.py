"""A person grants privileges in a prod account from outside our networks."""
from datetime import timedelta

from detections import Prefilter, rule
from detections import helpers as h


@rule(
    id="privilege_grant_from_outside",
    title="Privilege granted in prod from outside internal networks",
    description="A person (not a pipeline) adds a policy, role binding or role assignment in a production "
    "account, project or subscription, calling from an address outside the internal networks: changes to "
    "prod access are expected from the office, the VPN or the deploy pipeline.",
    severity="medium",
    owner="identity-security",
    tactics=("TA0003", "TA0004"),
    techniques=("T1098",),
    scenario="admin privilege granted (by a human, in a prod account, outside internal networks)",
    references=("https://attack.mitre.org/techniques/T1098/",),
    clouds=("aws", "gcp", "azure"),
    mode="monitor",
    suppress_for=timedelta(hours=1),
    suppress_by=("where.account",),
    prefilter=Prefilter(risk_tags=("iam.privilege_grant", "iam.admin_grant")),
)
def match(e):
    return (
        h.succeeded(e) and h.grants_privilege(e) and h.by_human(e) and h.in_prod_account(e)
        and h.outside_internal_networks(e)
    )
