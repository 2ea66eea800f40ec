"""``make run WORKERS=n``: the API served by n ``chalice local`` processes on one port
(SO_REUSEPORT), as Lambda serves concurrent requests from processes of their own."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from infra.local.backends import ensure_port_free, listening_sockets
from infra.local.cloud import LocalCloud
from tests.concurrency.conftest import RunningCloud, api_of, require_backend, running_cloud
from tests.concurrency.test_local_cloud import alive, descendants, wait_gone

pytestmark = pytest.mark.local_cloud

ARGS = ["--workers", "2", "--poll-interval", "3600"]  # no stream polling: these tests are about the API
HEADER = "X-Boxoffice-Worker"


def workers_of(cloud: RunningCloud) -> set[int]:
    """The runner's `chalice local` processes."""
    found = set()
    for pid in descendants(cloud.proc.pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"infra.local.chalice_local" in cmdline:
            found.add(pid)
    return found


def serving_pids(cloud: RunningCloud, want: int, tries: int = 100) -> set[int]:
    """The workers that answered /health, each request on a connection of its own (the kernel
    picks a listener per connection), until ``want`` of them have answered."""
    seen: set[int] = set()
    for _ in range(tries):
        r = requests.get(cloud.url + "/health", headers={"Connection": "close"}, timeout=10)
        assert r.status_code == 200
        seen.add(int(r.headers[HEADER]))
        if len(seen) >= want:
            break
    return seen


@pytest.fixture(scope="module")
def cloud() -> Iterator[RunningCloud]:
    with running_cloud("dynamodb-local", args=ARGS) as running:
        yield running


def test_every_worker_serves_and_ctrl_c_stops_them_all():
    require_backend("dynamodb-local")
    cloud = RunningCloud("dynamodb-local", args=ARGS)
    port = cloud.port
    try:
        workers = workers_of(cloud)
        assert len(workers) == 2, cloud.log()
        assert "2 chalice local processes on port" in cloud.log()
        assert len(listening_sockets(port) or [None, None]) == 2  # each worker listens on the one port
        seen = serving_pids(cloud, want=2)
        assert seen == workers, (seen, workers)  # both serve, and nothing else answers on the port
        assert all(alive(pid) for pid in seen)
    finally:
        assert cloud.stop() == 0, cloud.log()
    assert wait_gone(workers) == set()
    assert not listening_sockets(port)
    ensure_port_free(port)  # a plain bind succeeds: nothing is left holding the port
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{cloud.url}/health", timeout=2)


def test_a_worker_that_dies_stops_the_cloud_with_a_message():
    require_backend("dynamodb-local")
    cloud = RunningCloud("dynamodb-local", args=ARGS)
    workers = workers_of(cloud)
    victim = min(workers)
    try:
        os.kill(victim, signal.SIGKILL)
        assert cloud.proc.wait(timeout=30) == 1
    finally:
        cloud.kill()
    cloud._drain.join(timeout=5)
    assert re.search(rf"chalice local \(API worker \d of 2, pid {victim}\) exited with -9", cloud.log()), cloud.log()
    assert wait_gone(workers) == set()  # the other worker went with the cloud


def test_a_purchase_works_with_two_workers(cloud):
    api = api_of(cloud)
    _, token = api.register()
    event = api.create_event(token)["id"]
    bought = api.buy(token, event, 2)
    assert bought.status == 201, bought.body
    assert int(bought.headers[HEADER.lower()]) in workers_of(cloud)
    order = api.get(f"/orders/{bought.body['id']}", token=token)  # on a fresh connection: any worker
    assert order.status == 200, order.body


def test_a_second_cloud_on_the_same_port_is_refused_clearly(cloud, tmp_path):
    workers = workers_of(cloud)
    started = time.monotonic()
    with pytest.raises(RuntimeError) as refused:
        RunningCloud("dynamodb-local", port=cloud.port, state=tmp_path, args=ARGS, ready_timeout=60)
    message = str(refused.value)
    assert "local cloud exited 1" in message
    assert f"error: port {cloud.port} on 127.0.0.1 is in use" in message
    assert all(str(pid) in message for pid in workers), message  # who holds it
    assert time.monotonic() - started < 20  # refused before DynamoDB Local or any worker starts
    # No third worker joined the port: the running cloud's two still answer, alone.
    assert len(listening_sockets(cloud.port) or [None, None]) == 2
    assert serving_pids(cloud, want=2) <= workers


def test_reload_runs_one_worker_and_the_banner_says_so(tmp_path):
    cloud = LocalCloud(reload=True, workers=4, state=tmp_path)
    assert cloud.workers == 1
    assert "--reload: 1, not 4" in cloud.describe_workers()
    assert LocalCloud(workers=3, state=tmp_path).workers == 3


def test_the_faults_line_names_the_partition_write_budget(tmp_path):
    assert LocalCloud(state=tmp_path).describe_faults() == "none"
    budget = LocalCloud(partition_wcu=1000, fault_spec="throttle:0.05", state=tmp_path).describe_faults()
    assert budget == "throttle:0.05; write budget 1000 WCU/s per partition (throttled beyond)"


def test_the_proxy_starts_for_faults_or_a_partition_budget_and_gets_the_budget(tmp_path):
    for spec, budget in ((None, None), ("throttle:0.1", None), (None, 250.0), ("error:0.2", 1000.0)):
        cloud = LocalCloud(fault_spec=spec, partition_wcu=budget, state=tmp_path)
        cloud._start_proxy()
        try:
            assert (cloud.proxy is not None) == (spec is not None or budget is not None)
            if cloud.proxy is not None:
                stats = cloud.proxy.stats()
                assert (stats["spec"], stats["partition_wcu"]) == (spec or "none", budget), stats
        finally:
            if cloud.proxy is not None:
                cloud.proxy.stop()
