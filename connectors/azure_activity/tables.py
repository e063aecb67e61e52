"""Small lookup tables for Azure Activity Logs: claim names, status words, categories, first-party apps.

Sources: Microsoft Learn "Azure Activity Log event schema" (activity-log-schema), "AzureActivity" table
reference, and the Entra ID access-token claims reference (v1.0 tokens that Resource Manager logs).
"""

from __future__ import annotations

# --- claims (identity.claims / claims / Claims_d) -----------------------------------------------
# v1.0 tokens use the long SAML-style URIs; v2.0 tokens and some exporters use the short JWT names.
UPN = ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn", "upn")
NAME = "name"
XML_NAME = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
EMAIL = ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "email")
OBJECT_ID = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")
APP_ID = ("appid", "azp")
TENANT_ID = ("http://schemas.microsoft.com/identity/claims/tenantid", "tid")
AUTH_METHODS = ("http://schemas.microsoft.com/claims/authnmethodsreferences", "amr")
SCOPE = ("http://schemas.microsoft.com/identity/claims/scope", "scp")
SPN = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/spn"
IDENTITY_TYPE = "idtyp"  # "user" or "app" (optional claim)
MANAGED_IDENTITY = "xms_mirid"  # resource id of a managed identity
IP_ADDRESS = "ipaddr"
ISSUER = "iss"
ISSUED_AT = "iat"
TOKEN_ID = ("uti", "jti")  # uti (v1/v2 token id) or jti
SESSION_ID = "sid"

# --- status words ---------------------------------------------------------------------------------
# The diagnostic record says Start/Accept/Success/Failure; REST and the newer Log Analytics columns
# say Started/Accepted/Succeeded/Failed. One canonical word for both, so ids and outcomes agree.
STATUS: dict[str, str] = {
    "success": "success",
    "succeeded": "success",
    "failure": "failure",
    "failed": "failure",
    "canceled": "canceled",
    "cancelled": "canceled",
    "start": "start",
    "started": "start",
    "accept": "accept",
    "accepted": "accept",
    "in progress": "in_progress",
    "inprogress": "in_progress",
}
# Rows that only say an operation is under way: the terminal row carries the outcome.
INTERMEDIATE = frozenset({"start", "accept", "in_progress"})

# Event categories that are not Resource Manager operations: their status (Active, Resolved,
# Activated, InProgress, Updated) describes an alert or a health state, not the progress of a call,
# so they are never "intermediate" rows and their outcome is unknown unless it says success/failure.
NON_OPERATION_CATEGORIES = frozenset(
    {"alert", "recommendation", "servicehealth", "resourcehealth", "security"}
)

# --- what.category ---------------------------------------------------------------------------------
# By event category first (these categories say more than the namespace of their operation name).
CATEGORY_BY_EVENT_CATEGORY: dict[str, str] = {
    "policy": "configuration",  # Azure Policy effects (audit, deny, deployIfNotExists)
    "recommendation": "configuration",  # Azure Advisor
    "alert": "logging",  # monitoring alert activations
    "autoscale": "compute",
    "security": "other",  # Defender for Cloud alerts: no closer word in the vocabulary
    "servicehealth": "other",
    "resourcehealth": "other",
    "storageread": "data_access",  # storage resource logs (StorageBlobLogs) delivered the same way
    "storagewrite": "data_access",
    "storagedelete": "data_access",
}

# By resource-provider namespace (lower-case).
CATEGORY_BY_NAMESPACE: dict[str, str] = {
    "microsoft.authorization": "iam",
    "microsoft.managedidentity": "iam",
    "microsoft.aad": "iam",
    "microsoft.aadiam": "iam",
    "microsoft.azureactivedirectory": "iam",
    "microsoft.keyvault": "encryption",
    "microsoft.hardwaresecuritymodules": "encryption",
    "microsoft.insights": "logging",
    "microsoft.operationalinsights": "logging",
    "microsoft.securityinsights": "logging",
    "microsoft.monitor": "logging",
    "microsoft.alertsmanagement": "logging",
    "microsoft.network": "network",
    "microsoft.classicnetwork": "network",
    "microsoft.cdn": "network",
    "microsoft.compute": "compute",
    "microsoft.classiccompute": "compute",
    "microsoft.containerservice": "compute",
    "microsoft.containerinstance": "compute",
    "microsoft.kubernetes": "compute",
    "microsoft.web": "compute",
    "microsoft.app": "compute",
    "microsoft.batch": "compute",
    "microsoft.automation": "compute",
    "microsoft.serialconsole": "compute",  # serial console access to a VM
    "microsoft.storage": "storage",
    "microsoft.classicstorage": "storage",
    "microsoft.storagesync": "storage",
    "microsoft.netapp": "storage",
    "microsoft.recoveryservices": "storage",
    "microsoft.dataprotection": "storage",
    "microsoft.sql": "storage",
    "microsoft.dbforpostgresql": "storage",
    "microsoft.dbformysql": "storage",
    "microsoft.dbformariadb": "storage",
    "microsoft.documentdb": "storage",
    "microsoft.cache": "storage",
    "microsoft.containerregistry": "storage",
    "microsoft.resources": "configuration",
    "microsoft.management": "configuration",
    "microsoft.subscription": "configuration",
    "microsoft.policyinsights": "configuration",
    "microsoft.advisor": "configuration",
    "microsoft.security": "configuration",  # Defender settings: contacts, pricings, suppression rules
}

# --- how.client from the OAuth client (appid claim) ---------------------------------------------------
# Well-known first-party Microsoft application ids. Activity logs carry no user agent, so the client
# application that obtained the token is the only honest hint of the tool used.
CLIENT_BY_APP_ID: dict[str, str] = {
    "c44b4083-3bb0-49c1-b47d-974e53cbdf3c": "console",  # Azure Portal
    "04b07795-8ddb-461a-bbee-02f9e1bf7b46": "cli",  # Microsoft Azure CLI
    "1950a258-227b-4e31-a9cf-717495945fc2": "cli",  # Microsoft Azure PowerShell
}

# Categories whose events Azure itself emits (activity-log-schema: "recommendation events from Azure
# Advisor", "alerts generated by Microsoft Defender for Cloud", the alert and autoscale engines, Service
# and Resource Health): without a caller, the actor is still known to be a cloud service.
PLATFORM_CATEGORIES = frozenset(
    {"alert", "recommendation", "servicehealth", "resourcehealth", "security", "autoscale"}
)

# Caller names that are Azure itself acting (no user, no customer application).
CLOUD_SERVICE_CALLERS = frozenset({"azure policy", "azure advisor", "azure resource manager"})

# Storage resource-log identity.type -> credential type
STORAGE_CREDENTIAL_TYPE: dict[str, str] = {
    "accountkey": "long_lived",
    "sas": "temporary",  # a SAS always carries an expiry (se=); the signing key stays long-lived
    "oauth": "temporary",
    "kerberos": "temporary",
}

# Storage resource logs: the object resource type by serviceType.
STORAGE_OBJECT_TYPE: dict[str, str] = {
    "blob": "Microsoft.Storage/storageAccounts/blobServices/containers/blobs",
    "file": "Microsoft.Storage/storageAccounts/fileServices/shares/files",
    "queue": "Microsoft.Storage/storageAccounts/queueServices/queues",
    "table": "Microsoft.Storage/storageAccounts/tableServices/tables",
}

# what.plane by event category: Resource Manager operations are the management plane; storage resource
# logs delivered the same way are data-plane requests.
PLANE_BY_EVENT_CATEGORY: dict[str, str] = {
    "administrative": "management",
    "policy": "management",
    "storageread": "data",
    "storagewrite": "data",
    "storagedelete": "data",
}
