"""Where the target of a GCP audit entry lives besides ``resourceName``, who a policy member is, and which
Kubernetes identities GKE writes: tables, not code.

``TARGETS`` (per ``<service>:<short method>``, as ``what.action`` spells it) names further targets in the
request or response: the key a CreateServiceAccountKey made, the destination of a log sink, the disk a
snapshot or image is taken from, the service account whose token is minted. ``resourceName`` stays the
first resource. Paths: ``req:`` request, ``resp:`` response, ``rec:`` the LogEntry.

Privilege changes are not a table here: ``serviceData.policyDelta`` already is data (bindingDeltas,
auditConfigDeltas); ``MEMBER_TYPES`` only says what kind of grantee a member prefix is.
docs/mapping.md is generated from these tables.
"""

from __future__ import annotations

from connectors.common import target_table

TARGETS_TEXT = """
# action                                  path                               type
iam:CreateServiceAccountKey               resp:name                          iam.googleapis.com/ServiceAccountKey
iam:CreateServiceAccount                  resp:email|req:account_id          iam.googleapis.com/ServiceAccount
iam:UploadServiceAccountKey               resp:name                          iam.googleapis.com/ServiceAccountKey
iamcredentials:GenerateAccessToken        req:name                           iam.googleapis.com/ServiceAccount
iamcredentials:GenerateIdToken            req:name                           iam.googleapis.com/ServiceAccount
iamcredentials:SignBlob                   req:name                           iam.googleapis.com/ServiceAccount
iamcredentials:SignJwt                    req:name                           iam.googleapis.com/ServiceAccount
logging:ConfigServiceV2.CreateSink        req:sink.destination               logging.googleapis.com/SinkDestination
logging:ConfigServiceV2.UpdateSink        req:sink.destination               logging.googleapis.com/SinkDestination
compute:snapshots.insert                  req:sourceDisk                     compute.googleapis.com/Disk
compute:disks.createSnapshot              resp:targetLink                    compute.googleapis.com/Snapshot
compute:images.insert                     req:sourceDisk                     compute.googleapis.com/Disk
compute:machineImages.insert              req:sourceInstance                 compute.googleapis.com/Instance
compute:instances.setMetadata             resp:targetLink                    compute.googleapis.com/Instance
compute:projects.setCommonInstanceMetadata resp:targetLink                   compute.googleapis.com/Project
secretmanager:AccessSecretVersion         req:name                           secretmanager.googleapis.com/SecretVersion
cloudkms:DestroyCryptoKeyVersion          req:name                           cloudkms.googleapis.com/CryptoKeyVersion
cloudkms:Decrypt                          req:name                           cloudkms.googleapis.com/CryptoKey
storage:setIamPermissions                 rec:resource.labels.bucket_name    storage.googleapis.com/Bucket
"""

TARGETS = target_table(TARGETS_TEXT)

# IAM policy member prefixes (``user:x``) -> grantee type.
MEMBER_TYPES: dict[str, str] = {
    "user": "user",
    "serviceAccount": "service_account",
    "group": "group",
    "domain": "domain",
    "principal": "principal",
    "principalSet": "principal_set",
    "deleted": "deleted",
    "projectOwner": "project_role",
    "projectEditor": "project_role",
    "projectViewer": "project_role",
}
PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})

# GKE's Kubernetes identities (principalEmail in k8s.io entries): prefix -> actor type. Matched longest
# prefix first; any other ``system:`` identity is the control plane.
K8S_PRINCIPALS: dict[str, str] = {
    "system:serviceaccount:": "service",
    "system:anonymous": "anonymous",
    "system:node:": "cloud_service",
    "system:kube-": "cloud_service",
    "system:apiserver": "cloud_service",
    "system:": "cloud_service",
}
