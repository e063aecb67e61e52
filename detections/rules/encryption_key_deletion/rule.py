"""An encryption key is scheduled for deletion, destroyed or disabled: data under it becomes unreadable."""
from datetime import timedelta

from detections import Prefilter, rule
from detections import helpers as h


@rule(
    id="encryption_key_deletion",
    title="Encryption key scheduled for deletion or disabled",
    description="A KMS key is scheduled for deletion or disabled, a Cloud KMS key version is destroyed or "
    "disabled, or a Key Vault key is deleted or purged. Used for ransom and for destroying data.",
    severity="high",
    owner="cloud-security",
    tactics=("TA0040",),
    techniques=("T1485", "T1486"),
    scenario="encryption keys scheduled for deletion or disabled",
    references=("stratus:aws.impact.s3-ransomware-client-side-encryption",
                "https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html"),
    clouds=("aws", "gcp", "azure"),
    mode="alert",
    suppress_for=timedelta(hours=1),
    suppress_by=("where.account",),
    prefilter=Prefilter(risk_tags=("encryption.key_delete", "encryption.key_disable")),
)
def match(e):
    return h.succeeded(e) and h.has_tag(e, "encryption.key_delete", "encryption.key_disable")
