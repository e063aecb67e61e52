"""Small lookup tables for GCP Cloud Audit Logs: status codes, service categories, Google-managed accounts."""

from __future__ import annotations

AUDIT_LOG_TYPE = "type.googleapis.com/google.cloud.audit.AuditLog"

# google.rpc.Code (googleapis google/rpc/code.proto): AuditLog.status.code is one of these.
RPC_CODES: dict[int, str] = {
    0: "OK",
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    6: "ALREADY_EXISTS",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    10: "ABORTED",
    11: "OUT_OF_RANGE",
    12: "UNIMPLEMENTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    15: "DATA_LOSS",
    16: "UNAUTHENTICATED",
}

# What a service is about, by its short name (serviceName without ".googleapis.com"). A later issue
# refines this with an action catalog; until then the service decides, with the few method-level
# exceptions in mapping.category_for().
SERVICE_CATEGORY: dict[str, str] = {
    # identity and access
    "iam": "iam",
    "admin": "iam",  # Google Workspace admin: users, groups, SSO profiles
    "cloudidentity": "iam",
    "apikeys": "iam",  # API keys are credentials
    "clientauthconfig": "iam",  # OAuth brands and clients
    "iamcredentials": "authentication",  # minting short-lived tokens for a service account
    "sts": "authentication",  # workload / workforce identity federation token exchange
    "login": "authentication",
    "oslogin": "authentication",
    "iap": "authentication",
    # configuration of the organisation itself
    "cloudresourcemanager": "configuration",
    "orgpolicy": "configuration",
    "serviceusage": "configuration",
    "cloudbilling": "configuration",
    "deploymentmanager": "configuration",
    "accesscontextmanager": "configuration",
    "essentialcontacts": "configuration",
    # logging and monitoring
    "logging": "logging",
    "monitoring": "logging",
    "cloudasset": "logging",
    "securitycenter": "logging",
    # keys and secrets
    "cloudkms": "encryption",
    "secretmanager": "encryption",
    "privateca": "encryption",
    # network
    "dns": "network",
    "networkmanagement": "network",
    "networksecurity": "network",
    "networkservices": "network",
    "servicenetworking": "network",
    "vpcaccess": "network",
    # compute
    "compute": "compute",
    "container": "compute",
    "k8s": "compute",  # GKE's Kubernetes API (serviceName k8s.io)
    "run": "compute",
    "cloudfunctions": "compute",
    "appengine": "compute",
    "cloudbuild": "compute",
    "dataflow": "compute",
    "dataproc": "compute",
    "batch": "compute",
    "aiplatform": "compute",
    "ssh-serialport": "compute",
    "workstations": "compute",
    # storage and data
    "storage": "storage",
    "bigquery": "storage",
    "bigquerystorage": "storage",
    "bigtableadmin": "storage",
    "bigtable": "storage",
    "spanner": "storage",
    "datastore": "storage",
    "firestore": "storage",
    "sqladmin": "storage",
    "file": "storage",
}

# Services whose Data Access entries are reads or writes of user data (a table row, an object), so
# those entries are data_access rather than the service's usual category.
DATA_SERVICES = frozenset(
    {"storage", "bigquery", "bigquerystorage", "bigtable", "bigtableadmin", "spanner", "datastore", "firestore"}
)

# Compute Engine collections that are networking (VPC) rather than machines.
COMPUTE_NETWORK_COLLECTIONS = frozenset(
    {
        "firewalls", "networks", "subnetworks", "routes", "routers", "addresses", "globalAddresses",
        "forwardingRules", "globalForwardingRules", "vpnGateways", "vpnTunnels", "targetVpnGateways",
        "externalVpnGateways", "interconnects", "interconnectAttachments", "securityPolicies",
        "sslPolicies", "firewallPolicies", "networkFirewallPolicies", "regionNetworkFirewallPolicies",
        "packetMirrorings", "serviceAttachments", "networkEndpointGroups", "globalNetworkEndpointGroups",
        "backendServices", "regionBackendServices", "urlMaps", "targetHttpProxies", "targetHttpsProxies",
        "targetTcpProxies", "targetSslProxies", "targetPools", "targetInstances",
    }
)

# Method names (lower-cased last segment) that read or change who may access a resource, in any service.
IAM_POLICY_METHODS = frozenset(
    {"setiampolicy", "getiampolicy", "testiampermissions", "setiampermissions", "getiampermissions"}
)

# Google-managed identities (service agents and Google itself), see
# https://cloud.google.com/iam/docs/service-agents: they act for a Google service, not for a customer's
# workload, so they are cloud_service, not service.
GOOGLE_MANAGED_DOMAINS = frozenset(
    {
        "system.gserviceaccount.com",  # e.g. service-agent-manager@system.gserviceaccount.com
        "cloudservices.gserviceaccount.com",  # PROJECT_NUMBER@cloudservices: the Google APIs Service Agent
    }
)
# Google itself on System Event entries (other @google.com addresses are people, e.g. support staff).
GOOGLE_MANAGED_EMAILS = frozenset({"system@google.com"})

# RequestMetadata.callerIp values that are not addresses: "private" (Google's internal network, one
# service calling another) and "gce-internal-ip" (a VM without an external address in another
# organisation) per the AuditLog proto.
INTERNAL_CALLER_TOKENS = frozenset({"private", "gce-internal-ip"})
