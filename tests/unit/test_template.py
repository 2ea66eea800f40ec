"""The deployment overlay: table from the one definition, every stream mapping
honouring batchItemFailures with bounded retries and a failure destination."""

from __future__ import annotations

from chalicelib.store.table import table_definition
from infra.template import overlay


def test_overlay_declares_the_table_and_safe_stream_mappings():
    resources = overlay("dev")["Resources"]
    table = resources["BoxofficeTable"]["Properties"]
    definition = table_definition("boxoffice-dev")
    assert table["KeySchema"] == definition["KeySchema"]
    assert table["GlobalSecondaryIndexes"] == definition["GlobalSecondaryIndexes"]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    for function in ("Billing", "Activity"):
        mapping = resources[function]["Properties"]["Events"][f"{function}DynamodbEventSource"]["Properties"]
        assert mapping["Stream"] == {"Fn::GetAtt": ["BoxofficeTable", "StreamArn"]}
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BisectBatchOnFunctionError"] is True
        assert 0 < mapping["MaximumRetryAttempts"] <= 10 and mapping["MaximumRecordAgeInSeconds"] > 0
        assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["StreamFailures", "Arn"]}
    assert "Events" not in resources["DailySalesReport"]["Properties"]  # Chalice's own schedule stays as it is


def test_gateway_refusals_answer_in_the_error_envelope():
    """What API Gateway answers itself (no route, throttled, too large, any other 4xx/5xx) is JSON
    {code, message}, in Chalice's RestAPI definition (so every deployment of the stage carries it, not
    AWS::ApiGateway::GatewayResponse resources a later redeploy drops); an unknown path is 404
    NotFound, as chalice local says."""
    import json

    resources = overlay("dev")["Resources"]
    assert not [r for r in resources.values() if r.get("Type") == "AWS::ApiGateway::GatewayResponse"]
    responses = resources["RestAPI"]["Properties"]["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]
    assert {"MISSING_AUTHENTICATION_TOKEN", "THROTTLED", "REQUEST_TOO_LARGE", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(
        responses
    )
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    codes = {}
    for kind, response in responses.items():
        assert response["responseParameters"] == {"gatewayresponse.header.Content-Type": "'application/json'"}
        # API Gateway substitutes these; $context.error.messageString is a quoted JSON string.
        rendered = response["responseTemplates"]["application/json"]
        rendered = rendered.replace("$context.error.messageString", '"Too \\"many\\""')
        body = json.loads(rendered.replace("$context.error.responseType", kind))
        assert set(body) == {"code", "message"} and body["message"], body
        codes[kind] = body["code"]
    assert codes["MISSING_AUTHENTICATION_TOKEN"] == "NotFound" and codes["THROTTLED"] == "Busy"
    assert codes["DEFAULT_4XX"] == "DEFAULT_4XX"  # the refusal's own type, e.g. ACCESS_DENIED, when none fits
