"""Audit logging narrowed: event selectors, exclusions, audit config or diagnostic categories turned off."""
from datetime import timedelta

from detections import Prefilter, rule
from detections import helpers as h

STOP_ACTIONS = ("cloudtrail:StopLogging", "cloudtrail:StopEventDataStoreIngestion")  # logging_disabled's


@rule(
    id="logging_reduced",
    title="Cloud audit logging narrowed",
    description="Logging keeps running but records less: CloudTrail event selectors drop management or "
    "write events, a Cloud Logging exclusion or a removed Data Access audit config, an Azure diagnostic "
    "setting with its categories turned off.",
    severity="medium",
    owner="detection-engineering",
    tactics=("TA0005",),
    techniques=("T1562.008",),
    scenario="logging disabled or reduced: selectors, sink exclusion, audit config removed",
    references=("stratus:aws.defense-evasion.cloudtrail-event-selectors",
                "stratus:gcp.defense-evasion.disable-audit-logs", "stratus:gcp.defense-evasion.remove-project-from-sink"),
    clouds=("aws", "gcp", "azure"),
    mode="alert",
    suppress_for=timedelta(hours=1),
    suppress_by=("where.account",),
    prefilter=Prefilter(risk_tags=("logging.disable",)),
)
def match(e):
    return h.succeeded(e) and h.has_tag(e, "logging.disable") and not h.action_in(e, *STOP_ACTIONS)
