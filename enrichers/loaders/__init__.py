"""Loaders that build the enrichment reference files from the clouds themselves.

The enrichers read files (a directory of people, an inventory of accounts) so that a run never depends
on a cloud API being reachable; these commands write those files, and re-running them is how the files
are refreshed (``--merge`` keeps entries written by hand and identifiers from the other clouds):

    cloudaudit directory aws-identity-center --identity-store-id d-1234567890 --out people.yaml
    cloudaudit inventory aws-organizations --out accounts.yaml
    cloudaudit inventory gcp-projects --out accounts.yaml
    cloudaudit directory azure-entra --out people.yaml
    cloudaudit directory gcp-workspace --out people.yaml
    cloudaudit inventory azure-subscriptions --out accounts.yaml

See docs/catalog.md for what each loader reads and what is not covered yet.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from connectors.usage import UsageError, no_extra

DIRECTORY_EXAMPLES = """\
examples:
  cloudaudit directory aws-identity-center --identity-store-id d-1234567890 --out people.yaml
  cloudaudit directory aws-identity-center --privileged-group AWSAdmins --privileged-group BreakGlass \\
      --department-group-prefix dept- --merge people.yaml --out people.yaml
  cloudaudit directory azure-entra --privileged-role "Global Administrator" --merge people.yaml --out people.yaml
  cloudaudit directory gcp-workspace --privileged-group gcp-admins@example.com --merge people.yaml --out people.yaml
"""
INVENTORY_EXAMPLES = """\
examples:
  cloudaudit inventory aws-organizations --out accounts.yaml
  cloudaudit inventory aws-organizations --tag owner=CostCenterOwner --merge accounts.yaml --out accounts.yaml
  cloudaudit inventory gcp-projects --query parent:folders/123456789 --merge accounts.yaml --out accounts.yaml
  cloudaudit inventory azure-subscriptions --merge accounts.yaml --out accounts.yaml
"""


def add_loader_commands(sub: Any) -> None:
    """``cloudaudit directory ...`` and ``cloudaudit inventory ...`` on the main parser's subparsers."""
    fmt = argparse.RawDescriptionHelpFormatter
    directory = sub.add_parser(
        "directory", help="build an identity directory file from a cloud's identity store",
        epilog=DIRECTORY_EXAMPLES, formatter_class=fmt, allow_abbrev=False,
    )
    dsub = directory.add_subparsers(dest="loader", metavar="SOURCE", required=True)
    ic = dsub.add_parser(
        "aws-identity-center", help="users of an AWS IAM Identity Center identity store",
        epilog=DIRECTORY_EXAMPLES, formatter_class=fmt, allow_abbrev=False,
    )
    ic.add_argument("--identity-store-id", metavar="ID",
                    help="identity store (d-...); default: the one of the account's Identity Center instance")
    ic.add_argument("--privileged-group", action="append", default=[], metavar="NAME",
                    help="members of this group are privileged (repeat for more); without it 'privileged' "
                    "is left empty")
    ic.add_argument("--department-group-prefix", metavar="PREFIX",
                    help="a group named PREFIX<Department> gives its members that department (when the "
                    "identity source does not fill the enterprise extension's department)")
    ic.add_argument("--id-from", choices=("email", "username", "user-id"), default="email",
                    help="what becomes the person id (default: the primary e-mail, the id most likely to be "
                    "the same in the other clouds)")
    _common(ic)
    ic.set_defaults(func=_cmd_identity_center)

    entra = dsub.add_parser(
        "azure-entra", help="users of Microsoft Entra ID (Microsoft Graph)",
        epilog=DIRECTORY_EXAMPLES, formatter_class=fmt, allow_abbrev=False,
    )
    entra.add_argument("--privileged-role", action="append", default=[], metavar="NAME",
                       help="members of this directory role (e.g. 'Global Administrator') are privileged")
    entra.add_argument("--privileged-group", action="append", default=[], metavar="NAME",
                       help="members (transitive) of this group are privileged")
    entra.add_argument("--id-from", choices=("email", "upn", "object-id"), default="email",
                       help="what becomes the person id (default: the e-mail, else the UPN)")
    _common(entra, aws=False)
    entra.set_defaults(func=_cmd_entra)

    ws = dsub.add_parser(
        "gcp-workspace", help="users of Google Workspace / Cloud Identity (Admin SDK Directory API)",
        epilog=DIRECTORY_EXAMPLES, formatter_class=fmt, allow_abbrev=False,
    )
    ws.add_argument("--customer", default="my_customer", metavar="ID",
                    help="Workspace customer id (default: my_customer, the caller's own)")
    ws.add_argument("--privileged-group", action="append", default=[], metavar="EMAIL",
                    help="members of this group (by e-mail) are privileged (repeat for more)")
    ws.add_argument("--no-admins-privileged", action="store_true",
                    help="do not count Workspace super/delegated admins as privileged")
    ws.add_argument("--subject", metavar="ADMIN_EMAIL",
                    help="with service-account credentials: the admin to act for (domain-wide delegation)")
    _common(ws, aws=False)
    ws.set_defaults(func=_cmd_workspace)

    inventory = sub.add_parser(
        "inventory", help="build an account inventory file from a cloud's organization",
        epilog=INVENTORY_EXAMPLES, formatter_class=fmt, allow_abbrev=False,
    )
    isub = inventory.add_subparsers(dest="loader", metavar="SOURCE", required=True)
    org = isub.add_parser(
        "aws-organizations", help="accounts of an AWS Organization, context from their tags",
        epilog=INVENTORY_EXAMPLES, formatter_class=fmt, allow_abbrev=False,
    )
    org.add_argument("--tag", action="append", default=[], metavar="FIELD=TAGKEY",
                     help="read FIELD (environment, owner, criticality, data_classification) from tag TAGKEY "
                     "(default keys: Environment/env, Owner/team, Criticality/tier, DataClassification)")
    _common(org)
    org.set_defaults(func=_cmd_organizations)

    gcp = isub.add_parser(
        "gcp-projects", help="GCP projects (Resource Manager projects.search), context from their labels",
        epilog=INVENTORY_EXAMPLES, formatter_class=fmt, allow_abbrev=False,
    )
    gcp.add_argument("--query", default="", metavar="QUERY",
                     help="projects.search query, e.g. 'parent:folders/123' (default: every project you may see)")
    gcp.add_argument("--include-deleted", action="store_true", help="also projects pending deletion")
    gcp.add_argument("--tag", action="append", default=[], metavar="FIELD=LABEL",
                     help="read FIELD from label LABEL first (same fields and defaults as aws-organizations)")
    _common(gcp, aws=False)
    gcp.set_defaults(func=_cmd_gcp_projects)

    subs = isub.add_parser(
        "azure-subscriptions", help="Azure subscriptions (ARM), context from their tags",
        epilog=INVENTORY_EXAMPLES, formatter_class=fmt, allow_abbrev=False,
    )
    subs.add_argument("--tag", action="append", default=[], metavar="FIELD=TAGKEY",
                      help="read FIELD from tag TAGKEY first (same fields and defaults as aws-organizations)")
    _common(subs, aws=False)
    subs.set_defaults(func=_cmd_azure_subscriptions)


def _common(p: argparse.ArgumentParser, aws: bool = True) -> None:
    p.add_argument("--out", required=True, metavar="FILE",
                   help="file to write: .yaml/.yml, .json or .csv by extension; '-' for stdout (YAML)")
    p.add_argument("--merge", metavar="FILE",
                   help="existing file to merge into (entries matched by id; hand-written values and other "
                   "clouds' identifiers are kept)")
    if aws:
        p.add_argument("--region", metavar="REGION", help="AWS region of the API (default: the SDK's)")
    p.add_argument("--endpoint", metavar="URL", help="API endpoint override, e.g. a local stand-in "
                   "(a plain-HTTP endpoint is sent no credentials)" if not aws else
                   "API endpoint override, e.g. a local stand-in (default: AWS_ENDPOINT_URL or AWS's)")


def _tag_options(specs: list[str]) -> dict[str, tuple[str, ...]]:
    from enrichers.loaders.tags import DEFAULT_TAG_KEYS

    tag_keys: dict[str, tuple[str, ...]] = {}
    for spec in specs:
        field, sep, key = spec.partition("=")
        if not sep or not key or field not in DEFAULT_TAG_KEYS:
            raise UsageError(f"--tag {spec!r}: expected FIELD=TAGKEY with FIELD one of "
                             f"{', '.join(DEFAULT_TAG_KEYS)}")
        tag_keys[field] = (*tag_keys.get(field, ()), key)
    return tag_keys


# What the cloud says wins over a merged file for these inventory fields; the rest keeps hand-written values.
ACCOUNT_FIELDS_FROM_CLOUD = ("name", "environment", "owner", "criticality", "data_classification")


def _save(args: argparse.Namespace, rows: list[dict[str, Any]], what: str, cloud_wins: tuple[str, ...],
          origin: str, noun: str) -> int:
    """Merge with ``--merge`` (if given), write ``--out`` and say how many ``noun`` were written.

    ``what`` is "identities" (a directory file) or "accounts" (an inventory file)."""
    from enrichers.loaders.files import DIRECTORY_COLUMNS, INVENTORY_COLUMNS, load_existing, merge, write

    kind, columns = ("directory", DIRECTORY_COLUMNS) if what == "identities" else ("inventory", INVENTORY_COLUMNS)
    if args.merge:
        rows = merge(load_existing(args.merge, what, kind), rows, cloud_wins=cloud_wins)
    write(args.out, what, rows, columns, origin)
    print(f"cloudaudit: wrote {len(rows)} {noun} to {args.out}", file=sys.stderr)
    return 0


def _cmd_identity_center(args: argparse.Namespace, extra: list[str]) -> int:
    from enrichers.loaders import aws

    no_extra(extra)
    store = args.identity_store_id or aws.find_identity_store(aws.client("sso-admin", args.region, args.endpoint))
    rows = aws.identity_center_people(
        aws.client("identitystore", args.region, args.endpoint), store,
        privileged_groups=args.privileged_group, department_group_prefix=args.department_group_prefix,
        id_from=args.id_from,
    )
    wins = ("status", "privileged") if args.privileged_group else ("status",)
    return _save(args, rows, "identities", wins, f"IAM Identity Center identity store {store}", "identities")


def _cmd_organizations(args: argparse.Namespace, extra: list[str]) -> int:
    from enrichers.loaders import aws

    no_extra(extra)
    tag_keys = _tag_options(args.tag)
    rows = aws.organizations_accounts(aws.client("organizations", args.region, args.endpoint), tag_keys)
    return _save(args, rows, "accounts", ACCOUNT_FIELDS_FROM_CLOUD, "AWS Organizations", "accounts")


def _cmd_gcp_projects(args: argparse.Namespace, extra: list[str]) -> int:
    from enrichers.loaders import gcp

    no_extra(extra)
    tag_keys = _tag_options(args.tag)
    rows = gcp.projects_accounts(gcp.projects_client(args.endpoint), args.query, tag_keys,
                                 include_deleted=args.include_deleted)
    return _save(args, rows, "accounts", ACCOUNT_FIELDS_FROM_CLOUD, "GCP Resource Manager", "projects")


def _cmd_entra(args: argparse.Namespace, extra: list[str]) -> int:
    from enrichers.loaders import azure

    no_extra(extra)
    graph = azure.RestClient(args.endpoint or azure.GRAPH, "https://graph.microsoft.com/.default", "graph")
    rows = azure.entra_people(graph, privileged_roles=args.privileged_role,
                              privileged_groups=args.privileged_group, id_from=args.id_from)
    wins = ("status", "privileged") if args.privileged_role or args.privileged_group else ("status",)
    return _save(args, rows, "identities", wins, "Microsoft Entra ID", "identities")


def _cmd_azure_subscriptions(args: argparse.Namespace, extra: list[str]) -> int:
    from enrichers.loaders import azure

    no_extra(extra)
    tag_keys = _tag_options(args.tag)
    arm = azure.RestClient(args.endpoint or azure.ARM, "https://management.azure.com/.default", "arm")
    rows = azure.subscriptions_accounts(arm, tag_keys)
    return _save(args, rows, "accounts", ACCOUNT_FIELDS_FROM_CLOUD, "Azure Resource Manager", "subscriptions")


def _cmd_workspace(args: argparse.Namespace, extra: list[str]) -> int:
    from enrichers.loaders import gcp

    no_extra(extra)
    api = gcp.DirectoryApi(args.endpoint, args.subject)
    rows = gcp.workspace_people(api, customer=args.customer, privileged_groups=args.privileged_group,
                                admins_are_privileged=not args.no_admins_privileged)
    return _save(args, rows, "identities", ("status", "privileged"), "Google Workspace directory", "identities")
