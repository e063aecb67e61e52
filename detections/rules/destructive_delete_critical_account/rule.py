"""A data store or resource container is deleted in an account the inventory marks critical."""
from datetime import timedelta

from detections import Prefilter, rule
from detections import helpers as h


@rule(
    id="destructive_delete_critical_account",
    title="Destructive delete in a critical account",
    description="A bucket, database, backup vault, log workspace, project or resource group is deleted in an "
    "account, project or subscription whose inventory entry says criticality: critical.",
    severity="high",
    owner="cloud-platform",
    tactics=("TA0040",),
    techniques=("T1485",),
    scenario="destructive deletes in accounts that the inventory marks critical",
    references=("stratus:aws.impact.s3-ransomware-batch-deletion", "https://attack.mitre.org/techniques/T1485/"),
    clouds=("aws", "gcp", "azure"),
    mode="alert",
    suppress_for=timedelta(minutes=30),
    suppress_by=("where.account",),
    prefilter=Prefilter(risk_tags=("destructive.delete",)),
)
def match(e):
    return h.succeeded(e) and h.has_tag(e, "destructive.delete") and h.in_critical_account(e)
