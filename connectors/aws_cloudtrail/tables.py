"""Small lookup tables for CloudTrail: service -> category, the operations that open sessions, the
operations that read or write data, and the canonical spelling of CloudTrail's keys.

Services are the short names of ``eventSource`` (the part before the first dot, lower-case). A later
issue refines categories with an action catalog; these tables answer the common cases.
"""

from __future__ import annotations

from functools import lru_cache

FORMAT = "aws.cloudtrail"

# --- what.category ------------------------------------------------------------------------------

SERVICE_CATEGORY: dict[str, str] = {
    # who may do what
    "iam": "iam", "sts": "iam", "sso": "iam", "sso-directory": "iam", "sso-oauth": "iam",
    "identitystore": "iam", "access-analyzer": "iam", "ram": "iam", "cognito-idp": "iam",
    "cognito-identity": "iam", "rolesanywhere": "iam",
    # how people sign in
    "signin": "authentication",
    # audit and detection trails: turning these off is defence evasion
    "cloudtrail": "logging", "config": "logging", "logs": "logging", "monitoring": "logging",
    "guardduty": "logging", "securityhub": "logging", "detective": "logging", "macie2": "logging",
    "inspector2": "logging", "firehose": "logging",
    # keys, certificates, secrets
    "kms": "encryption", "acm": "encryption", "acm-pca": "encryption", "cloudhsm": "encryption",
    "secretsmanager": "encryption",
    # network plumbing outside EC2's own API
    "elasticloadbalancing": "network", "route53": "network", "route53resolver": "network",
    "route53domains": "network", "cloudfront": "network", "network-firewall": "network",
    "waf": "network", "waf-regional": "network", "wafv2": "network", "shield": "network",
    "globalaccelerator": "network", "directconnect": "network", "networkmanager": "network",
    "vpc-lattice": "network", "apigateway": "network",
    # things that run code
    "ec2": "compute", "lambda": "compute", "ecs": "compute", "eks": "compute", "autoscaling": "compute",
    "elasticbeanstalk": "compute", "batch": "compute", "lightsail": "compute", "ecr": "compute",
    "ecr-public": "compute", "apprunner": "compute", "sagemaker": "compute", "bedrock": "compute",
    # things that hold data
    "s3": "storage", "ebs": "storage", "elasticfilesystem": "storage", "glacier": "storage",
    "backup": "storage", "fsx": "storage", "storagegateway": "storage", "rds": "storage",
    "dynamodb": "storage", "redshift": "storage", "elasticache": "storage", "datasync": "storage",
    # account and fleet configuration
    "cloudformation": "configuration", "organizations": "configuration", "ssm": "configuration",
    "servicecatalog": "configuration", "account": "configuration", "events": "configuration",
    "controltower": "configuration",
}

# Object- and item-level operations: reading or writing the data itself, not the container.
DATA_OPERATIONS: dict[str, frozenset[str]] = {
    "s3": frozenset({
        "GetObject", "PutObject", "DeleteObject", "DeleteObjects", "CopyObject", "HeadObject",
        "GetObjectAttributes", "RestoreObject", "SelectObjectContent", "UploadPart", "UploadPartCopy",
        "CreateMultipartUpload", "CompleteMultipartUpload", "AbortMultipartUpload", "GetObjectTorrent",
    }),
    "dynamodb": frozenset({
        "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
        "BatchWriteItem", "TransactGetItems", "TransactWriteItems", "ExecuteStatement",
        "BatchExecuteStatement", "GetRecords",
    }),
    "secretsmanager": frozenset({"GetSecretValue", "BatchGetSecretValue"}),
}

# EC2 is one service for both instances and the network: the operation name says which.
_EC2_LOGGING = ("FlowLogs",)
_EC2_ENCRYPTION = ("EbsEncryption", "EbsDefaultKmsKey")
_EC2_STORAGE = ("Snapshot", "Volume")
_EC2_NETWORK = (
    "SecurityGroup", "Vpc", "Subnet", "NetworkAcl", "Route", "InternetGateway", "NatGateway",
    "VpnGateway", "VpnConnection", "CustomerGateway", "TransitGateway", "NetworkInterface", "Address",
    "DhcpOptions", "PrefixList", "TrafficMirror", "CarrierGateway", "LocalGateway", "NetworkInsights",
    "Ipam", "VerifiedAccess",
)


@lru_cache(maxsize=8192)
def category_for(service: str | None, operation: str) -> str:
    if service is None:
        return "other"
    data_ops = DATA_OPERATIONS.get(service)
    if data_ops is not None and operation in data_ops:
        return "data_access"
    if service == "ec2":
        for words, category in (
            (_EC2_LOGGING, "logging"),
            (_EC2_ENCRYPTION, "encryption"),
            (_EC2_STORAGE, "storage"),
            (_EC2_NETWORK, "network"),
        ):
            if any(w in operation for w in words):
                return category
        return "compute"
    return SERVICE_CATEGORY.get(service, "other")


# --- what.activity ------------------------------------------------------------------------------

# Operations that sign someone in or hand out session credentials. The shared helper knows the STS
# verbs; sign-in and IAM Identity Center name their steps differently.
LOGIN_OPERATIONS: dict[str, frozenset[str]] = {
    "signin": frozenset({
        "ConsoleLogin", "CheckMfa", "CredentialChallenge", "CredentialVerification", "UserAuthentication",
        "SwitchRole", "RenewRole", "GetSigninToken", "ExternalIdPDirectoryLogin",
    }),
    "sts": frozenset({
        "AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "GetSessionToken",
        "GetFederationToken", "AssumeRoot",
    }),
    "sso": frozenset({"Authenticate", "Federate", "GetRoleCredentials", "CreateToken"}),
    "sso-oauth": frozenset({"CreateToken", "CreateTokenWithIAM"}),
}


# --- who ----------------------------------------------------------------------------------------

# OIDC issuers whose tokens identify a CI job or a Kubernetes service account (matched as substrings of
# userIdentity.identityProvider, which is a host name or an oidc-provider ARN).
WORKLOAD_OIDC_ISSUERS = (
    "token.actions.githubusercontent.com",  # GitHub Actions
    "oidc.eks.",  # EKS IAM roles for service accounts
    "app.terraform.io",  # HCP Terraform
    "oidc.circleci.com",
    "gitlab.com",
    "api.bitbucket.org",
)


# --- keys ---------------------------------------------------------------------------------------

# Data-lake exports (Panther's, Athena/Snowflake tables) lower-case every column name. The record is
# the same; only the spelling differs. These are the keys mapping reads, in CloudTrail's spelling.
_KNOWN_KEYS = (
    "eventVersion", "eventTime", "eventSource", "eventName", "eventID", "eventType", "eventCategory",
    "awsRegion", "sourceIPAddress", "userAgent", "requestParameters", "responseElements",
    "additionalEventData", "requestID", "readOnly", "resources", "recipientAccountId", "errorCode",
    "errorMessage", "sharedEventID", "vpcEndpointId", "vpcEndpointAccountId", "tlsDetails",
    "managementEvent", "serviceEventDetails", "sessionCredentialFromConsole", "apiVersion",
    "insightDetails", "sourceIdentity", "userIdentity",
    # inside userIdentity
    "type", "principalId", "arn", "accountId", "accessKeyId", "userName", "invokedBy", "sessionContext",
    "sessionIssuer", "attributes", "mfaAuthenticated", "creationDate", "webIdFederationData",
    "federatedProvider", "identityProvider", "onBehalfOf", "userId", "identityStoreArn", "credentialId",
    "tlsVersion", "cipherSuite", "clientProvidedHostHeader",
)
CANONICAL_KEYS: dict[str, str] = {k.lower(): k for k in _KNOWN_KEYS}
