# All three clouds into one deployment: the pipeline runs on Dataflow as the GCP module's service account,
# which the AWS reader role and the Azure identity trust through federation (no AWS keys, no client secret).

module "gcp" {
  source                 = "../../modules/gcp"
  name                   = var.name
  project_id             = var.gcp_project_id
  region                 = var.gcp_region
  parent_type            = "organization"
  parent_id              = var.gcp_organization_id
  siem_secret_ids        = var.siem_secret_ids
  flex_template_gcs_path = var.gcp_flex_template_gcs_path
  pipeline_parameters    = length(var.siem_sinks) > 0 ? { sink = join(" ", var.siem_sinks) } : {}
}

module "aws" {
  source                        = "../../modules/aws"
  name                          = var.name
  trail_bucket_name             = var.aws_trail_bucket_name
  gcp_service_account_unique_id = module.gcp.service_account_unique_id
}

module "azure" {
  source                        = "../../modules/azure"
  name                          = var.name
  location                      = var.azure_location
  subscription_id               = var.azure_subscription_id
  storage_account_name          = var.azure_storage_account_name
  gcp_service_account_unique_id = module.gcp.service_account_unique_id
  pipeline_egress_ip_ranges     = var.pipeline_egress_ip_ranges
}

locals {
  batch_sources     = [module.aws.s3_source, module.gcp.gcs_source, module.azure.azure_blob_source]
  streaming_sources = [module.aws.sqs_source, module.gcp.pubsub_source, module.azure.eventhub_source]
}
