"""Where the target of a CloudTrail call lives, and which privileges it grants: tables, not code.

Most CloudTrail records carry no ``resources`` block: the role of ``AssumeRole`` is ``requestParameters.roleArn``,
the trail of ``StopLogging`` is ``requestParameters.name``. ``TARGETS`` names, per ``<service>:<eventName>``,
the path of each target and its resource type (CloudFormation type names, as CloudTrail's own
``resources[].type`` uses). Paths: ``req:`` requestParameters, ``resp:`` responseElements, ``rec:`` the
record, ``who:`` the mapped who group; ``a|b`` means a, else b (the ARN a response returns before the
name the request gave). Lambda's versioned event names (``UpdateFunctionCode20150331v2``) are looked up
without their version suffix.

``PRIVILEGES`` says which calls grant or remove access, in the schema's ``what.privilege_changes``
shape: op, kind, role (the policy, group, permission set ...), grantee (``type=path``; the type may be a
path too) and scope (for IAM, the account the identity lives in). Trust-policy principals are read from
every statement of the new document, Allow or Deny alike. ``ISSUED`` names the session or key a call hands out (``what.issued``).

docs/mapping.md is generated from these tables (tests/connectors/test_mapping_docs.py keeps it in step).
"""

from __future__ import annotations

from connectors.common import compile_path, privilege_table, target_table

# Resource types whose ARN follows from the name alone (S3 bucket names are global).
ARN_TEMPLATES: dict[str, str] = {"AWS::S3::Bucket": "arn:aws:s3:::{}"}

# Services whose resources have no region.
GLOBAL_SERVICES = frozenset({"iam", "organizations", "route53", "cloudfront", "sts", "s3", "sso", "account"})

TARGETS_TEXT = """
# action                                          path                                         type
sts:AssumeRole                                    req:roleArn                                  AWS::IAM::Role
sts:AssumeRoleWithSAML                            req:roleArn                                  AWS::IAM::Role
sts:AssumeRoleWithWebIdentity                     req:roleArn                                  AWS::IAM::Role
sts:AssumeRoot                                    req:targetPrincipal                          AWS::Organizations::Account
sts:GetFederationToken                            resp:federatedUser.arn|req:name              AWS::STS::FederatedUser
cloudtrail:CreateTrail                            resp:trailARN|req:name                       AWS::CloudTrail::Trail
cloudtrail:StartLogging                           req:name                                     AWS::CloudTrail::Trail
cloudtrail:StopLogging                            req:name                                     AWS::CloudTrail::Trail
cloudtrail:DeleteTrail                            req:name                                     AWS::CloudTrail::Trail
cloudtrail:UpdateTrail                            req:name                                     AWS::CloudTrail::Trail
cloudtrail:PutEventSelectors                      req:trailName                                AWS::CloudTrail::Trail
cloudtrail:PutInsightSelectors                    req:trailName                                AWS::CloudTrail::Trail
cloudtrail:DeleteEventDataStore                   req:eventDataStore                           AWS::CloudTrail::EventDataStore
cloudtrail:UpdateEventDataStore                   req:eventDataStore                           AWS::CloudTrail::EventDataStore
cloudtrail:StopEventDataStoreIngestion            req:eventDataStore                           AWS::CloudTrail::EventDataStore
ec2:AuthorizeSecurityGroupIngress                 req:groupId                                  AWS::EC2::SecurityGroup
ec2:AuthorizeSecurityGroupEgress                  req:groupId                                  AWS::EC2::SecurityGroup
ec2:RevokeSecurityGroupIngress                    req:groupId                                  AWS::EC2::SecurityGroup
ec2:RevokeSecurityGroupEgress                     req:groupId                                  AWS::EC2::SecurityGroup
ec2:CreateSecurityGroup                           resp:groupId                                 AWS::EC2::SecurityGroup
ec2:DeleteSecurityGroup                           req:groupId                                  AWS::EC2::SecurityGroup
ec2:ModifySecurityGroupRules                      req:ModifySecurityGroupRulesRequest.GroupId  AWS::EC2::SecurityGroup
ec2:CreateNetworkAclEntry                         req:networkAclId                             AWS::EC2::NetworkAcl
ec2:ReplaceNetworkAclEntry                        req:networkAclId                             AWS::EC2::NetworkAcl
ec2:DeleteNetworkAclEntry                         req:networkAclId                             AWS::EC2::NetworkAcl
ec2:DeleteNetworkAcl                              req:networkAclId                             AWS::EC2::NetworkAcl
ec2:CreateRoute                                   req:routeTableId                             AWS::EC2::RouteTable
ec2:ReplaceRoute                                  req:routeTableId                             AWS::EC2::RouteTable
ec2:DeleteRoute                                   req:routeTableId                             AWS::EC2::RouteTable
ec2:AttachInternetGateway                         req:internetGatewayId                        AWS::EC2::InternetGateway
ec2:AttachInternetGateway                         req:vpcId                                    AWS::EC2::VPC
ec2:DeleteInternetGateway                         req:internetGatewayId                        AWS::EC2::InternetGateway
ec2:CreateVpc                                     resp:vpc.vpcId                               AWS::EC2::VPC
ec2:DeleteVpc                                     req:vpcId                                    AWS::EC2::VPC
ec2:CreateVpcPeeringConnection                    req:vpcId                                    AWS::EC2::VPC
ec2:CreateVpcPeeringConnection                    req:peerVpcId                                AWS::EC2::VPC
ec2:AcceptVpcPeeringConnection                    req:vpcPeeringConnectionId                   AWS::EC2::VPCPeeringConnection
ec2:CreateFlowLogs                                req:CreateFlowLogsRequest.ResourceId.content AWS::EC2::VPC
ec2:DeleteFlowLogs                                req:DeleteFlowLogsRequest.FlowLogId.content  AWS::EC2::FlowLog
ec2:RunInstances                                  resp:instancesSet.items[].instanceId         AWS::EC2::Instance
ec2:StartInstances                                req:instancesSet.items[].instanceId          AWS::EC2::Instance
ec2:StopInstances                                 req:instancesSet.items[].instanceId          AWS::EC2::Instance
ec2:RebootInstances                               req:instancesSet.items[].instanceId          AWS::EC2::Instance
ec2:TerminateInstances                            req:instancesSet.items[].instanceId          AWS::EC2::Instance
ec2:ModifyInstanceAttribute                       req:instanceId                               AWS::EC2::Instance
ec2:GetPasswordData                               req:instanceId                               AWS::EC2::Instance
ec2:GetConsoleOutput                              req:instanceId                               AWS::EC2::Instance
ec2:GetConsoleScreenshot                          req:instanceId                               AWS::EC2::Instance
ec2:CreateSnapshot                                resp:snapshotId                              AWS::EC2::Snapshot
ec2:CreateSnapshot                                req:volumeId                                 AWS::EC2::Volume
ec2:CopySnapshot                                  req:sourceSnapshotId                         AWS::EC2::Snapshot
ec2:DeleteSnapshot                                req:snapshotId                               AWS::EC2::Snapshot
ec2:ModifySnapshotAttribute                       req:snapshotId                               AWS::EC2::Snapshot
ec2:ResetSnapshotAttribute                        req:snapshotId                               AWS::EC2::Snapshot
ec2:CreateImage                                   req:instanceId                               AWS::EC2::Instance
ec2:CreateImage                                   resp:imageId                                 AWS::EC2::Image
ec2:CopyImage                                     req:sourceImageId                            AWS::EC2::Image
ec2:ModifyImageAttribute                          req:imageId                                  AWS::EC2::Image
ec2:DeregisterImage                               req:imageId                                  AWS::EC2::Image
ec2:CreateVolume                                  resp:volumeId                                AWS::EC2::Volume
ec2:DeleteVolume                                  req:volumeId                                 AWS::EC2::Volume
ec2:AttachVolume                                  req:volumeId                                 AWS::EC2::Volume
ec2:DetachVolume                                  req:volumeId                                 AWS::EC2::Volume
ec2:CreateKeyPair                                 req:keyName                                  AWS::EC2::KeyPair
ec2:ImportKeyPair                                 req:keyName                                  AWS::EC2::KeyPair
ec2:DeleteKeyPair                                 req:keyName                                  AWS::EC2::KeyPair
ec2-instance-connect:SendSSHPublicKey             req:instanceId                               AWS::EC2::Instance
ec2-instance-connect:SendSerialConsoleSSHPublicKey req:instanceId                              AWS::EC2::Instance
s3:CreateBucket                                   req:bucketName                               AWS::S3::Bucket
s3:DeleteBucket                                   req:bucketName                               AWS::S3::Bucket
s3:PutBucketPolicy                                req:bucketName                               AWS::S3::Bucket
s3:DeleteBucketPolicy                             req:bucketName                               AWS::S3::Bucket
s3:GetBucketPolicy                                req:bucketName                               AWS::S3::Bucket
s3:PutBucketAcl                                   req:bucketName                               AWS::S3::Bucket
s3:GetBucketAcl                                   req:bucketName                               AWS::S3::Bucket
s3:PutBucketPublicAccessBlock                     req:bucketName                               AWS::S3::Bucket
s3:DeleteBucketPublicAccessBlock                  req:bucketName                               AWS::S3::Bucket
s3:PutBucketVersioning                            req:bucketName                               AWS::S3::Bucket
s3:PutBucketLogging                               req:bucketName                               AWS::S3::Bucket
s3:PutBucketEncryption                            req:bucketName                               AWS::S3::Bucket
s3:DeleteBucketEncryption                         req:bucketName                               AWS::S3::Bucket
s3:PutBucketReplication                           req:bucketName                               AWS::S3::Bucket
s3:DeleteBucketReplication                        req:bucketName                               AWS::S3::Bucket
s3:PutBucketLifecycle                             req:bucketName                               AWS::S3::Bucket
s3:DeleteBucketLifecycle                          req:bucketName                               AWS::S3::Bucket
s3:PutBucketCors                                  req:bucketName                               AWS::S3::Bucket
s3:PutBucketWebsite                               req:bucketName                               AWS::S3::Bucket
s3:PutObjectLockConfiguration                     req:bucketName                               AWS::S3::Bucket
s3:PutBucketOwnershipControls                     req:bucketName                               AWS::S3::Bucket
s3:ListObjects                                    req:bucketName                               AWS::S3::Bucket
s3:GetObject                                      req:bucketName                               AWS::S3::Bucket
s3:PutObject                                      req:bucketName                               AWS::S3::Bucket
s3:DeleteObject                                   req:bucketName                               AWS::S3::Bucket
kms:CreateKey                                     resp:keyMetadata.arn                         AWS::KMS::Key
kms:ScheduleKeyDeletion                           req:keyId                                    AWS::KMS::Key
kms:CancelKeyDeletion                             req:keyId                                    AWS::KMS::Key
kms:DisableKey                                    req:keyId                                    AWS::KMS::Key
kms:EnableKey                                     req:keyId                                    AWS::KMS::Key
kms:DisableKeyRotation                            req:keyId                                    AWS::KMS::Key
kms:PutKeyPolicy                                  req:keyId                                    AWS::KMS::Key
kms:CreateGrant                                   req:keyId                                    AWS::KMS::Key
kms:RevokeGrant                                   req:keyId                                    AWS::KMS::Key
kms:ImportKeyMaterial                             req:keyId                                    AWS::KMS::Key
kms:DeleteImportedKeyMaterial                     req:keyId                                    AWS::KMS::Key
kms:Decrypt                                       req:keyId                                    AWS::KMS::Key
kms:GenerateDataKey                               req:keyId                                    AWS::KMS::Key
kms:DeleteAlias                                   req:aliasName                                AWS::KMS::Alias
kms:UpdateAlias                                   req:aliasName                                AWS::KMS::Alias
iam:CreateUser                                    resp:user.arn|req:userName                   AWS::IAM::User
iam:DeleteUser                                    req:userName                                 AWS::IAM::User
iam:CreateAccessKey                               req:userName                                 AWS::IAM::User
iam:CreateAccessKey                               resp:accessKey.accessKeyId                   AWS::IAM::AccessKey
iam:DeleteAccessKey                               req:accessKeyId                              AWS::IAM::AccessKey
iam:UpdateAccessKey                               req:accessKeyId                              AWS::IAM::AccessKey
iam:CreateLoginProfile                            req:userName                                 AWS::IAM::User
iam:UpdateLoginProfile                            req:userName                                 AWS::IAM::User
iam:DeleteLoginProfile                            req:userName                                 AWS::IAM::User
iam:AttachUserPolicy                              req:userName                                 AWS::IAM::User
iam:AttachUserPolicy                              req:policyArn                                AWS::IAM::ManagedPolicy
iam:DetachUserPolicy                              req:userName                                 AWS::IAM::User
iam:DetachUserPolicy                              req:policyArn                                AWS::IAM::ManagedPolicy
iam:AttachRolePolicy                              req:roleName                                 AWS::IAM::Role
iam:AttachRolePolicy                              req:policyArn                                AWS::IAM::ManagedPolicy
iam:DetachRolePolicy                              req:roleName                                 AWS::IAM::Role
iam:DetachRolePolicy                              req:policyArn                                AWS::IAM::ManagedPolicy
iam:AttachGroupPolicy                             req:groupName                                AWS::IAM::Group
iam:AttachGroupPolicy                             req:policyArn                                AWS::IAM::ManagedPolicy
iam:DetachGroupPolicy                             req:groupName                                AWS::IAM::Group
iam:PutUserPolicy                                 req:userName                                 AWS::IAM::User
iam:PutRolePolicy                                 req:roleName                                 AWS::IAM::Role
iam:PutGroupPolicy                                req:groupName                                AWS::IAM::Group
iam:DeleteUserPolicy                              req:userName                                 AWS::IAM::User
iam:DeleteRolePolicy                              req:roleName                                 AWS::IAM::Role
iam:DeleteGroupPolicy                             req:groupName                                AWS::IAM::Group
iam:AddUserToGroup                                req:groupName                                AWS::IAM::Group
iam:AddUserToGroup                                req:userName                                 AWS::IAM::User
iam:RemoveUserFromGroup                           req:groupName                                AWS::IAM::Group
iam:CreateRole                                    resp:role.arn|req:roleName                   AWS::IAM::Role
iam:DeleteRole                                    req:roleName                                 AWS::IAM::Role
iam:UpdateRole                                    req:roleName                                 AWS::IAM::Role
iam:UpdateAssumeRolePolicy                        req:roleName                                 AWS::IAM::Role
iam:TagRole                                       req:roleName                                 AWS::IAM::Role
iam:TagUser                                       req:userName                                 AWS::IAM::User
iam:CreatePolicy                                  resp:policy.arn|req:policyName               AWS::IAM::ManagedPolicy
iam:CreatePolicyVersion                           req:policyArn                                AWS::IAM::ManagedPolicy
iam:SetDefaultPolicyVersion                       req:policyArn                                AWS::IAM::ManagedPolicy
iam:DeletePolicy                                  req:policyArn                                AWS::IAM::ManagedPolicy
iam:CreateGroup                                   resp:group.arn|req:groupName                 AWS::IAM::Group
iam:DeleteGroup                                   req:groupName                                AWS::IAM::Group
iam:CreateVirtualMFADevice                        resp:virtualMFADevice.serialNumber|req:virtualMFADeviceName AWS::IAM::VirtualMFADevice
iam:EnableMFADevice                               req:serialNumber                             AWS::IAM::VirtualMFADevice
iam:DeactivateMFADevice                           req:serialNumber                             AWS::IAM::VirtualMFADevice
iam:DeleteVirtualMFADevice                        req:serialNumber                             AWS::IAM::VirtualMFADevice
iam:CreateSAMLProvider                            resp:sAMLProviderArn|req:name                AWS::IAM::SAMLProvider
iam:UpdateSAMLProvider                            req:sAMLProviderArn                          AWS::IAM::SAMLProvider
iam:DeleteSAMLProvider                            req:sAMLProviderArn                          AWS::IAM::SAMLProvider
iam:CreateOpenIDConnectProvider                   resp:openIDConnectProviderArn|req:url        AWS::IAM::OIDCProvider
iam:DeleteOpenIDConnectProvider                   req:openIDConnectProviderArn                 AWS::IAM::OIDCProvider
iam:AddClientIDToOpenIDConnectProvider            req:openIDConnectProviderArn                 AWS::IAM::OIDCProvider
iam:UpdateOpenIDConnectProviderThumbprint         req:openIDConnectProviderArn                 AWS::IAM::OIDCProvider
iam:AddRoleToInstanceProfile                      req:instanceProfileName                      AWS::IAM::InstanceProfile
iam:AddRoleToInstanceProfile                      req:roleName                                 AWS::IAM::Role
iam:UploadSSHPublicKey                            req:userName                                 AWS::IAM::User
iam:CreateServiceSpecificCredential               req:userName                                 AWS::IAM::User
sso:CreateAccountAssignment                       req:permissionSetArn                         AWS::SSO::PermissionSet
sso:CreateAccountAssignment                       req:targetId                                 AWS::Organizations::Account
sso:DeleteAccountAssignment                       req:permissionSetArn                         AWS::SSO::PermissionSet
sso:DeleteAccountAssignment                       req:targetId                                 AWS::Organizations::Account
sso:CreatePermissionSet                           resp:permissionSet.permissionSetArn|req:name AWS::SSO::PermissionSet
sso:DeletePermissionSet                           req:permissionSetArn                         AWS::SSO::PermissionSet
sso:AttachManagedPolicyToPermissionSet            req:permissionSetArn                         AWS::SSO::PermissionSet
sso:DetachManagedPolicyFromPermissionSet          req:permissionSetArn                         AWS::SSO::PermissionSet
sso:PutInlinePolicyToPermissionSet                req:permissionSetArn                         AWS::SSO::PermissionSet
sso:ProvisionPermissionSet                        req:permissionSetArn                         AWS::SSO::PermissionSet
organizations:LeaveOrganization                   rec:recipientAccountId                       AWS::Organizations::Account
organizations:RemoveAccountFromOrganization       req:accountId                                AWS::Organizations::Account
organizations:CloseAccount                        req:accountId                                AWS::Organizations::Account
organizations:MoveAccount                         req:accountId                                AWS::Organizations::Account
organizations:InviteAccountToOrganization         req:target.id                                AWS::Organizations::Account
organizations:AttachPolicy                        req:policyId                                 AWS::Organizations::Policy
organizations:DetachPolicy                        req:policyId                                 AWS::Organizations::Policy
organizations:DeletePolicy                        req:policyId                                 AWS::Organizations::Policy
organizations:UpdatePolicy                        req:policyId                                 AWS::Organizations::Policy
organizations:DisablePolicyType                   req:rootId                                   AWS::Organizations::Root
organizations:RegisterDelegatedAdministrator      req:accountId                                AWS::Organizations::Account
organizations:DeregisterDelegatedAdministrator    req:accountId                                AWS::Organizations::Account
ram:CreateResourceShare                           resp:resourceShare.resourceShareArn          AWS::RAM::ResourceShare
ram:CreateResourceShare                           req:resourceArns[]                           AWS::RAM::SharedResource
ram:AssociateResourceShare                        req:resourceShareArn                         AWS::RAM::ResourceShare
ram:DisassociateResourceShare                     req:resourceShareArn                         AWS::RAM::ResourceShare
ram:DeleteResourceShare                           req:resourceShareArn                         AWS::RAM::ResourceShare
secretsmanager:CreateSecret                       resp:aRN|req:name                            AWS::SecretsManager::Secret
secretsmanager:GetSecretValue                     req:secretId                                 AWS::SecretsManager::Secret
secretsmanager:BatchGetSecretValue                req:secretIdList[]                           AWS::SecretsManager::Secret
secretsmanager:DescribeSecret                     req:secretId                                 AWS::SecretsManager::Secret
secretsmanager:PutSecretValue                     req:secretId                                 AWS::SecretsManager::Secret
secretsmanager:UpdateSecret                       req:secretId                                 AWS::SecretsManager::Secret
secretsmanager:DeleteSecret                       req:secretId                                 AWS::SecretsManager::Secret
secretsmanager:RestoreSecret                      req:secretId                                 AWS::SecretsManager::Secret
secretsmanager:RotateSecret                       req:secretId                                 AWS::SecretsManager::Secret
secretsmanager:PutResourcePolicy                  req:secretId                                 AWS::SecretsManager::Secret
secretsmanager:DeleteResourcePolicy               req:secretId                                 AWS::SecretsManager::Secret
secretsmanager:ReplicateSecretToRegions           req:secretId                                 AWS::SecretsManager::Secret
ssm:GetParameter                                  req:name                                     AWS::SSM::Parameter
ssm:GetParameters                                 req:names[]                                  AWS::SSM::Parameter
ssm:GetParametersByPath                           req:path                                     AWS::SSM::Parameter
ssm:GetParameterHistory                           req:name                                     AWS::SSM::Parameter
ssm:PutParameter                                  req:name                                     AWS::SSM::Parameter
ssm:DeleteParameter                               req:name                                     AWS::SSM::Parameter
ssm:DeleteParameters                              req:names[]                                  AWS::SSM::Parameter
ssm:SendCommand                                   req:instanceIds[]                            AWS::EC2::Instance
ssm:SendCommand                                   req:documentName                             AWS::SSM::Document
ssm:StartSession                                  req:target                                   AWS::EC2::Instance
ssm:ResumeSession                                 req:sessionId                                AWS::SSM::Session
ssm:TerminateSession                              req:sessionId                                AWS::SSM::Session
ssm:CreateDocument                                req:name                                     AWS::SSM::Document
ssm:UpdateDocument                                req:name                                     AWS::SSM::Document
ssm:ModifyDocumentPermission                      req:name                                     AWS::SSM::Document
ssm:StartAutomationExecution                      req:documentName                             AWS::SSM::Document
lambda:CreateFunction                             resp:functionArn|req:functionName            AWS::Lambda::Function
lambda:DeleteFunction                             req:functionName                             AWS::Lambda::Function
lambda:GetFunction                                req:functionName                             AWS::Lambda::Function
lambda:UpdateFunctionCode                         req:functionName                             AWS::Lambda::Function
lambda:UpdateFunctionConfiguration                req:functionName                             AWS::Lambda::Function
lambda:AddPermission                              req:functionName                             AWS::Lambda::Function
lambda:RemovePermission                           req:functionName                             AWS::Lambda::Function
lambda:CreateFunctionUrlConfig                    req:functionName                             AWS::Lambda::Function
lambda:UpdateFunctionUrlConfig                    req:functionName                             AWS::Lambda::Function
lambda:CreateEventSourceMapping                   req:functionName                             AWS::Lambda::Function
lambda:Invoke                                     req:functionName                             AWS::Lambda::Function
lambda:PublishLayerVersion                        resp:layerVersionArn|req:layerName           AWS::Lambda::LayerVersion
lambda:AddLayerVersionPermission                  req:layerName                                AWS::Lambda::LayerVersion
lambda:DeleteLayerVersion                         req:layerName                                AWS::Lambda::LayerVersion
logs:CreateLogGroup                               req:logGroupName                             AWS::Logs::LogGroup
logs:DeleteLogGroup                               req:logGroupName                             AWS::Logs::LogGroup
logs:DeleteLogStream                              req:logGroupName                             AWS::Logs::LogGroup
logs:PutRetentionPolicy                           req:logGroupName                             AWS::Logs::LogGroup
logs:DeleteRetentionPolicy                        req:logGroupName                             AWS::Logs::LogGroup
logs:DisassociateKmsKey                           req:logGroupName                             AWS::Logs::LogGroup
logs:PutSubscriptionFilter                        req:logGroupName                             AWS::Logs::LogGroup
logs:DeleteSubscriptionFilter                     req:logGroupName                             AWS::Logs::LogGroup
logs:CreateExportTask                             req:logGroupName                             AWS::Logs::LogGroup
logs:CreateExportTask                             req:destination                              AWS::S3::Bucket
guardduty:DeleteDetector                          req:detectorId                               AWS::GuardDuty::Detector
guardduty:UpdateDetector                          req:detectorId                               AWS::GuardDuty::Detector
guardduty:CreateFilter                            req:detectorId                               AWS::GuardDuty::Detector
guardduty:CreateIPSet                             req:detectorId                               AWS::GuardDuty::Detector
guardduty:UpdateIPSet                             req:detectorId                               AWS::GuardDuty::Detector
guardduty:DisassociateFromMasterAccount           req:detectorId                               AWS::GuardDuty::Detector
guardduty:DisassociateFromAdministratorAccount    req:detectorId                               AWS::GuardDuty::Detector
guardduty:StopMonitoringMembers                   req:detectorId                               AWS::GuardDuty::Detector
guardduty:DeletePublishingDestination             req:detectorId                               AWS::GuardDuty::Detector
config:StopConfigurationRecorder                  req:configurationRecorderName                AWS::Config::ConfigurationRecorder
config:DeleteConfigurationRecorder                req:configurationRecorderName                AWS::Config::ConfigurationRecorder
config:PutConfigurationRecorder                   req:configurationRecorder.name               AWS::Config::ConfigurationRecorder
config:DeleteDeliveryChannel                      req:deliveryChannelName                      AWS::Config::DeliveryChannel
config:DeleteConfigRule                           req:configRuleName                           AWS::Config::ConfigRule
securityhub:BatchDisableStandards                 req:standardsSubscriptionArns[]              AWS::SecurityHub::Standard
route53:ChangeResourceRecordSets                  req:hostedZoneId                             AWS::Route53::HostedZone
route53:DeleteHostedZone                          req:id                                       AWS::Route53::HostedZone
route53:CreateQueryLoggingConfig                  req:hostedZoneId                             AWS::Route53::HostedZone
route53:CreateQueryLoggingConfig                  req:cloudWatchLogsLogGroupArn                AWS::Logs::LogGroup
route53:DeleteQueryLoggingConfig                  req:id                                       AWS::Route53::QueryLoggingConfig
route53resolver:DeleteResolverQueryLogConfig      req:resolverQueryLogConfigId                 AWS::Route53Resolver::ResolverQueryLoggingConfig
route53resolver:DisassociateResolverQueryLogConfig req:resolverQueryLogConfigId                AWS::Route53Resolver::ResolverQueryLoggingConfig
route53resolver:DisassociateResolverQueryLogConfig req:resourceId                              AWS::EC2::VPC
bedrock:PutModelInvocationLoggingConfiguration    req:loggingConfig.s3Config.bucketName        AWS::S3::Bucket
bedrock:PutModelInvocationLoggingConfiguration    req:loggingConfig.cloudWatchConfig.logGroupName AWS::Logs::LogGroup
bedrock:CreateGuardrail                           resp:guardrailArn|req:name                   AWS::Bedrock::Guardrail
bedrock:UpdateGuardrail                           req:guardrailIdentifier                      AWS::Bedrock::Guardrail
bedrock:DeleteGuardrail                           req:guardrailIdentifier                      AWS::Bedrock::Guardrail
bedrock:InvokeModel                               req:modelId                                  AWS::Bedrock::FoundationModel
rolesanywhere:CreateTrustAnchor                   resp:trustAnchor.trustAnchorArn|req:name     AWS::RolesAnywhere::TrustAnchor
rolesanywhere:UpdateTrustAnchor                   req:trustAnchorId                            AWS::RolesAnywhere::TrustAnchor
rolesanywhere:DeleteTrustAnchor                   req:trustAnchorId                            AWS::RolesAnywhere::TrustAnchor
rolesanywhere:DisableTrustAnchor                  req:trustAnchorId                            AWS::RolesAnywhere::TrustAnchor
rolesanywhere:CreateProfile                       resp:profile.profileArn|req:name             AWS::RolesAnywhere::Profile
rolesanywhere:CreateProfile                       req:roleArns[]                               AWS::IAM::Role
cloudformation:CreateStack                        resp:stackId|req:stackName                   AWS::CloudFormation::Stack
cloudformation:UpdateStack                        resp:stackId|req:stackName                   AWS::CloudFormation::Stack
cloudformation:DeleteStack                        req:stackName                                AWS::CloudFormation::Stack
rds:DeleteDBInstance                              req:dBInstanceIdentifier                     AWS::RDS::DBInstance
rds:ModifyDBInstance                              req:dBInstanceIdentifier                     AWS::RDS::DBInstance
rds:StopDBInstance                                req:dBInstanceIdentifier                     AWS::RDS::DBInstance
rds:DeleteDBCluster                               req:dBClusterIdentifier                      AWS::RDS::DBCluster
rds:CreateDBSnapshot                              req:dBSnapshotIdentifier                     AWS::RDS::DBSnapshot
rds:CreateDBSnapshot                              req:dBInstanceIdentifier                     AWS::RDS::DBInstance
rds:ModifyDBSnapshotAttribute                     req:dBSnapshotIdentifier                     AWS::RDS::DBSnapshot
rds:ModifyDBClusterSnapshotAttribute              req:dBClusterSnapshotIdentifier              AWS::RDS::DBClusterSnapshot
rds:RestoreDBInstanceFromDBSnapshot               req:dBSnapshotIdentifier                     AWS::RDS::DBSnapshot
ecr:SetRepositoryPolicy                           req:repositoryName                           AWS::ECR::Repository
ecr:DeleteRepository                              req:repositoryName                           AWS::ECR::Repository
ecr:BatchDeleteImage                              req:repositoryName                           AWS::ECR::Repository
eks:CreateAccessEntry                             req:name|req:clusterName                     AWS::EKS::Cluster
eks:AssociateAccessPolicy                         req:name|req:clusterName                     AWS::EKS::Cluster
eks:UpdateClusterConfig                           req:name                                     AWS::EKS::Cluster
eks:DeleteCluster                                 req:name                                     AWS::EKS::Cluster
backup:DeleteBackupVault                          req:backupVaultName                          AWS::Backup::BackupVault
backup:DeleteRecoveryPoint                        req:backupVaultName                          AWS::Backup::BackupVault
backup:PutBackupVaultAccessPolicy                 req:backupVaultName                          AWS::Backup::BackupVault
backup:DeleteBackupPlan                           req:backupPlanId                             AWS::Backup::BackupPlan
dynamodb:DeleteTable                              req:tableName                                AWS::DynamoDB::Table
dynamodb:UpdateContinuousBackups                  req:tableName                                AWS::DynamoDB::Table
dynamodb:ExportTableToPointInTime                 req:tableArn                                 AWS::DynamoDB::Table
dynamodb:ExportTableToPointInTime                 req:s3Bucket                                 AWS::S3::Bucket
sagemaker:CreatePresignedNotebookInstanceUrl      req:notebookInstanceName                     AWS::SageMaker::NotebookInstance
access-analyzer:DeleteAnalyzer                    req:analyzerName                             AWS::AccessAnalyzer::Analyzer
cloudtrail:PutAdvancedEventSelectors              req:trailName                                AWS::CloudTrail::Trail
cognito-idp:AdminSetUserMFAPreference             req:userPoolId                               AWS::Cognito::UserPool
cognito-idp:SetUserPoolMfaConfig                  req:userPoolId                               AWS::Cognito::UserPool
config:DeleteConformancePack                      req:conformancePackName                      AWS::Config::ConformancePack
detective:DeleteGraph                             req:graphArn                                 AWS::Detective::Graph
elasticfilesystem:DeleteFileSystem                req:fileSystemId                             AWS::EFS::FileSystem
guardduty:DeleteMembers                           req:accountIds[]                             AWS::Organizations::Account
guardduty:DisassociateMembers                     req:accountIds[]                             AWS::Organizations::Account
guardduty:UpdateFilter                            req:detectorId                               AWS::GuardDuty::Detector
iam:PutRolePermissionsBoundary                    req:roleName                                 AWS::IAM::Role
iam:DeleteRolePermissionsBoundary                 req:roleName                                 AWS::IAM::Role
iam:PutUserPermissionsBoundary                    req:userName                                 AWS::IAM::User
iam:DeleteUserPermissionsBoundary                 req:userName                                 AWS::IAM::User
iam:ResyncMFADevice                               req:serialNumber                             AWS::IAM::VirtualMFADevice
rds:AuthorizeDBSecurityGroupIngress               req:dBSecurityGroupName                      AWS::RDS::DBSecurityGroup
rds:DeleteDBClusterAutomatedBackup                req:dbClusterResourceId                      AWS::RDS::DBCluster
rds:DeleteDBClusterSnapshot                       req:dBClusterSnapshotIdentifier              AWS::RDS::DBClusterSnapshot
rds:DeleteDBInstanceAutomatedBackup               req:dbiResourceId                            AWS::RDS::DBInstance
rds:DeleteDBSnapshot                              req:dBSnapshotIdentifier                     AWS::RDS::DBSnapshot
rds:ModifyDBCluster                               req:dBClusterIdentifier                      AWS::RDS::DBCluster
s3:PutBucketLifecycleConfiguration                req:bucketName                               AWS::S3::Bucket
s3:PutObjectAcl                                   req:bucketName                               AWS::S3::Bucket
securityhub:DeleteMembers                         req:accountIds[]                             AWS::Organizations::Account
securityhub:DisableImportFindingsForProduct       req:productSubscriptionArn                   AWS::SecurityHub::ProductSubscription
sns:SetTopicAttributes                            req:topicArn                                 AWS::SNS::Topic
sqs:SetQueueAttributes                            req:queueUrl                                 AWS::SQS::Queue
wafv2:DeleteLoggingConfiguration                  req:resourceArn                              AWS::WAFv2::WebACL
# account-wide settings: the target is the account itself
ec2:DisableEbsEncryptionByDefault                 rec:recipientAccountId                       AWS::Organizations::Account
iam:UpdateAccountPasswordPolicy                   rec:recipientAccountId                       AWS::Organizations::Account
iam:DeleteAccountPasswordPolicy                   rec:recipientAccountId                       AWS::Organizations::Account
s3:PutAccountPublicAccessBlock                    rec:recipientAccountId                       AWS::Organizations::Account
s3:DeleteAccountPublicAccessBlock                 rec:recipientAccountId                       AWS::Organizations::Account
s3control:PutPublicAccessBlock                    rec:recipientAccountId                       AWS::Organizations::Account
s3control:DeletePublicAccessBlock                 rec:recipientAccountId                       AWS::Organizations::Account
s3control:PutAccountPublicAccessBlock             rec:recipientAccountId                       AWS::Organizations::Account
s3control:DeleteAccountPublicAccessBlock          rec:recipientAccountId                       AWS::Organizations::Account
securityhub:DisableSecurityHub                    rec:recipientAccountId                       AWS::Organizations::Account
securityhub:DisassociateFromAdministratorAccount  rec:recipientAccountId                       AWS::Organizations::Account
securityhub:DisassociateFromMasterAccount         rec:recipientAccountId                       AWS::Organizations::Account
macie:DisableMacie                                rec:recipientAccountId                       AWS::Organizations::Account
macie:UpdateMacieSession                          rec:recipientAccountId                       AWS::Organizations::Account
macie2:DisableMacie                               rec:recipientAccountId                       AWS::Organizations::Account
macie2:UpdateMacieSession                         rec:recipientAccountId                       AWS::Organizations::Account
inspector2:Disable                                rec:recipientAccountId                       AWS::Organizations::Account
bedrock:DeleteModelInvocationLoggingConfiguration rec:recipientAccountId                       AWS::Organizations::Account
"""

PRIVILEGES_TEXT = """
# action                                 op      kind              role                      grantee                                              scope
iam:AttachUserPolicy                     add     policy            req:policyArn             user=req:userName                                    rec:recipientAccountId
iam:AttachRolePolicy                     add     policy            req:policyArn             role=req:roleName                                    rec:recipientAccountId
iam:AttachGroupPolicy                    add     policy            req:policyArn             group=req:groupName                                  rec:recipientAccountId
iam:DetachUserPolicy                     remove  policy            req:policyArn             user=req:userName                                    rec:recipientAccountId
iam:DetachRolePolicy                     remove  policy            req:policyArn             role=req:roleName                                    rec:recipientAccountId
iam:DetachGroupPolicy                    remove  policy            req:policyArn             group=req:groupName                                  rec:recipientAccountId
iam:PutUserPolicy                        add     inline_policy     req:policyName            user=req:userName                                    rec:recipientAccountId
iam:PutRolePolicy                        add     inline_policy     req:policyName            role=req:roleName                                    rec:recipientAccountId
iam:PutGroupPolicy                       add     inline_policy     req:policyName            group=req:groupName                                  rec:recipientAccountId
iam:DeleteUserPolicy                     remove  inline_policy     req:policyName            user=req:userName                                    rec:recipientAccountId
iam:DeleteRolePolicy                     remove  inline_policy     req:policyName            role=req:roleName                                    rec:recipientAccountId
iam:DeleteGroupPolicy                    remove  inline_policy     req:policyName            group=req:groupName                                  rec:recipientAccountId
iam:CreatePolicyVersion                  replace policy            req:policyArn             -                                                    rec:recipientAccountId
iam:SetDefaultPolicyVersion              replace policy            req:policyArn             -                                                    rec:recipientAccountId
iam:AddUserToGroup                       add     group_membership  req:groupName             user=req:userName                                    rec:recipientAccountId
iam:RemoveUserFromGroup                  remove  group_membership  req:groupName             user=req:userName                                    rec:recipientAccountId
iam:UpdateAssumeRolePolicy               replace trust_policy      req:roleName              principal=req:policyDocument.Statement[].Principal.AWS rec:recipientAccountId
iam:UpdateAssumeRolePolicy               replace trust_policy      req:roleName              service=req:policyDocument.Statement[].Principal.Service rec:recipientAccountId
iam:UpdateAssumeRolePolicy               replace trust_policy      req:roleName              federated=req:policyDocument.Statement[].Principal.Federated rec:recipientAccountId
iam:UpdateAssumeRolePolicy               replace trust_policy      req:roleName              public=req:policyDocument.Statement[].Principal      rec:recipientAccountId
iam:CreateAccessKey                      add     credential        access_key                user=req:userName|who:actor.name                     rec:recipientAccountId
iam:DeleteAccessKey                      remove  credential        access_key                user=req:userName|who:actor.name                     rec:recipientAccountId
iam:CreateLoginProfile                   add     credential        login_profile             user=req:userName|who:actor.name                     rec:recipientAccountId
iam:UpdateLoginProfile                   replace credential        login_profile             user=req:userName|who:actor.name                     rec:recipientAccountId
iam:DeleteLoginProfile                   remove  credential        login_profile             user=req:userName                                    rec:recipientAccountId
iam:UploadSSHPublicKey                   add     credential        ssh_public_key            user=req:userName                                    rec:recipientAccountId
iam:CreateServiceSpecificCredential      add     credential        req:serviceName           user=req:userName                                    rec:recipientAccountId
sso:CreateAccountAssignment              add     permission_set    req:permissionSetArn      req:principalType=req:principalId                    req:targetId
sso:DeleteAccountAssignment              remove  permission_set    req:permissionSetArn      req:principalType=req:principalId                    req:targetId
sso:AttachManagedPolicyToPermissionSet   add     policy            req:managedPolicyArn      permission_set=req:permissionSetArn                  req:instanceArn
sso:DetachManagedPolicyFromPermissionSet remove  policy            req:managedPolicyArn      permission_set=req:permissionSetArn                  req:instanceArn
sso:PutInlinePolicyToPermissionSet       add     inline_policy     inline                    permission_set=req:permissionSetArn                  req:instanceArn
organizations:RegisterDelegatedAdministrator   add    delegated_admin req:servicePrincipal  account=req:accountId                                organization
organizations:DeregisterDelegatedAdministrator remove delegated_admin req:servicePrincipal  account=req:accountId                                organization
ram:CreateResourceShare                  add     share             -                         account=req:principals[]                             req:resourceArns[]
ram:AssociateResourceShare               add     share             -                         account=req:principals[]                             req:resourceShareArn
ram:DisassociateResourceShare            remove  share             -                         account=req:principals[]                             req:resourceShareArn
ec2:ModifySnapshotAttribute              add     share             createVolumePermission    account=req:createVolumePermission.add.items[].userId req:snapshotId
ec2:ModifySnapshotAttribute              add     share             createVolumePermission    public=req:createVolumePermission.add.items[].group  req:snapshotId
ec2:ModifySnapshotAttribute              remove  share             createVolumePermission    account=req:createVolumePermission.remove.items[].userId req:snapshotId
ec2:ModifyImageAttribute                 add     share             launchPermission          account=req:launchPermission.add.items[].userId      req:imageId
ec2:ModifyImageAttribute                 add     share             launchPermission          public=req:launchPermission.add.items[].group        req:imageId
ec2:ModifyImageAttribute                 remove  share             launchPermission          account=req:launchPermission.remove.items[].userId   req:imageId
rds:ModifyDBSnapshotAttribute            add     share             req:attributeName         account=req:valuesToAdd[]                            req:dBSnapshotIdentifier
rds:ModifyDBSnapshotAttribute            remove  share             req:attributeName         account=req:valuesToRemove[]                         req:dBSnapshotIdentifier
rds:ModifyDBClusterSnapshotAttribute     add     share             req:attributeName         account=req:valuesToAdd[]                            req:dBClusterSnapshotIdentifier
lambda:AddPermission                     add     resource_policy   req:action                principal=req:principal                              req:functionName
lambda:AddLayerVersionPermission         add     resource_policy   req:action                account=req:principal                                req:layerName
kms:CreateGrant                          add     grant             req:operations[]          principal=req:granteePrincipal                       req:keyId
"""

# The session or key a call hands out: (session/principal path, key id path, expiry path).
ISSUED: dict[str, tuple[str, str, str]] = {
    "sts:assumerole": ("resp:assumedRoleUser.arn", "resp:credentials.accessKeyId", "resp:credentials.expiration"),
    "sts:assumerolewithsaml": ("resp:assumedRoleUser.arn", "resp:credentials.accessKeyId", "resp:credentials.expiration"),
    "sts:assumerolewithwebidentity": (
        "resp:assumedRoleUser.arn", "resp:credentials.accessKeyId", "resp:credentials.expiration",
    ),
    "sts:assumeroot": ("rec:requestParameters.targetPrincipal", "resp:credentials.accessKeyId", "resp:credentials.expiration"),
    "sts:getfederationtoken": ("resp:federatedUser.arn", "resp:credentials.accessKeyId", "resp:credentials.expiration"),
    "sts:getsessiontoken": ("who:actor.id", "resp:credentials.accessKeyId", "resp:credentials.expiration"),
    "iam:createaccesskey": ("resp:accessKey.userName", "resp:accessKey.accessKeyId", "resp:accessKey.expiration"),
}
ISSUED_PATHS = {k: tuple(compile_path(p) for p in v) for k, v in ISSUED.items()}

# CloudTrail's eventCategory -> what.plane
PLANES: dict[str, str] = {
    "Management": "management", "Data": "data", "NetworkActivity": "network", "Insight": "insight",
}

TARGETS = target_table(TARGETS_TEXT)
PRIVILEGES = privilege_table(PRIVILEGES_TEXT)
