"""A burst of denied calls by one principal: enumeration with stolen credentials."""
from datetime import timedelta

from detections import Prefilter, rule
from detections import helpers as h


@rule(
    id="denied_calls_burst",
    title="Burst of denied calls",
    description="More than 10 calls by one person or principal denied for lack of permission within 10 "
    "minutes: typical of a stolen credential being used to find out what it may do.",
    severity="medium",
    owner="detection-engineering",
    tactics=("TA0007",),
    techniques=("T1580", "T1526"),
    scenario="a burst of denied calls by one principal (threshold)",
    references=("stratus:aws.discovery.ec2-enumerate-from-instance",),
    clouds=("aws", "gcp", "azure"),
    mode="monitor",
    suppress_for=timedelta(hours=1),
    prefilter=Prefilter(outcomes=("failure",)),
    threshold={"more_than": 10, "window": timedelta(minutes=10)},
)
def match(e):
    return h.denied(e)
