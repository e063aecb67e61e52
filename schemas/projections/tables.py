"""The projections' mapping decisions, as data: which OCSF class and activity an event becomes, and
which OCSF and ECS values stand for cloudaudit's vocabularies.

The class choice follows Amazon Security Lake's published CloudTrail mapping (sign-ins are
Authentication, identity lifecycle and credential changes are Account Change, the rest is API Activity)
and extends the same choices to GCP and Azure. Privilege grants go to User Access Management (3005)
when the event carries ``what.privilege_changes``: that class requires the privileges granted, and a
class whose required fields we cannot fill is not chosen (such calls stay API Activity).
"""

from __future__ import annotations

from typing import Final

OCSF_VERSION: Final = "1.8.0"
OCSF_PROFILES: Final = ("cloud",)
OCSF_EMAIL_PATTERN: Final = r"^[a-zA-Z0-9!#$%&'*+-/=?^_`{|}~.]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$"  # email_t

# class_uid -> (class name, category_uid, category name)
API_ACTIVITY: Final = 6003
ACCOUNT_CHANGE: Final = 3001
AUTHENTICATION: Final = 3002
USER_ACCESS: Final = 3005
OCSF_CLASSES: Final[dict[int, tuple[str, int, str, str]]] = {
    # uid: (caption, category_uid, category caption, schema name used by ocsf-json-schema)
    API_ACTIVITY: ("API Activity", 6, "Application Activity", "api_activity"),
    ACCOUNT_CHANGE: ("Account Change", 3, "Identity & Access Management", "account_change"),
    AUTHENTICATION: ("Authentication", 3, "Identity & Access Management", "authentication"),
    USER_ACCESS: ("User Access Management", 3, "Identity & Access Management", "user_access"),
}
# Classes without a ``resources`` attribute in 1.8: the targets go to ``unmapped.resources`` there.
OCSF_NO_RESOURCES: Final = frozenset({ACCOUNT_CHANGE, AUTHENTICATION})

# Authentication (3002): canonical action -> activity_id (1 Logon, 2 Logoff, 3 Authentication Ticket,
# 7 Account Switch, 99 Other). Events of category authentication with activity login that are not
# listed here are Logon too (see AUTH_BY_ACTIVITY).
AUTH_ACTIONS: Final[dict[str, int]] = {
    "signin:ConsoleLogin": 1,
    "signin:CheckMfa": 1,
    "signin:ExternalIdPDirectoryLogin": 1,
    "signin:UserAuthentication": 1,
    "signin:CredentialVerification": 1,
    "signin:GetSigninToken": 3,
    "signin:SwitchRole": 7,
    "signin:AssumeRole": 7,
    "signin:ConsoleLogout": 2,
    "sso:Authenticate": 1,
    "login:LoginService.loginSuccess": 1,
    "login:LoginService.loginFailure": 1,
    "login:LoginService.logout": 2,
    "login:LoginService.loginChallenge": 1,
}
# (category, activity) pairs that are sign-ins whatever the action (identity sources onboarded later).
AUTH_BY_ACTIVITY: Final[dict[tuple[str, str], int]] = {("authentication", "login"): 1}

# Authentication (3002): the second factor (how.auth.mfa_method, as the provider names it, compared
# lower-cased) -> auth_factors[].factor_type_id. factor_type is then the OCSF caption; a method not listed
# is 99 Other, with the provider's name as factor_type (OCSF: "defined by the event source"). The
# sign-in device (how.auth.device) has no place in 3002 with the cloud profile (its ``device`` comes with
# the host profile; auth_factor.device is the device that completed the factor, not the one signed in
# from), so it stays in unmapped.auth.device.
OCSF_FACTOR_TYPES: Final[dict[int, str]] = {
    0: "Unknown", 1: "SMS", 2: "Security Question", 3: "Phone Call", 4: "Biometric", 5: "Push Notification",
    6: "Hardware Token", 7: "OTP", 8: "Email", 9: "U2F", 10: "WebAuthn", 11: "Password", 99: "Other",
}
OCSF_AUTH_FACTORS: Final[dict[str, int]] = {
    # SMS and voice codes
    "sms": 1, "text message": 1, "one-way sms": 1,
    "phone call": 3, "voice": 3, "phone call approval (authentication phone)": 3,
    "two-way voice - mobile": 3, "two-way voice - office phone": 3,
    # push approvals (Entra: Microsoft Authenticator notification; Workspace: Google prompt)
    "mobile app notification": 5, "push": 5, "push notification": 5, "google_prompt": 5,
    # one-time codes (AWS virtual MFA and TOTP are authenticator-app codes)
    "virtual mfa": 7, "totp": 7, "otp": 7, "oath verification code": 7, "mobile app verification code": 7,
    "software oath token": 7, "google_authenticator": 7, "backup_code": 7,
    "hardware mfa": 6, "hardware oath token": 6,
    "email": 8, "email verification code": 8,
    # security keys: AWS names U2F, the others FIDO2 / passkeys (WebAuthn)
    "u2f mfa": 9, "u2f": 9,
    "fido2 security key": 10, "fido2": 10, "passkey": 10, "webauthn": 10, "security_key": 10,
}

# Account Change (3001): identity lifecycle and credentials. activity_id: 1 Create, 2 Enable,
# 3 Password Change, 4 Password Reset, 5 Disable, 6 Delete, 10 MFA Factor Enable, 11 MFA Factor
# Disable, 99 Other (credential issue/rotation: OCSF 1.8 has no activity of its own for them).
ACCOUNT_ACTIONS: Final[dict[str, int]] = {
    # AWS IAM
    "iam:CreateUser": 1,
    "iam:DeleteUser": 6,
    "iam:CreateLoginProfile": 1,
    "iam:UpdateLoginProfile": 4,
    "iam:DeleteLoginProfile": 5,
    "iam:ChangePassword": 3,
    "signin:PasswordUpdated": 3,
    "iam:CreateAccessKey": 99,
    "iam:UpdateAccessKey": 99,
    "iam:DeleteAccessKey": 99,
    "iam:UploadSSHPublicKey": 99,
    "iam:CreateServiceSpecificCredential": 99,
    "iam:EnableMFADevice": 10,
    "iam:DeactivateMFADevice": 11,
    "iam:CreateVirtualMFADevice": 99,
    "iam:DeleteVirtualMFADevice": 11,
    # GCP IAM service accounts and Workspace users
    "iam:CreateServiceAccount": 1,
    "iam:DeleteServiceAccount": 6,
    "iam:EnableServiceAccount": 2,
    "iam:DisableServiceAccount": 5,
    "iam:CreateServiceAccountKey": 99,
    "iam:DeleteServiceAccountKey": 99,
    "iam:UploadServiceAccountKey": 99,
    "admin:AdminService.createUser": 1,
    "admin:AdminService.deleteUser": 6,
    "admin:AdminService.suspendUser": 5,
    "admin:AdminService.unsuspendUser": 2,
    "admin:AdminService.changePassword": 4,
    # Azure managed identities and their credentials
    "microsoft.managedidentity:userassignedidentities/write": 1,
    "microsoft.managedidentity:userassignedidentities/delete": 6,
}
# Request keys that name the account an Account Change acts on (tried in order; the actor otherwise).
ACCOUNT_TARGET_KEYS: Final = ("userName", "user_name", "userKey", "account_id", "accountId", "email")

# User Access Management (3005): privilege_changes[].op -> activity_id.
PRIVILEGE_OPS: Final[dict[str, int]] = {"add": 1, "remove": 2, "replace": 99}

# API Activity (6003): what.activity -> activity_id (1 Create, 2 Read, 3 Update, 4 Delete, 99 Other).
API_ACTIVITIES: Final[dict[str, int]] = {"create": 1, "read": 2, "update": 3, "delete": 4, "login": 99, "other": 99}

OCSF_STATUS: Final[dict[str, tuple[int, str]]] = {
    "success": (1, "Success"),
    "failure": (2, "Failure"),
    "unknown": (0, "Unknown"),
}
OCSF_PROVIDER: Final[dict[str, str]] = {"aws": "AWS", "gcp": "GCP", "azure": "Azure"}
# source.format -> (product name, vendor name)
OCSF_PRODUCT: Final[dict[str, tuple[str, str]]] = {
    "aws.cloudtrail": ("CloudTrail", "AWS"),
    "gcp.audit": ("Cloud Audit Logs", "Google"),
    "azure.activity": ("Activity Log", "Microsoft"),
}
# where.provider -> the OCSF account type of where.account (account.type_id, account.type)
OCSF_ACCOUNT_TYPE: Final[dict[str, tuple[int, str]]] = {
    "aws": (10, "AWS Account"),
    "gcp": (11, "GCP Project"),
    "azure": (13, "Azure Subscription"),
}
# who.actor.type -> OCSF user.type_id / type (0 Unknown, 1 User, 3 System, 4 Service, 99 Other)
OCSF_USER_TYPE: Final[dict[str, tuple[int, str]]] = {
    "human": (1, "User"),
    "root": (2, "Admin"),
    "service": (4, "Service"),
    "role_session": (99, "Other"),
    "cloud_service": (3, "System"),
    "anonymous": (99, "Other"),
    "unknown": (0, "Unknown"),
}
# observable type_id per kind of value
OCSF_OBSERVABLE: Final[dict[str, tuple[int, str]]] = {
    "ip": (2, "IP Address"),
    "hostname": (1, "Hostname"),
    "user_name": (4, "User Name"),
    "email": (5, "Email Address"),
    "resource_uid": (10, "Resource UID"),
    "user_agent": (16, "HTTP User-Agent"),
    "credential": (19, "User Credential ID"),
    "user_uid": (31, "User Object: uid"),
    "account_uid": (35, "Account Object: uid"),
}

# --- ECS ---------------------------------------------------------------------------------------------

ECS_VERSION: Final = "9.4.0"
# what.category -> event.category (allowed values of ECS 9; every cloud audit record is an API call)
ECS_CATEGORY: Final[dict[str, tuple[str, ...]]] = {
    "authentication": ("authentication",),
    "iam": ("iam",),
    "configuration": ("configuration",),
    "logging": ("configuration",),
    "encryption": ("configuration",),
    "network": ("network",),
    "compute": ("host",),
    "storage": ("file",),
    "data_access": ("database",),
    "other": (),
}
ECS_API_CATEGORY: Final = "api"
# what.activity -> event.type
ECS_TYPE: Final[dict[str, tuple[str, ...]]] = {
    "create": ("creation",),
    "read": ("access",),
    "update": ("change",),
    "delete": ("deletion",),
    "login": ("start",),
    "other": ("info",),
}
# privilege_changes[].op -> extra event.type when an event grants or removes privileges
ECS_PRIVILEGE_TYPE: Final[dict[str, str]] = {"add": "admin", "remove": "admin", "replace": "admin"}
ECS_OUTCOME: Final[dict[str, str]] = {"success": "success", "failure": "failure", "unknown": "unknown"}
ECS_CUSTOM_NAMESPACE: Final = "cloudaudit"

# --- field reference: where each native field goes in each projection ---------------------------------
# native path -> (OCSF 1.8 attribute, ECS 9 field). A key ending in ".*" covers a whole object: the
# target then ends in ".*" too (same sub-field names) or names one place for the object. docs/schema.md
# is generated from this table; a test checks that it covers every field of the model and that each
# target is filled where the projections put it.
FIELD_TARGETS: Final[dict[str, tuple[str, str]]] = {
    "schema_version": ("unmapped.schema_version", "cloudaudit.schema_version"),
    "id": ("metadata.uid", "event.id"),
    "when.time": ("time (epoch ms)", "@timestamp"),
    "when.time_text": ("metadata.original_time", "cloudaudit.time_text"),
    "when.observed": ("metadata.logged_time (epoch ms)", "event.created"),
    "when.ingested": ("metadata.processed_time (epoch ms)", "event.ingested"),
    "who.actor.type": ("actor.user.type_id/type; unmapped.actor_type", "cloudaudit.actor.type"),
    "who.actor.id": ("actor.user.uid", "user.id"),
    "who.actor.name": ("actor.user.name", "user.name"),
    "who.actor.email": ("actor.user.email_addr (unmapped.actor_email if not an address)", "user.email"),
    "who.actor.account": ("actor.user.account.uid", "cloud.origin.account.id, user.domain"),
    "who.actor.credential_id": ("actor.user.credential_uid", "cloudaudit.actor.credential_id"),
    "who.actor.credential_type": ("unmapped.credential_type", "cloudaudit.actor.credential_type"),
    "who.actor.app_id": ("actor.app_uid", "cloudaudit.actor.app_id"),
    "who.actor.unique_id": ("actor.user.uid_alt", "cloudaudit.actor.unique_id"),
    "who.actor.namespace": ("unmapped.namespace", "cloudaudit.actor.namespace"),
    "who.session.id": ("actor.session.uid", "cloudaudit.session.id"),
    "who.session.name": ("actor.session.uid_alt", "cloudaudit.session.name"),
    "who.session.issuer": ("actor.session.issuer, actor.idp.issuer", "cloudaudit.session.issuer"),
    "who.session.issuer_type": ("actor.idp.name; unmapped.session_issuer_type", "cloudaudit.session.issuer_type"),
    "who.session.mfa": ("actor.session.is_mfa", "cloudaudit.session.mfa"),
    "who.session.created": ("actor.session.created_time (epoch ms)", "cloudaudit.session.created"),
    "who.delegation.*": ("unmapped.delegation", "cloudaudit.delegation.*, related.user"),
    "who.invoked_by": ("actor.invoked_by", "cloudaudit.invoked_by"),
    "who.person.*": ("enrichments[name=actor.user.uid].data.*", "cloudaudit.person.*"),
    "what.action": ("unmapped.action", "cloudaudit.action"),
    "what.operation": ("api.operation, activity_name, metadata.event_code", "event.action"),
    "what.service": ("api.service.name", "event.provider, cloud.service.name"),
    "what.activity": ("activity_id (API Activity); unmapped.activity", "event.type; cloudaudit.activity"),
    "what.category": ("class choice; unmapped.category", "event.category; cloudaudit.category"),
    "what.read_only": ("unmapped.read_only", "cloudaudit.read_only"),
    "what.outcome": ("status_id/status", "event.outcome"),
    "what.error.code": ("status_code, api.response.error", "error.code"),
    "what.error.message": ("status_detail, api.response.message", "error.message"),
    "what.resources.*": ("resources[] (uid, name, type, region, owner.account.uid, tags); unmapped.resources "
                         "in Authentication and Account Change", "cloudaudit.resources.*"),
    "what.request": ("api.request.data (with a request id; else unmapped.request)", "cloudaudit.request"),
    "what.response": ("api.response.data", "cloudaudit.response"),
    "what.risk_tags": ("unmapped.risk_tags", "cloudaudit.risk_tags"),
    "what.privilege_changes.*": ("unmapped.privilege_changes; in User Access Management: user (grantee), "
                                 "privileges (role), resource.uid (scope)", "cloudaudit.privilege_changes.*; "
                                 "user.target.id/name/roles"),
    "what.authorization.*": ("actor.authorizations[] (decision, policy.name, policy.uid)",
                             "cloudaudit.authorization.*"),
    "what.plane": ("unmapped.plane", "cloudaudit.plane"),
    "what.issued.*": ("unmapped.issued.*", "cloudaudit.issued.*"),
    "what.details.*": ("unmapped.details", "cloudaudit.details.*"),
    "where.provider": ("cloud.provider", "cloud.provider, event.module"),
    "where.account": ("cloud.account.uid (cloud.project_uid for GCP)", "cloud.account.id (cloud.project.id for GCP)"),
    "where.org": ("cloud.org.uid", "organization.id, cloudaudit.org"),
    "where.region": ("cloud.region", "cloud.region"),
    "where.source.ip": ("src_endpoint.ip", "source.ip, source.address, related.ip"),
    "where.source.domain": ("src_endpoint.domain", "source.domain"),
    "where.source.geo.country": ("src_endpoint.location.country", "source.geo.country_iso_code"),
    "where.source.geo.region": ("src_endpoint.location.region", "source.geo.region_name"),
    "where.source.geo.city": ("src_endpoint.location.city", "source.geo.city_name"),
    "where.source.geo.lat": ("src_endpoint.location.lat", "source.geo.location.lat"),
    "where.source.geo.lon": ("src_endpoint.location.long", "source.geo.location.lon"),
    "where.source.asn": ("src_endpoint.autonomous_system.number", "source.as.number"),
    "where.source.as_org": ("src_endpoint.autonomous_system.name", "source.as.organization.name"),
    "where.source.cloud_provider": ("enrichments[name=src_endpoint.ip].data", "cloudaudit.source.cloud_provider"),
    "where.source.cloud_service": ("enrichments[name=src_endpoint.ip].data", "cloudaudit.source.cloud_service"),
    "where.source.internal": ("enrichments[name=src_endpoint.ip].data", "cloudaudit.source.internal"),
    "where.source.threat_tags": ("enrichments[name=src_endpoint.ip].data", "cloudaudit.source.threat_tags"),
    "where.source.network": ("src_endpoint.subnet_uid", "cloudaudit.source.network"),
    "where.source.forwarded": ("src_endpoint.intermediate_ips, http_request.x_forwarded_for", "related.ip"),
    "where.vpc_endpoint": ("src_endpoint.uid", "cloudaudit.vpc_endpoint"),
    "where.account_context.*": ("enrichments[name=cloud.account.uid].data.*; cloud.account.name",
                                "cloudaudit.account_context.*; cloud.account.name"),
    "how.user_agent": ("http_request.user_agent", "user_agent.original"),
    "how.client": ("unmapped.client", "cloudaudit.client"),
    "how.auth.mfa": ("unmapped.auth.mfa; is_mfa (Authentication)", "cloudaudit.auth.mfa"),
    "how.auth.mfa_method": ("auth_factors[].factor_type_id/factor_type (Authentication); unmapped.auth.mfa_method "
                            "in other classes", "cloudaudit.auth.mfa_method"),
    "how.auth.app_name": ("unmapped.auth.app_name; service.name (Authentication)", "cloudaudit.auth.app_name"),
    "how.auth.failure_reason": ("unmapped.auth.failure_reason; status_detail (Authentication)",
                                "cloudaudit.auth.failure_reason"),
    "how.auth.device.*": ("unmapped.auth.device (OCSF 1.8 Authentication has device only with the host profile)",
                          "cloudaudit.auth.device.*"),
    "how.auth.*": ("unmapped.auth.*", "cloudaudit.auth.*"),
    "how.tls.version": ("unmapped.tls.version", "tls.version, tls.version_protocol"),
    "how.tls.cipher": ("unmapped.tls.cipher", "tls.cipher"),
    "how.request_id": ("api.request.uid, http_request.uid", "cloudaudit.request_id"),
    "how.correlation_id": ("metadata.correlation_uid", "trace.id, cloudaudit.correlation_id"),
    "source.format": ("metadata.product (name, vendor_name); unmapped.format", "event.dataset"),
    "source.native_id": ("metadata.original_event_uid", "cloudaudit.native_id"),
    "source.log": ("metadata.log_name", "cloudaudit.log"),
    "source.shape": ("metadata.log_format", "cloudaudit.shape"),
    "source.location": ("metadata.log_source", "cloudaudit.location"),
    "raw": ("raw_data (when the sink keeps raw)", "event.original (when the sink keeps raw)"),
}


def field_targets(path: str) -> tuple[str, str] | None:
    """The (OCSF, ECS) targets of a native field path, by exact entry or the longest covering '.*' entry."""
    if path in FIELD_TARGETS:
        return FIELD_TARGETS[path]
    parts = path.split(".")
    for n in range(len(parts) - 1, 0, -1):
        hit = FIELD_TARGETS.get(".".join(parts[:n]) + ".*")
        if hit is not None:
            return hit
    return None
