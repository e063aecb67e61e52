"""The cloudaudit event model, version 1.

One record answers who did what, where, when and how, the same way for every cloud. Field paths are a
contract with detection rules and sinks: inside a schema version a field is never renamed or retyped;
new optional fields may be added.

Mappers fill what the source says; enrichers fill the context fields (``who.person``, ``where.source``
geo/ASN/tags, ``what.category``/``risk_tags`` refinements); nobody guesses.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

SCHEMA_VERSION: Literal["1"] = "1"


class _Model(BaseModel):
    # Unknown keys are a mapper bug, not something to carry silently.
    model_config = ConfigDict(extra="forbid", use_enum_values=True, validate_default=False)


# --- vocabularies -------------------------------------------------------------------------------


class ActorType(StrEnum):
    human = "human"
    service = "service"
    role_session = "role_session"
    root = "root"
    cloud_service = "cloud_service"
    anonymous = "anonymous"
    unknown = "unknown"


class CredentialType(StrEnum):
    long_lived = "long_lived"
    temporary = "temporary"
    unknown = "unknown"


class Activity(StrEnum):
    create = "create"
    read = "read"
    update = "update"
    delete = "delete"
    login = "login"
    other = "other"


class Category(StrEnum):
    authentication = "authentication"
    iam = "iam"
    configuration = "configuration"
    logging = "logging"
    encryption = "encryption"
    network = "network"
    compute = "compute"
    storage = "storage"
    data_access = "data_access"
    other = "other"


class Outcome(StrEnum):
    success = "success"
    failure = "failure"
    unknown = "unknown"


class Provider(StrEnum):
    aws = "aws"
    gcp = "gcp"
    azure = "azure"


class Client(StrEnum):
    console = "console"
    cli = "cli"
    sdk = "sdk"
    terraform = "terraform"
    cloud_service = "cloud_service"
    other = "other"
    unknown = "unknown"


class Format(StrEnum):
    aws_cloudtrail = "aws.cloudtrail"
    gcp_audit = "gcp.audit"
    azure_activity = "azure.activity"


# Fields are annotated with these Literal twins of the enums: pydantic checks a Literal in its Rust core,
# while an enum costs Python-level attribute lookups on every event (about 2 us of 9 at 50k events/s).
# The enums stay as the names code uses; tests/schemas checks that each pair holds the same words.
ActorTypeName = Literal["human", "service", "role_session", "root", "cloud_service", "anonymous", "unknown"]
CredentialTypeName = Literal["long_lived", "temporary", "unknown"]
ActivityName = Literal["create", "read", "update", "delete", "login", "other"]
CategoryName = Literal[
    "authentication", "iam", "configuration", "logging", "encryption", "network", "compute", "storage",
    "data_access", "other",
]
OutcomeName = Literal["success", "failure", "unknown"]
ClientName = Literal["console", "cli", "sdk", "terraform", "cloud_service", "other", "unknown"]


# Open vocabularies: the words that name sources (``where.provider``, ``source.format``) come from the
# connector registry, so onboarding a source adds its words without editing this file. A word is checked
# against the registry (an unregistered one is a validation error, as a closed Literal was) and the
# exported JSON Schema lists the registered words as its enum. The enums above keep the built-in names.
def _registered(kind: str) -> frozenset[str]:
    from connectors.registry import vocabulary  # late: connectors import this module

    return vocabulary(kind)


def _registered_words(kind: str) -> list[str]:
    from connectors.registry import words

    return list(words(kind))


def _vocabulary_check(kind: str, builtin: frozenset[str]) -> AfterValidator:
    def check(value: str) -> str:
        if value in builtin or value in _registered(kind):
            return value
        raise ValueError(f"{value!r} is not a registered {kind} (see connectors/registry.py)")

    return AfterValidator(check)


def _vocabulary_schema(kind: str) -> Any:
    def extra(schema: dict[str, Any]) -> None:
        schema["enum"] = _registered_words(kind)

    return Field(json_schema_extra=extra)


_BUILTIN_PROVIDERS = frozenset(("aws", "gcp", "azure"))
_BUILTIN_FORMATS = frozenset(("aws.cloudtrail", "gcp.audit", "azure.activity"))
ProviderName = Annotated[str, _vocabulary_check("provider", _BUILTIN_PROVIDERS), _vocabulary_schema("provider")]
FormatName = Annotated[str, _vocabulary_check("format", _BUILTIN_FORMATS), _vocabulary_schema("format")]
OPEN_VOCABULARIES: dict[type[StrEnum], str] = {Provider: "provider", Format: "format"}

VOCABULARIES: dict[type[StrEnum], object] = {
    ActorType: ActorTypeName,
    CredentialType: CredentialTypeName,
    Activity: ActivityName,
    Category: CategoryName,
    Outcome: OutcomeName,
    Client: ClientName,
}


def words(literal: object) -> tuple[str, ...]:
    return get_args(literal)


# --- when ---------------------------------------------------------------------------------------


class When(_Model):
    # AwareDatetime: a naive timestamp is a mapper bug (mappers convert to UTC); checked in Rust.
    time: AwareDatetime = Field(description="When it happened, UTC.")
    time_text: str | None = Field(
        default=None,
        description="The original timestamp text, kept when it has more precision than microseconds "
        "(GCP nanoseconds, Azure 100 ns ticks).",
    )
    observed: AwareDatetime | None = Field(
        default=None, description="When the cloud logged or delivered it (GCP receiveTimestamp, ...)."
    )
    ingested: AwareDatetime | None = Field(default=None, description="When this pipeline processed it.")


# --- who ----------------------------------------------------------------------------------------


class Actor(_Model):
    type: ActorTypeName = "unknown"
    id: str | None = Field(default=None, description="Stable principal id: ARN, principal subject, object id.")
    name: str | None = None
    email: str | None = None
    account: str | None = Field(default=None, description="Account/project/tenant the principal belongs to.")
    credential_id: str | None = Field(default=None, description="Access key id, key id, token id.")
    credential_type: CredentialTypeName | None = None
    app_id: str | None = Field(default=None, description="OAuth client / application id.")
    unique_id: str | None = Field(
        default=None,
        description="The provider's immutable unique id of the principal when it differs from ``id``: "
        "AWS principalId (AIDA.../AROA...:session), Entra object id.",
    )
    namespace: str | None = Field(
        default=None, description="Kubernetes namespace of a service-account principal (GKE, AKS, EKS)."
    )


class Session(_Model):
    id: str | None = None
    name: str | None = Field(default=None, description="Role session name, SSO user name.")
    issuer: str | None = Field(default=None, description="What issued the session: role ARN, IdP, ...")
    issuer_type: str | None = None
    mfa: bool | None = None
    created: AwareDatetime | None = None


class Principal(_Model):
    """One hop of an impersonation / delegation chain."""

    id: str | None = None
    type: ActorTypeName | None = None
    name: str | None = None
    email: str | None = None


class Person(_Model):
    """Identity enrichment: who the principal is in the directory, the same across clouds."""

    id: str | None = None
    known: bool = False
    kind: str | None = Field(default=None, description="person or service identity")
    name: str | None = None
    email: str | None = None
    department: str | None = None
    manager: str | None = None
    status: str | None = None
    privileged: bool | None = None


class Who(_Model):
    actor: Actor = Field(default_factory=Actor)
    session: Session | None = None
    delegation: list[Principal] = Field(
        default_factory=list, description="Impersonation chain, original caller first, acting principal last."
    )
    invoked_by: str | None = Field(default=None, description="Cloud service acting for the actor.")
    person: Person | None = None


# --- what ---------------------------------------------------------------------------------------


class Error(_Model):
    code: str | None = None
    message: str | None = None


class Tag(_Model):
    """One resource tag or label (a list of pairs, not a map: Arrow's JSON reader has no map type)."""

    key: str
    value: str | None = None


class Attribute(_Model):
    """One key/value detail the source gives beside the main fields (non-string values as compact JSON)."""

    key: str
    value: str | None = None


class Grantee(_Model):
    type: str | None = Field(
        default=None, description="user, group, service_account, role, service_principal, domain, public, ..."
    )
    id: str | None = Field(default=None, description="The member as the source names it: ARN, member, object id.")
    name: str | None = None


class PrivilegeChange(_Model):
    """Who got or lost which privilege on what: the same shape in every cloud and directory."""

    op: Literal["add", "remove", "replace"]
    kind: str | None = Field(
        default=None,
        description="role_binding, policy, group_membership, trust_policy, credential, audit_config, "
        "permission_set, share, ...",
    )
    role: str | None = Field(default=None, description="Role, policy or group id as the source names it.")
    role_name: str | None = Field(default=None, description="Readable role name where known (Azure built-ins).")
    grantee: Grantee | None = None
    scope: str | None = Field(default=None, description="What the privilege applies to: resource, project, ...")
    condition: str | None = Field(default=None, description="A condition narrowing the grant, as text.")


class AuthorizationCheck(_Model):
    permission: str | None = None
    granted: bool | None = None
    resource: str | None = None


class Issued(_Model):
    """Credentials or a session issued by this call (AssumeRole, GetFederationToken, ...)."""

    id: str | None = Field(default=None, description="The issued session or principal: ARN, token id.")
    credential_id: str | None = Field(default=None, description="The issued key id (ASIA...), for joins.")
    expires: AwareDatetime | None = None


class Resource(_Model):
    type: str | None = None
    id: str | None = None
    name: str | None = None
    account: str | None = None
    region: str | None = None
    tags: list[Tag] | None = Field(
        default=None, description="Tags/labels of the resource, from the event or the resource inventory."
    )


class What(_Model):
    action: str = Field(description="Canonical service:operation, e.g. iam:CreateAccessKey.")
    operation: str = Field(description="The operation as the source names it.")
    service: str | None = Field(default=None, description="The service as the source names it.")
    activity: ActivityName = "other"
    category: CategoryName = "other"
    read_only: bool | None = None
    outcome: OutcomeName = "unknown"
    error: Error | None = None
    resources: list[Resource] = Field(default_factory=list)
    request: str | None = Field(default=None, description="Request parameters, compact JSON.")
    response: str | None = Field(default=None, description="Response elements, compact JSON.")
    risk_tags: list[str] = Field(default_factory=list)
    privilege_changes: list[PrivilegeChange] = Field(
        default_factory=list, description="Privileges granted or removed by this call, in one shape for all sources."
    )
    authorization: list[AuthorizationCheck] = Field(
        default_factory=list, description="Permissions checked for this call, granted or denied."
    )
    plane: str | None = Field(
        default=None,
        description="management, data, network or insight (CloudTrail eventCategory, GCP data-access logs, ...).",
    )
    issued: Issued | None = None
    details: list[Attribute] = Field(
        default_factory=list,
        description="Source details with no field of their own (CloudTrail additionalEventData, ...).",
    )


# --- where --------------------------------------------------------------------------------------


class Geo(_Model):
    country: str | None = None
    region: str | None = None
    city: str | None = None
    lat: float | None = None
    lon: float | None = None


class NetworkSource(_Model):
    ip: str | None = Field(default=None, description="Caller IP address (v4 or v6); never a host name.")
    domain: str | None = Field(
        default=None, description="Caller host name when the source is a service (or 'AWS Internal')."
    )
    geo: Geo | None = None
    asn: int | None = None
    as_org: str | None = None
    cloud_provider: str | None = None
    cloud_service: str | None = None
    internal: bool | None = None
    threat_tags: list[str] = Field(default_factory=list)
    network: str | None = Field(
        default=None, description="Caller network range (CIDR) when the source gives a range, not an address."
    )
    forwarded: list[str] = Field(
        default_factory=list, description="Further addresses of a forwarded list, after the one in ``ip``."
    )


class AccountContext(_Model):
    """Resource enrichment: what the account/project/subscription of ``where.account`` is to the business."""

    id: str | None = None
    known: bool = False
    name: str | None = None
    kind: str | None = Field(default=None, description="account, project or subscription")
    environment: str | None = Field(default=None, description="prod, staging, dev, sandbox")
    owner: str | None = Field(default=None, description="Owning team.")
    criticality: str | None = Field(default=None, description="low, medium, high, critical")
    data_classification: str | None = Field(default=None, description="public, internal, confidential, ...")


class Where(_Model):
    provider: ProviderName
    account: str | None = Field(default=None, description="Where it happened (not the caller's account).")
    org: str | None = None
    region: str | None = None
    source: NetworkSource = Field(default_factory=NetworkSource)
    vpc_endpoint: str | None = None
    account_context: AccountContext | None = None


# --- how ----------------------------------------------------------------------------------------


class Device(_Model):
    id: str | None = None
    name: str | None = None
    os: str | None = None
    browser: str | None = None
    compliant: bool | None = None
    managed: bool | None = None
    trust_type: str | None = None


class Auth(_Model):
    method: str | None = None
    mfa: bool | None = None
    interactive: bool | None = Field(default=None, description="A person at a prompt, or a token/app flow.")
    mfa_required: bool | None = None
    mfa_method: str | None = Field(default=None, description="How MFA was satisfied: TOTP, push, FIDO2, SMS, ...")
    failure_reason: str | None = Field(default=None, description="Why a sign-in failed, as the provider says.")
    conditional_access: str | None = Field(
        default=None, description="Conditional-access result: success, failure, not_applied, ..."
    )
    risk_level: str | None = Field(default=None, description="The provider's risk level: none, low, medium, high.")
    app_name: str | None = Field(default=None, description="The application signed in to.")
    client_app: str | None = Field(default=None, description="Client app type: browser, mobile, legacy protocol, ...")
    device: Device | None = None
    location: Geo | None = Field(default=None, description="The location the identity provider resolved.")


class Tls(_Model):
    version: str | None = None
    cipher: str | None = None


class How(_Model):
    user_agent: str | None = None
    client: ClientName = "unknown"
    auth: Auth | None = None
    tls: Tls | None = None
    request_id: str | None = None
    correlation_id: str | None = None


# --- source -------------------------------------------------------------------------------------


class SourceInfo(_Model):
    format: FormatName
    native_id: str | None = None
    log: str | None = Field(default=None, description="Trail, log name or category.")
    shape: str | None = Field(default=None, description="The wire shape the record arrived in.")
    location: str | None = Field(default=None, description="Where it was read, e.g. s3://bucket/key#3.")


# --- the event ----------------------------------------------------------------------------------


class Event(_Model):
    schema_version: Literal["1"] = SCHEMA_VERSION
    id: str = Field(description="Deterministic from source format and native id: same input, same id.")
    when: When
    who: Who = Field(default_factory=Who)
    what: What
    where: Where
    how: How = Field(default_factory=How)
    source: SourceInfo
    raw: str | None = Field(default=None, description="The original record, compact JSON.")
