variable "name" {
  type        = string
  description = "Prefix of every resource name (trail, buckets, queues, key alias, role): lower-case letters, digits and hyphens."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name must be 3-31 characters: lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "trail_bucket_name" {
  type        = string
  description = "Name of the S3 bucket the trail writes to (globally unique). The pipeline's s3 source reads it."
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.trail_bucket_name))
    error_message = "trail_bucket_name must be a valid S3 bucket name (3-63 characters, lower case, digits, dots, hyphens)."
  }
}

variable "organization_trail" {
  type        = bool
  description = "Create an organization trail (run in the management account or a delegated administrator account). false: a trail of this account only."
  default     = true
}

variable "data_event_selectors" {
  type = list(object({
    name       = string
    categories = list(string)
    values     = list(string)
  }))
  description = "Optional data events, as advanced event selectors on resources.type (e.g. {name = \"s3\", categories = [\"Data\"], values = [\"AWS::S3::Object\"]}). Empty: management events only."
  default     = []
  validation {
    condition     = alltrue([for s in var.data_event_selectors : length(s.values) > 0 && alltrue([for c in s.categories : c == "Data"])])
    error_message = "each data event selector needs at least one resources.type value and only the Data category."
  }
}

variable "object_lock_days" {
  type        = number
  description = "Days of S3 Object Lock (governance mode) on trail log files; 0 turns object lock off and relies on versioning."
  default     = 0
  validation {
    condition     = var.object_lock_days >= 0 && var.object_lock_days <= 3650
    error_message = "object_lock_days must be between 0 and 3650."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Days trail log files are kept before the lifecycle rule expires them (after moving to Glacier Instant Retrieval at 90 days)."
  default     = 400
  validation {
    condition     = var.log_retention_days >= 91
    error_message = "log_retention_days must be at least 91 (files move to Glacier Instant Retrieval after 90 days)."
  }
}

variable "notifications_via_sns" {
  type        = bool
  description = "Deliver the bucket's object-created notifications through an SNS topic (fan-out to other consumers) instead of straight to SQS."
  default     = false
}

variable "queue_visibility_seconds" {
  type        = number
  description = "Visibility timeout of the notification queue; the sqs source's ?visibility= must not exceed it."
  default     = 600
  validation {
    condition     = var.queue_visibility_seconds >= 30 && var.queue_visibility_seconds <= 43200
    error_message = "queue_visibility_seconds must be between 30 and 43200."
  }
}

variable "max_receive_count" {
  type        = number
  description = "Receives of one notification before it moves to the dead-letter queue."
  default     = 5
  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "max_receive_count must be between 1 and 1000."
  }
}

variable "gcp_service_account_unique_id" {
  type        = string
  description = "Numeric unique id (sub claim) of the GCP service account the Dataflow workers run as; it assumes the reader role with its Google ID token (no AWS keys). Empty: no web-identity trust."
  default     = ""
  validation {
    condition     = var.gcp_service_account_unique_id == "" || can(regex("^[0-9]{21}$", var.gcp_service_account_unique_id))
    error_message = "gcp_service_account_unique_id must be the 21-digit unique id of a service account, or empty."
  }
}

variable "reader_trusted_principal_arns" {
  type        = list(string)
  description = "Additional AWS principals (role ARNs) allowed to assume the reader role, e.g. a role for a pipeline run on AWS."
  default     = []
  validation {
    condition     = alltrue([for a in var.reader_trusted_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", a))])
    error_message = "reader_trusted_principal_arns must be IAM role ARNs."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
