"""A snapshot, image or database snapshot is shared with another AWS account."""
from datetime import timedelta

import orjson

from detections import Prefilter, rule
from detections import helpers as h

SHARE_ACTIONS = ("ec2:ModifySnapshotAttribute", "ec2:ModifyImageAttribute", "rds:ModifyDBSnapshotAttribute",
                 "rds:ModifyDBClusterSnapshotAttribute")


def added_accounts(e):
    """Account ids the request adds to a share ("all" is public_data_exposure's)."""
    try:
        req = orjson.loads(e.what.request or "null") or {}
    except orjson.JSONDecodeError:
        return set()
    out = set(req.get("valuesToAdd") or [])  # RDS
    for attr in ("createVolumePermission", "launchPermission"):  # EC2
        items = ((req.get(attr) or {}).get("add") or {}).get("items") or []
        out.update(i.get("userId") for i in items if isinstance(i, dict) and i.get("userId"))
    return {a for a in out if a and a != "all"}


@rule(
    id="shared_with_external_account",
    title="Snapshot or image shared with another account",
    description="An EBS snapshot, AMI or RDS snapshot is shared with an AWS account other than the one it "
    "lives in: a copy of the data can then be made outside our control.",
    severity="medium",
    owner="cloud-security",
    tactics=("TA0010",),
    techniques=("T1537",),
    scenario="public or cross-account data exposure of snapshots, images or databases",
    references=("stratus:aws.exfiltration.ec2-share-ebs-snapshot", "stratus:aws.exfiltration.ec2-share-ami",
                "stratus:aws.exfiltration.rds-share-snapshot"),
    clouds=("aws",),
    mode="monitor",
    suppress_for=timedelta(hours=1),
    suppress_by=("where.account",),
    prefilter=Prefilter(providers=("aws",), actions=SHARE_ACTIONS),
)
def match(e):
    return h.succeeded(e) and bool(added_accounts(e) - {e.where.account})
