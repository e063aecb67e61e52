"""The mapping decisions of Google Workspace audit activities, as data (the README says why)."""

from __future__ import annotations

FORMAT = "google_workspace.audit"
PROVIDER = "google_workspace"

# Cloud Logging serviceName of a shared Workspace log -> the Reports API applicationName.
SERVICES: dict[str, str] = {
    "login.googleapis.com": "login",
    "admin.googleapis.com": "admin",
    "oauth2.googleapis.com": "token",
    "token.googleapis.com": "token",
    "saml.googleapis.com": "saml",
    "groups.googleapis.com": "groups_enterprise",
    "contextawareaccess.googleapis.com": "context_aware_access",
}
REPORTS_KIND = "admin#reports#activity"
REPORTS_PAGE_KIND = "admin#reports#activities"
WORKSPACE_METADATA_TYPE = "type.googleapis.com/ccc_hosted_reporting.ActivityProto"

# (application, event name) -> (activity, category, outcome rule, privilege change or None).
# Outcome rules: "success", "failure", "unknown", or "param:NAME" (the challenge status parameter).
# A change is (op, kind, role): role "param:NAME" reads the parameter, any other word is the role itself.
EVENTS: dict[tuple[str, str], tuple[str, str, str, tuple[str, str, str | None] | None]] = {
    ("login", "login_success"): ("login", "authentication", "success", None),
    ("login", "login_failure"): ("login", "authentication", "failure", None),
    ("login", "login_challenge"): ("login", "authentication", "param:login_challenge_status", None),
    ("login", "login_verification"): ("login", "authentication", "param:login_challenge_status", None),
    ("login", "logout"): ("other", "authentication", "success", None),
    ("login", "suspicious_login"): ("login", "authentication", "unknown", None),
    ("login", "suspicious_login_less_secure_app"): ("login", "authentication", "unknown", None),
    ("login", "suspicious_programmatic_login"): ("login", "authentication", "unknown", None),
    ("login", "2sv_disable"): ("update", "authentication", "success", ("remove", "mfa_method", "2sv")),
    ("login", "2sv_enroll"): ("update", "authentication", "success", ("add", "mfa_method", "2sv")),
    ("login", "password_edit"): ("update", "authentication", "success", None),
    ("saml", "login_success"): ("login", "authentication", "success", None),
    ("saml", "login_failure"): ("login", "authentication", "failure", None),
    ("token", "authorize"): ("update", "iam", "success", ("add", "oauth_grant", "param:scope")),
    ("token", "revoke"): ("update", "iam", "success", ("remove", "oauth_grant", "param:scope")),
    ("context_aware_access", "ACCESS_DENY_EVENT"): ("login", "authentication", "failure", None),
    ("admin", "ASSIGN_ROLE"): ("update", "iam", "success", ("add", "role_binding", "param:ROLE_NAME")),
    ("admin", "UNASSIGN_ROLE"): ("update", "iam", "success", ("remove", "role_binding", "param:ROLE_NAME")),
    ("admin", "GRANT_ADMIN_PRIVILEGE"): ("update", "iam", "success", ("add", "role_binding", "_SEED_ADMIN_ROLE")),
    ("admin", "REVOKE_ADMIN_PRIVILEGE"): ("update", "iam", "success",
                                          ("remove", "role_binding", "_SEED_ADMIN_ROLE")),
    ("admin", "CREATE_USER"): ("create", "iam", "success", ("add", "user", "created")),
    ("admin", "UNSUSPEND_USER"): ("update", "iam", "success", ("add", "user", "enabled")),
    ("admin", "SUSPEND_USER"): ("update", "iam", "success", ("remove", "user", "disabled")),
    ("admin", "DELETE_USER"): ("delete", "iam", "success", ("remove", "user", "deleted")),
    ("admin", "ADD_GROUP_MEMBER"): ("update", "iam", "success", ("add", "group_membership", "param:GROUP_EMAIL")),
    ("admin", "REMOVE_GROUP_MEMBER"): ("update", "iam", "success",
                                       ("remove", "group_membership", "param:GROUP_EMAIL")),
    ("admin", "AUTHORIZE_API_CLIENT_ACCESS"): ("update", "iam", "success",
                                               ("add", "api_client_access", "param:API_SCOPES")),
    ("admin", "REMOVE_API_CLIENT_ACCESS"): ("update", "iam", "success",
                                            ("remove", "api_client_access", "param:API_SCOPES")),
    ("admin", "CHANGE_PASSWORD"): ("update", "authentication", "success", None),
    ("admin", "ENFORCE_STRONG_AUTHENTICATION"): ("update", "authentication", "success", None),
}
# Who the change is for: the first of these parameters that is present.
GRANTEE_PARAMS: tuple[tuple[str, str], ...] = (
    ("USER_EMAIL", "user"), ("affected_email_address", "user"), ("API_CLIENT_NAME", "application"),
    ("client_id", "application"),
)
# login_challenge_method words that are a first factor, not a second one.
FIRST_FACTORS = frozenset(("password", "saml", "none", "unknown", "reauth"))
CHALLENGE_STATUS = {"challenge passed": "success", "challenge failed": "failure",
                    "passed": "success", "failed": "failure"}
# Parameters that mark a risky sign-in; Google gives no level, so a suspicious sign-in is "high".
SUSPICIOUS_EVENTS = frozenset(("suspicious_login", "suspicious_login_less_secure_app", "suspicious_programmatic_login"))
SUSPICIOUS_RISK_LEVEL = "high"
LOGIN_APPS = frozenset(("login", "saml", "context_aware_access"))
RESOURCE_PARAMS: tuple[tuple[str, str], ...] = (
    ("USER_EMAIL", "user"), ("GROUP_EMAIL", "group"), ("client_id", "application"),
    ("application_name", "application"), ("API_CLIENT_NAME", "application"),
)
AUTH_APPS = frozenset((*LOGIN_APPS, "token"))
# A person at a sign-in page (login, SAML, access checks) or an OAuth token flow (not interactive).
INTERACTIVE = {"login": True, "saml": True, "context_aware_access": True, "token": False}
