"""Azure role assignments as privilege changes, the built-in role names, and further targets: tables.

The resource of an Azure operation is its ``resourceId``; ``TARGETS`` adds what the request body names
besides it (the scope a role is assigned on, where a diagnostic setting sends logs). ``PRIVILEGES`` reads
role assignments (and PIM requests) from ``properties.requestbody``, or from ``responseBody`` when a
delete has no request body. ``BUILTIN_ROLES`` turns a role definition id into the built-in role's name
(https://learn.microsoft.com/azure/role-based-access-control/built-in-roles); the id is the last segment
of ``roleDefinitionId`` and is the same in every subscription. docs/mapping.md is generated from these.
"""

from __future__ import annotations

from connectors.common import privilege_table, target_table

TARGETS_TEXT = """
# action                                                        path                                   type
microsoft.authorization:roleassignments/write                   req:properties.scope|resp:properties.scope      scope
microsoft.authorization:roleassignmentschedulerequests/write    req:properties.scope                   scope
microsoft.authorization:roleeligibilityschedulerequests/write   req:properties.scope                   scope
microsoft.insights:diagnosticsettings/write                     req:properties.storageAccountId        Microsoft.Storage/storageAccounts
microsoft.insights:diagnosticsettings/write                     req:properties.workspaceId             Microsoft.OperationalInsights/workspaces
microsoft.insights:diagnosticsettings/write                     req:properties.eventHubAuthorizationRuleId Microsoft.EventHub/namespaces/authorizationRules
microsoft.compute:snapshots/write                               req:properties.creationData.sourceResourceId Microsoft.Compute/disks
microsoft.compute:disks/write                                   req:properties.creationData.sourceResourceId Microsoft.Compute/snapshots
"""

PRIVILEGES_TEXT = """
# action                                                       op      kind                  role                                                            grantee                                                                                  scope
microsoft.authorization:roleassignments/write                  add     role_assignment       req:properties.roleDefinitionId|resp:properties.roleDefinitionId req:properties.principalType|resp:properties.principalType=req:properties.principalId|resp:properties.principalId req:properties.scope|resp:properties.scope
microsoft.authorization:roleassignments/delete                 remove  role_assignment       resp:properties.roleDefinitionId|req:properties.roleDefinitionId resp:properties.principalType|req:properties.principalType=resp:properties.principalId|req:properties.principalId resp:properties.scope|req:properties.scope
microsoft.authorization:roleassignmentschedulerequests/write   add     role_assignment       req:properties.roleDefinitionId                                 req:properties.principalType=req:properties.principalId                                   req:properties.scope
microsoft.authorization:roleeligibilityschedulerequests/write  add     eligible_role         req:properties.roleDefinitionId                                 req:properties.principalType=req:properties.principalId                                   req:properties.scope
"""

# Azure built-in role definition ids -> role names.
BUILTIN_ROLES: dict[str, str] = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
    "9980e02c-c2be-4d73-94e8-173b1dc7cf3c": "Virtual Machine Contributor",
    "1c0163c0-47e6-4577-8991-ea5c82e286e4": "Virtual Machine Administrator Login",
    "fb879df8-f326-4884-b1cf-06f3ad86be52": "Virtual Machine User Login",
    "4d97b98b-1d4f-4787-a291-c67834d212e7": "Network Contributor",
    "17d1049b-9a84-46fb-8f53-869881c3d3ab": "Storage Account Contributor",
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": "Key Vault Administrator",
    "14b46e9e-c2b7-41b4-b07b-48a6ebf60603": "Key Vault Crypto Officer",
    "12338af0-0e69-4776-bea7-57ae8d297424": "Key Vault Crypto User",
    "21090545-7ca7-4776-b22c-e363652d74d2": "Key Vault Reader",
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "de139f84-1756-47ae-9be6-808fbbe84772": "Website Contributor",
}

# principalType as Azure writes it -> grantee type.
GRANTEE_TYPES: dict[str, str] = {
    "user": "user", "group": "group", "serviceprincipal": "service_principal", "foreigngroup": "group",
    "device": "device",
}

TARGETS = target_table(TARGETS_TEXT)
PRIVILEGES = privilege_table(PRIVILEGES_TEXT)
