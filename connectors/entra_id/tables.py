"""The mapping decisions of Entra ID sign-in and audit logs, as data (the README says why)."""

from __future__ import annotations

FORMAT = "entra.id"
PROVIDER = "entra"

# Diagnostic-settings category -> (kind, action, actor type, interactive). Log Analytics tables name
# the same logs differently (LA_TABLES maps them onto these categories).
SIGNIN_CATEGORIES: dict[str, tuple[str, str, str, bool]] = {
    "SignInLogs": ("signin", "entra:SignIn", "human", True),
    "NonInteractiveUserSignInLogs": ("signin", "entra:NonInteractiveSignIn", "human", False),
    "ServicePrincipalSignInLogs": ("signin", "entra:ServicePrincipalSignIn", "service", False),
    "ManagedIdentitySignInLogs": ("signin", "entra:ManagedIdentitySignIn", "service", False),
}
AUDIT_CATEGORY = "AuditLogs"
CATEGORIES = frozenset((*SIGNIN_CATEGORIES, AUDIT_CATEGORY))
LA_TABLES: dict[str, str] = {
    "SigninLogs": "SignInLogs",
    "AADNonInteractiveUserSignInLogs": "NonInteractiveUserSignInLogs",
    "AADServicePrincipalSignInLogs": "ServicePrincipalSignInLogs",
    "AADManagedIdentitySignInLogs": "ManagedIdentitySignInLogs",
    "AuditLogs": "AuditLogs",
}
# Keys only Entra's properties have: together with the category they tell its records from other
# Azure resource logs that reuse a category name.
ENTRA_PROPERTY_KEYS = frozenset((
    "userPrincipalName", "servicePrincipalId", "activityDisplayName", "createdDateTime", "initiatedBy",
    "appId", "conditionalAccessStatus",
))

# Log Analytics column -> the diagnostic-record property of the same value. Columns holding JSON
# ("dynamic", or a string of JSON in the AAD*SignInLogs tables) are parsed (LA_JSON_COLUMNS).
LA_COLUMNS: dict[str, str] = {
    "Id": "id", "CreatedDateTime": "createdDateTime", "UserPrincipalName": "userPrincipalName",
    "UserDisplayName": "userDisplayName", "UserId": "userId", "UserType": "userType", "AppId": "appId",
    "AppDisplayName": "appDisplayName", "IPAddress": "ipAddress", "ClientAppUsed": "clientAppUsed",
    "UserAgent": "userAgent", "ConditionalAccessStatus": "conditionalAccessStatus",
    "RiskLevelDuringSignIn": "riskLevelDuringSignIn", "RiskLevelAggregated": "riskLevelAggregated",
    "RiskState": "riskState", "RiskDetail": "riskDetail", "IsInteractive": "isInteractive",
    "AuthenticationRequirement": "authenticationRequirement", "AuthenticationDetails": "authenticationDetails",
    "MfaDetail": "mfaDetail", "DeviceDetail": "deviceDetail", "LocationDetails": "location", "Status": "status",
    "ResourceDisplayName": "resourceDisplayName", "ResourceIdentity": "resourceId",
    "ServicePrincipalId": "servicePrincipalId", "ServicePrincipalName": "servicePrincipalName",
    "ServicePrincipalCredentialKeyId": "servicePrincipalCredentialKeyId",
    "ClientCredentialType": "clientCredentialType", "HomeTenantId": "homeTenantId",
    "CorrelationId": "correlationId", "SessionId": "sessionId", "TokenIssuerType": "tokenIssuerType",
    "ActivityDisplayName": "activityDisplayName", "ActivityDateTime": "activityDateTime",
    "InitiatedBy": "initiatedBy", "TargetResources": "targetResources", "Result": "result",
    "ResultReason": "resultReason", "LoggedByService": "loggedByService", "AADOperationType": "operationType",
    "AdditionalDetails": "additionalDetails", "Category": "auditCategory",
}
LA_JSON_COLUMNS = frozenset((
    "AuthenticationDetails", "MfaDetail", "DeviceDetail", "LocationDetails", "Status", "InitiatedBy",
    "TargetResources", "AdditionalDetails",
))

# Conditional access words as Entra writes them -> the schema's words.
CONDITIONAL_ACCESS = {"success": "success", "failure": "failure", "notapplied": "not_applied",
                      "unknownfuturevalue": "unknown"}
RISK_LEVELS = frozenset(("none", "low", "medium", "high", "hidden"))
RISKY = frozenset(("medium", "high"))
MFA_REQUIRED = "multifactorauthentication"
# authenticationDetails methods that are a first factor, not MFA.
FIRST_FACTORS = frozenset((
    "password", "previously satisfied", "client secret", "clientsecret", "certificate",
    "federated", "password hash sync", "pass-through authentication", "managed identity",
))
CLIENT_CREDENTIAL_METHODS = {"clientSecret": "client_secret", "clientAssertion": "certificate",
                             "certificate": "certificate", "managedIdentity": "managed_identity",
                             "federatedIdentityCredential": "federated_credential"}

# Audit activity (activityDisplayName) -> (activity, category, privilege change or None).
# The change is (op, kind, where the role comes from): "role" reads Role.* modified properties, "group"
# takes the Group target, "credential" the application's key, "method" the security-info method,
# "user" the account itself. One table line per activity; activities not listed map with no change.
AUDIT: dict[str, tuple[str, str, tuple[str, str, str] | None]] = {
    "Add member to role": ("update", "iam", ("add", "role_binding", "role")),
    "Add eligible member to role": ("update", "iam", ("add", "role_binding", "role")),
    "Add member to role completed (PIM activation)": ("update", "iam", ("add", "role_binding", "role")),
    "Add scoped member to role": ("update", "iam", ("add", "role_binding", "role")),
    "Remove member from role": ("update", "iam", ("remove", "role_binding", "role")),
    "Remove eligible member from role": ("update", "iam", ("remove", "role_binding", "role")),
    "Add member to group": ("update", "iam", ("add", "group_membership", "group")),
    "Remove member from group": ("update", "iam", ("remove", "group_membership", "group")),
    "Add owner to application": ("update", "iam", ("add", "owner", "target")),
    "Add owner to service principal": ("update", "iam", ("add", "owner", "target")),
    "Add service principal credentials": ("update", "iam", ("add", "credential", "credential")),
    "Remove service principal credentials": ("update", "iam", ("remove", "credential", "credential")),
    "Update application - Certificates and secrets management": (
        "update", "iam", ("add", "credential", "credential")),
    "Update application \u2013 Certificates and secrets management": (
        "update", "iam", ("add", "credential", "credential")),
    "Add app role assignment to service principal": ("update", "iam", ("add", "app_role", "target")),
    "Add delegated permission grant": ("update", "iam", ("add", "oauth_grant", "target")),
    "Consent to application": ("update", "iam", ("add", "consent", "target")),
    "User registered security info": ("update", "authentication", ("add", "mfa_method", "method")),
    "User deleted security info": ("update", "authentication", ("remove", "mfa_method", "method")),
    "Admin deleted security info": ("update", "authentication", ("remove", "mfa_method", "method")),
    "Admin registered security info": ("update", "authentication", ("add", "mfa_method", "method")),
    "Delete authentication method": ("update", "authentication", ("remove", "mfa_method", "method")),
    "Disable Strong Authentication": ("update", "authentication", ("remove", "mfa_method", "method")),
    "Add user": ("create", "iam", ("add", "user", "user")),
    "Enable account": ("update", "iam", ("add", "user", "user")),
    "Disable account": ("update", "iam", ("remove", "user", "user")),
    "Delete user": ("delete", "iam", ("remove", "user", "user")),
    "Reset password (by admin)": ("update", "authentication", None),
    "Change user password": ("update", "authentication", None),
    "Update user": ("update", "iam", None),
    "Add application": ("create", "iam", None),
    "Add service principal": ("create", "iam", None),
    "Add group": ("create", "iam", None),
    "Add policy": ("create", "configuration", None),
    "Update conditional access policy": ("update", "configuration", None),
    "Delete conditional access policy": ("delete", "configuration", None),
}
# Why a user account change is an add or a remove: "user" changes name what happened to the account.
USER_CHANGE_ROLE = {"Add user": "created", "Enable account": "enabled", "Disable account": "disabled",
                    "Delete user": "deleted"}
# targetResources[].type -> grantee/resource type words shared with the cloud mappers.
TARGET_TYPES = {"user": "user", "group": "group", "serviceprincipal": "service_principal",
                "application": "application", "role": "role", "device": "device", "policy": "policy",
                "directory": "directory", "other": "other"}
AUDIT_RESULTS = {"success": "success", "failure": "failure", "timeout": "failure"}
