variable "name" {
  type        = string
  description = "Prefix of every resource name (sinks, topics, subscription, buckets, service account, secrets)."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,20}$", var.name))
    error_message = "name must be 3-21 characters: lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "project_id" {
  type        = string
  description = "Project that holds the topics, subscription, buckets, secrets and the Dataflow job."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id (6-30 characters, lower case)."
  }
}

variable "region" {
  type        = string
  description = "Region of the buckets and the Dataflow job (e.g. europe-west1)."
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must be a GCP region such as europe-west1."
  }
}

variable "parent_type" {
  type        = string
  description = "Where the aggregated sinks live: organization or folder."
  default     = "organization"
  validation {
    condition     = contains(["organization", "folder"], var.parent_type)
    error_message = "parent_type must be organization or folder."
  }
}

variable "parent_id" {
  type        = string
  description = "Numeric id of the organization or folder whose audit logs (and its children's) the sinks export."
  validation {
    condition     = can(regex("^[0-9]{6,}$", var.parent_id))
    error_message = "parent_id must be the numeric organization or folder id."
  }
}

variable "include_data_access" {
  type        = bool
  description = "Also export Data Access audit logs (high volume; enable them in the audit config first)."
  default     = false
}

variable "retention_days" {
  type        = number
  description = "Days the GCS export is locked by the bucket's retention policy (and kept)."
  default     = 400
  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 3650
    error_message = "retention_days must be between 1 and 3650."
  }
}

variable "lock_retention" {
  type        = bool
  description = "Lock the export bucket's retention policy (Bucket Lock). Irreversible: the bucket cannot be deleted before every object ages out."
  default     = false
}

variable "kms_key_name" {
  type        = string
  description = "Optional Cloud KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K) for the topics, buckets, secrets and Dataflow job (CMEK). Empty: Google-managed keys."
  default     = ""
  validation {
    condition     = var.kms_key_name == "" || can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms_key_name))
    error_message = "kms_key_name must be a full crypto key name or empty."
  }
}

variable "siem_secret_ids" {
  type        = list(string)
  description = "Secret Manager secret ids to create for SIEM credentials (e.g. splunk-hec-token); their values are added outside terraform so no secret lands in state."
  default     = []
  validation {
    condition     = alltrue([for s in var.siem_secret_ids : can(regex("^[A-Za-z0-9_-]{1,255}$", s))])
    error_message = "secret ids may hold letters, digits, hyphens and underscores only."
  }
}

variable "flex_template_gcs_path" {
  type        = string
  description = "gs:// path of the pipeline's Flex Template spec file. Empty: no Dataflow job (the rest is still created)."
  default     = ""
  validation {
    condition     = var.flex_template_gcs_path == "" || startswith(var.flex_template_gcs_path, "gs://")
    error_message = "flex_template_gcs_path must be a gs:// path or empty."
  }
}

variable "pipeline_parameters" {
  type        = map(string)
  description = "Extra Flex Template parameters of the job (e.g. sink, window). The pubsub source and the output are set by the module."
  default     = {}
}

variable "subnetwork" {
  type        = string
  description = "Subnetwork self link or regions/R/subnetworks/S for the Dataflow workers (they get no public IP). Empty: the default network."
  default     = ""
  validation {
    condition     = var.subnetwork == "" || can(regex("regions/[a-z0-9-]+/subnetworks/[a-z0-9-]+$", var.subnetwork))
    error_message = "subnetwork must end in regions/REGION/subnetworks/NAME, or be empty."
  }
}

variable "max_workers" {
  type        = number
  description = "Most Dataflow workers the job autoscales to."
  default     = 5
  validation {
    condition     = var.max_workers >= 1 && var.max_workers <= 1000
    error_message = "max_workers must be between 1 and 1000."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels added to every resource that takes them."
  default     = {}
}
