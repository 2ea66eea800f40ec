"""The table definition comes from the models, and every item type lives in it."""

from __future__ import annotations

import json
import subprocess
import sys

from chalicelib.store.table import Item, table_definition


def test_definition_matches_the_design():
    d = table_definition("t")
    assert d["KeySchema"] == [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}]
    assert [i["IndexName"] for i in d["GlobalSecondaryIndexes"]] == ["GSI1", "GSI2"]
    assert d["BillingMode"] == "PAY_PER_REQUEST"
    assert d["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_every_model_shares_the_one_table():
    import chalicelib.store.events
    import chalicelib.store.idempotency
    import chalicelib.store.orders
    import chalicelib.store.users  # noqa: F401

    discriminator = Item._get_discriminator_attribute()
    models = discriminator.get_registered_subclasses(Item)
    assert {m.__name__ for m in models} >= {"User", "Claim", "Event", "Section", "Order", "Ticket"}
    assert all(m.Meta.table_name == Item.Meta.table_name for m in models)


def test_table_cli_prints_the_same_definition():
    out = subprocess.run(
        [sys.executable, "-m", "infra.table", "definition", "--table", "t"], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == json.loads(json.dumps(table_definition("t")))
