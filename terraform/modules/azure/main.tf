# The subscription's Activity Log (every category the connector maps) and the tenant's Entra ID logs ->
# diagnostic settings -> an Event Hub (namespace, hub, consumer group) for the eventhub source and a storage
# account export (insights-activity-logs) for the azure-blob source, with a checkpoint container. A
# user-assigned identity holds only the read roles of the sources (plus writing its checkpoints) and is
# federated with the Dataflow service account, so no client secret exists.

locals {
  tags           = merge({ "managed-by" = "terraform", "app" = "cloudaudit" }, var.tags)
  hub_name       = "${var.name}-audit-logs"
  consumer_group = "cloudaudit"
  checkpoints    = "cloudaudit-checkpoints"
  export         = "insights-activity-logs" # the container Azure Monitor creates for the Activity Log
  blob_endpoint  = "https://${azurerm_storage_account.logs.name}.blob.core.windows.net"
}

resource "azurerm_resource_group" "this" {
  name     = "${var.name}-audit-logs"
  location = var.location
  tags     = local.tags
}

# --- Event Hubs ------------------------------------------------------------------------------------

resource "azurerm_eventhub_namespace" "this" {
  name                          = "${var.name}-audit-ehns"
  location                      = azurerm_resource_group.this.location
  resource_group_name           = azurerm_resource_group.this.name
  sku                           = "Standard"
  capacity                      = var.eventhub_capacity
  auto_inflate_enabled          = false
  minimum_tls_version           = "1.2"
  public_network_access_enabled = true
  local_authentication_enabled  = true # diagnostic settings send with the namespace rule below
  tags                          = local.tags

  network_rulesets {
    default_action                 = "Deny"
    trusted_service_access_enabled = true
    public_network_access_enabled  = true
    dynamic "ip_rule" {
      for_each = var.pipeline_egress_ip_ranges
      content {
        ip_mask = ip_rule.value
        action  = "Allow"
      }
    }
  }
}

resource "azurerm_eventhub" "audit" {
  name              = local.hub_name
  namespace_id      = azurerm_eventhub_namespace.this.id
  partition_count   = var.eventhub_partitions
  message_retention = 7
}

resource "azurerm_eventhub_consumer_group" "pipeline" {
  name                = local.consumer_group
  namespace_name      = azurerm_eventhub_namespace.this.name
  eventhub_name       = azurerm_eventhub.audit.name
  resource_group_name = azurerm_resource_group.this.name
}

# Azure Monitor needs a namespace rule with Manage, Send and Listen to deliver diagnostic logs; the pipeline
# does not use it (it reads with the identity's Data Receiver role).
resource "azurerm_eventhub_namespace_authorization_rule" "diagnostics" {
  name                = "azure-monitor-diagnostics"
  namespace_name      = azurerm_eventhub_namespace.this.name
  resource_group_name = azurerm_resource_group.this.name
  listen              = true
  send                = true
  manage              = true
}

# --- storage: the export and the checkpoints --------------------------------------------------------

resource "azurerm_storage_account" "logs" {
  # checkov:skip=CKV2_AZURE_33: a private endpoint is an option of the operator's network; diagnostic settings write as a trusted service
  # checkov:skip=CKV2_AZURE_1: CMEK of the export is left to the operator (Microsoft-managed keys plus infrastructure encryption here)
  # checkov:skip=CKV_AZURE_206: locally redundant storage is enough for an export that the pipeline copies to cold storage; choose GRS for a second region
  # checkov:skip=CKV_AZURE_33: the queue service of this account is unused; setting its logging needs shared keys, which are disabled
  # checkov:skip=CKV_AZURE_59: Azure Monitor and the pipeline reach the account over its public endpoint with Entra ID auth; network rules deny others
  name                              = var.storage_account_name
  resource_group_name               = azurerm_resource_group.this.name
  location                          = azurerm_resource_group.this.location
  account_tier                      = "Standard"
  account_replication_type          = "LRS"
  account_kind                      = "StorageV2"
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  allow_nested_items_to_be_public   = false
  shared_access_key_enabled         = false
  default_to_oauth_authentication   = true
  infrastructure_encryption_enabled = true
  public_network_access_enabled     = true
  tags                              = local.tags

  blob_properties {
    versioning_enabled = true
    delete_retention_policy {
      days = 14
    }
    container_delete_retention_policy {
      days = 14
    }
  }

  network_rules {
    default_action = "Deny"
    bypass         = ["AzureServices", "Logging", "Metrics"]
    ip_rules       = [for r in var.pipeline_egress_ip_ranges : trimsuffix(r, "/32")]
  }

  sas_policy {
    expiration_period = "01.00:00:00"
  }
}

resource "azurerm_storage_container" "checkpoints" {
  # checkov:skip=CKV2_AZURE_21: blob read logging of the checkpoint container adds cost and no audit value
  name                  = local.checkpoints
  storage_account_id    = azurerm_storage_account.logs.id
  container_access_type = "private"
}

resource "azurerm_storage_management_policy" "logs" {
  storage_account_id = azurerm_storage_account.logs.id
  rule {
    name    = "activity-log-export"
    enabled = true
    filters {
      blob_types   = ["blockBlob", "appendBlob"]
      prefix_match = ["${local.export}/"]
    }
    actions {
      base_blob {
        tier_to_cool_after_days_since_modification_greater_than = 30
        delete_after_days_since_modification_greater_than       = var.export_retention_days
      }
      version {
        delete_after_days_since_creation = 30
      }
    }
  }
}

# --- diagnostic settings -----------------------------------------------------------------------------

resource "azurerm_monitor_diagnostic_setting" "activity_log" {
  name                           = "${var.name}-activity-log"
  target_resource_id             = "/subscriptions/${var.subscription_id}"
  eventhub_name                  = azurerm_eventhub.audit.name
  eventhub_authorization_rule_id = azurerm_eventhub_namespace_authorization_rule.diagnostics.id
  storage_account_id             = azurerm_storage_account.logs.id
  log_analytics_workspace_id     = var.log_analytics_workspace == null ? null : var.log_analytics_workspace.id

  dynamic "enabled_log" {
    for_each = toset(var.activity_log_categories)
    content {
      category = enabled_log.value
    }
  }
}

resource "azurerm_monitor_aad_diagnostic_setting" "entra_id" {
  count                          = length(var.entra_id_categories) > 0 ? 1 : 0
  name                           = "${var.name}-entra-id"
  eventhub_name                  = azurerm_eventhub.audit.name
  eventhub_authorization_rule_id = azurerm_eventhub_namespace_authorization_rule.diagnostics.id
  storage_account_id             = azurerm_storage_account.logs.id

  dynamic "enabled_log" {
    for_each = toset(var.entra_id_categories)
    content {
      category = enabled_log.value
    }
  }
}

# --- the pipeline's identity ------------------------------------------------------------------------

resource "azurerm_user_assigned_identity" "pipeline" {
  name                = "${var.name}-pipeline"
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  tags                = local.tags
}

resource "azurerm_federated_identity_credential" "dataflow" {
  count               = var.gcp_service_account_unique_id == "" ? 0 : 1
  name                = "gcp-dataflow"
  resource_group_name = azurerm_resource_group.this.name
  parent_id           = azurerm_user_assigned_identity.pipeline.id
  issuer              = "https://accounts.google.com"
  subject             = var.gcp_service_account_unique_id
  audience            = ["api://AzureADTokenExchange"]
}

resource "azurerm_role_assignment" "eventhub_receiver" {
  scope                = azurerm_eventhub.audit.id
  role_definition_name = "Azure Event Hubs Data Receiver"
  principal_id         = azurerm_user_assigned_identity.pipeline.principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "export_reader" {
  scope                = azurerm_storage_account.logs.id
  role_definition_name = "Storage Blob Data Reader"
  principal_id         = azurerm_user_assigned_identity.pipeline.principal_id
  principal_type       = "ServicePrincipal"
}

# The one write: the eventhub source's checkpoints, in their own container only.
resource "azurerm_role_assignment" "checkpoint_writer" {
  scope                = azurerm_storage_container.checkpoints.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_user_assigned_identity.pipeline.principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "log_analytics_reader" {
  count                = var.log_analytics_workspace == null ? 0 : 1
  scope                = var.log_analytics_workspace.id
  role_definition_name = "Log Analytics Reader"
  principal_id         = azurerm_user_assigned_identity.pipeline.principal_id
  principal_type       = "ServicePrincipal"
}
