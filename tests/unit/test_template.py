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
