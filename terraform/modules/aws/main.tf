# CloudTrail (organization or account trail) -> KMS-encrypted S3 bucket -> object-created notifications on
# SQS (optionally through SNS) with a dead-letter queue -> a read-only role for the pipeline's s3 and sqs
# sources, assumable by the Dataflow service account through Google's OIDC identity (no AWS keys).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_organizations_organization" "current" {
  count = var.organization_trail ? 1 : 0
}

locals {
  account_id   = data.aws_caller_identity.current.account_id
  partition    = data.aws_partition.current.partition
  region       = data.aws_region.current.name
  trail_name   = "${var.name}-trail"
  trail_arn    = "arn:${local.partition}:cloudtrail:${local.region}:${local.account_id}:trail/${local.trail_name}"
  queue_name   = "${var.name}-trail-notifications"
  dlq_name     = "${var.name}-trail-notifications-dlq"
  access_logs  = "${var.trail_bucket_name}-access-logs"
  logs_prefix  = "AWSLogs/"
  reader_name  = "${var.name}-pipeline-reader"
  org_id       = var.organization_trail ? data.aws_organizations_organization.current[0].id : ""
  tags         = merge({ "managed-by" = "terraform", "app" = "cloudaudit" }, var.tags)
  web_identity = var.gcp_service_account_unique_id != ""
}

# --- KMS: one key for the trail files, the queues and the topic --------------------------------------

data "aws_iam_policy_document" "key" {
  # checkov:skip=CKV_AWS_111: a key policy's resource is always "*" (the key itself); writes are limited by service principal and aws:SourceArn/SourceAccount
  # checkov:skip=CKV_AWS_356: a key policy's resource is always "*" (the key it is attached to)
  # checkov:skip=CKV_AWS_109: the account root statement is AWS's required key-administration statement; without it the key becomes unmanageable
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
  statement {
    sid       = "CloudTrailEncrypts"
    actions   = ["kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:cloudtrail:arn"
      values   = ["arn:${local.partition}:cloudtrail:*:${local.account_id}:trail/*"]
    }
  }
  statement {
    sid       = "CloudTrailDescribes"
    actions   = ["kms:DescribeKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }
  statement {
    sid       = "NotificationsUseTheKey"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com", "sns.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "trail" {
  description             = "cloudaudit ${var.name}: CloudTrail log files, trail notifications"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = local.tags
}

resource "aws_kms_alias" "trail" {
  name          = "alias/${var.name}-trail"
  target_key_id = aws_kms_key.trail.key_id
}

# --- the trail bucket -------------------------------------------------------------------------------

resource "aws_s3_bucket" "trail" {
  # checkov:skip=CKV_AWS_144: cross-region replication is a choice of the operator (cost, data residency); versioning and object lock protect this copy
  # checkov:skip=CKV2_AWS_62: notifications are configured in aws_s3_bucket_notification.trail below
  bucket              = var.trail_bucket_name
  object_lock_enabled = var.object_lock_days > 0
  tags                = local.tags
}

resource "aws_s3_bucket_ownership_controls" "trail" {
  bucket = aws_s3_bucket.trail.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "trail" {
  bucket                  = aws_s3_bucket.trail.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "trail" {
  bucket = aws_s3_bucket.trail.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_object_lock_configuration" "trail" {
  count  = var.object_lock_days > 0 ? 1 : 0
  bucket = aws_s3_bucket.trail.id
  rule {
    default_retention {
      mode = "GOVERNANCE"
      days = var.object_lock_days
    }
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "trail" {
  bucket = aws_s3_bucket.trail.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.trail.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "trail" {
  bucket        = aws_s3_bucket.trail.id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "${var.trail_bucket_name}/"
}

resource "aws_s3_bucket_lifecycle_configuration" "trail" {
  bucket = aws_s3_bucket.trail.id
  rule {
    id     = "trail-files"
    status = "Enabled"
    filter {
      prefix = local.logs_prefix
    }
    transition {
      days          = 90
      storage_class = "GLACIER_IR"
    }
    expiration {
      days = var.log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
  }
  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

data "aws_iam_policy_document" "trail_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.trail.arn, "${aws_s3_bucket.trail.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
  statement {
    sid       = "CloudTrailAclCheck"
    actions   = ["s3:GetBucketAcl"]
    resources = [aws_s3_bucket.trail.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }
  statement {
    sid     = "CloudTrailWrite"
    actions = ["s3:PutObject"]
    resources = compact([
      "${aws_s3_bucket.trail.arn}/${local.logs_prefix}${local.account_id}/*",
      var.organization_trail ? "${aws_s3_bucket.trail.arn}/${local.logs_prefix}${local.org_id}/*" : "",
    ])
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }
}

resource "aws_s3_bucket_policy" "trail" {
  bucket     = aws_s3_bucket.trail.id
  policy     = data.aws_iam_policy_document.trail_bucket.json
  depends_on = [aws_s3_bucket_public_access_block.trail]
}

# --- server access logs of the trail bucket ----------------------------------------------------------

resource "aws_s3_bucket" "access_logs" {
  # checkov:skip=CKV_AWS_18: this is the access-log bucket; logging it into itself would loop
  # checkov:skip=CKV_AWS_144: cross-region replication of access logs is left to the operator
  # checkov:skip=CKV_AWS_145: S3 server access logging can only deliver to SSE-S3 buckets, not SSE-KMS
  # checkov:skip=CKV2_AWS_62: nothing consumes notifications of access-log objects
  bucket = local.access_logs
  tags   = local.tags
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket                  = aws_s3_bucket.access_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    id     = "access-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

data "aws_iam_policy_document" "access_logs" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.access_logs.arn, "${aws_s3_bucket.access_logs.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.access_logs.arn}/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.trail.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_s3_bucket_policy" "access_logs" {
  bucket     = aws_s3_bucket.access_logs.id
  policy     = data.aws_iam_policy_document.access_logs.json
  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}

# --- the trail ---------------------------------------------------------------------------------------

resource "aws_cloudtrail" "this" {
  # checkov:skip=CKV2_AWS_10: the pipeline reads the trail from S3; a CloudWatch Logs copy doubles the ingest cost for no reader
  # checkov:skip=CKV_AWS_252: delivery is announced by S3 object notifications (exact keys) rather than the trail's SNS topic
  name                          = local.trail_name
  s3_bucket_name                = aws_s3_bucket.trail.id
  kms_key_id                    = aws_kms_key.trail.arn
  is_organization_trail         = var.organization_trail
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  tags                          = local.tags

  advanced_event_selector {
    name = "management events"
    field_selector {
      field  = "eventCategory"
      equals = ["Management"]
    }
  }

  dynamic "advanced_event_selector" {
    for_each = var.data_event_selectors
    content {
      name = advanced_event_selector.value.name
      field_selector {
        field  = "eventCategory"
        equals = advanced_event_selector.value.categories
      }
      field_selector {
        field  = "resources.type"
        equals = advanced_event_selector.value.values
      }
    }
  }

  depends_on = [aws_s3_bucket_policy.trail]
}

# --- notifications: S3 -> (SNS ->) SQS, with a dead-letter queue -----------------------------------

resource "aws_sqs_queue" "dlq" {
  name                      = local.dlq_name
  kms_master_key_id         = aws_kms_key.trail.arn
  message_retention_seconds = 1209600
  tags                      = local.tags
}

resource "aws_sqs_queue" "notifications" {
  name                       = local.queue_name
  kms_master_key_id          = aws_kms_key.trail.arn
  visibility_timeout_seconds = var.queue_visibility_seconds
  message_retention_seconds  = 345600
  receive_wait_time_seconds  = 20
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.max_receive_count
  })
  tags = local.tags
}

resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.notifications.arn]
  })
}

resource "aws_sns_topic" "notifications" {
  count             = var.notifications_via_sns ? 1 : 0
  name              = "${var.name}-trail-notifications"
  kms_master_key_id = aws_kms_key.trail.arn
  tags              = local.tags
}

data "aws_iam_policy_document" "topic" {
  count = var.notifications_via_sns ? 1 : 0
  statement {
    sid       = "BucketPublishes"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.notifications[0].arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.trail.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "notifications" {
  count  = var.notifications_via_sns ? 1 : 0
  arn    = aws_sns_topic.notifications[0].arn
  policy = data.aws_iam_policy_document.topic[0].json
}

resource "aws_sns_topic_subscription" "queue" {
  count                = var.notifications_via_sns ? 1 : 0
  topic_arn            = aws_sns_topic.notifications[0].arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.notifications.arn
  raw_message_delivery = true
}

data "aws_iam_policy_document" "queue" {
  statement {
    sid       = "NotificationsArrive"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.notifications.arn]
    principals {
      type        = "Service"
      identifiers = [var.notifications_via_sns ? "sns.amazonaws.com" : "s3.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [var.notifications_via_sns ? aws_sns_topic.notifications[0].arn : aws_s3_bucket.trail.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "notifications" {
  queue_url = aws_sqs_queue.notifications.id
  policy    = data.aws_iam_policy_document.queue.json
}

resource "aws_s3_bucket_notification" "trail" {
  bucket = aws_s3_bucket.trail.id

  dynamic "queue" {
    for_each = var.notifications_via_sns ? [] : [1]
    content {
      queue_arn     = aws_sqs_queue.notifications.arn
      events        = ["s3:ObjectCreated:*"]
      filter_prefix = local.logs_prefix
    }
  }

  dynamic "topic" {
    for_each = var.notifications_via_sns ? [1] : []
    content {
      topic_arn     = aws_sns_topic.notifications[0].arn
      events        = ["s3:ObjectCreated:*"]
      filter_prefix = local.logs_prefix
    }
  }

  depends_on = [aws_sqs_queue_policy.notifications, aws_sns_topic_policy.notifications]
}

# --- the pipeline's reader role ---------------------------------------------------------------------

data "aws_iam_policy_document" "reader_trust" {
  dynamic "statement" {
    for_each = local.web_identity ? [1] : []
    content {
      sid     = "DataflowServiceAccount"
      actions = ["sts:AssumeRoleWithWebIdentity"]
      principals {
        type        = "Federated"
        identifiers = ["accounts.google.com"]
      }
      # Google's ID token of a service account: sub and azp (IAM's accounts.google.com:aud) are its unique
      # id, aud (IAM's accounts.google.com:oaud) the audience the worker asked for.
      condition {
        test     = "StringEquals"
        variable = "accounts.google.com:sub"
        values   = [var.gcp_service_account_unique_id]
      }
      condition {
        test     = "StringEquals"
        variable = "accounts.google.com:aud"
        values   = [var.gcp_service_account_unique_id]
      }
      condition {
        test     = "StringEquals"
        variable = "accounts.google.com:oaud"
        values   = ["sts.amazonaws.com"]
      }
    }
  }
  dynamic "statement" {
    for_each = length(var.reader_trusted_principal_arns) > 0 ? [1] : []
    content {
      sid     = "PipelineRoles"
      actions = ["sts:AssumeRole"]
      principals {
        type        = "AWS"
        identifiers = var.reader_trusted_principal_arns
      }
    }
  }
}

resource "aws_iam_role" "reader" {
  name                 = local.reader_name
  description          = "cloudaudit pipeline: read the trail bucket and its notification queue"
  assume_role_policy   = data.aws_iam_policy_document.reader_trust.json
  max_session_duration = 3600
  tags                 = local.tags
}

data "aws_iam_policy_document" "reader" {
  statement {
    sid       = "ListTrailPrefix"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.trail.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [local.logs_prefix, "${local.logs_prefix}*"]
    }
  }
  statement {
    sid       = "GetTrailFiles"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.trail.arn}/${local.logs_prefix}*"]
  }
  statement {
    sid       = "DecryptTrailFilesAndMessages"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.trail.arn]
  }
  statement {
    sid = "ConsumeNotifications"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
    ]
    resources = [aws_sqs_queue.notifications.arn]
  }
}

resource "aws_iam_role_policy" "reader" {
  name   = "cloudaudit-sources"
  role   = aws_iam_role.reader.id
  policy = data.aws_iam_policy_document.reader.json
}
