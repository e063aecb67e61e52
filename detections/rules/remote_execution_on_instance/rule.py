"""Commands run on a machine through the control plane: SSM, serial console, SSH keys in metadata, Run Command."""
from datetime import timedelta

from detections import Prefilter, rule
from detections import helpers as h


@rule(
    id="remote_execution_on_instance",
    title="Remote execution on an instance",
    description="SSM SendCommand or StartSession, an EC2 Instance Connect or serial-console key, a GCP SSH "
    "key or startup script pushed through metadata, or an Azure VM Run Command.",
    severity="medium",
    owner="cloud-security",
    tactics=("TA0002",),
    techniques=("T1651",),
    scenario="remote execution on instances (SSM or serial console)",
    references=("stratus:aws.execution.ssm-send-command", "stratus:aws.execution.ssm-start-session",
                "stratus:aws.lateral-movement.ec2-serial-console-send-ssh-public-key",
                "stratus:azure.execution.vm-run-command", "stratus:azure.execution.vm-custom-script-extension"),
    clouds=("aws", "gcp", "azure"),
    mode="monitor",
    suppress_for=timedelta(hours=1),
    suppress_by=("where.account",),
    prefilter=Prefilter(risk_tags=("compute.remote_exec",)),
)
def match(e):
    return h.succeeded(e) and h.has_tag(e, "compute.remote_exec")
