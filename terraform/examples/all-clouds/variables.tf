variable "name" {
  type        = string
  description = "Prefix of every resource name in the three clouds."
  default     = "cloudaudit"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,20}$", var.name))
    error_message = "name must be 3-21 characters: lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "aws_region" {
  type        = string
  description = "AWS region of the trail's home, its bucket and queues."
  default     = "us-east-1"
  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be an AWS region such as us-east-1."
  }
}

variable "aws_trail_bucket_name" {
  type        = string
  description = "Globally unique name of the CloudTrail bucket."
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.aws_trail_bucket_name))
    error_message = "aws_trail_bucket_name must be a valid S3 bucket name."
  }
}

variable "gcp_project_id" {
  type        = string
  description = "GCP project of the Pub/Sub topic, buckets, secrets and the Dataflow job."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.gcp_project_id))
    error_message = "gcp_project_id must be a GCP project id."
  }
}

variable "gcp_region" {
  type        = string
  description = "GCP region of the buckets and the Dataflow job."
  default     = "europe-west1"
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.gcp_region))
    error_message = "gcp_region must be a GCP region such as europe-west1."
  }
}

variable "gcp_organization_id" {
  type        = string
  description = "Numeric id of the GCP organization whose audit logs are exported."
  validation {
    condition     = can(regex("^[0-9]{6,}$", var.gcp_organization_id))
    error_message = "gcp_organization_id must be numeric."
  }
}

variable "gcp_flex_template_gcs_path" {
  type        = string
  description = "gs:// path of the pipeline's Flex Template spec; empty creates everything but the Dataflow job."
  default     = ""
  validation {
    condition     = var.gcp_flex_template_gcs_path == "" || startswith(var.gcp_flex_template_gcs_path, "gs://")
    error_message = "gcp_flex_template_gcs_path must be a gs:// path or empty."
  }
}

variable "siem_sinks" {
  type        = list(string)
  description = "The pipeline's --sink values (KIND:URL?options, never a credential), e.g. hec:https://splunk.example.com:8088?index=audit."
  default     = []
  validation {
    condition     = alltrue([for s in var.siem_sinks : can(regex("^(hec|splunk|elastic|opensearch|sentinel):https?://[^@?]+(\\?.*)?$", s)) && !can(regex("(token|password|api_key|apikey|secret|key)=", s))])
    error_message = "siem_sinks must be KIND:URL values without credentials."
  }
}

variable "siem_secret_ids" {
  type        = list(string)
  description = "Secret Manager secrets to create for the sinks' credentials (e.g. splunk-hec-token)."
  default     = ["splunk-hec-token"]
  validation {
    condition     = alltrue([for s in var.siem_secret_ids : can(regex("^[A-Za-z0-9_-]{1,200}$", s))])
    error_message = "secret ids may hold letters, digits, hyphens and underscores only."
  }
}

variable "azure_location" {
  type        = string
  description = "Azure region of the Event Hubs namespace, storage account and identity."
  default     = "westeurope"
  validation {
    condition     = can(regex("^[a-z]+[a-z0-9]*$", var.azure_location))
    error_message = "azure_location must be an Azure region name."
  }
}

variable "azure_subscription_id" {
  type        = string
  description = "Azure subscription whose Activity Log is exported."
  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.azure_subscription_id))
    error_message = "azure_subscription_id must be a GUID."
  }
}

variable "azure_storage_account_name" {
  type        = string
  description = "Globally unique storage account name of the Activity Log export and checkpoints."
  validation {
    condition     = can(regex("^[a-z0-9]{3,24}$", var.azure_storage_account_name))
    error_message = "azure_storage_account_name must be 3-24 lower-case letters and digits."
  }
}

variable "pipeline_egress_ip_ranges" {
  type        = list(string)
  description = "Public IP ranges of the Dataflow workers' Cloud NAT, admitted by the Azure storage account and Event Hubs namespace."
  default     = []
  validation {
    condition     = alltrue([for r in var.pipeline_egress_ip_ranges : can(cidrhost(r, 0))])
    error_message = "pipeline_egress_ip_ranges must be CIDR ranges."
  }
}
