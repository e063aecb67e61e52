# An organization (or folder) aggregated log sink of the audit logs -> Pub/Sub (subscription with a dead-letter
# topic, for the pubsub source) and -> GCS with a retention policy (for the gcs source); each sink's writer
# identity gets publish/create only. The Dataflow Flex Template job runs as its own service account with
# read-only roles on what it reads, optional CMEK, and Secret Manager secrets for the SIEM credentials.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  cmek   = var.kms_key_name != ""
  labels = merge({ "managed-by" = "terraform", "app" = "cloudaudit" }, var.labels)
  logs   = concat(["activity", "system_event", "policy"], var.include_data_access ? ["data_access"] : [])
  # Google Workspace audit logs shared into Cloud Logging are organization-level cloudaudit logs: their
  # Admin/Groups activity is matched by the activity log; their login and token logs are data_access and are
  # taken from the organization itself even when data access of the projects is not exported.
  workspace = var.parent_type == "organization" && !var.include_data_access ? ["(log_id(\"cloudaudit.googleapis.com/data_access\") AND logName:\"organizations/\")"] : []
  filter    = join(" OR ", concat([for l in local.logs : "log_id(\"cloudaudit.googleapis.com/${l}\")"], local.workspace))

  topic_name         = "${var.name}-audit-logs"
  dead_letter_name   = "${var.name}-audit-logs-dead-letter"
  subscription_name  = "${var.name}-audit-logs-pipeline"
  export_bucket_name = "${var.project_id}-${var.name}-audit-export"
  pipeline_bucket    = "${var.project_id}-${var.name}-pipeline"
  number             = data.google_project.this.number
  pubsub_agent       = "serviceAccount:service-${local.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  sink_pubsub        = one(concat(google_logging_organization_sink.pubsub[*].writer_identity, google_logging_folder_sink.pubsub[*].writer_identity))
  sink_gcs           = one(concat(google_logging_organization_sink.gcs[*].writer_identity, google_logging_folder_sink.gcs[*].writer_identity))
  pipeline_sa        = "serviceAccount:${google_service_account.pipeline.email}"
  # Service agents that encrypt with the CMEK key when one is given.
  kms_agents = local.cmek ? {
    pubsub   = "serviceAccount:service-${local.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
    storage  = "serviceAccount:service-${local.number}@gs-project-accounts.iam.gserviceaccount.com"
    dataflow = "serviceAccount:service-${local.number}@dataflow-service-producer-prod.iam.gserviceaccount.com"
    compute  = "serviceAccount:service-${local.number}@compute-system.iam.gserviceaccount.com"
    secrets  = "serviceAccount:service-${local.number}@gcp-sa-secretmanager.iam.gserviceaccount.com"
  } : {}
}

# --- Pub/Sub: topic, subscription, dead letters -------------------------------------------------------

resource "google_pubsub_topic" "audit" {
  project                    = var.project_id
  name                       = local.topic_name
  kms_key_name               = local.cmek ? var.kms_key_name : null
  message_retention_duration = "86400s"
  labels                     = local.labels
  depends_on                 = [google_kms_crypto_key_iam_member.agents]
}

resource "google_pubsub_topic" "dead_letter" {
  project      = var.project_id
  name         = local.dead_letter_name
  kms_key_name = local.cmek ? var.kms_key_name : null
  labels       = local.labels
  depends_on   = [google_kms_crypto_key_iam_member.agents]
}

resource "google_pubsub_subscription" "audit" {
  project                    = var.project_id
  name                       = local.subscription_name
  topic                      = google_pubsub_topic.audit.id
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  labels                     = local.labels

  expiration_policy {
    ttl = ""
  }
  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = 10
  }
}

# Dead letters are kept (7 days) on their own subscription until someone looks at them.
resource "google_pubsub_subscription" "dead_letter" {
  project                    = var.project_id
  name                       = "${local.dead_letter_name}-hold"
  topic                      = google_pubsub_topic.dead_letter.id
  message_retention_duration = "604800s"
  labels                     = local.labels
  expiration_policy {
    ttl = ""
  }
}

# Pub/Sub's service agent moves undeliverable messages: publish on the dead-letter topic, ack on the source.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  project      = var.project_id
  subscription = google_pubsub_subscription.audit.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# --- GCS export with retention ---------------------------------------------------------------------

resource "google_storage_bucket" "export" {
  # checkov:skip=CKV_GCP_62: usage logs of a bucket are legacy; reads of the export are recorded by Data Access audit logs of storage.googleapis.com
  # checkov:skip=CKV_GCP_78: object versioning cannot be combined with a retention policy, which protects the export instead
  project                     = var.project_id
  name                        = local.export_bucket_name
  location                    = upper(var.region)
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = local.labels

  retention_policy {
    retention_period = var.retention_days * 86400
    is_locked        = var.lock_retention
  }
  lifecycle_rule {
    condition {
      age = var.retention_days + 1
    }
    action {
      type = "Delete"
    }
  }
  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type          = "SetStorageClass"
      storage_class = "NEARLINE"
    }
  }
  dynamic "encryption" {
    for_each = local.cmek ? [1] : []
    content {
      default_kms_key_name = var.kms_key_name
    }
  }
  depends_on = [google_kms_crypto_key_iam_member.agents]
}

# --- the aggregated sinks and their writer identities ---------------------------------------------

resource "google_logging_organization_sink" "pubsub" {
  count            = var.parent_type == "organization" ? 1 : 0
  name             = "${var.name}-audit-to-pubsub"
  org_id           = var.parent_id
  include_children = true
  filter           = local.filter
  destination      = "pubsub.googleapis.com/${google_pubsub_topic.audit.id}"
}

resource "google_logging_organization_sink" "gcs" {
  # checkov:skip=CKV2_GCP_4: locking a retention policy is irreversible (no teardown, no shortening); set lock_retention = true once the retention is final
  count            = var.parent_type == "organization" ? 1 : 0
  name             = "${var.name}-audit-to-gcs"
  org_id           = var.parent_id
  include_children = true
  filter           = local.filter
  destination      = "storage.googleapis.com/${google_storage_bucket.export.name}"
}

resource "google_logging_folder_sink" "pubsub" {
  count            = var.parent_type == "folder" ? 1 : 0
  name             = "${var.name}-audit-to-pubsub"
  folder           = var.parent_id
  include_children = true
  filter           = local.filter
  destination      = "pubsub.googleapis.com/${google_pubsub_topic.audit.id}"
}

resource "google_logging_folder_sink" "gcs" {
  # checkov:skip=CKV2_GCP_4: locking a retention policy is irreversible (no teardown, no shortening); set lock_retention = true once the retention is final
  count            = var.parent_type == "folder" ? 1 : 0
  name             = "${var.name}-audit-to-gcs"
  folder           = var.parent_id
  include_children = true
  filter           = local.filter
  destination      = "storage.googleapis.com/${google_storage_bucket.export.name}"
}

resource "google_pubsub_topic_iam_member" "sink_writer" {
  project = var.project_id
  topic   = google_pubsub_topic.audit.name
  role    = "roles/pubsub.publisher"
  member  = local.sink_pubsub
}

resource "google_storage_bucket_iam_member" "sink_writer" {
  bucket = google_storage_bucket.export.name
  role   = "roles/storage.objectCreator"
  member = local.sink_gcs
}

# --- the pipeline: service account, its bucket, secrets, the Dataflow job ----------------------------

resource "google_service_account" "pipeline" {
  project      = var.project_id
  account_id   = "${var.name}-pipeline"
  display_name = "cloudaudit pipeline (Dataflow workers)"
}

resource "google_project_iam_member" "pipeline_worker" {
  project = var.project_id
  role    = "roles/dataflow.worker"
  member  = local.pipeline_sa
}

resource "google_pubsub_subscription_iam_member" "pipeline_subscriber" {
  project      = var.project_id
  subscription = google_pubsub_subscription.audit.name
  role         = "roles/pubsub.subscriber"
  member       = local.pipeline_sa
}

resource "google_pubsub_subscription_iam_member" "pipeline_viewer" {
  project      = var.project_id
  subscription = google_pubsub_subscription.audit.name
  role         = "roles/pubsub.viewer"
  member       = local.pipeline_sa
}

resource "google_storage_bucket_iam_member" "pipeline_reads_export" {
  bucket = google_storage_bucket.export.name
  role   = "roles/storage.objectViewer"
  member = local.pipeline_sa
}

# Staging, temp files and the pipeline's cold storage (--output gs://.../cloudaudit).
resource "google_storage_bucket" "pipeline" {
  # checkov:skip=CKV_GCP_62: usage logs of a bucket are legacy; access is recorded by Data Access audit logs of storage.googleapis.com
  project                     = var.project_id
  name                        = local.pipeline_bucket
  location                    = upper(var.region)
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = local.labels
  versioning {
    enabled = true
  }
  lifecycle_rule {
    condition {
      age            = 7
      matches_prefix = ["tmp/", "staging/"]
    }
    action {
      type = "Delete"
    }
  }
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
    }
    action {
      type = "Delete"
    }
  }
  dynamic "encryption" {
    for_each = local.cmek ? [1] : []
    content {
      default_kms_key_name = var.kms_key_name
    }
  }
  depends_on = [google_kms_crypto_key_iam_member.agents]
}

resource "google_storage_bucket_iam_member" "pipeline_writes" {
  bucket = google_storage_bucket.pipeline.name
  role   = "roles/storage.objectAdmin"
  member = local.pipeline_sa
}

resource "google_kms_crypto_key_iam_member" "agents" {
  for_each      = local.kms_agents
  crypto_key_id = var.kms_key_name
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = each.value
}

resource "google_secret_manager_secret" "siem" {
  for_each  = toset(var.siem_secret_ids)
  project   = var.project_id
  secret_id = "${var.name}-${each.value}"
  labels    = local.labels
  replication {
    user_managed {
      replicas {
        location = var.region
        dynamic "customer_managed_encryption" {
          for_each = local.cmek ? [1] : []
          content {
            kms_key_name = var.kms_key_name
          }
        }
      }
    }
  }
  depends_on = [google_kms_crypto_key_iam_member.agents]
}

resource "google_secret_manager_secret_iam_member" "pipeline_reads_secret" {
  for_each  = google_secret_manager_secret.siem
  project   = var.project_id
  secret_id = each.value.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = local.pipeline_sa
}

resource "google_dataflow_flex_template_job" "pipeline" {
  provider                = google-beta
  count                   = var.flex_template_gcs_path == "" ? 0 : 1
  project                 = var.project_id
  region                  = var.region
  name                    = "${var.name}-streaming"
  container_spec_gcs_path = var.flex_template_gcs_path
  service_account_email   = google_service_account.pipeline.email
  kms_key_name            = local.cmek ? var.kms_key_name : null
  subnetwork              = var.subnetwork == "" ? null : var.subnetwork
  ip_configuration        = "WORKER_IP_PRIVATE"
  enable_streaming_engine = true
  max_workers             = var.max_workers
  temp_location           = "gs://${google_storage_bucket.pipeline.name}/tmp"
  staging_location        = "gs://${google_storage_bucket.pipeline.name}/staging"
  on_delete               = "drain"
  labels                  = local.labels
  parameters = merge(var.pipeline_parameters, {
    source    = "pubsub:projects/${var.project_id}/subscriptions/${google_pubsub_subscription.audit.name}"
    output    = "gs://${google_storage_bucket.pipeline.name}/cloudaudit"
    streaming = "true"
  })
  depends_on = [
    google_project_iam_member.pipeline_worker,
    google_pubsub_subscription_iam_member.pipeline_subscriber,
    google_storage_bucket_iam_member.pipeline_writes,
    google_secret_manager_secret_iam_member.pipeline_reads_secret,
  ]
}
