"""A flash sale on the local cloud with DynamoDB's per-partition write limit simulated
(`make run PARTITION_WCU=…`): sustained throttling of the hot section reaches buyers as 503
``Busy`` with ``Retry-After``, never a 500, nothing is oversold, and every 201 is a sale. (The
budget's own answers, through boto3: test_throttling.py.)"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.concurrency.conftest import api_of, running_cloud

pytestmark = pytest.mark.local_cloud
BUYERS = 24
TRIES = 6


def _throttled(cloud) -> dict[str, int]:
    with urllib.request.urlopen(cloud.operator_env()["BOXOFFICE_FAULTS_URL"], timeout=10) as r:
        return json.load(r)["throttled"]


def test_a_throttled_hot_section_answers_busy_with_retry_after_never_500():
    args = ["--partition-wcu", "4", "--poll-interval", "3600"]
    with running_cloud("dynamodb-local", args=args) as cloud:
        api = api_of(cloud)
        _, org = api.register()
        sections = [{"code": "GA", "name": "Floor", "price_cents": 1000, "capacity": 1000, "shards": 1}]
        event = api.create_event(org, sections=sections, max_tickets_per_order=1)["id"]
        tokens = [api.register()[1] for _ in range(BUYERS)]
        start = threading.Barrier(BUYERS)

        def buyer(token: str) -> list[tuple[int, str | None, str | None]]:
            start.wait()
            answers = []
            for _ in range(TRIES):
                r = api.buy(token, event, 1)
                answers.append((r.status, (r.body or {}).get("code"), r.headers.get("retry-after")))
            return answers

        with ThreadPoolExecutor(max_workers=BUYERS) as pool:
            answers = [a for batch in pool.map(buyer, tokens) for a in batch]
        statuses = Counter(status for status, _, _ in answers)
        assert set(statuses) <= {201, 503}, statuses
        assert statuses[503] > 0, f"the budget of 4 WCU/s did not throttle {BUYERS} buyers: {statuses}"
        assert statuses[201] > 0, statuses
        assert all(code == "Busy" and retry for status, code, retry in answers if status == 503), answers
        ga = api.get(f"/events/{event}").body["sections"][0]
        assert (ga["sold"], ga["remaining"]) == (statuses[201], 1000 - statuses[201]), (ga, statuses)
        throttled = _throttled(cloud)
        assert sum(throttled.values()) > 0, throttled
