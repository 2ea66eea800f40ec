"""The local cloud against any DynamoDB endpoint the caller names: `AWS_ENDPOINT_URL=http://localhost:4566
make test` runs it against a LocalStack (or any endpoint); without one it skips and says why."""

from __future__ import annotations

import os
import urllib.error
import urllib.request

import pytest

from infra.local.running import RunningCloud
from tests.concurrency.conftest import api_of

pytestmark = pytest.mark.local_cloud


def target() -> str:
    url = os.environ.get("BOXOFFICE_TARGET_ENDPOINT")
    if not url:
        pytest.skip("no AWS_ENDPOINT_URL given: set it (e.g. http://localhost:4566 for LocalStack) to run this test")
    try:
        urllib.request.urlopen(url, timeout=5)
    except urllib.error.HTTPError:
        pass  # something answers (an AWS endpoint refuses a bare GET)
    except OSError as e:
        pytest.skip(f"nothing answers at AWS_ENDPOINT_URL={url}: {e}")
    return url


def test_a_purchase_on_the_named_endpoint():
    cloud = RunningCloud("endpoint", args=["--endpoint-url", target(), "--poll-interval", "3600"])
    try:
        api = api_of(cloud)
        _, token = api.register()
        event = api.create_event(token)
        order = api.buy(token, event["id"], 2)
        assert order.status == 201, order.body
        assert api.get(f"/events/{event['id']}").body["sections"][0]["sold"] >= 0
    finally:
        assert cloud.stop() == 0, cloud.log()
