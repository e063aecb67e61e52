"""The ``?key=value`` options of the ``workspace-reports`` source kind (``connectors.options``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, Field

from connectors.options import Csv, Duration, HttpEndpoint, QueryOptions

# The Reports API applications whose activities are audit events this connector maps.
APPLICATIONS = ("login", "admin", "token", "saml", "context_aware_access", "groups_enterprise")
DEFAULT_APPLICATIONS = ("login", "admin", "token", "saml")


def _applications(names: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [n for n in names if n not in APPLICATIONS]
    if unknown or not names:
        raise ValueError(
            f"unknown application {', '.join(repr(n) for n in unknown)} (choose from {', '.join(APPLICATIONS)})"
        )
    return names


class ReportsQuery(QueryOptions):
    applications: Annotated[Csv, AfterValidator(_applications)] = Field(
        DEFAULT_APPLICATIONS,
        description="applications to read, comma-separated: " + ", ".join(APPLICATIONS),
        json_schema_extra={"takes": "application names, comma-separated"},
    )
    slice: Duration = Field(
        timedelta(hours=6), ge=timedelta(minutes=1), description="time slice per paged query"
    )
    page_size: int = Field(1000, ge=1, le=1000, description="activities per page (the API's maximum)")
    subject: str | None = Field(
        None, description="administrator a domain-wide-delegated service account acts as"
    )
    endpoint: Annotated[HttpEndpoint | None, AfterValidator(lambda v: v.rstrip("/") if v else v)] = Field(
        None, description="API endpoint for a local stand-in (then unauthenticated); default the public API"
    )
