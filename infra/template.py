"""The parts of the deployment Chalice leaves out, as a template to merge into its own.

    python -m infra.template --stage dev > build/overlay.json
    chalice package --stage dev --merge-template build/overlay.json build/package

Adds the table (from the one definition in chalicelib/store/table.py), the
reports bucket, an SQS queue for stream records that fail for good, and on
every stream mapping: the table's stream, ReportBatchItemFailures (so the
handlers' batchItemFailures are honoured), a bisecting, bounded retry policy
and the on-failure destination; and, in the API's definition, the gateway
responses that put API Gateway's own refusals in the {code, message} envelope.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TABLE = "BoxofficeTable"
FAILURES = "StreamFailures"
BUCKET = "ReportsBucket"
STREAM_MAPPING = {
    "FunctionResponseTypes": ["ReportBatchItemFailures"],
    "BisectBatchOnFunctionError": True,
    "MaximumRetryAttempts": 5,
    "MaximumRecordAgeInSeconds": 6 * 3600,
}


def _stage_env(stage: str) -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env: dict[str, str] = {**config.get("environment_variables", {})}
    env.update(config["stages"][stage].get("environment_variables", {}))
    return env


REST_API = "RestAPI"  # the logical id of the API in Chalice's SAM template
# API Gateway answers some requests itself, before any Lambda runs (no route, throttled, too
# large...): these give them the API's {code, message} envelope. An unknown path is API Gateway's
# "Missing Authentication Token" (403): 404 NotFound here, as chalice local answers it. Other
# refusals keep API Gateway's status and message; DEFAULT_4XX/5XX name the refusal's type as code.
GATEWAY_RESPONSES: dict[str, tuple[str | None, str, str]] = {
    "MISSING_AUTHENTICATION_TOKEN": ("404", "NotFound", '"No route for this method and path."'),
    "THROTTLED": (None, "Busy", "$context.error.messageString"),
    "REQUEST_TOO_LARGE": (None, "BodyTooLarge", "$context.error.messageString"),
    "UNSUPPORTED_MEDIA_TYPE": (None, "UnsupportedMediaType", "$context.error.messageString"),
    "DEFAULT_4XX": (None, "$context.error.responseType", "$context.error.messageString"),
    "DEFAULT_5XX": (None, "$context.error.responseType", "$context.error.messageString"),
}
GATEWAY_RESPONSES_KEY = "x-amazon-apigateway-gateway-responses"


def gateway_responses() -> dict[str, Any]:
    """The API definition's ``x-amazon-apigateway-gateway-responses``, merged into Chalice's swagger
    (``RestAPI.Properties.DefinitionBody``) rather than added as ``AWS::ApiGateway::GatewayResponse``
    resources: SAM puts the swagger on the API in overwrite mode and redeploys the stage only when
    the swagger changes, so separate resources are dropped or left undeployed by a later code deploy
    (aws/serverless-application-model#390, #623). In the body, they go out with every deployment.
    ``$context.error.messageString`` is already a quoted JSON string."""
    responses: dict[str, Any] = {}
    for kind, (status, code, message) in GATEWAY_RESPONSES.items():
        response: dict[str, Any] = {
            "responseParameters": {"gatewayresponse.header.Content-Type": "'application/json'"},
            "responseTemplates": {"application/json": '{"code": "' + code + '", "message": ' + message + "}"},
        }
        if status is not None:
            response["statusCode"] = status
        responses[kind] = response
    return responses


def _logical_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))


def overlay(stage: str) -> dict[str, Any]:
    from app import app
    from chalicelib.store.table import TTL_ATTRIBUTE, table_definition

    definition = table_definition(_stage_env(stage)["BOXOFFICE_TABLE"])
    resources: dict[str, Any] = {
        TABLE: {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                **definition,
                "StreamSpecification": {"StreamViewType": definition["StreamSpecification"]["StreamViewType"]},
                "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": True},
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            },
        },
        FAILURES: {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": 14 * 24 * 3600}},
        BUCKET: {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"},
        REST_API: {"Properties": {"DefinitionBody": {GATEWAY_RESPONSES_KEY: gateway_responses()}}},
    }
    functions = ["APIHandler"] + [_logical_id(s.name) for s in app.event_sources]
    for name in functions:
        resources[name] = {"Properties": {"Environment": {"Variables": {"REPORTS_BUCKET": {"Ref": BUCKET}}}}}
    for source in app.event_sources:
        if not hasattr(source, "stream_arn"):
            continue
        name = _logical_id(source.name)
        resources[name]["Properties"]["Events"] = {
            f"{name}DynamodbEventSource": {
                "Properties": {
                    "Stream": {"Fn::GetAtt": [TABLE, "StreamArn"]},
                    **STREAM_MAPPING,
                    "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [FAILURES, "Arn"]}}},
                }
            }
        }
    return {"Resources": resources, "Outputs": {"TableStreamArn": {"Value": {"Fn::GetAtt": [TABLE, "StreamArn"]}}}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.template", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args(argv)
    json.dump(overlay(args.stage), sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
