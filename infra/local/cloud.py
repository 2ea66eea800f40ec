"""The local cloud: an AWS endpoint, the table, ``chalice local``, the stream
poller and the scheduler, in one process group."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.local import backends
from infra.local.poller import Consumer, Poller, StreamReader
from infra.local.scheduler import Scheduler, jobs_of

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TABLE = "boxoffice-local"
STATE = Path(os.environ.get("BOXOFFICE_LOCAL_STATE") or ROOT / ".local-cloud")  # tests use their own
ENV_FILE = STATE / "env"  # for operator commands: `. .local-cloud/env`
PARKED_FILE = STATE / "parked.jsonl"
MAIL_FROM = "tickets@boxoffice.example.com"
REPORTS_BUCKET = "boxoffice-reports"
log = logging.getLogger("boxoffice.local")


def aws_env(dynamodb: str, services: str, table: str) -> dict[str, str]:
    """Environment for every process that talks to the local cloud."""
    return {
        "AWS_ENDPOINT_URL": services,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb,
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": dynamodb,
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "BOXOFFICE_TABLE": table,
        "MAIL_FROM": os.environ.get("MAIL_FROM", MAIL_FROM),
        "REPORTS_BUCKET": os.environ.get("REPORTS_BUCKET", REPORTS_BUCKET),
    }


def client(service: str, endpoint: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    )


def dynamodb_client(endpoint: str) -> Any:
    return client("dynamodb", endpoint)


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
        poll_interval: float = 0.2,
        max_retries: int = 3,
    ) -> None:
        self.backend_name = backend
        self.dynamodb = backends.make(backend, aws_port, endpoint_url)
        # SES and S3: LocalStack has them; DynamoDB Local or a bare endpoint does not, so moto serves them.
        self.services = self.dynamodb if backend in ("moto", "localstack") else backends.Moto()
        self.port = port
        self.table = table
        self.reload = reload
        self.quiet = quiet  # drop the API's request log (benchmarks)
        self.poll_interval = poll_interval
        self.max_retries = max_retries
        self.api: subprocess.Popen[bytes] | None = None
        self.poller: Poller | None = None
        self.scheduler: Scheduler | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return aws_env(self.dynamodb.endpoint, self.services.endpoint, self.table)

    def start(self) -> None:
        self.dynamodb.start()
        if self.services is not self.dynamodb:
            self.services.start()
        os.environ.update(self.env)  # the poller and scheduler run the handlers in this process
        os.environ.setdefault("JWT_SECRET", secrets.token_urlsafe(32))  # a fresh secret per run unless given
        os.environ.setdefault("BOXOFFICE_STAGE", "local")
        self._provision()
        self._start_api()
        self._start_event_runtime()

    def _provision(self) -> None:
        from chalicelib.store.table import create_table

        create_table(dynamodb_client(self.dynamodb.endpoint), self.table)
        s3 = client("s3", self.services.endpoint)
        if self.env["REPORTS_BUCKET"] not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
            s3.create_bucket(Bucket=self.env["REPORTS_BUCKET"])
        client("ses", self.services.endpoint).verify_email_identity(EmailAddress=self.env["MAIL_FROM"])

    def _start_api(self) -> None:
        cmd = [sys.executable, "-m", "infra.local.chalice_local", "local", "--stage", "local",
               "--host", "127.0.0.1", "--port", str(self.port)]  # fmt: skip
        if not self.reload:
            cmd.append("--no-autoreload")
        output = subprocess.DEVNULL if self.quiet else None
        self.api = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=dict(os.environ),
            stdout=output,
            stderr=output,
            start_new_session=True,
            preexec_fn=backends.die_with_parent,
        )
        self._wait_healthy(90)

    def _start_event_runtime(self) -> None:
        from chalicelib.settings import reset_settings

        reset_settings()
        import app as app_module

        region = self.env["AWS_DEFAULT_REGION"]
        stream_arn = dynamodb_client(self.dynamodb.endpoint).describe_table(TableName=self.table)["Table"][
            "LatestStreamArn"
        ]
        reader = StreamReader(client("dynamodbstreams", self.dynamodb.endpoint), stream_arn, region)
        consumers = [
            Consumer(name, app_module.app.handler_map[name], max_retries=self.max_retries, parked_file=PARKED_FILE)
            for name in ("billing", "activity")
        ]
        self.poller = Poller(reader, consumers, self.poll_interval)
        self.poller.start()
        self.scheduler = Scheduler(jobs_of(app_module.app, datetime.now(UTC)), region)
        self.scheduler.start()

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
        for thread in (self.scheduler, self.poller):
            if thread is not None:
                thread.stop()
        backends.stop_process(self.api)
        if self.services is not self.dynamodb:
            self.services.stop()
        self.dynamodb.stop()

    def write_env_file(self) -> None:
        """Exports that point operator commands (the CLI, the AWS CLI) at this local cloud."""
        STATE.mkdir(parents=True, exist_ok=True)
        ENV_FILE.write_text("".join(f"export {k}={v}\n" for k, v in self.env.items()))

    def banner(self) -> str:
        mail = f"{self.services.endpoint}{backends.MAIL_PATH}" if isinstance(self.services, backends.Moto) else None
        jobs = ", ".join(
            f"{j.name} next {j.next_at:%Y-%m-%d %H:%M}Z" for j in (self.scheduler.jobs if self.scheduler else [])
        )
        lines = [
            "",
            f"Boxoffice is running on the local cloud ({self.backend_name}).",
            f"  API           {self.url}   (try: curl {self.url}/health)",
            f"  API docs      {self.url}/docs   OpenAPI: {self.url}/openapi.json",
            f"  DynamoDB      {self.dynamodb.endpoint}   table: {self.table}",
            f"  SES, S3       {self.services.endpoint}" + (f"   sent mail: {mail}" if mail else ""),
            f"  Streams       billing and activity handlers, polled every {self.poll_interval}s",
            f"  Schedules     {jobs or 'none'}",
            "  Operator CLI  make admin EMAIL=… USERNAME=… NAME=…; python -m chalicelib.cli --local run-job NAME",
            "  Inspect       python -m infra.local mail (sent email); python -m infra.local parked (failed records)",
            "  Stop with Ctrl-C.",
            "",
        ]
        return "\n".join(lines)


def read_env_file(path: Path | None = None) -> dict[str, str]:
    """The exports a running local cloud left for operator commands ({} if none runs)."""
    path = path or ENV_FILE
    if not path.exists():
        return {}
    pairs = (line.removeprefix("export ").partition("=") for line in path.read_text().splitlines())
    return {name: value for name, _, value in pairs if name}


def run(args: Any) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    cloud = LocalCloud(
        backend=args.backend,
        port=args.port,
        aws_port=args.aws_port,
        endpoint_url=args.endpoint_url,
        table=args.table,
        reload=args.reload,
        poll_interval=args.poll_interval,
        max_retries=args.max_retries,
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
