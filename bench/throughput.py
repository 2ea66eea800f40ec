"""Purchase throughput over HTTP on DynamoDB Local vs the raw conditional-update
throughput of the same endpoint, measured in one run with the same concurrency.

The purchase path is the whole system (chalice local, auth, one BatchGetItem,
one TransactWriteItems of section + order + tickets); the raw path is one
UpdateItem with ``remaining >= :n`` on one item, the cheapest write that can
still refuse to oversell.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import requests

THREADS = 8
PURCHASES = 400
RAW_UPDATES = 2000


def main() -> None:
    from bench.load import local_cloud
    from infra.local.cloud import dynamodb_client
    from tests.support import Api

    with local_cloud(table="boxoffice-bench") as cloud:
        session = requests.Session()
        session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=THREADS))
        api = Api.over_http(cloud.url, session)
        _, token = api.register()
        capacity = PURCHASES * 2
        sections = [{"code": "GA", "name": "Floor", "price_cents": 1000, "capacity": capacity}]
        event = api.create_event(token, sections=sections, max_tickets_per_order=1)["id"]
        for _ in range(10):  # warm up
            api.buy(token, event, 1)

        start = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            statuses = list(pool.map(lambda _: api.buy(token, event, 1).status, range(PURCHASES)))
        purchase_s = time.perf_counter() - start
        assert statuses.count(201) == PURCHASES, statuses

        client = dynamodb_client(cloud.dynamodb.endpoint)
        key = {"PK": {"S": "BENCH#raw"}, "SK": {"S": "COUNTER"}}
        client.put_item(TableName=cloud.table, Item={**key, "remaining": {"N": str(RAW_UPDATES * 2)}})

        def update(_: int) -> None:
            client.update_item(
                TableName=cloud.table,
                Key=key,
                UpdateExpression="SET remaining = remaining - :n",
                ConditionExpression="remaining >= :n",
                ExpressionAttributeValues={":n": {"N": "1"}},
            )

        start = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(update, range(RAW_UPDATES)))
        raw_s = time.perf_counter() - start
    purchases_per_s, raw_per_s = PURCHASES / purchase_s, RAW_UPDATES / raw_s
    print(f"endpoint: DynamoDB Local, {THREADS} client threads")
    print(f"purchases over HTTP: {PURCHASES} in {purchase_s:.2f}s = {purchases_per_s:.0f}/s")
    print(f"raw conditional UpdateItem: {RAW_UPDATES} in {raw_s:.2f}s = {raw_per_s:.0f}/s")
    print(f"purchase / raw throughput ratio = {purchases_per_s / raw_per_s:.3f}")


if __name__ == "__main__":
    main()
