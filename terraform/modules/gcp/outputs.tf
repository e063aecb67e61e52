output "pubsub_source" {
  description = "The --source value of the streaming pubsub source: the sink's subscription."
  value       = "pubsub:projects/${var.project_id}/subscriptions/${google_pubsub_subscription.audit.name}"
}

output "gcs_source" {
  description = "The --source value of the batch gcs source: the sink's export bucket (add --start/--end)."
  value       = "gcs:${google_storage_bucket.export.name}"
}

output "pipeline_output" {
  description = "The --output value: the pipeline's cold storage in its own bucket."
  value       = "gs://${google_storage_bucket.pipeline.name}/cloudaudit"
}

output "service_account_email" {
  description = "Email of the Dataflow workers' service account."
  value       = google_service_account.pipeline.email
}

output "service_account_unique_id" {
  description = "Unique id of the Dataflow workers' service account: the subject the AWS role and the Azure identity trust."
  value       = google_service_account.pipeline.unique_id
}

output "dead_letter_subscription" {
  description = "Subscription holding messages Pub/Sub could not deliver to the pipeline."
  value       = google_pubsub_subscription.dead_letter.id
}

output "siem_secret_names" {
  description = "Secret Manager secrets to fill with the SIEM credentials (gcloud secrets versions add NAME --data-file=-)."
  value       = [for s in google_secret_manager_secret.siem : s.id]
}

output "sink_writer_identities" {
  description = "Writer identities of the two log sinks (granted publish and object-create only)."
  value       = [local.sink_pubsub, local.sink_gcs]
}

output "dataflow_job_id" {
  description = "Id of the Dataflow job, or null when no Flex Template path is given."
  value       = one(google_dataflow_flex_template_job.pipeline[*].job_id)
}
