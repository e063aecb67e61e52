"""More than 10 distinct secrets read by one person within 10 minutes."""
from datetime import timedelta

from detections import Prefilter, rule
from detections import helpers as h

READ_SECRET = ("secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue", "ssm:GetParameter",
               "ssm:GetParameters", "secretmanager:SecretManagerService.AccessSecretVersion",
               "microsoft.storage:storageaccounts/listkeys/action", "microsoft.keyvault:vaults/secrets/getsecret/action",
               "microsoft.web:sites/config/list/action")


def secret_of(e):
    """What was read: the resource the event names, else the request (it names the secret)."""
    for r in e.what.resources:
        if r.id:
            return r.id.lower()
    return e.what.request


@rule(
    id="bulk_secret_retrieval",
    title="Bulk secret retrieval",
    description="One person (or principal) read more than 10 distinct secrets, parameters or storage "
    "account keys within 10 minutes: credential harvesting after a compromise.",
    severity="high",
    owner="detection-engineering",
    tactics=("TA0006",),
    techniques=("T1555.006", "T1552"),
    scenario="bulk secret retrieval (threshold)",
    references=("stratus:aws.credential-access.secretsmanager-batch-retrieve-secrets",
                "stratus:aws.credential-access.secretsmanager-retrieve-secrets",
                "stratus:aws.credential-access.ssm-retrieve-securestring-parameters",
                "stratus:gcp.credential-access.secretmanager-retrieve-secrets"),
    clouds=("aws", "gcp", "azure"),
    mode="alert",
    suppress_for=timedelta(hours=1),
    prefilter=Prefilter(actions=READ_SECRET),
    threshold={"more_than": 10, "window": timedelta(minutes=10), "distinct": secret_of, "distinct_label": "secrets"},
)
def match(e):
    return h.succeeded(e)
