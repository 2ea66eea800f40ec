"""The one table: its PynamoDB base model, indexes and CreateTable definition.

Every item type subclasses :class:`Item` with its own discriminator value, so a
Query over a partition returns the right model classes. The table's name is
read from the settings when the first request is made, not at import.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from pynamodb import settings as pynamodb_settings
from pynamodb.attributes import DiscriminatorAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.settings import get_settings

# Retries of throttled and failed calls: botocore's "legacy" mode with DynamoDB's own backoff
# (50 ms, doubling). PynamoDB's default is botocore's "standard" mode, whose backoff starts at
# up to 1 s and doubles: one throttled call then costs a purchase or a stream batch seconds.
# Every retry of a transaction carries the same ClientRequestToken (see store/tx.py).
RETRIES: dict[str, Any] = {"mode": "legacy", "total_max_attempts": 6}
settings_dict: dict[str, Any] = pynamodb_settings.default_settings_dict
settings_dict["retry_configuration"] = RETRIES


class _TableName:
    """Resolves ``Meta.table_name`` from the settings on each access (lazily)."""

    def __get__(self, obj: object, owner: type | None = None) -> str:
        return get_settings().table_name


class GSI1(GlobalSecondaryIndex["Item"]):
    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")


class GSI2(GlobalSecondaryIndex["Item"]):
    class Meta:
        index_name = "GSI2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True, attr_name="GSI2PK")
    gsi2sk = UnicodeAttribute(range_key=True, attr_name="GSI2SK")


class Item(Model):
    class Meta:
        table_name = _TableName()
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    type = DiscriminatorAttribute(attr_name="type")
    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    gsi2pk = UnicodeAttribute(null=True, attr_name="GSI2PK")
    gsi2sk = UnicodeAttribute(null=True, attr_name="GSI2SK")
    ttl = TTLAttribute(null=True, attr_name="ttl")

    gsi1 = GSI1()
    gsi2 = GSI2()


T = TypeVar("T", bound=Item)


def find(kind: type[T], key: tuple[str, str], consistent: bool = True) -> T | None:
    """The item at ``key`` if it is a ``kind``, else None (GetItem, strongly consistent by default)."""
    try:
        item = Item.get(*key, consistent_read=consistent)
    except DoesNotExist:
        return None
    return item if isinstance(item, kind) else None


def at_version(model: type[Item], version: int | None) -> Any:
    """The condition of an optimistic write: the item exists, and is at ``version`` when one is given."""
    condition = model.pk.exists()
    return condition if version is None else condition & (model.version == version)  # type: ignore[attr-defined]


def update_if(item: Item, actions: list[Any], condition: Any) -> bool:
    """UpdateItem on ``condition``; False when the condition failed (any other failure raises)."""
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as e:
        if e.cause_response_code != CONDITION_FAILED:
            raise
        return False
    return True


def delete_if(item: Item, condition: Any) -> bool:
    """DeleteItem on ``condition``; False when the condition failed (any other failure raises)."""
    try:
        item.delete(condition=condition)
    except DeleteError as e:
        if e.cause_response_code != CONDITION_FAILED:
            raise
        return False
    return True


CONDITION_FAILED = "ConditionalCheckFailedException"


def write_batch(puts: Iterable[Item] = (), deletes: Iterable[Item] = ()) -> None:
    """BatchWriteItem, 25 items a call (PynamoDB resends what DynamoDB leaves unprocessed)."""
    with Item.batch_write() as batch:
        for item in deletes:
            batch.delete(item)
        for item in puts:
            batch.save(item)


def table_definition(table_name: str | None = None) -> dict[str, Any]:
    """CreateTable parameters derived from the models: the one table definition.

    Used by the local cloud, the tests and (through ``infra``) the deployment.
    """
    schema = Item._get_schema()
    indexes = [
        {
            "IndexName": gsi["index_name"],
            "KeySchema": gsi["key_schema"],
            "Projection": gsi["projection"],
        }
        for gsi in schema["global_secondary_indexes"]
    ]
    attributes = {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]}
    return {
        "TableName": table_name or get_settings().table_name,
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in sorted(attributes.items())],
        "KeySchema": schema["key_schema"],
        "GlobalSecondaryIndexes": indexes,
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }


TTL_ATTRIBUTE = "ttl"


def create_table(client: Any, table_name: str | None = None) -> bool:
    """Create the table (and turn on TTL) unless it exists. Returns True if created."""
    definition = table_definition(table_name)
    name = definition["TableName"]
    try:
        client.describe_table(TableName=name)
        return False
    except client.exceptions.ResourceNotFoundException:
        pass
    client.create_table(**definition)
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 150})
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )
    return True


def reset_connections() -> None:
    """Forget every model's cached connection (after the endpoint or table changed)."""
    discriminator = Item._get_discriminator_attribute()
    assert discriminator is not None
    models: list[type[Model]] = [Item, *discriminator.get_registered_subclasses(Item)]
    for cls in models:
        cls._connection = None
