"""A threat-detection service is turned off, muted or told to ignore findings."""
from datetime import timedelta

from detections import Prefilter, rule
from detections import helpers as h


@rule(
    id="detection_disabled",
    title="Detective control disabled",
    description="GuardDuty, Config, Security Hub or Macie is disabled or filtered, Security Command Center "
    "findings are muted, or a Defender for Cloud plan is set to Free: the cloud stops telling us about "
    "attacks.",
    severity="high",
    owner="detection-engineering",
    tactics=("TA0005",),
    techniques=("T1562.001",),
    scenario="detective controls disabled: GuardDuty, Security Command Center, Defender",
    references=("https://docs.aws.amazon.com/guardduty/latest/APIReference/API_DeleteDetector.html",
                "https://cloud.google.com/security-command-center/docs/how-to-mute-findings"),
    clouds=("aws", "gcp", "azure"),
    mode="alert",
    suppress_for=timedelta(hours=1),
    suppress_by=("where.account",),
    prefilter=Prefilter(risk_tags=("detection.disable",)),
)
def match(e):
    return h.succeeded(e) and h.detection_disabled(e)
