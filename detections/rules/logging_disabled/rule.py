"""A trail, log sink or diagnostic setting is stopped or deleted: later activity goes unrecorded."""
from datetime import timedelta

from detections import Prefilter, rule
from detections import helpers as h

# Actions that stop recording without deleting anything (the catalog tags them logging.disable, which
# also covers narrowing; narrowing is logging_reduced's scenario).
STOP_ACTIONS = ("cloudtrail:StopLogging", "cloudtrail:StopEventDataStoreIngestion")


@rule(
    id="logging_disabled",
    title="Cloud audit logging stopped or deleted",
    description="A CloudTrail trail is stopped or deleted, a Cloud Logging sink or bucket is deleted, or an "
    "Azure diagnostic setting or log profile is deleted. Attackers do this before acting unobserved.",
    severity="high",
    owner="detection-engineering",
    tactics=("TA0005",),
    techniques=("T1562.008",),
    scenario="logging disabled or reduced: trail stop/delete, sink delete, diagnostic setting deleted",
    references=("stratus:aws.defense-evasion.cloudtrail-stop", "stratus:aws.defense-evasion.cloudtrail-delete",
                "stratus:gcp.defense-evasion.delete-logging-sink"),
    clouds=("aws", "gcp", "azure"),
    mode="alert",
    suppress_for=timedelta(hours=1),
    suppress_by=("where.account",),
    prefilter=Prefilter(risk_tags=("logging.delete",), actions=STOP_ACTIONS),
)
def match(e):
    return h.succeeded(e) and (h.has_tag(e, "logging.delete") or h.action_in(e, *STOP_ACTIONS))
