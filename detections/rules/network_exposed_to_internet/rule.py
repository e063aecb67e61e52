"""0.0.0.0/0 opened: a firewall, security group or access setting lets the whole internet in."""
from datetime import timedelta

from detections import Prefilter, rule
from detections import helpers as h


@rule(
    id="network_exposed_to_internet",
    title="Network access opened to the internet",
    description="A security group, network ACL, VPC firewall rule or NSG rule allows inbound traffic from "
    "0.0.0.0/0, ::/0, * or Internet, or a database or storage account is made publicly reachable.",
    severity="medium",
    owner="cloud-security",
    tactics=("TA0005", "TA0001"),
    techniques=("T1562.007", "T1190"),
    scenario="network exposure to the internet",
    references=("stratus:aws.exfiltration.ec2-security-group-open-port-22-ingress",
                "stratus:gcp.exfiltration.open-port-22-ingress"),
    clouds=("aws", "gcp", "azure"),
    mode="alert",
    suppress_for=timedelta(minutes=30),
    suppress_by=("where.account",),
    prefilter=Prefilter(risk_tags=("network.exposure",)),
)
def match(e):
    return h.succeeded(e) and h.opened_to_internet(e)
