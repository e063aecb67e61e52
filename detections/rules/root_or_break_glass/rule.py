"""The AWS root user or a break-glass account is used."""
from datetime import timedelta

from detections import Prefilter, rule

# Break-glass accounts, by the name or e-mail they sign in with (lower case prefixes): a table, not code.
BREAK_GLASS_PREFIXES = ("breakglass", "break-glass", "break.glass", "emergency-access")


def is_break_glass(e):
    a = e.who.actor
    return any(n.lower().startswith(BREAK_GLASS_PREFIXES) for n in (a.name, a.email) if n)


@rule(
    id="root_or_break_glass",
    title="Root or break-glass account used",
    description="The AWS account root user, or an emergency (break-glass) account in any cloud, made a "
    "call. These are for emergencies only; every use needs a ticket.",
    severity="high",
    owner="identity-security",
    tactics=("TA0001", "TA0004"),
    techniques=("T1078.004",),
    scenario="root or break-glass use",
    references=("https://docs.aws.amazon.com/IAM/latest/UserGuide/root-user-tasks.html",),
    clouds=("aws", "gcp", "azure"),
    mode="alert",
    suppress_for=timedelta(hours=1),
    prefilter=Prefilter(actor_types=("root",), principals=BREAK_GLASS_PREFIXES),
)
def match(e):
    root = e.who.actor.type == "root" and e.who.invoked_by is None
    return root or is_break_glass(e)
