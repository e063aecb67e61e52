"""A bucket, snapshot, image, container or disk becomes readable by anyone."""
from datetime import timedelta

from detections import Prefilter, rule
from detections import helpers as h


@rule(
    id="public_data_exposure",
    title="Data made public",
    description="A bucket policy or ACL grants everyone, a snapshot or image is shared with all accounts, "
    "a bucket grants allUsers, a blob container allows anonymous access or a disk gets a public SAS URL.",
    severity="high",
    owner="cloud-security",
    tactics=("TA0010",),
    techniques=("T1537", "T1530"),
    scenario="public or cross-account data exposure of buckets, snapshots, images or databases",
    references=("stratus:aws.exfiltration.s3-backdoor-bucket-policy", "stratus:aws.exfiltration.ec2-share-ebs-snapshot",
                "stratus:gcp.exfiltration.share-compute-disk", "stratus:azure.exfiltration.disk-export"),
    clouds=("aws", "gcp", "azure"),
    mode="alert",
    suppress_for=timedelta(minutes=30),
    suppress_by=("where.account",),
    prefilter=Prefilter(risk_tags=("storage.public_access",)),
)
def match(e):
    return h.succeeded(e) and h.has_tag(e, "storage.public_access")
