"""An IAM user or the root user signs in to the AWS console without MFA."""
from datetime import timedelta

from detections import Prefilter, rule
from detections import helpers as h


@rule(
    id="console_login_without_mfa",
    title="Console sign-in without MFA",
    description="A successful AWS console sign-in by an IAM user or the root user with MFAUsed=No. "
    "Federated and Identity Center sign-ins do their MFA at the identity provider and are not matched.",
    severity="medium",
    owner="identity-security",
    tactics=("TA0001",),
    techniques=("T1078.004",),
    scenario="console login without MFA",
    references=("stratus:aws.initial-access.console-login-without-mfa",),
    clouds=("aws",),
    mode="alert",
    suppress_for=timedelta(hours=8),
    prefilter=Prefilter(providers=("aws",), actions=("signin:ConsoleLogin",)),
)
def match(e):
    auth = e.how.auth
    return (
        h.succeeded(e)
        and e.who.actor.type in ("human", "root")
        and e.who.session is None
        and auth is not None
        and auth.mfa is False
    )
