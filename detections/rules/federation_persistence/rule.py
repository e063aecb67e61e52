"""An identity provider, federation trust or trust anchor is created or changed."""
from datetime import timedelta

from detections import Prefilter, rule
from detections import helpers as h

# Not all of these are in the action catalog yet: the rule names them itself.
TRUST_ACTIONS = ("rolesanywhere:CreateTrustAnchor", "rolesanywhere:UpdateTrustAnchor", "rolesanywhere:CreateProfile",
                 "iam:CreateSAMLProvider", "iam:UpdateSAMLProvider", "iam:CreateOpenIDConnectProvider",
                 "iam:AddClientIDToOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint")


@rule(
    id="federation_persistence",
    title="Federation or trust-anchor persistence",
    description="A SAML or OIDC identity provider, an IAM Roles Anywhere trust anchor, a GCP workload or "
    "workforce identity pool provider, or an Azure federated identity credential is created or changed: "
    "an outside party can then sign in without any of our credentials.",
    severity="high",
    owner="identity-security",
    tactics=("TA0003", "TA0005"),
    techniques=("T1484.002", "T1098"),
    scenario="federation, trust-anchor or identity-provider persistence",
    references=("stratus:aws.persistence.rolesanywhere-create-trust-anchor",
                "https://attack.mitre.org/techniques/T1484/002/"),
    clouds=("aws", "gcp", "azure"),
    mode="alert",
    suppress_for=timedelta(hours=1),
    prefilter=Prefilter(risk_tags=("iam.federation_change",), actions=TRUST_ACTIONS),
)
def match(e):
    if not h.succeeded(e) or e.what.activity == "delete" or "delete" in e.what.action.lower():
        return False
    return h.has_tag(e, "iam.federation_change") or h.action_in(e, *TRUST_ACTIONS)
