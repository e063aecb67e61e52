output "batch_sources" {
  description = "--source values of the batch run (with --start/--end): the trail bucket, the GCS export, the Activity Log export."
  value       = local.batch_sources
}

output "streaming_sources" {
  description = "--source values of the streaming run (--streaming): the SQS queue, the Pub/Sub subscription, the Event Hub."
  value       = local.streaming_sources
}

output "log_analytics_source" {
  description = "--source value of the log-analytics source (null: no workspace configured)."
  value       = module.azure.log_analytics_source
}

output "sinks" {
  description = "--sink values of the run (credentials come from the Secret Manager secrets)."
  value       = var.siem_sinks
}

output "pipeline_output" {
  description = "--output value of the run: cold storage in the pipeline bucket."
  value       = module.gcp.pipeline_output
}

output "pipeline_environment" {
  description = "Environment of the pipeline's workers: AWS_ROLE_ARN for web identity, AZURE_CLIENT_ID/AZURE_TENANT_ID for workload identity."
  value = {
    AWS_ROLE_ARN    = module.aws.reader_role_arn
    AZURE_CLIENT_ID = module.azure.identity_client_id
    AZURE_TENANT_ID = module.azure.tenant_id
  }
}

output "gcp" {
  description = "The GCP module's identities and stores: service account, dead letters, secrets, sink writers, Dataflow job."
  value = {
    service_account_email     = module.gcp.service_account_email
    service_account_unique_id = module.gcp.service_account_unique_id
    dead_letter_subscription  = module.gcp.dead_letter_subscription
    siem_secret_names         = module.gcp.siem_secret_names
    sink_writer_identities    = module.gcp.sink_writer_identities
    dataflow_job_id           = module.gcp.dataflow_job_id
  }
}

output "aws" {
  description = "The AWS trail, its key and the notifications' dead-letter queue."
  value = {
    trail_arn             = module.aws.trail_arn
    kms_key_arn           = module.aws.kms_key_arn
    dead_letter_queue_url = module.aws.dead_letter_queue_url
  }
}

output "azure" {
  description = "The Event Hubs namespace (for throttling alerts)."
  value = {
    eventhub_namespace_id = module.azure.eventhub_namespace_id
  }
}
