"""Start the local cloud: an AWS endpoint, the table, and ``chalice local``."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from infra.local import backends

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TABLE = "boxoffice-local"
ENV_FILE = ROOT / ".local-cloud" / "env"  # for operator commands: `. .local-cloud/env`


def aws_env(endpoint: str, table: str) -> dict[str, str]:
    """Environment for every process that talks to the local endpoint."""
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "BOXOFFICE_TABLE": table,
    }
    return env


def dynamodb_client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    )


def create_table(endpoint: str, table: str) -> bool:
    os.environ["BOXOFFICE_TABLE"] = table
    from chalicelib.store.table import create_table as create

    return create(dynamodb_client(endpoint), table)


class LocalCloud:
    def __init__(
        self,
        backend: str = "moto",
        port: int = 8000,
        aws_port: int = 0,
        endpoint_url: str | None = None,
        table: str = DEFAULT_TABLE,
        reload: bool = False,
        quiet: bool = False,
    ) -> None:
        self.backend_name = backend
        self.backend = backends.make(backend, aws_port, endpoint_url)
        self.port = port
        self.table = table
        self.reload = reload
        self.quiet = quiet  # drop the API's request log (benchmarks)
        self.api: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.backend.start()
        create_table(self.backend.endpoint, self.table)
        env = {**os.environ, **aws_env(self.backend.endpoint, self.table)}
        env.setdefault("JWT_SECRET", secrets.token_urlsafe(32))  # a fresh secret per run unless given
        cmd = [
            sys.executable,
            "-m",
            "infra.local.chalice_local",
            "local",
            "--stage",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        if not self.reload:
            cmd.append("--no-autoreload")
        output = subprocess.DEVNULL if self.quiet else None
        self.api = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=output,
            start_new_session=True,
            preexec_fn=backends.die_with_parent,
        )
        self._wait_healthy(90)

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.api is not None and self.api.poll() is not None:
                raise RuntimeError(f"chalice local exited with {self.api.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the API did not answer {self.url}/health within {timeout:.0f}s")

    def stop(self) -> None:
        backends.stop_process(self.api)
        self.backend.stop()

    def write_env_file(self) -> None:
        """Exports that point operator commands (the CLI, the AWS CLI) at this local cloud."""
        ENV_FILE.parent.mkdir(exist_ok=True)
        lines = [f"export {k}={v}" for k, v in aws_env(self.backend.endpoint, self.table).items()]
        ENV_FILE.write_text("\n".join(lines) + "\n")

    def banner(self) -> str:
        return "\n".join(
            [
                "",
                f"Boxoffice is running on the local cloud ({self.backend_name}).",
                f"  API           {self.url}   (try: curl {self.url}/health)",
                f"  API docs      {self.url}/docs   OpenAPI: {self.url}/openapi.json",
                f"  AWS endpoint  {self.backend.endpoint}   table: {self.table}",
                f"  Operator CLI  make admin EMAIL=… USERNAME=… NAME=…   (or: . {ENV_FILE.relative_to(ROOT)})",
                "  Stop with Ctrl-C.",
                "",
            ]
        )


def run(args: Any) -> int:
    cloud = LocalCloud(
        backend=args.backend,
        port=args.port,
        aws_port=args.aws_port,
        endpoint_url=args.endpoint_url,
        table=args.table,
        reload=args.reload,
    )
    stopping = False

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        cloud.start()
        cloud.write_env_file()
        print(cloud.banner(), flush=True)
        while not stopping:
            if cloud.api is not None and cloud.api.poll() is not None:
                print(f"chalice local exited with {cloud.api.returncode}", file=sys.stderr)
                return 1
            time.sleep(0.2)
        print("Stopping the local cloud...", flush=True)
        return 0
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        cloud.stop()
        ENV_FILE.unlink(missing_ok=True)
