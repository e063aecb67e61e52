"""Versioning, soft delete, backups or deletion protection weakened: the step before destroying data."""
from datetime import timedelta

from detections import Prefilter, rule
from detections import helpers as h


@rule(
    id="recovery_disabled",
    title="Recovery controls weakened",
    description="Bucket versioning suspended, backup vaults or replication removed, deletion protection or "
    "backup retention turned off, GCS versioning or soft delete disabled, Azure blob soft delete or "
    "versioning turned off.",
    severity="medium",
    owner="cloud-platform",
    tactics=("TA0040",),
    techniques=("T1490",),
    scenario="destructive actions: recovery inhibited before deletion",
    references=("stratus:aws.impact.s3-ransomware-individual-deletion",),
    clouds=("aws", "gcp", "azure"),
    mode="monitor",
    suppress_for=timedelta(hours=1),
    suppress_by=("where.account",),
    prefilter=Prefilter(risk_tags=("recovery.disable",)),
)
def match(e):
    return h.succeeded(e) and h.has_tag(e, "recovery.disable")
