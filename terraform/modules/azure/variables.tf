variable "name" {
  type        = string
  description = "Prefix of every resource name (resource group, Event Hubs namespace, identity)."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name must be 3-31 characters: lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "location" {
  type        = string
  description = "Azure region of the resources (e.g. westeurope)."
  validation {
    condition     = can(regex("^[a-z]+[a-z0-9]*$", var.location))
    error_message = "location must be an Azure region name such as westeurope."
  }
}

variable "subscription_id" {
  type        = string
  description = "Subscription whose Activity Log is exported (its diagnostic settings are created)."
  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.subscription_id))
    error_message = "subscription_id must be a GUID."
  }
}

variable "storage_account_name" {
  type        = string
  description = "Name of the storage account of the Activity Log export and the checkpoints (globally unique)."
  validation {
    condition     = can(regex("^[a-z0-9]{3,24}$", var.storage_account_name))
    error_message = "storage_account_name must be 3-24 lower-case letters and digits."
  }
}

variable "activity_log_categories" {
  type        = list(string)
  description = "Activity Log categories exported (default: every category the azure_activity connector maps)."
  default     = ["Administrative", "Security", "ServiceHealth", "Alert", "Recommendation", "Policy", "Autoscale", "ResourceHealth"]
  validation {
    condition     = length(var.activity_log_categories) > 0 && alltrue([for c in var.activity_log_categories : contains(["Administrative", "Security", "ServiceHealth", "Alert", "Recommendation", "Policy", "Autoscale", "ResourceHealth"], c)])
    error_message = "activity_log_categories must be Activity Log categories (Administrative, Security, ServiceHealth, Alert, Recommendation, Policy, Autoscale, ResourceHealth)."
  }
}

variable "entra_id_categories" {
  type        = list(string)
  description = "Entra ID log categories exported by the tenant diagnostic setting; empty: none (it needs a Global or Security Administrator)."
  default     = ["AuditLogs", "SignInLogs", "NonInteractiveUserSignInLogs", "ServicePrincipalSignInLogs", "ManagedIdentitySignInLogs"]
  validation {
    condition     = alltrue([for c in var.entra_id_categories : contains(["AuditLogs", "SignInLogs", "NonInteractiveUserSignInLogs", "ServicePrincipalSignInLogs", "ManagedIdentitySignInLogs", "ProvisioningLogs", "RiskyUsers", "UserRiskEvents"], c)])
    error_message = "entra_id_categories holds an unknown Entra ID diagnostic category."
  }
}

variable "eventhub_capacity" {
  type        = number
  description = "Throughput units of the Event Hubs namespace (1 TU = 1 MB/s or 1000 events/s in)."
  default     = 2
  validation {
    condition     = var.eventhub_capacity >= 1 && var.eventhub_capacity <= 40
    error_message = "eventhub_capacity must be between 1 and 40."
  }
}

variable "eventhub_partitions" {
  type        = number
  description = "Partitions of the hub (the most consumers reading in parallel)."
  default     = 4
  validation {
    condition     = var.eventhub_partitions >= 1 && var.eventhub_partitions <= 32
    error_message = "eventhub_partitions must be between 1 and 32."
  }
}

variable "export_retention_days" {
  type        = number
  description = "Days blobs of the Activity Log export are kept (lifecycle rule), moving to cool after 30."
  default     = 400
  validation {
    condition     = var.export_retention_days >= 31
    error_message = "export_retention_days must be at least 31."
  }
}

variable "log_analytics_workspace" {
  type = object({
    id           = string
    workspace_id = string
  })
  description = "Optional Log Analytics workspace (resource id and workspace GUID) that also receives the Activity Log; the identity gets Log Analytics Reader on it for the log-analytics source."
  default     = null
}

variable "gcp_service_account_unique_id" {
  type        = string
  description = "Unique id of the GCP service account of the Dataflow workers; the identity trusts its Google ID tokens (no client secret). Empty: no federation."
  default     = ""
  validation {
    condition     = var.gcp_service_account_unique_id == "" || can(regex("^[0-9]{21}$", var.gcp_service_account_unique_id))
    error_message = "gcp_service_account_unique_id must be a 21-digit unique id or empty."
  }
}

variable "pipeline_egress_ip_ranges" {
  type        = list(string)
  description = "Public IP ranges the pipeline's workers leave from (e.g. the Cloud NAT addresses of the Dataflow subnetwork); the storage account and Event Hubs namespace admit only these and trusted Azure services."
  default     = []
  validation {
    condition     = alltrue([for r in var.pipeline_egress_ip_ranges : can(cidrhost(r, 0))])
    error_message = "pipeline_egress_ip_ranges must be CIDR ranges such as 203.0.113.0/28."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
