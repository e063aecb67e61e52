"""docs/mapping.md, generated from the mapping tables so that it cannot drift from the code.

    python -m connectors.mapping_docs            # rewrite docs/mapping.md
    python -m connectors.mapping_docs --check    # exit 1 when docs/mapping.md is stale

The field tables below (source field -> schema path, with the rule for special cases) are the reviewed
summary of each mapper; tests/connectors/test_mapping_docs.py checks that every schema path they name
exists in the Event model and that the file is what this module writes. The target, privilege, role and
identity tables are read from the connectors' own table modules.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from connectors.aws_cloudtrail import targets as aws
from connectors.azure_activity import tables as azure_tables
from connectors.azure_activity import targets as azure
from connectors.gcp_audit import targets as gcp

DOC = Path(__file__).resolve().parent.parent / "docs" / "mapping.md"

# (source field, schema path(s), rule) per cloud.
FIELDS: dict[str, list[tuple[str, str, str]]] = {
    "aws": [
        ("eventTime", "when.time", "UTC; text finer than microseconds kept in when.time_text"),
        ("eventSource + eventName", "what.action", "`<eventSource up to the first dot>:<eventName>`"),
        ("eventName", "what.operation", ""),
        ("eventCategory", "what.plane", "Management -> management, Data -> data, NetworkActivity -> network"),
        ("errorCode / errorMessage", "what.error, what.outcome",
         "failure when either is set, except an HTTP 2xx status written as errorCode (success, no error)"),
        ("resources[]", "what.resources", "ARN, type, accountId (or `accountid`), region from the ARN"),
        ("requestParameters / responseElements", "what.resources",
         "targets named by the table below, after resources[]; an ARN gives account and region"),
        ("requestParameters / responseElements", "what.privilege_changes", "the privilege table below"),
        ("responseElements.credentials / assumedRoleUser / federatedUser", "what.issued",
         "the session or key a call hands out: id, credential_id, expires"),
        ("additionalEventData", "what.details", "every key; non-text values as compact JSON"),
        ("userIdentity.arn", "who.actor.id", "principalId when there is no ARN"),
        ("userIdentity.principalId", "who.actor.unique_id", "when it differs from who.actor.id"),
        ("userIdentity.type AssumedRole", "who.actor.type, who.actor.credential_type",
         "role_session, always temporary; a service-linked role (issuer path aws-service-role/) is cloud_service"),
        ("userIdentity.invokedBy", "who.invoked_by", ""),
        ("recipientAccountId", "where.account", "the account the event happened in, not the caller's"),
        ("sourceIPAddress", "where.source.ip, where.source.domain, where.source.forwarded",
         "a service host name is a domain; a forwarded list gives its first public address, the rest in forwarded"),
        ("userAgent", "how.user_agent, how.client",
         "console back ends (`...ConsoleBackend, aws-sdk-java/...`) are console; a service acting alone is cloud_service"),
    ],
    "gcp": [
        ("timestamp", "when.time", "receiveTimestamp when timestamp is absent; nanoseconds in when.time_text"),
        ("protoPayload.serviceName + methodName", "what.action", "`<service short name>:<method without package>`"),
        ("logName (audit log kind)", "what.plane", "data_access -> data; activity, system_event, policy -> management"),
        ("protoPayload.status", "what.outcome, what.error", "code 0 or absent is success"),
        ("protoPayload.resourceName", "what.resources", "first resource; further targets from the table below"),
        ("protoPayload.authorizationInfo[]", "what.authorization",
         "permission, granted, resource; an absent granted on a failed call is a denial (proto3 omits false)"),
        ("serviceData.policyDelta.bindingDeltas[]", "what.privilege_changes",
         "kind role_binding; member prefix -> grantee type; condition expression kept"),
        ("serviceData.policyDelta.auditConfigDeltas[]", "what.privilege_changes",
         "kind audit_config, role `<service>/<logType>`, grantee the exempted member"),
        ("authenticationInfo.principalSubject / principalEmail", "who.actor.id",
         "the subject; else the e-mail in member form (`user:` / `serviceAccount:`), so one principal has one id"),
        ("authenticationInfo.principalEmail (GKE)", "who.actor.type, who.actor.name, who.actor.namespace",
         "Kubernetes identities by the table below; never an e-mail"),
        ("authenticationInfo.serviceAccountDelegationInfo[]", "who.delegation",
         "original caller first, acting principal last; a first-party principal with serviceMetadata is cloud_service"),
        ("metadata.identityDelegationChain[]", "who.delegation",
         "when there is no delegation info: the caller first, then each service account of the chain"),
        ("resource.labels.project_id", "where.account",
         "wins over a project logName (logs routed into a central project); the log's project then stays in source.log"),
        ("requestMetadata.callerIp", "where.source.ip, where.source.domain", "`private` / `gce-internal-ip` are domains"),
        ("requestMetadata.callerSuppliedUserAgent", "how.user_agent, how.client",
         "GoogleCloudConsole is console; a browser agent on the Kubernetes API (k8s.io) is other"),
    ],
    "azure": [
        ("time / eventTimestamp / TimeGenerated", "when.time", "100 ns ticks kept in when.time_text"),
        ("operationName", "what.action", "`<namespace>:<rest>` lower-cased"),
        ("resultType / status", "what.outcome",
         "Start/Accept/In Progress rows are the non-event azure.activity.intermediate; see lone Start rows below"),
        ("category", "what.plane", "Administrative, Policy -> management; storage resource logs -> data"),
        ("resourceId", "what.resources, where.account", "subscription lower-cased"),
        ("resourceId `/tenants/<id>/...`", "where.org", "when the record has no tenantId"),
        ("properties.requestbody / responseBody", "what.privilege_changes",
         "role assignments and PIM requests by the table below; built-in role ids -> role_name"),
        ("identity.authorization", "what.authorization",
         "action and scope; evidence means granted, an Authorization* error means denied"),
        ("identity.claims", "who.actor", "upn/e-mail, object id, app id, tenant; managed identities are service"),
        ("callerIpAddress", "where.source.ip, where.source.network",
         "0.0.0.0 is no address; a range (`127.0.0.0/8`) is a network, not an address"),
    ],
}


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return out


def _target_rows(tables: dict) -> list[tuple[str, ...]]:
    return [(f"`{r.action}`", f"`{r.path_text}`", str(r.type)) for rules in tables.values() for r in rules]


def _privilege_rows(tables: dict) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for rules in tables.values():
        for r in rules:
            def show(v: object) -> str:
                if v is None:
                    return "-"
                if isinstance(v, tuple):
                    return "`" + "|".join(f"{root}:{'.'.join(keys)}" for root, keys in v) + "`"
                return str(v)
            grantee = "-" if r.grantee is None else f"{show(r.grantee_type)} = {show(r.grantee)}"
            rows.append((f"`{r.action}`", r.op, r.kind, show(r.role), grantee, show(r.scope)))
    return rows


def render() -> str:
    n_targets = len(aws.TARGETS) + len(gcp.TARGETS) + len(azure.TARGETS)
    lines = [
        "# Mapping reference",
        "",
        "<!-- generated by `python -m connectors.mapping_docs`; do not edit by hand "
        "(tests/connectors/test_mapping_docs.py fails when it is stale) -->",
        "",
        "How each cloud's audit record becomes the event schema (schemas/event.py): the main fields, the",
        "rule for each special case, and the tables that decide targets and privilege changes. "
        f"The target tables name {n_targets} operations.",
        "",
    ]
    names = {"aws": "AWS CloudTrail", "gcp": "GCP Cloud Audit Logs", "azure": "Azure Activity Log"}
    for cloud, rows in FIELDS.items():
        lines += [f"## {names[cloud]}", "", *_table(("source field", "schema path", "rule"), rows), ""]
        if cloud == "aws":
            lines += ["### Targets (connectors/aws_cloudtrail/targets.py)", "",
                      "`req:` requestParameters, `resp:` responseElements, `rec:` the record; `a|b` = a, else b. "
                      "Lambda's versioned event names are looked up without the version.", "",
                      *_table(("action", "path", "resource type"), _target_rows(aws.TARGETS)), "",
                      "### Privilege changes", "",
                      *_table(("action", "op", "kind", "role", "grantee type = id", "scope"),
                              _privilege_rows(aws.PRIVILEGES)), "",
                      "### Issued sessions and keys (what.issued)", "",
                      *_table(("action", "id", "credential_id", "expires"),
                              [(f"`{k}`", *(f"`{p}`" for p in v)) for k, v in aws.ISSUED.items()]), ""]
        elif cloud == "gcp":
            lines += ["### Further targets (connectors/gcp_audit/targets.py)", "",
                      *_table(("action", "path", "resource type"), _target_rows(gcp.TARGETS)), "",
                      "### Policy members and Kubernetes identities", "",
                      *_table(("member prefix", "grantee type"),
                              [(f"`{k}:`", v) for k, v in gcp.MEMBER_TYPES.items()]
                              + [(f"`{m}`", "public") for m in sorted(gcp.PUBLIC_MEMBERS)]), "",
                      *_table(("GKE principal (prefix)", "who.actor.type"),
                              [(f"`{k}`", v) for k, v in gcp.K8S_PRINCIPALS.items()]), ""]
        else:
            lines += ["### Further targets (connectors/azure_activity/targets.py)", "",
                      "`scope` takes the type the resource id names.", "",
                      *_table(("action", "path", "resource type"), _target_rows(azure.TARGETS)), "",
                      "### Role assignments", "",
                      *_table(("action", "op", "kind", "role", "grantee type = id", "scope"),
                              _privilege_rows(azure.PRIVILEGES)), "",
                      *_table(("role definition id", "built-in role (role_name)"),
                              [(f"`{k}`", v) for k, v in azure.BUILTIN_ROLES.items()]), "",
                      *_table(("event category", "what.plane"),
                              list(azure_tables.PLANE_BY_EVENT_CATEGORY.items())), "",
                      "### Lone Start rows", "",
                      "A long-running operation logs a Start row and later a terminal row with the same operation",
                      "and correlationId. Each row is mapped on its own, so a Start row is the non-event",
                      "`azure.activity.intermediate` and the terminal row is the event. When the terminal row",
                      "never comes (a `listKeys` answered at once, a lost row), "
                      "`connectors.azure_activity.lone_start.resolve_lone_starts`",
                      "finds the intermediate rows of a batch or window without a terminal row, and `map_unresolved`",
                      "maps each as the operation's event with outcome `unknown` (its id differs from a later",
                      "terminal row's).",
                      "",
                      'Where it runs:',
                      '',
                      '- **Batch (`cloudaudit run`)**: the read stage holds every intermediate Azure row (the record',
                      '  and where it came from) until all files and sources are read',
                      '  (`pipelines/stages/lone_start.py`). An operation with a terminal row anywhere in the run (in',
                      '  the same file or another) is resolved: its held rows are counted as',
                      '  `azure.activity.intermediate`, as before. An operation without one is lone: one of its rows',
                      '  (the Start row, else the earliest) becomes the event, enriched, deduplicated and written to',
                      '  cold storage, the SIEM files and the sinks like any other, counted in `events_normalized`',
                      '  and in the Beam counter `azure.activity.lone_start`; its other intermediate rows stay',
                      '  non-events. Each row is counted once, so the run-summary invariant holds. Operations are',
                      '  matched on operationName and correlationId (lower-cased). A terminal row that is a dead',
                      "  letter does not resolve its Start. Only the run's own input counts: a run over one hour of",
                      "  exports turns the Start rows whose terminal row is in the next hour's export into events",
                      "  (and the next run writes the terminal row's event too; the ids differ). Read an operation's",
                      '  hours in one run where that matters.',
                      '- **Streaming**: not wired. A streaming user sees a lone Start row only as one',
                      '  `azure.activity.intermediate` in the non-event counts, never as an event; see',
                      '  [streaming](streaming.md) ("Azure Start rows").',
                      ""]
    lines += [
        "## Risk tags from privilege changes",
        "",
        "The action catalog adds `iam.privilege_grant` for an add or replace of a grant kind and",
        "`iam.admin_grant` when the role is administrator-level, the same way in every cloud; the kinds and",
        "admin roles are data (`enrichers/data/privileges.yaml`).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not DOC.exists() or DOC.read_text("utf-8") != text:
            print(f"{DOC} is stale: run python -m connectors.mapping_docs", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
