output "eventhub_source" {
  description = "The --source value of the streaming eventhub source: the hub, its consumer group and the checkpoint container."
  value       = "eventhub:${azurerm_eventhub_namespace.this.name}.servicebus.windows.net/${azurerm_eventhub.audit.name}?consumer_group=${azurerm_eventhub_consumer_group.pipeline.name}&checkpoint=${local.blob_endpoint}/${azurerm_storage_container.checkpoints.name}"
}

output "azure_blob_source" {
  description = "The --source value of the batch azure-blob source: the Activity Log export container (add --start/--end)."
  value       = "azure-blob:${local.blob_endpoint}/${local.export}?subscriptions=${var.subscription_id}"
}

output "log_analytics_source" {
  description = "The --source value of the batch log-analytics source, or null without a workspace."
  value       = var.log_analytics_workspace == null ? null : "log-analytics:${var.log_analytics_workspace.workspace_id}"
}

output "identity_client_id" {
  description = "Client id of the pipeline's user-assigned identity (AZURE_CLIENT_ID for workload identity federation)."
  value       = azurerm_user_assigned_identity.pipeline.client_id
}

output "tenant_id" {
  description = "Tenant of the identity (AZURE_TENANT_ID)."
  value       = azurerm_user_assigned_identity.pipeline.tenant_id
}

output "eventhub_namespace_id" {
  description = "Resource id of the Event Hubs namespace (for alerts on throttled requests)."
  value       = azurerm_eventhub_namespace.this.id
}
