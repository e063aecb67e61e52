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
    type: ActorTypeName = Field(
        default="unknown",
        description="What kind of principal acted: human, service, role_session, root, cloud_service, anonymous, unknown.",
    )
    id: str | None = Field(default=None, description="Stable principal id: ARN, principal subject, object id.")
    name: str | None = Field(
        default=None, description="Readable principal name: user name, role session name, display name."
    )
    email: str | None = Field(
        default=None, description="The principal's e-mail address where the source gives one."
    )
    account: str | None = Field(default=None, description="Account/project/tenant the principal belongs to.")
    credential_id: str | None = Field(default=None, description="Access key id, key id, token id.")
    credential_type: CredentialTypeName | None = Field(
        default=None,
        description="Whether the credential used is long_lived (access key, SA key) or temporary (session token).",
    )
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
    id: str | None = Field(default=None, description="Session id where the source gives one.")
    name: str | None = Field(default=None, description="Role session name, SSO user name.")
    issuer: str | None = Field(default=None, description="What issued the session: role ARN, IdP, ...")
    issuer_type: str | None = Field(
        default=None, description="Kind of issuer: Role, IdP, SAML, WebIdentity, ..."
    )
    mfa: bool | None = Field(
        default=None, description="Whether the session was established with multi-factor authentication."
    )
    created: AwareDatetime | None = Field(default=None, description="When the session was created, UTC.")


class Principal(_Model):
    """One hop of an impersonation / delegation chain."""

    id: str | None = Field(default=None, description="The principal of this hop: member, ARN or object id.")
    type: ActorTypeName | None = Field(
        default=None, description="Kind of principal of this hop (same words as who.actor.type)."
    )
    name: str | None = Field(default=None, description="Readable name of this hop's principal.")
    email: str | None = Field(default=None, description="E-mail of this hop's principal.")


class Person(_Model):
    """Identity enrichment: who the principal is in the directory, the same across clouds."""

    id: str | None = Field(default=None, description="Directory id of the person or service identity.")
    known: bool = Field(
        default=False, description="True when the principal was found in the identity reference data."
    )
    kind: str | None = Field(default=None, description="person or service identity")
    name: str | None = Field(default=None, description="Display name in the directory.")
    email: str | None = Field(default=None, description="Primary e-mail in the directory.")
    department: str | None = Field(default=None, description="Department or cost centre.")
    manager: str | None = Field(default=None, description="Manager's directory id or name.")
    status: str | None = Field(
        default=None, description="Directory status: active, suspended, terminated, ..."
    )
    privileged: bool | None = Field(
        default=None, description="Whether the directory marks the identity as privileged (admin)."
    )


class Who(_Model):
    actor: Actor = Field(default_factory=Actor, description="The principal that made the call.")
    session: Session | None = Field(
        default=None, description="The session the actor acted in (assumed role, SSO, federated token)."
    )
    delegation: list[Principal] = Field(
        default_factory=list, description="Impersonation chain, original caller first, acting principal last."
    )
    invoked_by: str | None = Field(default=None, description="Cloud service acting for the actor.")
    person: Person | None = Field(
        default=None,
        description="Identity enrichment: who the actor is in the directory, the same across clouds.",
    )


# --- what ---------------------------------------------------------------------------------------


class Error(_Model):
    code: str | None = Field(
        default=None,
        description="Error code as the source gives it (AccessDenied, PERMISSION_DENIED, 403, ...).",
    )
    message: str | None = Field(default=None, description="Error message as the source gives it.")


class Tag(_Model):
    """One resource tag or label (a list of pairs, not a map: Arrow's JSON reader has no map type)."""

    key: str = Field(description="Tag or label key.")
    value: str | None = Field(default=None, description="Tag or label value.")


class Attribute(_Model):
    """One key/value detail the source gives beside the main fields (non-string values as compact JSON)."""

    key: str = Field(description="Name of the detail.")
    value: str | None = Field(default=None, description="Value of the detail (non-strings as compact JSON).")


class Grantee(_Model):
    type: str | None = Field(
        default=None, description="user, group, service_account, role, service_principal, domain, public, ..."
    )
    id: str | None = Field(default=None, description="The member as the source names it: ARN, member, object id.")
    name: str | None = Field(default=None, description="Readable name of the grantee where known.")


class PrivilegeChange(_Model):
    """Who got or lost which privilege on what: the same shape in every cloud and directory."""

    op: Literal["add", "remove", "replace"] = Field(
        description="add (granted), remove (revoked) or replace (a whole policy set)."
    )
    kind: str | None = Field(
        default=None,
        description="role_binding, policy, group_membership, trust_policy, credential, audit_config, "
        "permission_set, share, ...",
    )
    role: str | None = Field(default=None, description="Role, policy or group id as the source names it.")
    role_name: str | None = Field(default=None, description="Readable role name where known (Azure built-ins).")
    grantee: Grantee | None = Field(default=None, description="Who got or lost the privilege.")
    scope: str | None = Field(default=None, description="What the privilege applies to: resource, project, ...")
    condition: str | None = Field(default=None, description="A condition narrowing the grant, as text.")


class AuthorizationCheck(_Model):
    permission: str | None = Field(
        default=None,
        description="The permission checked (storage.buckets.delete, Microsoft.Compute/.../write).",
    )
    granted: bool | None = Field(default=None, description="Whether it was granted (true) or denied (false).")
    resource: str | None = Field(default=None, description="The resource the permission was checked on.")


class Issued(_Model):
    """Credentials or a session issued by this call (AssumeRole, GetFederationToken, ...)."""

    id: str | None = Field(default=None, description="The issued session or principal: ARN, token id.")
    credential_id: str | None = Field(default=None, description="The issued key id (ASIA...), for joins.")
    expires: AwareDatetime | None = Field(
        default=None, description="When the issued credentials expire, UTC."
    )


class Resource(_Model):
    type: str | None = Field(
        default=None,
        description="Resource type as the source names it (AWS::S3::Bucket, gcs_bucket, microsoft.compute/virtualmachines).",
    )
    id: str | None = Field(
        default=None, description="Resource id: ARN, full resource name, Azure resource id."
    )
    name: str | None = Field(default=None, description="Short resource name.")
    account: str | None = Field(
        default=None, description="Account/project/subscription that owns the resource."
    )
    region: str | None = Field(default=None, description="Region or location of the resource.")
    tags: list[Tag] | None = Field(
        default=None, description="Tags/labels of the resource, from the event or the resource inventory."
    )


class What(_Model):
    action: str = Field(description="Canonical service:operation, e.g. iam:CreateAccessKey.")
    operation: str = Field(description="The operation as the source names it.")
    service: str | None = Field(default=None, description="The service as the source names it.")
    activity: ActivityName = Field(
        default="other", description="What kind of change: create, read, update, delete, login, other."
    )
    category: CategoryName = Field(
        default="other",
        description="What area it touches: authentication, iam, configuration, logging, encryption, network, compute, storage, data_access, other.",
    )
    read_only: bool | None = Field(
        default=None,
        description="True when the call only reads (from the source's readOnly flag or the action catalog).",
    )
    outcome: OutcomeName = Field(default="unknown", description="success, failure or unknown.")
    error: Error | None = Field(default=None, description="The error of a failed call.")
    resources: list[Resource] = Field(
        default_factory=list,
        description="The resources the call acted on (the real target, also when only the request names it).",
    )
    request: str | None = Field(default=None, description="Request parameters, compact JSON.")
    response: str | None = Field(default=None, description="Response elements, compact JSON.")
    risk_tags: list[str] = Field(
        default_factory=list,
        description="Short tags marking risky actions (from the action catalog and enrichment).",
    )
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
    issued: Issued | None = Field(
        default=None,
        description="Credentials or a session this call issued (AssumeRole, GenerateAccessToken, ...).",
    )
    details: list[Attribute] = Field(
        default_factory=list,
        description="Source details with no field of their own (CloudTrail additionalEventData, ...).",
    )


# --- where --------------------------------------------------------------------------------------


class Geo(_Model):
    country: str | None = Field(default=None, description="Country (ISO 3166-1 alpha-2 code where known).")
    region: str | None = Field(default=None, description="Region or state name.")
    city: str | None = Field(default=None, description="City name.")
    lat: float | None = Field(default=None, description="Latitude.")
    lon: float | None = Field(default=None, description="Longitude.")


class NetworkSource(_Model):
    ip: str | None = Field(default=None, description="Caller IP address (v4 or v6); never a host name.")
    domain: str | None = Field(
        default=None, description="Caller host name when the source is a service (or 'AWS Internal')."
    )
    geo: Geo | None = Field(default=None, description="Geolocation of the address (enrichment).")
    asn: int | None = Field(default=None, description="Autonomous system number of the address (enrichment).")
    as_org: str | None = Field(default=None, description="Autonomous system organisation (enrichment).")
    cloud_provider: str | None = Field(
        default=None, description="Cloud provider whose published range holds the address (enrichment)."
    )
    cloud_service: str | None = Field(default=None, description="Cloud service of that range (enrichment).")
    internal: bool | None = Field(
        default=None, description="True when the address is in a network the reference data calls internal."
    )
    threat_tags: list[str] = Field(
        default_factory=list,
        description="Threat-intelligence tags of the address (enrichment).",
    )
    network: str | None = Field(
        default=None, description="Caller network range (CIDR) when the source gives a range, not an address."
    )
    forwarded: list[str] = Field(
        default_factory=list, description="Further addresses of a forwarded list, after the one in ``ip``."
    )


class AccountContext(_Model):
    """Resource enrichment: what the account/project/subscription of ``where.account`` is to the business."""

    id: str | None = Field(default=None, description="The account/project/subscription id.")
    known: bool = Field(
        default=False, description="True when the account was found in the resource reference data."
    )
    name: str | None = Field(default=None, description="Readable account name.")
    kind: str | None = Field(default=None, description="account, project or subscription")
    environment: str | None = Field(default=None, description="prod, staging, dev, sandbox")
    owner: str | None = Field(default=None, description="Owning team.")
    criticality: str | None = Field(default=None, description="low, medium, high, critical")
    data_classification: str | None = Field(default=None, description="public, internal, confidential, ...")


class Where(_Model):
    provider: ProviderName = Field(description="The cloud or source: aws, gcp, azure.")
    account: str | None = Field(default=None, description="Where it happened (not the caller's account).")
    org: str | None = Field(default=None, description="Organization / tenant the account belongs to.")
    region: str | None = Field(default=None, description="Region the call was made in or to.")
    source: NetworkSource = Field(default_factory=NetworkSource, description="Where the call came from.")
    vpc_endpoint: str | None = Field(
        default=None, description="VPC endpoint / private endpoint the call came through."
    )
    account_context: AccountContext | None = Field(
        default=None, description="Resource enrichment: what the account acted on is to the business."
    )


# --- how ----------------------------------------------------------------------------------------


class Device(_Model):
    id: str | None = Field(default=None, description="Device id in the identity provider.")
    name: str | None = Field(default=None, description="Device name.")
    os: str | None = Field(default=None, description="Operating system.")
    browser: str | None = Field(default=None, description="Browser.")
    compliant: bool | None = Field(default=None, description="Whether the device is compliant with policy.")
    managed: bool | None = Field(default=None, description="Whether the device is managed.")
    trust_type: str | None = Field(default=None, description="Device trust / join type.")


class Auth(_Model):
    method: str | None = Field(
        default=None,
        description="How the caller authenticated: password, sso, temporary_credentials, access_key, ...",
    )
    mfa: bool | None = Field(default=None, description="Whether multi-factor authentication was used.")
    interactive: bool | None = Field(default=None, description="A person at a prompt, or a token/app flow.")
    mfa_required: bool | None = Field(default=None, description="Whether the sign-in required MFA.")
    mfa_method: str | None = Field(default=None, description="How MFA was satisfied: TOTP, push, FIDO2, SMS, ...")
    failure_reason: str | None = Field(default=None, description="Why a sign-in failed, as the provider says.")
    conditional_access: str | None = Field(
        default=None, description="Conditional-access result: success, failure, not_applied, ..."
    )
    risk_level: str | None = Field(default=None, description="The provider's risk level: none, low, medium, high.")
    app_name: str | None = Field(default=None, description="The application signed in to.")
    client_app: str | None = Field(default=None, description="Client app type: browser, mobile, legacy protocol, ...")
    device: Device | None = Field(
        default=None, description="The device signed in from, as the identity provider saw it."
    )
    location: Geo | None = Field(default=None, description="The location the identity provider resolved.")


class Tls(_Model):
    version: str | None = Field(default=None, description="TLS version of the call (TLSv1.2, TLSv1.3).")
    cipher: str | None = Field(default=None, description="TLS cipher suite.")


class How(_Model):
    user_agent: str | None = Field(default=None, description="The caller's user agent string.")
    client: ClientName = Field(
        default="unknown",
        description="What kind of client: console, cli, sdk, terraform, cloud_service, other, unknown.",
    )
    auth: Auth | None = Field(default=None, description="How the caller authenticated.")
    tls: Tls | None = Field(default=None, description="TLS details of the call.")
    request_id: str | None = Field(default=None, description="The provider's request id.")
    correlation_id: str | None = Field(
        default=None, description="Id tying related records together (Azure correlationId, GCP operation id)."
    )


# --- source -------------------------------------------------------------------------------------


class SourceInfo(_Model):
    format: FormatName = Field(description="The source format: aws.cloudtrail, gcp.audit, azure.activity.")
    native_id: str | None = Field(
        default=None, description="The record's own id in the source (eventID, insertId, eventDataId)."
    )
    log: str | None = Field(default=None, description="Trail, log name or category.")
    shape: str | None = Field(default=None, description="The wire shape the record arrived in.")
    location: str | None = Field(default=None, description="Where it was read, e.g. s3://bucket/key#3.")


# --- the event ----------------------------------------------------------------------------------


class Event(_Model):
    schema_version: Literal["1"] = Field(default=SCHEMA_VERSION, description="Version of this schema.")
    id: str = Field(description="Deterministic from source format and native id: same input, same id.")
    when: When = Field(description="When it happened.")
    who: Who = Field(default_factory=Who, description="Who did it.")
    what: What = Field(description="What was done.")
    where: Where = Field(description="Where it happened.")
    how: How = Field(default_factory=How, description="How it was done.")
    source: SourceInfo = Field(description="Where the record came from.")
    raw: str | None = Field(default=None, description="The original record, compact JSON.")
