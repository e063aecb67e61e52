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
