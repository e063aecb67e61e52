"""Sample CloudTrail data: realistic records in every shape CloudTrail delivers (see connectors/sampledata).

Shapes: log files in S3 (``{"Records": [...]}``, gzip, under ``AWSLogs/ACCOUNT/CloudTrail/REGION/...``),
the same from an organization trail (``AWSLogs/o-xxxx/ACCOUNT/...``), the hourly digest files beside
them (not events), EventBridge events (``detail`` is the record) and CloudWatch Logs subscription
payloads (``logEvents[].message`` is the record as text), both as JSON lines the way Firehose lands them.

Principals are the ones a real organization shows: IAM Identity Center sessions (``AWSReservedSSO_``),
IAM users with long-lived keys, workload role sessions (EC2, Lambda, ECS, GitHub OIDC), principals of
another account (cross-account role assumption and resource-policy access), AWS services acting
themselves (``AWSService``/``invokedBy``), "AWS Internal" console back-ends, and the root user.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sampledata import RollingFiles, lottery

if TYPE_CHECKING:
    from sampledata import GenContext, Person

CLOUD = "aws"
SHARE = 0.45
SHAPES: dict[str, float] = {
    "s3_log_file": 0.40,
    "s3_org_log_file": 0.15,
    "eventbridge": 0.15,
    "cloudwatch_logs": 0.30,
}
BENCH_SHAPE = "s3_log_file"

ERROR_RATE = 0.035
DIGEST_KIND = "aws.cloudtrail.digest"  # the NonEvent kinds the connector gives a digest file...
CONTROL_KIND = "aws.cloudwatch_logs.control_message"  # ... and a CloudWatch Logs control message
ORG_TRAIL = "org-trail"
TRAIL = "management-events"
HOME_REGION = "us-east-1"

REGIONS = (
    ("us-east-1", 50),
    ("us-west-2", 20),
    ("eu-west-1", 15),
    ("eu-central-1", 10),
    ("ap-southeast-2", 5),
)

_CONSOLE_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
_HUMAN_UAS = (
    (
        "aws-cli/2.22.35 md/awscrt#0.23.4 ua/2.0 os/macos#24.2.0 md/arch#arm64 lang/python#3.12.8 "
        "md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#s3.ls",
        4,
    ),
    (
        "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-aws exe/x86_64.ubuntu.22 prompt/off "
        "command/ec2.describe-instances",
        3,
    ),
    ("console.amazonaws.com", 4),
    (_CONSOLE_UA, 3),
    ("AWS Internal", 1),
    (
        "Boto3/1.35.90 md/Botocore#1.35.90 ua/2.0 os/macos#24.2.0 md/arch#arm64 lang/python#3.12.8 "
        "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.90",
        2,
    ),
)
_TERRAFORM_UA = (
    "APN/1.0 HashiCorp/1.0 Terraform/1.10.3 (+https://www.terraform.io) terraform-provider-aws/5.82.2 "
    "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.7 ua/2.1 os/linux "
    "lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/iam#1.38.3"
)
_WORKLOAD_UAS = (
    (
        "Boto3/1.35.90 md/Botocore#1.35.90 ua/2.0 os/linux#5.10.230-223.885.amzn2.x86_64 md/arch#x86_64 "
        "lang/python#3.12.8 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy "
        "Botocore/1.35.90",
        4,
    ),
    (
        "aws-sdk-java/2.29.45 Linux/5.10.230-223.885.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.5+11-LTS "
        "Java/21.0.5 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
        2,
    ),
    ("aws-sdk-go-v2/1.32.7 ua/2.1 os/linux lang/go#1.23.4 md/GOOS#linux md/GOARCH#amd64 api/s3#1.72.0", 2),
    ("aws-sdk-nodejs/2.1692.0 linux/v20.18.1 exec-env/AWS_ECS_FARGATE promise", 1),
)
_TLS = (
    ({"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256"}, 7),
    ({"tlsVersion": "TLSv1.2", "cipherSuite": "ECDHE-RSA-AES128-GCM-SHA256"}, 3),
)

# Public egress addresses come from the documentation ranges (RFC 5737 / RFC 3849): realistic in form,
# never a real person's address. CI runners and NAT gateways use cloud-provider-looking ranges.
_OFFICE_IPS = ("198.51.100.23", "198.51.100.24", "203.0.113.7")
_HOME_IP_PREFIXES = ("192.0.2.", "203.0.113.", "198.51.100.")
_IPV6_PREFIX = "2001:db8:4a1f:"


# --- population ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class Resources:
    buckets: list[str]
    instances: list[str]
    functions: list[str]
    roles: list[str]
    users: list[str]
    keys: list[str]
    secrets: list[str]
    groups: list[str]
    tables: list[str]
    vpce: str


@dataclass(slots=True)
class Principal:
    kind: str  # sso, iam_user, workload, cross_account, service, internal, root
    account: str  # where the principal lives
    identity: dict[str, Any]  # userIdentity; role sessions get their attributes per record
    issuer: dict[str, Any] | None
    mfa: str
    agents: list[str]
    ips: list[str]
    ops_all: list[Op] = field(default_factory=list)
    ops_regional: list[Op] = field(default_factory=list)
    web_identity: dict[str, Any] | None = None
    invoked_by: str | None = None
    console: bool = False


@dataclass(slots=True)
class Population:
    org_id: str
    accounts: list[str]
    names: dict[str, str]
    res: dict[str, Resources]
    acting: dict[str, list[Principal]]  # account -> lottery of principals acting in it
    regions: list[str]
    tls: list[dict[str, str]]


OpFn = Callable[["GenContext", str, str, Resources], tuple[Any, Any, Any]]


@dataclass(slots=True)
class Op:
    source: str
    name: str
    read_only: bool
    fn: OpFn
    global_: bool = False  # logged in us-east-1 whatever the caller's region (IAM, sign-in)
    data: bool = False  # a data event (S3 objects, Lambda invoke)
    event_type: str = "AwsApiCall"
    denied: str = "AccessDenied"  # this service's errorCode for an authorization failure
    security: bool = False

    @property
    def service(self) -> str:
        return self.source.split(".", 1)[0]


def population(rng: random.Random, people: Sequence[Person]) -> Population:
    names = ("management", "log-archive", "security", "prod", "staging", "dev", "sandbox")
    accounts = [str(rng.randrange(10**11, 10**12)) for _ in names]
    acct_names = dict(zip(accounts, names, strict=True))
    mgmt, _log, security, prod, staging, dev, _sandbox = accounts
    org_id = "o-" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(10))

    def hexid(n: int) -> str:
        return f"{rng.getrandbits(4 * n):0{n}x}"

    def key_id(prefix: str) -> str:
        return prefix + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))

    res: dict[str, Resources] = {}
    for a in accounts:
        n = acct_names[a]
        res[a] = Resources(
            buckets=[f"acme-{n}-{b}-{a[-4:]}" for b in ("assets", "data-lake", "backups", "tfstate", "logs")],
            instances=[f"i-{hexid(17)}" for _ in range(12)],
            functions=[f"{n}-{f}" for f in ("api-handler", "thumbnailer", "etl-loader", "slack-notifier")],
            roles=["app-runtime", "etl-job", "ReadOnlyAuditor", "deploy", "OrganizationAccountAccessRole"],
            users=["ci-legacy", "backup-agent", "svc-reporting"],
            keys=[f"arn:aws:kms:{{region}}:{a}:key/{_uuid(rng)}" for _ in range(3)],
            secrets=[
                f"arn:aws:secretsmanager:{{region}}:{a}:secret:{n}/{s}-{hexid(6)}" for s in ("db", "stripe")
            ],
            groups=[f"sg-{hexid(17)}" for _ in range(6)],
            tables=[f"{n}-orders", f"{n}-sessions"],
            vpce=f"vpce-{hexid(17)}",
        )

    human_uas = lottery(_HUMAN_UAS, 64)
    workload_uas = lottery(_WORKLOAD_UAS, 32)
    human_ops_all, human_ops_reg = _op_lotteries(_HUMAN_OPS)
    work_ops_all, work_ops_reg = _op_lotteries(_WORKLOAD_OPS)
    xacct_all, xacct_reg = _op_lotteries(_CROSS_ACCOUNT_OPS)
    svc_all, svc_reg = _op_lotteries(_SERVICE_OPS)
    root_all, root_reg = _op_lotteries(_ROOT_OPS)

    acting: dict[str, list[tuple[Principal, float]]] = {a: [] for a in accounts}

    # Humans through IAM Identity Center: one role session per permission set and account.
    permission_sets = ("AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "ViewOnlyAccess")
    ps_suffix = {ps: hexid(16) for ps in permission_sets}
    for person in people[: int(len(people) * 0.85)]:
        home = f"{rng.choice(_HOME_IP_PREFIXES)}{rng.randrange(2, 254)}"
        ips = [
            home,
            rng.choice(_OFFICE_IPS),
            rng.choice(_OFFICE_IPS),
            f"{_IPV6_PREFIX}{hexid(4)}::{hexid(3)}",
        ]
        where = [prod, staging, dev] if person.department in ("engineering", "data") else accounts
        for a in rng.sample(where, k=min(len(where), rng.randint(1, 3))):
            ps = rng.choice(permission_sets[:2] if person.admin else permission_sets[1:])
            role = f"AWSReservedSSO_{ps}_{ps_suffix[ps]}"
            role_id = "AROA" + key_id("")[:17]
            issuer = {
                "type": "Role",
                "principalId": role_id,
                "arn": f"arn:aws:iam::{a}:role/aws-reserved/sso.amazonaws.com/{role}",
                "accountId": a,
                "userName": role,
            }
            ident = {
                "type": "AssumedRole",
                "principalId": f"{role_id}:{person.email}",
                "arn": f"arn:aws:sts::{a}:assumed-role/{role}/{person.email}",
                "accountId": a,
                "accessKeyId": key_id("ASIA"),
            }
            p = Principal("sso", a, ident, issuer, "false", human_uas, ips, human_ops_all, human_ops_reg)
            acting[a].append((p, 6.0 if person.admin else 3.0))

    # IAM users with long-lived access keys: legacy automation, and one engineer who never migrated.
    for a in (prod, staging, dev, mgmt):
        for u in res[a].users:
            ident = {
                "type": "IAMUser",
                "principalId": "AIDA" + key_id("")[:17],
                "arn": f"arn:aws:iam::{a}:user/automation/{u}",
                "accountId": a,
                "accessKeyId": key_id("AKIA"),
                "userName": u,
            }
            ips = [
                f"203.0.113.{rng.randrange(100, 200)}",
                f"52.{rng.randrange(0, 96)}.{rng.randrange(256)}.{rng.randrange(256)}",
            ]
            uas = lottery([(_TERRAFORM_UA, 1), *_WORKLOAD_UAS], 16)
            acting[a].append(
                (Principal("iam_user", a, ident, None, "false", uas, ips, work_ops_all, work_ops_reg), 2.0)
            )
    engineer = people[-1]
    ident = {
        "type": "IAMUser",
        "principalId": "AIDA" + key_id("")[:17],
        "arn": f"arn:aws:iam::{dev}:user/{engineer.user}",
        "accountId": dev,
        "accessKeyId": key_id("AKIA"),
        "userName": engineer.user,
    }
    acting[dev].append(
        (
            Principal(
                "iam_user", dev, ident, None, "false", human_uas, ["192.0.2.77"], human_ops_all, human_ops_reg
            ),
            1.0,
        )
    )

    # Workload role sessions: EC2 instance profiles, Lambda execution roles, ECS tasks, GitHub OIDC.
    for a in (prod, staging, dev, security, mgmt):
        r = res[a]
        nat = [f"10.{rng.randrange(0, 64)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(3)]
        sessions = (
            [(r.roles[0], i) for i in r.instances[:6]]
            + [(f"{f}-role", f) for f in r.functions]
            + [(r.roles[1], hexid(32)) for _ in range(3)]
        )
        for role, session in sessions:
            p = _role_session(
                rng, a, role, session, "false", workload_uas, nat, work_ops_all, work_ops_reg, key_id
            )
            acting[a].append((p, 2.5))
        gh = _role_session(
            rng,
            a,
            "github-actions-deploy",
            "GitHubActions",
            "false",
            lottery([(_TERRAFORM_UA, 3), *_WORKLOAD_UAS], 16),
            [f"20.{rng.randrange(1, 250)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(4)],
            work_ops_all,
            work_ops_reg,
            key_id,
        )
        gh.web_identity = {
            "federatedProvider": f"arn:aws:iam::{a}:oidc-provider/token.actions.githubusercontent.com",
            "attributes": {},
        }
        acting[a].append((gh, 2.0))

    # Principals of another account: the security account's scanner assuming roles in members, the
    # prod account reading the data lake of another account through a bucket policy.
    for a in (prod, staging, dev, mgmt):
        scanner = _role_session(
            rng,
            security,
            "SecurityScanner",
            f"scan-{hexid(8)}",
            "false",
            workload_uas,
            ["10.200.0.15"],
            xacct_all,
            xacct_reg,
            key_id,
        )
        scanner.kind = "cross_account"
        acting[a].append((scanner, 1.0))
    for a in (staging, dev):
        reader = _role_session(
            rng,
            prod,
            "etl-job",
            hexid(32),
            "false",
            workload_uas,
            ["10.0.12.9"],
            xacct_all,
            xacct_reg,
            key_id,
        )
        reader.kind = "cross_account"
        acting[a].append((reader, 0.5))

    # AWS services acting on their own (AWSService), and service-linked roles ("AWS Internal").
    for a in accounts:
        for svc in (
            "lambda.amazonaws.com",
            "ec2.amazonaws.com",
            "cloudtrail.amazonaws.com",
            "config.amazonaws.com",
            "ecs-tasks.amazonaws.com",
        ):
            p = Principal(
                "service",
                a,
                {"type": "AWSService", "invokedBy": svc},
                None,
                "false",
                [svc],
                [svc],
                svc_all,
                svc_reg,
                invoked_by=svc,
            )
            acting[a].append((p, 1.2))
        slr = _role_session(
            rng,
            a,
            "aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
            "AWSConfig-Describe",
            "false",
            ["config.amazonaws.com"],
            ["config.amazonaws.com"],
            work_ops_all,
            work_ops_reg,
            key_id,
        )
        slr.kind = "internal"
        slr.invoked_by = "config.amazonaws.com"
        acting[a].append((slr, 1.5))

    # The root user: rare, console only, almost always in the management account.
    for a, w in ((mgmt, 0.05), (dev, 0.02)):
        ident = {
            "type": "Root",
            "principalId": a,
            "arn": f"arn:aws:iam::{a}:root",
            "accountId": a,
            "accessKeyId": key_id("ASIA"),
        }
        p = Principal(
            "root", a, ident, None, "true", [_CONSOLE_UA], ["198.51.100.23"], root_all, root_reg, console=True
        )
        acting[a].append((p, w))

    return Population(
        org_id=org_id,
        accounts=accounts,
        names=acct_names,
        res=res,
        acting={a: lottery(ps, 1024) for a, ps in acting.items()},
        regions=lottery(REGIONS, 100),
        tls=lottery(_TLS, 10),
    )


def _role_session(
    rng: random.Random,
    account: str,
    role: str,
    session: str,
    mfa: str,
    agents: list[str],
    ips: list[str],
    ops_all: list[Op],
    ops_reg: list[Op],
    key_id: Callable[[str], str],
) -> Principal:
    role_id = "AROA" + key_id("")[:17]
    role_name = role.rsplit("/", 1)[-1]
    path = f"role/{role}"
    issuer = {
        "type": "Role",
        "principalId": role_id,
        "arn": f"arn:aws:iam::{account}:{path}",
        "accountId": account,
        "userName": role_name,
    }
    ident = {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}",
        "accountId": account,
        "accessKeyId": key_id("ASIA"),
    }
    return Principal("workload", account, ident, issuer, mfa, agents, ips, ops_all, ops_reg)


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _op_lotteries(ops: Sequence[tuple[Op, float]]) -> tuple[list[Op], list[Op]]:
    regional = [(o, w) for o, w in ops if not o.global_]
    return lottery(ops, 2048), lottery(regional or ops, 2048)


# --- operations: one small function each, returning (requestParameters, responseElements, resources) ---


def _pick(c: GenContext, xs: Sequence[str]) -> str:
    return xs[int(c.rng.random() * len(xs))]


def _describe_instances(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    if c.rng.random() < 0.5:
        return {"instancesSet": {}, "filterSet": {}}, None, None
    return {"instancesSet": {"items": [{"instanceId": _pick(c, r.instances)}]}, "filterSet": {}}, None, None


def _describe_sgs(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}}, None, None


def _describe_vpcs(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return {"vpcSet": {}, "filterSet": {}}, None, None


def _s3_bucket(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    b = _pick(c, r.buckets)
    return (
        {"bucketName": b, "Host": f"{b}.s3.{region}.amazonaws.com", "acl": ""},
        None,
        [{"accountId": a, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{b}"}],
    )


def _list_buckets(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return {"Host": f"s3.{region}.amazonaws.com"}, None, None


_OBJ_PREFIXES = ("raw/events/", "exports/", "reports/2025/01/", "images/", "tables/orders/part-")


def _s3_object(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    b = _pick(c, r.buckets)
    k = f"{_pick(c, _OBJ_PREFIXES)}{c.hex(12)}.parquet"
    return (
        {"bucketName": b, "Host": f"{b}.s3.{region}.amazonaws.com", "key": k},
        None,
        [
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{b}/{k}"},
            {"accountId": a, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{b}"},
        ],
    )


def _get_caller_identity(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return None, None, None


def _assume_role(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    role = _pick(c, r.roles)
    arn = f"arn:aws:iam::{a}:role/{role}"
    session = f"session-{c.hex(8)}"
    return (
        {"roleArn": arn, "roleSessionName": session, "durationSeconds": 3600},
        {
            "credentials": {
                "accessKeyId": "ASIA" + c.token(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
                "sessionToken": "IQoJb3JpZ2luX2VjE"
                + c.token(24, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
                "expiration": "Jan 14, 2025, 11:59:59 PM",
            },
            "assumedRoleUser": {
                "assumedRoleId": f"AROA{c.token(17, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}:{session}",
                "arn": f"arn:aws:sts::{a}:assumed-role/{role}/{session}",
            },
        },
        [{"accountId": a, "type": "AWS::IAM::Role", "ARN": arn}],
    )


def _iam_role(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return {"roleName": _pick(c, r.roles)}, None, None


def _iam_list(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return {"maxItems": 100} if c.rng.random() < 0.5 else None, None, None


def _kms_decrypt(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    key = _pick(c, r.keys).format(region=region)
    return (
        {
            "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "encryptionContext": {"aws:s3:arn": f"arn:aws:s3:::{_pick(c, r.buckets)}"},
        },
        None,
        [{"accountId": a, "type": "AWS::KMS::Key", "ARN": key}],
    )


def _get_secret(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return {"secretId": _pick(c, r.secrets).format(region=region)}, None, None


def _get_parameter(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return (
        {
            "name": _pick(c, ("/app/config/feature-flags", "/app/db/host", "/app/db/password")),
            "withDecryption": True,
        },
        None,
        None,
    )


def _lambda_list(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return None, None, None


def _lambda_get(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return {"functionName": _pick(c, r.functions)}, None, None


def _lambda_invoke(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    fn = f"arn:aws:lambda:{region}:{a}:function:{_pick(c, r.functions)}"
    return (
        {"functionName": fn, "invocationType": "RequestResponse"},
        None,
        [{"accountId": a, "type": "AWS::Lambda::Function", "ARN": fn}],
    )


def _ddb_table(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return {"tableName": _pick(c, r.tables)}, None, None


def _log_group(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return (
        {
            "logGroupName": f"/aws/lambda/{_pick(c, r.functions)}",
            "logStreamName": f"2025/01/14/[$LATEST]{c.hex(32)}",
        },
        None,
        None,
    )


def _describe_log_groups(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return {"limit": 50}, None, None


def _get_metric_data(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return {"startTime": "Jan 14, 2025, 12:00:00 AM", "endTime": "Jan 14, 2025, 1:00:00 AM"}, None, None


def _run_instances(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    iid = f"i-{c.hex(17)}"
    return (
        {
            "instancesSet": {"items": [{"imageId": f"ami-{c.hex(17)}", "minCount": 1, "maxCount": 1}]},
            "instanceType": _pick(c, ("t3.medium", "m7i.large", "c7g.xlarge")),
            "blockDeviceMapping": {},
            "monitoring": {"enabled": False},
            "disableApiTermination": False,
            "disableApiStop": False,
            "iamInstanceProfile": {"name": "app-runtime"},
        },
        {
            "requestId": c.uuid(),
            "reservationId": f"r-{c.hex(17)}",
            "ownerId": a,
            "instancesSet": {
                "items": [
                    {
                        "instanceId": iid,
                        "currentInstanceBootMode": "uefi",
                        "instanceState": {"code": 0, "name": "pending"},
                    }
                ]
            },
        },
        [{"accountId": a, "type": "AWS::EC2::Instance", "ARN": f"arn:aws:ec2:{region}:{a}:instance/{iid}"}],
    )


def _instance_state(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    iid = _pick(c, r.instances)
    return (
        {"instancesSet": {"items": [{"instanceId": iid}]}, "force": False},
        {
            "requestId": c.uuid(),
            "instancesSet": {
                "items": [
                    {
                        "instanceId": iid,
                        "currentState": {"code": 64, "name": "stopping"},
                        "previousState": {"code": 16, "name": "running"},
                    }
                ]
            },
        },
        None,
    )


def _create_tags(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return (
        {
            "resourcesSet": {"items": [{"resourceId": _pick(c, r.instances)}]},
            "tagSet": {"items": [{"key": "owner", "value": "platform"}]},
        },
        {"requestId": c.uuid(), "_return": True},
        None,
    )


def _authorize_ingress(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    port = _pick(c, ("22", "443", "3389", "5432"))
    cidr = _pick(c, ("0.0.0.0/0", "10.0.0.0/8", "198.51.100.0/24"))
    return (
        {
            "groupId": _pick(c, r.groups),
            "ipPermissions": {
                "items": [
                    {
                        "ipProtocol": "tcp",
                        "fromPort": int(port),
                        "toPort": int(port),
                        "groups": {},
                        "ipRanges": {"items": [{"cidrIp": cidr}]},
                        "ipv6Ranges": {},
                        "prefixListIds": {},
                    }
                ]
            },
        },
        {
            "requestId": c.uuid(),
            "_return": True,
            "securityGroupRuleSet": {
                "items": [
                    {
                        "securityGroupRuleId": f"sgr-{c.hex(17)}",
                        "isEgress": False,
                        "ipProtocol": "tcp",
                        "fromPort": int(port),
                        "toPort": int(port),
                        "cidrIpv4": cidr,
                    }
                ]
            },
        },
        None,
    )


def _modify_snapshot(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return (
        {
            "snapshotId": f"snap-{c.hex(17)}",
            "attributeType": "CREATE_VOLUME_PERMISSION",
            "createVolumePermission": {"add": {"items": [{"userId": f"{c.digits(12)}"}]}},
        },
        {"requestId": c.uuid(), "_return": True},
        None,
    )


def _create_access_key(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    u = _pick(c, r.users)
    return (
        {"userName": u},
        {
            "accessKey": {
                "userName": u,
                "accessKeyId": "AKIA" + c.token(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
                "status": "Active",
                "createDate": "Jan 14, 2025, 1:07:41 PM",
            }
        },
        None,
    )


def _create_user(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    u = f"contractor-{c.hex(4)}"
    return (
        {"userName": u},
        {
            "user": {
                "path": "/",
                "userName": u,
                "userId": "AIDA" + c.token(17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
                "arn": f"arn:aws:iam::{a}:user/{u}",
                "createDate": "Jan 14, 2025, 1:07:41 PM",
            }
        },
        None,
    )


def _attach_policy(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    pol = _pick(
        c,
        (
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            f"arn:aws:iam::{a}:policy/app-runtime-s3",
        ),
    )
    return {"roleName": _pick(c, r.roles), "policyArn": pol}, None, None


def _attach_user_policy(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return (
        {"userName": _pick(c, r.users), "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        None,
        None,
    )


def _put_role_policy(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    doc = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
    return {"roleName": _pick(c, r.roles), "policyName": "inline-s3-read", "policyDocument": doc}, None, None


def _update_assume_role_policy(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    doc = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::'
        f'{c.digits(12)}:root"}},"Action":"sts:AssumeRole"}}]}}'
    )
    return {"roleName": _pick(c, r.roles), "policyDocument": doc}, None, None


def _trail(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    arn = f"arn:aws:cloudtrail:us-east-1:{a}:trail/{TRAIL}"
    return {"name": arn}, None, [{"accountId": a, "type": "AWS::CloudTrail::Trail", "ARN": arn}]


def _put_event_selectors(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    arn = f"arn:aws:cloudtrail:us-east-1:{a}:trail/{TRAIL}"
    sel = [
        {
            "readWriteType": "WriteOnly",
            "includeManagementEvents": True,
            "dataResources": [],
            "excludeManagementEventSources": [],
        }
    ]
    return {"trailName": TRAIL, "eventSelectors": sel}, {"trailARN": arn, "eventSelectors": sel}, None


def _delete_detector(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return {"detectorId": c.hex(32)}, None, None


def _schedule_key_deletion(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    key = _pick(c, r.keys).format(region=region)
    return (
        {"keyId": key, "pendingWindowInDays": 7},
        {
            "keyId": key,
            "deletionDate": "Jan 21, 2025, 12:00:00 AM",
            "keyState": "PendingDeletion",
            "pendingWindowInDays": 7,
        },
        [{"accountId": a, "type": "AWS::KMS::Key", "ARN": key}],
    )


def _public_access_block(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    b = _pick(c, r.buckets)
    return (
        {"bucketName": b, "Host": f"{b}.s3.{region}.amazonaws.com", "publicAccessBlock": ""},
        None,
        [{"accountId": a, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{b}"}],
    )


def _put_bucket_policy(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    b = _pick(c, r.buckets)
    pol = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadFromAnalytics",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{c.digits(12)}:root"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{b}/*",
            }
        ],
    }
    return (
        {"bucketName": b, "Host": f"{b}.s3.{region}.amazonaws.com", "policy": pol},
        None,
        [{"accountId": a, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{b}"}],
    )


def _update_function(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    fn = _pick(c, r.functions)
    arn = f"arn:aws:lambda:{region}:{a}:function:{fn}"
    return (
        {"functionName": fn, "publish": True, "dryRun": False},
        {
            "functionName": fn,
            "functionArn": arn,
            "runtime": "python3.12",
            "codeSize": 41213,
            "lastModified": "2025-01-14T13:07:41.000+0000",
            "version": "17",
            "state": "Active",
        },
        None,
    )


def _console_login(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return None, {"ConsoleLogin": "Success"}, None


def _get_account_summary(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return None, None, None


def _ddb_query(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    t = _pick(c, r.tables)
    return (
        {"tableName": t, "key": {"pk": f"order#{c.hex(8)}"}},
        None,
        [{"accountId": a, "type": "AWS::DynamoDB::Table", "ARN": f"arn:aws:dynamodb:{region}:{a}:table/{t}"}],
    )


def _create_log_stream(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    return _log_group(c, a, region, r)


def _rotate_key(c: GenContext, a: str, region: str, r: Resources) -> tuple[Any, Any, Any]:
    key = _pick(c, r.keys).format(region=region)
    return None, None, [{"accountId": a, "type": "AWS::KMS::Key", "ARN": key}]


def _o(source: str, name: str, ro: bool, fn: OpFn, **kw: Any) -> Op:
    return Op(f"{source}.amazonaws.com", name, ro, fn, **kw)


_G = {"global_": True}
# Humans: mostly looking (console pages fire many Describe/List calls), some changes, a few of the
# changes a detection rule cares about.
_HUMAN_OPS: list[tuple[Op, float]] = [
    (_o("ec2", "DescribeInstances", True, _describe_instances, denied="Client.UnauthorizedOperation"), 90),
    (_o("ec2", "DescribeSecurityGroups", True, _describe_sgs, denied="Client.UnauthorizedOperation"), 40),
    (_o("ec2", "DescribeVpcs", True, _describe_vpcs, denied="Client.UnauthorizedOperation"), 25),
    (_o("s3", "ListBuckets", True, _list_buckets), 40),
    (_o("s3", "GetBucketPolicy", True, _s3_bucket), 15),
    (_o("s3", "GetBucketAcl", True, _s3_bucket), 15),
    (_o("s3", "GetObject", True, _s3_object, data=True), 30),
    (_o("iam", "GetRole", True, _iam_role, **_G), 25),
    (_o("iam", "ListRoles", True, _iam_list, **_G), 20),
    (_o("iam", "ListUsers", True, _iam_list, **_G), 10),
    (_o("sts", "GetCallerIdentity", True, _get_caller_identity), 30),
    (_o("lambda", "ListFunctions20150331", True, _lambda_list, denied="AccessDeniedException"), 20),
    (_o("lambda", "GetFunction20150331v2", True, _lambda_get, denied="AccessDeniedException"), 10),
    (_o("logs", "DescribeLogGroups", True, _describe_log_groups, denied="AccessDeniedException"), 20),
    (_o("monitoring", "GetMetricData", True, _get_metric_data, denied="AccessDenied"), 25),
    (_o("dynamodb", "DescribeTable", True, _ddb_table, denied="AccessDeniedException"), 10),
    (_o("secretsmanager", "GetSecretValue", True, _get_secret, denied="AccessDeniedException"), 6),
    (_o("signin", "ConsoleLogin", False, _console_login, event_type="AwsConsoleSignIn", **_G), 8),
    (_o("ec2", "RunInstances", False, _run_instances, denied="Client.UnauthorizedOperation"), 4),
    (_o("ec2", "StopInstances", False, _instance_state, denied="Client.UnauthorizedOperation"), 3),
    (_o("ec2", "CreateTags", False, _create_tags, denied="Client.UnauthorizedOperation"), 6),
    (
        _o(
            "ec2",
            "AuthorizeSecurityGroupIngress",
            False,
            _authorize_ingress,
            denied="Client.UnauthorizedOperation",
            security=True,
        ),
        2,
    ),
    (
        _o("lambda", "UpdateFunctionCode20150331v2", False, _update_function, denied="AccessDeniedException"),
        3,
    ),
    (_o("s3", "PutBucketPolicy", False, _put_bucket_policy, security=True), 1),
    (_o("s3", "DeleteBucketPublicAccessBlock", False, _public_access_block, security=True), 0.3),
    (_o("iam", "CreateAccessKey", False, _create_access_key, security=True, **_G), 0.8),
    (_o("iam", "CreateUser", False, _create_user, security=True, **_G), 0.4),
    (_o("iam", "AttachRolePolicy", False, _attach_policy, security=True, **_G), 1),
    (_o("iam", "AttachUserPolicy", False, _attach_user_policy, security=True, **_G), 0.3),
    (_o("iam", "PutRolePolicy", False, _put_role_policy, security=True, **_G), 0.8),
    (_o("iam", "UpdateAssumeRolePolicy", False, _update_assume_role_policy, security=True, **_G), 0.4),
    (_o("cloudtrail", "StopLogging", False, _trail, security=True), 0.15),
    (_o("cloudtrail", "DeleteTrail", False, _trail, security=True), 0.05),
    (_o("cloudtrail", "PutEventSelectors", False, _put_event_selectors, security=True), 0.1),
    (
        _o(
            "guardduty",
            "DeleteDetector",
            False,
            _delete_detector,
            denied="AccessDeniedException",
            security=True,
        ),
        0.05,
    ),
    (
        _o(
            "kms",
            "ScheduleKeyDeletion",
            False,
            _schedule_key_deletion,
            denied="AccessDeniedException",
            security=True,
        ),
        0.1,
    ),
    (
        _o(
            "ec2",
            "ModifySnapshotAttribute",
            False,
            _modify_snapshot,
            denied="Client.UnauthorizedOperation",
            security=True,
        ),
        0.1,
    ),
]
# Workloads: data-plane reads and writes, credentials, secrets, a few deploy-time changes.
_WORKLOAD_OPS: list[tuple[Op, float]] = [
    (_o("s3", "GetObject", True, _s3_object, data=True), 70),
    (_o("s3", "PutObject", False, _s3_object, data=True), 30),
    (_o("s3", "HeadObject", True, _s3_object, data=True), 10),
    (_o("kms", "Decrypt", True, _kms_decrypt, denied="AccessDeniedException"), 45),
    (_o("kms", "GenerateDataKey", True, _kms_decrypt, denied="AccessDeniedException"), 20),
    (_o("sts", "AssumeRole", True, _assume_role), 25),
    (_o("sts", "GetCallerIdentity", True, _get_caller_identity), 10),
    (_o("secretsmanager", "GetSecretValue", True, _get_secret, denied="AccessDeniedException"), 20),
    (_o("ssm", "GetParameter", True, _get_parameter, denied="AccessDeniedException"), 15),
    (_o("dynamodb", "Query", True, _ddb_query, data=True, denied="AccessDeniedException"), 15),
    (_o("dynamodb", "DescribeTable", True, _ddb_table, denied="AccessDeniedException"), 8),
    (_o("lambda", "Invoke", False, _lambda_invoke, data=True, denied="AccessDeniedException"), 10),
    (_o("logs", "CreateLogStream", False, _create_log_stream, denied="AccessDeniedException"), 10),
    (_o("ec2", "DescribeInstances", True, _describe_instances, denied="Client.UnauthorizedOperation"), 30),
    (_o("monitoring", "GetMetricData", True, _get_metric_data), 10),
    (_o("iam", "GetRole", True, _iam_role, **_G), 8),
    (
        _o("lambda", "UpdateFunctionCode20150331v2", False, _update_function, denied="AccessDeniedException"),
        2,
    ),
    (_o("ec2", "RunInstances", False, _run_instances, denied="Client.UnauthorizedOperation"), 1),
    (_o("ec2", "CreateTags", False, _create_tags, denied="Client.UnauthorizedOperation"), 3),
    (_o("iam", "AttachRolePolicy", False, _attach_policy, security=True, **_G), 0.3),
    (_o("iam", "CreateAccessKey", False, _create_access_key, security=True, **_G), 0.1),
]
_CROSS_ACCOUNT_OPS: list[tuple[Op, float]] = [
    (_o("sts", "AssumeRole", True, _assume_role), 50),
    (_o("s3", "GetObject", True, _s3_object, data=True), 30),
    (_o("s3", "ListObjects", True, _s3_bucket, data=True), 10),
    (_o("kms", "Decrypt", True, _kms_decrypt, denied="AccessDeniedException"), 10),
]
_SERVICE_OPS: list[tuple[Op, float]] = [
    (_o("sts", "AssumeRole", True, _assume_role), 60),
    (_o("kms", "Decrypt", True, _kms_decrypt, denied="AccessDeniedException"), 15),
    (_o("kms", "RotateKey", False, _rotate_key, event_type="AwsServiceEvent"), 1),
    (_o("logs", "CreateLogStream", False, _create_log_stream), 10),
]
_ROOT_OPS: list[tuple[Op, float]] = [
    (_o("signin", "ConsoleLogin", False, _console_login, event_type="AwsConsoleSignIn", **_G), 4),
    (_o("iam", "GetAccountSummary", True, _get_account_summary, **_G), 3),
    (_o("iam", "ListMFADevices", True, _iam_list, **_G), 2),
    (_o("iam", "CreateAccessKey", False, _create_access_key, security=True, **_G), 0.3),
]


# --- records ------------------------------------------------------------------------------------------


def record(c: GenContext, pop: Population, account: str, region: str, t: int) -> dict[str, Any]:
    """One CloudTrail record of something done in ``account`` and ``region`` at ``t`` (ns into the day)."""
    rnd = c.rng.random
    lot = pop.acting[account]
    p = lot[int(rnd() * len(lot))]
    ops = p.ops_all if region == HOME_REGION else p.ops_regional
    op = ops[int(rnd() * len(ops))]
    if op.global_:
        region = HOME_REGION
    req, resp, resources = op.fn(c, account, region, pop.res[account])
    agent = p.agents[int(rnd() * len(p.agents))]
    ip = p.ips[int(rnd() * len(p.ips))] if agent != "AWS Internal" else "AWS Internal"

    ident = p.identity
    if p.issuer is not None:
        created = t - int(rnd() * 3_000_000_000_000)
        ctx_attrs: dict[str, Any] = {"creationDate": c.iso_s(created if created > 0 else 0), "mfaAuthenticated": p.mfa}
        ident = {
            **ident,
            "sessionContext": {
                "sessionIssuer": p.issuer,
                "webIdFederationData": p.web_identity or {},
                "attributes": ctx_attrs,
            },
        }
        if p.invoked_by is not None:
            ident["invokedBy"] = p.invoked_by
    elif p.kind == "root":
        if op.name == "ConsoleLogin":  # signing in: no credentials yet
            ident = {k: v for k, v in ident.items() if k != "accessKeyId"}
        else:
            created_text = c.iso_s(max(t - 600_000_000_000, 0))
            ident = {
                **ident,
                "sessionContext": {"attributes": {"creationDate": created_text, "mfaAuthenticated": "true"}},
            }
    elif op.event_type == "AwsServiceEvent":  # the service acting on its own schedule, for nobody
        ident = {"accountId": account, "invokedBy": op.source}
        agent = ip = op.source

    rec: dict[str, Any] = {
        "eventVersion": "1.10" if op.event_type == "AwsApiCall" else "1.09",
        "userIdentity": ident,
        "eventTime": c.iso_s(t),
        "eventSource": op.source,
        "eventName": op.name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": agent,
        "requestParameters": req,
        "responseElements": resp,
        "requestID": c.uuid() if op.service != "s3" else c.token(16, "0123456789ABCDEF"),
        "eventID": c.uuid(),
        "readOnly": op.read_only,
    }
    if resources is not None:
        rec["resources"] = resources
    rec["eventType"] = op.event_type
    rec["managementEvent"] = not op.data
    rec["recipientAccountId"] = account
    if p.account != account:
        rec["sharedEventID"] = c.uuid()
    if op.data and op.service == "s3":
        rec["additionalEventData"] = {
            "SignatureVersion": "SigV4",
            "CipherSuite": "TLS_AES_128_GCM_SHA256",
            "bytesTransferredIn": 0 if op.read_only else int(rnd() * 900_000),
            "AuthenticationMethod": "AuthHeader",
            "x-amz-id-2": c.hex(40),
            "bytesTransferredOut": int(rnd() * 4_000_000) if op.read_only else 0,
        }
    rec["eventCategory"] = "Data" if op.data else "Management"
    if p.kind != "service" and ip != "AWS Internal" and not ip.endswith(".amazonaws.com"):
        tls = pop.tls[int(rnd() * len(pop.tls))]
        rec["tlsDetails"] = {**tls, "clientProvidedHostHeader": f"{op.service}.{region}.amazonaws.com"}
    if agent in ("console.amazonaws.com", _CONSOLE_UA) and p.issuer is not None:
        rec["sessionCredentialFromConsole"] = "true"
    if ip.startswith("10."):
        rec["vpcEndpointId"] = pop.res[account].vpce
        rec["vpcEndpointAccountId"] = account

    if op.name == "ConsoleLogin":
        rec["additionalEventData"] = {
            "LoginTo": f"https://console.aws.amazon.com/console/home?region={region}",
            "MobileVersion": "No",
            "MFAUsed": "Yes" if p.kind == "root" else "No",
        }
        rec["readOnly"] = False
        if rnd() < 0.06:
            rec["responseElements"] = {"ConsoleLogin": "Failure"}
            rec["errorMessage"] = "Failed authentication"
    elif rnd() < (ERROR_RATE * 4 if op.security else ERROR_RATE):
        _fail(c, rec, op, ident.get("arn") or p.identity.get("arn", ""), account)
    return rec


def _fail(c: GenContext, rec: dict[str, Any], op: Op, caller: str, account: str) -> None:
    rnd = c.rng.random()
    action = f"{op.service if op.service != 'monitoring' else 'cloudwatch'}:{op.name.rstrip('0123456789v')}"
    if rnd < 0.75:
        rec["errorCode"] = op.denied
        if op.denied == "Client.UnauthorizedOperation":
            rec["errorMessage"] = "You are not authorized to perform this operation. User: " + (
                f"{caller} is not authorized to perform: {action} because no identity-based policy allows "
                f"the {action} action. Encoded authorization failure message: {c.token(48)}"
            )
        else:
            rec["errorMessage"] = (
                f"User: {caller} is not authorized to perform: {action} on resource: "
                f"arn:aws:{op.service}::{account}:* because no identity-based policy allows the {action} action"
            )
    elif rnd < 0.9:
        rec["errorCode"] = "ThrottlingException" if op.service != "ec2" else "Client.RequestLimitExceeded"
        rec["errorMessage"] = "Rate exceeded"
    else:
        rec["errorCode"] = {
            "iam": "NoSuchEntityException",
            "s3": "NoSuchKey",
            "ec2": "Client.InvalidInstanceID.NotFound",
            "lambda": "ResourceNotFoundException",
        }.get(op.service, "ResourceNotFoundException")
        rec["errorMessage"] = "The specified resource does not exist."
    rec["responseElements"] = None


# --- shapes -------------------------------------------------------------------------------------------


def write_shape(shape: str, n: int, c: GenContext, pop: Population) -> None:
    if shape in ("s3_log_file", "s3_org_log_file"):
        _write_log_files(shape, n, c, pop)
    elif shape == "eventbridge":
        _write_eventbridge(n, c, pop)
    elif shape == "cloudwatch_logs":
        _write_cloudwatch(n, c, pop)
    elif shape == "bench":
        _write_bench(n, c, pop)
    else:
        raise ValueError(f"unknown CloudTrail sample shape {shape!r}")


def _fill(c: GenContext, pop: Population, account: str, region: str, times: list[int]) -> list[Any]:
    """Records for one delivery unit; a few slots repeat a recent record (at-least-once delivery)."""
    out: list[Any] = []
    red = c.redelivery
    for t in times:
        again = red.repeat()
        if again is not None:
            out.append(again)
            continue
        rec = record(c, pop, account, region, t)
        out.append(rec)
        red.remember(rec)
    return out


def _groups(c: GenContext, pop: Population, n: int, per_file: int) -> list[tuple[str, str, list[int]]]:
    """Split ``n`` instants over delivery units of about ``per_file`` records, each for one account and
    region (as a CloudTrail log file is), in time order."""
    times = c.times(n)
    out = []
    i = 0
    rnd = c.rng.random
    accts = pop.accounts
    while i < n:
        k = max(1, int(per_file * (0.4 + 1.2 * rnd())))
        account = accts[int(rnd() * len(accts))]
        region = pop.regions[int(rnd() * len(pop.regions))]
        out.append((account, region, times[i : i + k]))
        i += k
    return out


def _per_file(n: int) -> int:
    # CloudTrail delivers a file about every 5 minutes per account and region; busy trails write
    # hundreds of records a file, quiet ones a few.
    return max(5, min(250, n // 40 or 1))


def _write_log_files(shape: str, n: int, c: GenContext, pop: Population) -> None:
    org = shape == "s3_org_log_file"
    mgmt = pop.accounts[0]
    bucket = f"acme-org-cloudtrail-{pop.accounts[1]}" if org else f"acme-cloudtrail-{mgmt}"
    digests: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    red = c.redelivery
    for account, region, times in _groups(c, pop, n, _per_file(n)):
        before = red.count
        records = _fill(c, pop, account, region, times)
        h, m, _s = c.clock(times[-1] + 5 * 60 * 10**9)
        h, m = min(h, 23), (m // 5) * 5
        stamp = f"{c.day_compact}T{h:02d}{m:02d}Z"
        prefix = f"AWSLogs/{pop.org_id}/{account}" if org else f"AWSLogs/{account}"
        key = (
            f"{prefix}/CloudTrail/{region}/{c.day.strftime('%Y/%m/%d')}/"
            f"{account}_CloudTrail_{region}_{stamp}_{c.token(16, _KEY_ALPHABET)}.json.gz"
        )
        body = c.dumps({"Records": records})
        c.write(f"aws/{bucket}/{key}", body, len(records), gz=True, duplicates=red.count - before)
        digests.setdefault((account, region, h), []).append(
            {
                "s3Bucket": bucket,
                "s3Object": key,
                "hashValue": hashlib.sha256(body).hexdigest(),
                "hashAlgorithm": "SHA-256",
                "newestEventTime": c.iso_s(times[-1]),
                "oldestEventTime": c.iso_s(times[0]),
            }
        )
    _write_digests(c, pop, bucket, org, digests)


_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _write_digests(
    c: GenContext,
    pop: Population,
    bucket: str,
    org: bool,
    digests: dict[tuple[str, str, int], list[dict[str, Any]]],
) -> None:
    """One digest file per account, region and hour that had log files (CloudTrail log file integrity
    validation). A digest is a record for a reader, but not an event."""
    prev: dict[tuple[str, str], tuple[str, str]] = {}
    fingerprint = c.hex(32)
    trail = ORG_TRAIL if org else TRAIL
    for (account, region, hour), files in sorted(digests.items()):
        end_s = min((hour + 1) * 3600 + 41, 86_399)
        end = c.iso_s(end_s * 10**9)
        start = c.iso_s(max(end_s - 3600, 0) * 10**9)
        stamp = f"{c.day_compact}T{c.hms(end_s * 10**9).replace(':', '')}Z"
        prefix = f"AWSLogs/{pop.org_id}/{account}" if org else f"AWSLogs/{account}"
        key = (
            f"{prefix}/CloudTrail-Digest/{region}/{c.day.strftime('%Y/%m/%d')}/"
            f"{account}_CloudTrail-Digest_{region}_{trail}_{HOME_REGION}_{stamp}.json.gz"
        )
        p_key, p_hash = prev.get((account, region), (None, None))
        doc = {
            "awsAccountId": account,
            "digestStartTime": start,
            "digestEndTime": end,
            "digestS3Bucket": bucket,
            "digestS3Object": key,
            "digestPublicKeyFingerprint": fingerprint,
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": max(f["newestEventTime"] for f in files),
            "oldestEventTime": min(f["oldestEventTime"] for f in files),
            "previousDigestS3Bucket": bucket if p_key else None,
            "previousDigestS3Object": p_key,
            "previousDigestHashValue": p_hash,
            "previousDigestHashAlgorithm": "SHA-256" if p_key else None,
            "previousDigestSignature": c.hex(512) if p_key else None,
            "logFiles": files,
        }
        body = c.dumps(doc)
        prev[(account, region)] = (key, hashlib.sha256(body).hexdigest())
        c.write(f"aws/{bucket}/{key}", body, 1, gz=True, non_events={DIGEST_KIND: 1}, shape="digest")


_DETAIL_TYPES = {
    "AwsApiCall": "AWS API Call via CloudTrail",
    "AwsConsoleSignIn": "AWS Console Sign In via CloudTrail",
    "AwsServiceEvent": "AWS Service Event via CloudTrail",
}


HOUR_NS = 3600 * 10**9


def _firehose_key(c: GenContext, stream: str, hour: int, second: int) -> str:
    """Firehose's default S3 key: prefix YYYY/MM/DD/HH/ and stream-version-date-time-uuid."""
    return (
        f"{c.day.strftime('%Y/%m/%d')}/{hour:02d}/{stream}-1-{c.day_text}-{hour:02d}-00-{second:02d}-"
        f"{c.uuid()}.json.gz"
    )


def _write_eventbridge(n: int, c: GenContext, pop: Population) -> None:
    """EventBridge events of a rule matching CloudTrail, landed by Firehose (GZIP, newline delimiter) as
    JSON lines under its hourly prefixes. EventBridge carries changes and sign-ins; by default read-only
    calls do not reach it, so reads are rare here."""
    red = c.redelivery
    out = RollingFiles(
        c, lambda h, _part: f"aws/eventbridge/{_firehose_key(c, 'cloudaudit-cloudtrail-events', h, 59)}", gz=True
    )
    for account, region, times in _groups(c, pop, n, 50):
        for t in times:
            again = red.repeat()
            if again is not None:
                out.add(t // HOUR_NS, again, duplicates=1)
                continue
            rec = record(c, pop, account, region, t)
            for _retry in range(3):  # prefer writes, as the rule's default pattern delivers them
                if not rec["readOnly"]:
                    break
                rec = record(c, pop, account, region, t)
            src = rec["eventSource"].split(".", 1)[0]
            env = {
                "version": "0",
                "id": c.uuid(),
                "detail-type": _DETAIL_TYPES.get(rec["eventType"], "AWS API Call via CloudTrail"),
                "source": f"aws.{'cloudwatch' if src == 'monitoring' else src}",
                "account": account,
                "time": rec["eventTime"],
                "region": rec["awsRegion"],
                "resources": [],
                "detail": rec,
            }
            line = c.dumps(env)
            out.add(t // HOUR_NS, line)
            red.remember(line)
    out.close()


def _write_cloudwatch(n: int, c: GenContext, pop: Population) -> None:
    """CloudWatch Logs subscription payloads (DATA_MESSAGE) of the trail's log group, landed by Firehose
    with decompression and a newline delimiter (then GZIP on S3): JSON lines, one payload a line, one log
    stream per account and region; each log event's ``message`` is one record as text."""
    red = c.redelivery
    mgmt = pop.accounts[0]
    group = f"aws-cloudtrail-logs-{mgmt}-{c.hex(8)}"
    out = RollingFiles(
        c, lambda h, _part: f"aws/cloudwatch-logs/{_firehose_key(c, 'cloudaudit-cloudtrail-cwl', h, 37)}", gz=True
    )
    groups = _groups(c, pop, n, 25)
    # Creating the subscription, CloudWatch Logs first checks the destination with a control message.
    control = {
        "messageType": "CONTROL_MESSAGE",
        "owner": "CloudwatchLogs",
        "logGroup": "",
        "logStream": "",
        "subscriptionFilters": [],
        "logEvents": [
            {
                "id": "",
                "timestamp": c.epoch_ms(groups[0][2][0]) - 5000 if groups else c.epoch_ms(0),
                "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose.",
            }
        ],
    }
    out.add(groups[0][2][0] // HOUR_NS if groups else 0, c.dumps(control), non_events={CONTROL_KIND: 1})
    for account, region, times in groups:
        events = []
        dups = 0
        for t in times:
            again = red.repeat()
            if again is not None:
                events.append(again)
                dups += 1
                continue
            rec = record(c, pop, account, region, t)
            ev = {
                "id": f"{c.digits(20)}{c.digits(20)}{c.digits(16)}",
                "timestamp": c.epoch_ms(t) + 900,
                "message": c.dumps(rec).decode(),
            }
            events.append(ev)
            red.remember(ev)
        payload = {
            "messageType": "DATA_MESSAGE",
            "owner": mgmt,
            "logGroup": group,
            "logStream": f"{account}_CloudTrail_{region}",
            "subscriptionFilters": ["cloudaudit-siem"],
            "logEvents": events,
        }
        out.add(times[0] // HOUR_NS, c.dumps(payload), records=len(events), duplicates=dups)
    out.close()


# Big for a CloudTrail file (busy trails write a few hundred records a file), and still cheap to parse:
# one orjson.loads of a 5,000-record document costs twice as much per record as of 1,000.
BENCH_FILE_RECORDS = 1_000


def _write_bench(n: int, c: GenContext, pop: Population) -> None:
    """Large CloudTrail log files (gzip ``Records``) of BENCH_FILE_RECORDS records each."""
    times = c.times(n)
    red = c.redelivery
    for i, start in enumerate(range(0, n, BENCH_FILE_RECORDS)):
        chunk = times[start : start + BENCH_FILE_RECORDS]
        before = red.count
        records = []
        rnd = c.rng.random
        for j in range(0, len(chunk), 200):  # one account and region per run of 200, as a trail has
            account = pop.accounts[int(rnd() * len(pop.accounts))]
            region = pop.regions[int(rnd() * len(pop.regions))]
            records.extend(_fill(c, pop, account, region, chunk[j : j + 200]))
        c.write(
            f"aws/bench-cloudtrail-{i:05d}.json.gz",
            c.dumps({"Records": records}),
            len(records),
            gz=True,
            duplicates=red.count - before,
        )
