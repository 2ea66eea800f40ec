"""The local cloud starts, serves, and stops without leaving processes behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from infra.local.backends import free_port
from tests.concurrency.conftest import ROOT, RunningCloud, api_of, require_backend

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


def test_ctrl_c_stops_everything():
    require_backend("dynamodb-local")
    cloud = RunningCloud("dynamodb-local")
    children = descendants(cloud.proc.pid)
    assert len(children) >= 2, "the API server and DynamoDB Local run as child processes"
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
        api = api_of(cloud)
        _, token = api.register()
        event = api.create_event(token)["id"]
        assert api.buy(token, event, 2).status == 201
        assert cloud.stop() == 0
        client = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}")
        assert client.describe_table(TableName="boxoffice-local")["Table"]["StreamSpecification"]["StreamEnabled"]
    finally:
        server.stop()


def stop_seconds(proc) -> float:
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    return time.monotonic() - started


def test_ctrl_c_while_starting_stops_within_five_seconds(tmp_path):
    require_backend("dynamodb-local")
    env = {**os.environ, "BOXOFFICE_LOCAL_STATE": str(tmp_path), "BCRYPT_ROUNDS": "4"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.local", "run", "--port", str(free_port())],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    time.sleep(2.5)  # DynamoDB Local or the API is still coming up
    children = descendants(proc.pid)
    assert stop_seconds(proc) <= 5.0
    assert wait_gone(children) == set()


def test_ctrl_c_under_load_with_faults_stops_within_five_seconds():
    require_backend("dynamodb-local")
    cloud = RunningCloud("dynamodb-local", args=["--faults", "throttle:0.2,error:0.1,lost-answer:0.1"])
    api = api_of(cloud)
    _, token = api.register()
    event = api.create_event(token)["id"]
    stop = threading.Event()

    def buy() -> None:
        while not stop.is_set():
            try:
                api.buy(token, event, 1)
            except requests.RequestException:
                return

    buyers = [threading.Thread(target=buy, daemon=True) for _ in range(8)]
    for b in buyers:
        b.start()
    time.sleep(2)
    children = descendants(cloud.proc.pid)
    try:
        assert stop_seconds(cloud.proc) <= 5.0, cloud.log()
        assert wait_gone(children) == set()
    finally:
        stop.set()


def test_bad_faults_are_refused_with_a_clear_message():
    result = subprocess.run(
        [sys.executable, "-m", "infra.local", "run", "--faults", "throttle:2"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "FAULTS: fault throttle: rate 2.0 is not between 0 and 1" in result.stderr


def test_failures_retries_and_parked_records_reach_the_log_with_their_sequence_number():
    require_backend("dynamodb-local")
    cloud = RunningCloud("dynamodb-local", args=["--max-retries", "2"])
    try:
        env = cloud.operator_env()
        client = boto3.client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"])
        broken = {"PK": {"S": "ORDER#broken"}, "SK": {"S": "META"}, "type": {"S": "order"}}
        client.put_item(TableName=env["BOXOFFICE_TABLE"], Item=broken)  # a poison record for both consumers
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum("parked record" in line for line in cloud.output) < 2:
            time.sleep(0.05)  # both consumers park it
        log = cloud.log()
        parked = re.search(r"billing: parked record (\d+) after 3 attempts", log)
        assert parked, log
        seq = parked.group(1)
        assert f"billing: poison record {seq}" in log  # the handler's own error, from the app's logger
        assert f"billing: record {seq} failed (reported in batchItemFailures); retry 1 of 2" in log
        assert f"billing: record {seq} failed (reported in batchItemFailures); retry 2 of 2" in log
        assert f"activity: parked record {seq}" in log
    finally:
        assert cloud.stop() == 0
