"""Google Workspace audit activities (format google_workspace.audit), built with the onboarding kit:
login, admin, OAuth token, SAML and context-aware access, as Workspace shares them into Cloud Logging
(read by the GCP connector's sources; asked before gcp_audit) and as the Admin SDK Reports API returns
them (``workspace-reports`` source kind, or files). See README.md for the mapping decisions."""

from __future__ import annotations

from typing import Any

from connectors.base import Connector, MapContext, Unwrapped
from connectors.errors import NonEvent
from connectors.sources import SourceKind, SourceSpec

from . import parse
from . import tables as T
from .mapping import map_record
from .options import ReportsQuery


class GoogleWorkspaceConnector(Connector):
    name = "google_workspace"
    format = T.FORMAT
    provider = T.PROVIDER
    before = ("gcp_audit",)
    account_kind = "customer"
    docs = "docs/sources-workspace.md"

    def unwrap(self, doc: dict[str, Any]) -> Unwrapped | NonEvent | None:
        return parse.unwrap(doc)

    def claims(self, record: dict[str, Any]) -> bool:
        return parse.claims(record)

    def map(self, record: dict[str, Any], ctx: MapContext) -> dict[str, Any]:
        return map_record(record, ctx)


CONNECTOR = GoogleWorkspaceConnector()


def _reports(spec: SourceSpec) -> Any:
    from .read_reports import source  # imported on use: Beam stays out of plain normalization

    return source(spec)


SOURCES: tuple[SourceKind, ...] = (
    SourceKind(
        kind="workspace-reports",
        mode="batch",
        summary="Google Workspace audit activities from the Admin SDK Reports API (activities.list) for "
        "--start/--end",
        example="workspace-reports:my_customer?applications=login,admin,token,saml&subject=admin@example.com",
        factory=_reports,
        time_range="required",
        options_model=ReportsQuery,
    ),
)
