output "s3_source" {
  description = "The --source value of the batch s3 source: every trail file under AWSLogs/ (add --start/--end)."
  value       = "s3:${aws_s3_bucket.trail.bucket}/AWSLogs"
}

output "sqs_source" {
  description = "The --source value of the streaming sqs source: the trail bucket's notification queue."
  value       = "sqs:${aws_sqs_queue.notifications.name}?region=${local.region}&visibility=${var.queue_visibility_seconds}"
}

output "reader_role_arn" {
  description = "ARN of the read-only role of the s3 and sqs sources (AWS_ROLE_ARN for the pipeline's workers)."
  value       = aws_iam_role.reader.arn
}

output "trail_arn" {
  description = "ARN of the CloudTrail trail."
  value       = aws_cloudtrail.this.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key of the trail files, queues and topic."
  value       = aws_kms_key.trail.arn
}

output "dead_letter_queue_url" {
  description = "URL of the notifications' dead-letter queue (alarm on its depth; redrive after fixing the cause)."
  value       = aws_sqs_queue.dlq.url
}
