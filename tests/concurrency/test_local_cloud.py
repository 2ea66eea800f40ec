"""The local cloud starts, serves, and stops without leaving processes behind."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from infra.local.backends import free_port
from tests.concurrency.conftest import RunningCloud, require_backend

pytestmark = pytest.mark.local_cloud


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_gone(pids: set[int], timeout: float = 15) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    return {p for p in pids if alive(p)}


@pytest.mark.parametrize("backend", ["moto", "dynamodb-local"])
def test_ctrl_c_stops_everything(backend):
    require_backend(backend)
    cloud = RunningCloud(backend)
    children = descendants(cloud.proc.pid)
    assert children, "the API server (and DynamoDB Local) run as child processes"
    assert requests.get(cloud.url + "/health", timeout=5).json() == {"status": "ok"}
    assert cloud.stop() == 0
    assert wait_gone(children) == set()
    with pytest.raises(requests.ConnectionError):
        requests.get(cloud.url + "/health", timeout=2)


def test_children_die_with_a_killed_runner():
    require_backend("dynamodb-local")
    cloud = RunningCloud("dynamodb-local")
    children = descendants(cloud.proc.pid)
    os.kill(cloud.proc.pid, signal.SIGKILL)
    cloud.proc.wait(timeout=10)
    assert wait_gone(children) == set()


def test_runs_on_an_existing_endpoint_found_like_localstack():
    """--backend localstack finds the endpoint with localstack-client (LOCALSTACK_HOST);
    a standalone moto server stands in for LocalStack here (no Docker on this machine)."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        cloud = RunningCloud("localstack", extra_env={"LOCALSTACK_HOST": f"127.0.0.1:{port}"})
        api = cloud.api()
        _, token = api.register()
        event = api.create_event(token)["id"]
        assert api.buy(token, event, 2).status == 201
        assert cloud.stop() == 0
        client = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}")
        assert client.describe_table(TableName="boxoffice-local")["Table"]["StreamSpecification"]["StreamEnabled"]
    finally:
        server.stop()
