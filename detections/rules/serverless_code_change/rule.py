"""Serverless code or layers changed: a function now runs other code with its permissions."""
from datetime import timedelta

import orjson

from detections import Prefilter, rule
from detections import helpers as h

CODE_ACTIONS = ("lambda:UpdateFunctionCode*", "lambda:PublishLayerVersion*", "lambda:AddLayerVersionPermission*",
                "cloudfunctions:CloudFunctionsService.UpdateFunction", "cloudfunctions:FunctionService.UpdateFunction",
                "cloudfunctions:CloudFunctionsService.GenerateUploadUrl",
                "microsoft.web:sites/functions/write", "microsoft.web:sites/extensions/write",
                "microsoft.web:sites/publishxml/action")
CONFIG_ACTIONS = ("lambda:UpdateFunctionConfiguration*",)  # only when it changes the layers


def changes_layers(e):
    try:
        req = orjson.loads(e.what.request or "null") or {}
    except orjson.JSONDecodeError:
        return False
    return isinstance(req, dict) and "layers" in req


@rule(
    id="serverless_code_change",
    title="Serverless function code or layer changed",
    description="Lambda function code or layers, a Cloud Function's source or an Azure Function's code or "
    "site extensions are replaced: a way to run code with the function's identity, and to persist.",
    severity="medium",
    owner="cloud-security",
    tactics=("TA0003", "TA0002"),
    techniques=("T1648", "T1525"),
    scenario="serverless code or layer changes",
    references=("stratus:aws.persistence.lambda-layer-extension", "stratus:aws.persistence.lambda-overwrite-code",
                "stratus:aws.persistence.lambda-backdoor-function"),
    clouds=("aws", "gcp", "azure"),
    mode="monitor",
    suppress_for=timedelta(minutes=30),
    prefilter=Prefilter(actions=CODE_ACTIONS + CONFIG_ACTIONS),
)
def match(e):
    if not h.succeeded(e):
        return False
    return h.action_in(e, *CODE_ACTIONS) or (h.action_in(e, *CONFIG_ACTIONS) and changes_layers(e))
