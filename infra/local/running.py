"""The local cloud as a user runs it: ``python -m infra.local run`` in a subprocess.

Tests and benchmarks use it to meet the system the way ``make run`` serves it;
its log is drained continuously (a full pipe would stall the cloud) and kept
in ``output``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from infra.local.backends import free_port
from infra.local.cloud import StateDir, read_env_file

ROOT = Path(__file__).resolve().parents[2]
READY_LINE = "Stop with Ctrl-C"


class RunningCloud:
    def __init__(
        self,
        backend: str,
        extra_env: dict[str, str] | None = None,
        args: list[str] | None = None,
        state: Path | None = None,
        port: int | None = None,
        ready_timeout: float = 180,
    ) -> None:
        self.state = state or Path(tempfile.mkdtemp(prefix="boxoffice-cloud-"))
        self.files = StateDir(self.state)
        self.backend = backend
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
        for name in ("BOXOFFICE_TABLE", "FAULTS", "PAYMENT_LEDGER", "BACKEND", "WORKERS", "PARTITION_WCU"):
            env.pop(name, None)
        env["BCRYPT_ROUNDS"] = "4"
        env["BOXOFFICE_LOCAL_STATE"] = str(self.state)
        env.update(extra_env or {})
        self.env = env
        cmd = [sys.executable, "-m", "infra.local", "run", "--backend", backend, "--port", str(self.port)]
        self.proc = subprocess.Popen(
            [*cmd, *(args or [])],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.output: list[str] = []
        self._ready = threading.Event()
        self._drain = threading.Thread(target=self._read_log, name="cloud-log", daemon=True)
        self._drain.start()
        self._wait_ready(ready_timeout)

    def _read_log(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            if READY_LINE in line:
                self._ready.set()

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready.wait(0.1):
                return
            if self.proc.poll() is not None:
                self._drain.join(timeout=5)
                raise RuntimeError(f"local cloud exited {self.proc.returncode}:\n{self.log()}")
        self.kill()
        raise RuntimeError("local cloud not ready:\n" + self.log())

    def log(self) -> str:
        return "".join(self.output)

    def operator_env(self) -> dict[str, str]:
        """The endpoints a running cloud left for operator commands (no faults on them)."""
        return read_env_file(self.files.env_file)

    def stop(self, timeout: float = 30) -> int:
        """Ctrl-C, as a user stops it; the exit code."""
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=timeout)
        self._drain.join(timeout=5)
        return code

    def kill(self) -> None:
        """SIGKILL the runner only (its children must follow by themselves)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
