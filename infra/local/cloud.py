"""The local cloud: an AWS endpoint, the table, ``chalice local`` (one or more
worker processes on one port), the stream pollers and the scheduler, in one
process group; optionally a fault-injecting proxy in front of DynamoDB."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.local import REUSE_PORT_ENV, backends, faults, quiet_libraries
from infra.local.poller import Consumer, StreamPoller
from infra.local.scheduler import Scheduler, jobs_of

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TABLE = "boxoffice-local"
STATE = Path(os.environ.get("BOXOFFICE_LOCAL_STATE") or ROOT / ".local-cloud")  # tests use their own
RETRY_BACKOFF = 0.5  # a failed record is retried after 0.5 s, 1 s, 2 s... (at most 10 s)


class StateDir:
    """What a local cloud keeps in its folder (``.local-cloud/`` unless told otherwise)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env_file = root / "env"
        self.parked = root / "parked.jsonl"
        self.payments = root / "payments.jsonl"  # the local payment provider's ledger (PAYMENT_LEDGER)
        self.data = root / "dynamodb"  # DynamoDB Local's data: kept across restarts (--fresh wipes it)
        self.checkpoints = root / "streams"  # each stream consumer's position
        self.secret = root / "jwt-secret"

    def jwt_secret(self) -> str:
        """This local cloud's token secret: made once, kept beside its data (mode 0600)."""
        if not self.secret.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            self.secret.touch(mode=0o600)
            self.secret.write_text(secrets.token_urlsafe(32))
        return self.secret.read_text().strip()

    def ledger(self) -> str:
        """Where the local payment provider writes (``PAYMENT_LEDGER`` if set, else in this folder)."""
        return os.environ.get("PAYMENT_LEDGER") or str(self.payments)

    def wipe(self) -> None:
        for path in (self.data, self.checkpoints):
            shutil.rmtree(path, ignore_errors=True)
        for path in (self.parked, self.payments, self.secret):
            path.unlink(missing_ok=True)


STOP_SECONDS = 4.0  # Ctrl-C to silence, whatever is running
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
        backend: str = backends.DEFAULT_BACKEND,
        port: int = 8000,
        aws_port: int = 0,
        endpoint_url: str | None = None,
        table: str = DEFAULT_TABLE,
        reload: bool = False,
        quiet: bool = False,
        poll_interval: float = 0.2,
        max_retries: int = 3,
        fault_spec: str | None = None,
        fresh: bool = False,
        streams: bool = True,
        state: Path | None = None,
        in_memory: bool = False,
        workers: int = 1,
        partition_wcu: float | None = None,
    ) -> None:
        self.backend_name = backend
        self.state = StateDir(state or STATE)
        if fresh:
            self.state.wipe()
        db_path = None if in_memory else self.state.data
        self.dynamodb = backends.make(backend, aws_port, endpoint_url, db_path=db_path)
        # SES and S3: LocalStack has them; DynamoDB Local or a bare endpoint does not, so moto serves them.
        self.services = self.dynamodb if backend == "localstack" else backends.Moto()
        self.faults = faults.parse(fault_spec)
        self.partition_wcu = partition_wcu  # the proxy's write budget per partition, WCU/s (None: unlimited)
        self.proxy: faults.FaultProxy | None = None
        self.port = port
        self.table = table
        self.reload = reload
        self.quiet = quiet  # drop the API's request log (benchmarks)
        self.poll_interval = poll_interval
        self.max_retries = max_retries
        self.streams = streams
        # `chalice local` processes serving one port, as Lambda runs concurrent requests in processes of
        # their own; --reload restarts one process (chalice's reloader), so it gets one.
        self.workers = 1 if reload else max(1, workers)
        self.workers_asked = max(1, workers)
        self.api: list[subprocess.Popen[bytes]] = []
        self.pollers: list[StreamPoller] = []
        self.scheduler: Scheduler | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """What our code (the API, the stream handlers, the jobs) runs with: through the
        fault proxy when faults are on."""
        dynamodb = self.proxy.endpoint if self.proxy is not None else self.dynamodb.endpoint
        return aws_env(dynamodb, self.services.endpoint, self.table)

    @property
    def operator_env(self) -> dict[str, str]:
        """For operator commands and audits: the endpoint itself, never a fault."""
        env = aws_env(self.dynamodb.endpoint, self.services.endpoint, self.table)
        env["PAYMENT_LEDGER"] = self.state.ledger()
        if self.proxy is not None:
            env["BOXOFFICE_FAULTS_URL"] = self.proxy.endpoint + faults.CONTROL_PATH
        return env

    def start(self) -> None:
        backends.ensure_port_free(self.port)  # at once, not after DynamoDB Local has started (and again below)
        self.dynamodb.start()
        if self.services is not self.dynamodb:
            self.services.start()
        self._start_proxy()
        os.environ.update(self.env)  # the pollers and the scheduler run the handlers in this process
        os.environ.setdefault("JWT_SECRET", self.state.jwt_secret())  # kept with the data: tokens outlive a restart
        os.environ.setdefault("BOXOFFICE_STAGE", "local")
        os.environ["PAYMENT_LEDGER"] = self.state.ledger()
        os.environ["PYTHONUNBUFFERED"] = "1"  # the API's log reaches ours line by line
        self._provision()
        self._start_api()
        if self.streams:
            self._start_event_runtime()

    def _start_proxy(self) -> None:
        """The proxy in front of DynamoDB, when faults are asked for or writes have a partition budget."""
        if not self.faults and self.partition_wcu is None:
            return
        self.proxy = faults.FaultProxy(self.dynamodb.endpoint, self.faults, partition_wcu=self.partition_wcu)
        self.proxy.start()

    def _provision(self) -> None:
        from chalicelib.store.table import create_table

        self.state.root.mkdir(parents=True, exist_ok=True)
        create_table(dynamodb_client(self.dynamodb.endpoint), self.table)
        s3 = client("s3", self.services.endpoint)
        if self.env["REPORTS_BUCKET"] not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
            s3.create_bucket(Bucket=self.env["REPORTS_BUCKET"])
        client("ses", self.services.endpoint).verify_email_identity(EmailAddress=self.env["MAIL_FROM"])

    def _start_api(self) -> None:
        """``self.workers`` processes of ``chalice local`` on one port. With more than one, each binds
        with SO_REUSEPORT and the kernel spreads connections over them; a process left from an earlier
        run could join them unseen that way, so the port must be free (a plain bind) before they start."""
        if self.reload and self.workers_asked > 1:
            log.info("--reload: the API runs in 1 worker process (not %d)", self.workers_asked)
        backends.ensure_port_free(self.port)
        cmd = [sys.executable, "-m", "infra.local.chalice_local", "local", "--stage", "local",
               "--host", "127.0.0.1", "--port", str(self.port)]  # fmt: skip
        if not self.reload:
            cmd.append("--no-autoreload")
        output = subprocess.DEVNULL if self.quiet else None
        env = dict(os.environ)
        env.pop(REUSE_PORT_ENV, None)
        if self.workers > 1:
            env[REUSE_PORT_ENV] = "1"
        for _ in range(self.workers):
            self.api.append(
                subprocess.Popen(
                    cmd,
                    cwd=ROOT,
                    env=env,
                    stdout=output,
                    stderr=output,
                    start_new_session=True,
                    preexec_fn=backends.die_with_parent,
                )
            )
        self._wait_healthy(90)

    def exited_worker(self) -> str | None:
        """How the first API worker that is no longer running ended (None while all run)."""
        for n, proc in enumerate(self.api, 1):
            if proc.poll() is not None:
                which = f"API worker {n} of {len(self.api)}, pid {proc.pid}"
                return f"chalice local ({which}) exited with {proc.returncode}"
        return None

    def _start_event_runtime(self) -> None:
        from chalicelib.settings import reset_settings

        reset_settings()
        import app as app_module

        show_app_log()
        region = self.env["AWS_DEFAULT_REGION"]
        for name in ("billing", "activity"):
            consumer = Consumer(
                name,
                app_module.app.handler_map[name],
                max_retries=self.max_retries,
                parked_file=self.state.parked,
                backoff=RETRY_BACKOFF,
            )
            # Each consumer reads the stream through its own clients, as each mapping does in AWS.
            poller = StreamPoller.resuming(
                consumer,
                dynamodb_client(self.env["AWS_ENDPOINT_URL_DYNAMODB"]),
                client("dynamodbstreams", self.env["AWS_ENDPOINT_URL_DYNAMODB_STREAMS"]),
                self.table,
                region,
                self.state.checkpoints,
                self.poll_interval,
            )
            poller.start()
            self.pollers.append(poller)
        self.scheduler = Scheduler(jobs_of(app_module.app, datetime.now(UTC)), region)
        self.scheduler.start()

    def _wait_healthy(self, timeout: float) -> None:
        """Until /health answers and (where Linux shows it) every worker listens on the port: the
        kernel only hands connections to listening workers, so /health alone may come from one."""
        deadline = time.monotonic() + timeout
        healthy = False
        while time.monotonic() < deadline:
            if exited := self.exited_worker():
                raise RuntimeError(exited)
            if not healthy:
                try:
                    with urllib.request.urlopen(f"{self.url}/health", timeout=2) as r:
                        healthy = r.status == 200
                except OSError:
                    pass
            if healthy:
                listening = backends.listening_sockets(self.port)
                if listening is None or len(listening) >= self.workers:
                    return
            time.sleep(0.1)
        if not healthy:
            raise RuntimeError(f"the API did not answer {self.url}/health within {timeout:.0f}s")
        raise RuntimeError(f"not all {self.workers} API workers listened on port {self.port} within {timeout:.0f}s")

    def stop(self) -> None:
        """Stop everything within STOP_SECONDS. The pollers and the scheduler are told first and
        get a moment to finish the batch in hand (so it is not cut off by a vanished endpoint),
        the API and DynamoDB Local get SIGTERM, and whatever is still there at the deadline gets
        SIGKILL; a handler still busy then ends with this process (its threads are daemons)."""
        started = time.monotonic()
        deadline = started + STOP_SECONDS
        threads: list[Any] = [t for t in (*self.pollers, self.scheduler) if t is not None]
        for thread in threads:
            thread.stop(timeout=0)
        procs = [backends.terminate(worker) for worker in self.api]
        for thread in threads:
            thread.join(timeout=max(0.0, min(started + 1.5, deadline) - time.monotonic()))
        if isinstance(self.dynamodb, backends.DynamoDBLocal):
            procs.append(self.dynamodb.terminate())
        backends.reap(procs, deadline - 1.0)  # the in-process servers below take up to a second
        if self.proxy is not None:
            self.proxy.stop()
        if self.services is not self.dynamodb:
            self.services.stop()
        if not isinstance(self.dynamodb, backends.DynamoDBLocal):
            self.dynamodb.stop()
        log.info("stopped in %.1fs", time.monotonic() - started)

    def data_location(self) -> str:
        if not isinstance(self.dynamodb, backends.DynamoDBLocal):
            return f"{self.backend_name} at {self.dynamodb.endpoint}"
        return str(self.state.data) if self.dynamodb.db_path else "in memory (gone when stopped)"

    def write_env_file(self) -> None:
        """Exports that point operator commands (the CLI, the AWS CLI) at this local cloud."""
        self.state.root.mkdir(parents=True, exist_ok=True)
        self.state.env_file.write_text("".join(f"export {k}={v}\n" for k, v in self.operator_env.items()))

    def describe_workers(self) -> str:
        pids = ", ".join(str(p.pid) for p in self.api)
        if self.workers > 1:
            return f"{self.workers} chalice local processes on port {self.port} (SO_REUSEPORT), pids {pids}"
        reload = f" (--reload: 1, not {self.workers_asked})" if self.workers_asked > 1 else ""
        return f"1 chalice local process{reload}, pid {pids}   (more: WORKERS=n)"

    def describe_faults(self) -> str:
        text = faults.describe(self.faults)
        if self.partition_wcu is not None:
            text += f"; write budget {self.partition_wcu:g} WCU/s per partition (throttled beyond)"
        return text

    def banner(self) -> str:
        mail = f"{self.services.endpoint}{backends.MAIL_PATH}" if isinstance(self.services, backends.Moto) else None
        jobs = ", ".join(
            f"{j.name} next {j.next_at:%Y-%m-%d %H:%M}Z" for j in (self.scheduler.jobs if self.scheduler else [])
        )
        lines = [
            "",
            f"Boxoffice is running on the local cloud ({self.backend_name}).",
            f"  API           {self.url}   (try: curl {self.url}/health)",
            f"  API workers   {self.describe_workers()}",
            f"  API docs      {self.url}/docs   OpenAPI: {self.url}/openapi.json",
            f"  DynamoDB      {self.dynamodb.endpoint}   table: {self.table}",
            f"  SES, S3       {self.services.endpoint}" + (f"   sent mail: {mail}" if mail else ""),
            f"  Data          {self.data_location()}",
            f"  Streams       billing and activity handlers, polled every {self.poll_interval}s"
            + ("" if self.streams else " (off: --no-streams)"),
            f"  Faults        {self.describe_faults()}"
            + (f"   (proxy {self.proxy.endpoint}{faults.CONTROL_PATH})" if self.proxy else ""),
            f"  Schedules     {jobs or 'none'}",
            "  Operator CLI  make admin EMAIL=… USERNAME=… NAME=…; python -m chalicelib.cli --local run-job NAME",
            "  Inspect       python -m infra.local mail (sent email); python -m infra.local parked (failed records)",
            "  Stop with Ctrl-C.",
            "",
        ]
        return "\n".join(lines)


def read_env_file(path: Path | None = None) -> dict[str, str]:
    """The exports a running local cloud left for operator commands ({} if none runs)."""
    path = path or StateDir(STATE).env_file
    if not path.exists():
        return {}
    pairs = (line.removeprefix("export ").partition("=") for line in path.read_text().splitlines())
    return {name: value for name, _, value in pairs if name}


def show_app_log() -> None:
    """Chalice gives the app's logger (``boxoffice``) its own stdout handler and cuts it off from
    the root logger; in the runner it goes through our one handler, at INFO, like everything else."""
    app_log = logging.getLogger("boxoffice")
    for handler in list(app_log.handlers):
        app_log.removeHandler(handler)
    app_log.propagate = True
    app_log.setLevel(logging.INFO)


def run(args: Any) -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # a log file sees lines at once
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stdout, force=True
    )
    quiet_libraries()
    try:
        cloud = LocalCloud(
            backend=args.backend,
            port=args.port,
            aws_port=args.aws_port,
            endpoint_url=args.endpoint_url,
            table=args.table,
            reload=args.reload,
            poll_interval=args.poll_interval,
            max_retries=args.max_retries,
            fault_spec=args.faults,
            fresh=args.fresh,
            streams=args.streams,
            in_memory=args.in_memory,
            workers=args.workers,
            partition_wcu=args.partition_wcu,
        )
    except faults.FaultSpecError as e:
        print(f"error: FAULTS: {e}", file=sys.stderr)
        return 2
    started = False
    stopping = False

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        if not started:  # still starting: leave start() at once; `finally` stops what is up
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        cloud.start()
        started = True
        cloud.write_env_file()
        print(cloud.banner(), flush=True)
        while not stopping:
            if exited := cloud.exited_worker():
                print(exited, file=sys.stderr)
                return 1
            time.sleep(0.2)
        return 0
    except KeyboardInterrupt:
        return 0
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        started = True  # from here on a signal only asks for what is already happening
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("Stopping the local cloud...", flush=True)
        cloud.stop()
        cloud.state.env_file.unlink(missing_ok=True)
        print("Stopped.", flush=True)
