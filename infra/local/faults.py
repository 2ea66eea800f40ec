"""A fault-injecting proxy between our code and the DynamoDB endpoint.

    make run FAULTS=throttle:0.05,lost-answer:0.02

Every DynamoDB and DynamoDB Streams call of the API and of the stream
handlers goes through it; each fault is drawn at its rate, in this order (the
first that fires is the one injected), and answers the way DynamoDB answers:

- ``throttle``: 400 ``ThrottlingException``, nothing written;
- ``error``: 500 ``InternalServerError``, nothing written;
- ``conflict``: a TransactWriteItems cancelled with ``TransactionConflict``, nothing written;
- ``lost-answer``: a write (PutItem, UpdateItem, DeleteItem, BatchWriteItem,
  TransactWriteItems) is applied, then answered 500 ``InternalServerError``
  as if the answer was lost on the way back: the caller (botocore) retries.

With ``partition_wcu`` (``make run PARTITION_WCU=100``) every write is also charged to its
partitions' write budget first (infra/local/budget.py: the costs and the buckets), and refused as
DynamoDB throttles a hot partition of an on-demand table when a partition is over it, nothing
written (the shapes of botocore's DynamoDB model and DynamoDB Local's own errors):

- PutItem, UpdateItem, DeleteItem: 400 ``ProvisionedThroughputExceededException``, ``message``
  DynamoDB's hot-key text and ``ThrottlingReasons`` ``[{"reason":
  "TableWriteKeyRangeThroughputExceeded", "resource": <table ARN>}]``;
- BatchWriteItem: the items over budget back in ``UnprocessedItems`` (the rest written), or that
  400 ``ProvisionedThroughputExceededException`` when no item is within budget;
- TransactWriteItems: 400 ``TransactionCanceledException``, one ``CancellationReasons`` entry an
  item: ``{"Code": "ThrottlingError", "Message": <the hot-key text>}`` for the items over budget,
  ``{"Code": "None"}`` for the others.

``GET /_faults`` on the proxy shows the spec, what was injected and what was throttled; ``POST
/_faults`` with ``{"spec": "throttle:0.05"}`` changes the rates while running, and with
``{"partition_wcu": 50}`` (``null``: none) the budget (the benchmarks use both to compare on one
server).
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from infra.local.budget import PartitionBudget, write_costs
from infra.local.budget import describe as describe_budget

log = logging.getLogger("boxoffice.local.faults")

KINDS = ("throttle", "error", "conflict", "lost-answer")
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
CONTROL_PATH = "/_faults"
_PREFIX = "com.amazonaws.dynamodb.v20120810#"


class FaultSpecError(ValueError):
    pass


def parse(spec: str | None) -> dict[str, float]:
    """``"throttle:0.05,lost-answer:0.02"`` → {"throttle": 0.05, "lost-answer": 0.02}; rates in [0, 1]."""
    rates: dict[str, float] = {}
    for part in (spec or "").replace(" ", "").split(","):
        if not part:
            continue
        name, _, value = part.partition(":")
        if name not in KINDS:
            raise FaultSpecError(f"unknown fault {name!r}: one of {', '.join(KINDS)}")
        try:
            rate = float(value)
        except ValueError:
            raise FaultSpecError(f"fault {name} needs a rate between 0 and 1, e.g. {name}:0.05") from None
        if not 0.0 <= rate <= 1.0:
            raise FaultSpecError(f"fault {name}: rate {rate} is not between 0 and 1")
        rates[name] = rate
    return rates


def describe(rates: dict[str, float]) -> str:
    return ",".join(f"{k}:{v:g}" for k, v in rates.items()) or "none"


def _error(code: str, message: str, **extra: Any) -> bytes:
    return json.dumps({"__type": _PREFIX + code, "message": message, **extra}).encode()


def _conflict(request: bytes, rng: random.Random) -> bytes:
    try:
        n = len(json.loads(request).get("TransactItems", [])) or 1
    except ValueError:
        n = 1
    reasons = [{"Code": "None"}] * n
    reasons[rng.randrange(n)] = {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
    codes = ", ".join(r["Code"] for r in reasons)
    message = f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]"
    return _error("TransactionCanceledException", message, CancellationReasons=reasons)


# DynamoDB's words for a throttled hot key of an on-demand table (ours is PAY_PER_REQUEST): the message
# botocore's model gives the ThrottlingError cancellation reason, the one on-demand tables answer.
THROUGHPUT_EXCEEDED = (
    "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your "
    "table or index so please try again shortly. If exceptions persist, check if you have a hot key: "
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html"
)
HOT_PARTITION = "TableWriteKeyRangeThroughputExceeded"  # a ThrottlingReason: one partition key's limit
ACCOUNT = "000000000000"  # the account DynamoDB Local names in its ARNs


def region_of(authorization: str | None) -> str:
    """The region of a SigV4 ``Authorization`` header (``Credential=key/date/region/service/...``)."""
    match = re.search(r"Credential=[^/,\s]*/[^/]*/([^/]+)/", authorization or "")
    return match.group(1) if match else "us-east-1"


def _throughput_exceeded(tables: list[str], region: str) -> bytes:
    reasons = [
        {"reason": HOT_PARTITION, "resource": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{table}"}
        for table in dict.fromkeys(tables)
    ]
    return _error("ProvisionedThroughputExceededException", THROUGHPUT_EXCEEDED, ThrottlingReasons=reasons)


def _throttled_transaction(n: int, over: list[int]) -> bytes:
    reasons: list[dict[str, str]] = [{"Code": "None"}] * max(n, 1)
    for i in over:
        reasons[i] = {"Code": "ThrottlingError", "Message": THROUGHPUT_EXCEEDED}
    codes = ", ".join(r["Code"] for r in reasons)
    message = f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]"
    # "Message", as DynamoDB Local and botocore's model spell this exception's (botocore reads either)
    body = {"__type": _PREFIX + "TransactionCanceledException", "CancellationReasons": reasons, "Message": message}
    return json.dumps(body).encode()


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # a burst of new connections is queued, not dropped (listen() reads it)
    daemon_threads = True


class FaultProxy:
    """An HTTP proxy on 127.0.0.1 in front of one DynamoDB endpoint, injecting faults at set rates."""

    def __init__(
        self,
        upstream: str,
        rates: dict[str, float],
        port: int = 0,
        seed: int | None = None,
        partition_wcu: float | None = None,
    ) -> None:
        self.upstream = urlsplit(upstream)
        self.rates = dict(rates)
        self.budget = PartitionBudget(partition_wcu) if partition_wcu else None
        self.throttled: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self.calls = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._server = _Server(("127.0.0.1", port), self._handler_class())
        self.port = int(self._server.server_address[1])
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        log.warning(
            "fault injection on: %s, %s (DynamoDB calls go through %s)",
            describe(self.rates),
            describe_budget(self.budget.wcu if self.budget else None),
            self.endpoint,
        )

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():  # shutdown() before serving would hang
            self._server.shutdown()
        self._server.server_close()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "spec": describe(self.rates),
                "calls": self.calls,
                "injected": dict(self.injected),
                "partition_wcu": self.budget.wcu if self.budget else None,
                "throttled": dict(self.throttled),
            }

    def over_budget(self, operation: str, body: bytes) -> tuple[dict[str, Any], list[int]] | None:
        """The request and the indexes of its items over their partitions' budget (None: no
        budget, not a write, or within it; nothing is charged for a refused request)."""
        budget = self.budget
        if budget is None or operation not in WRITES:
            return None
        try:
            request = json.loads(body)
        except ValueError:
            return None
        costs = write_costs(operation, request)
        if operation == "BatchWriteItem":  # item by item: DynamoDB writes what it can
            over = [i for i, cost in enumerate(costs) if budget.charge([cost])]
        else:
            over = budget.charge(costs)
        if not over:
            return None
        kind = "ThrottlingError" if operation == "TransactWriteItems" else "ProvisionedThroughputExceededException"
        if operation == "BatchWriteItem" and len(over) < len(costs):
            kind = "UnprocessedItems"
        with self._lock:
            self.throttled[kind] += 1
        return request, over

    def choose(self, operation: str) -> str | None:
        """The fault to inject into this call, if any."""
        applicable = [k for k in KINDS if self._applies(k, operation)]
        with self._lock:
            self.calls += 1
            for kind in applicable:
                if self._random.random() < self.rates.get(kind, 0.0):
                    self.injected[kind] += 1
                    return kind
        return None

    @staticmethod
    def _applies(kind: str, operation: str) -> bool:
        if kind == "conflict":
            return operation == "TransactWriteItems"
        if kind == "lost-answer":
            return operation in WRITES
        return True

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list[Any], bytes]:
        """Send the request upstream on this thread's kept-alive connection. Sent again only when a
        reused connection turns out closed by the endpoint (it read nothing of ours); any other
        failure is the caller's 500, never a silent second write."""
        for _ in (1, 2):
            conn = getattr(self._local, "conn", None)
            reused = conn is not None
            if conn is None:
                conn = self._local.conn = http.client.HTTPConnection(
                    self.upstream.hostname or "127.0.0.1", self.upstream.port or 80, timeout=60
                )
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                return response.status, response.getheaders(), response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                self._local.conn = None
                if not reused:
                    raise
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                raise
        raise http.client.HTTPException("the endpoint closed the connection twice")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                body = self._body()
                if self.path == CONTROL_PATH:
                    self._send(200, json.dumps(proxy.stats()).encode())
                else:
                    self._pass_through(body)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_POST(self) -> None:
                body = self._body()
                if self.path == CONTROL_PATH:
                    self._control(body)
                    return
                operation = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
                refused = proxy.over_budget(operation, body)
                if refused is not None:
                    self._throttle(operation, *refused)
                    return
                fault = proxy.choose(operation)
                if fault == "throttle":
                    self._send(400, _error("ThrottlingException", "Rate of requests exceeds the allowed throughput."))
                elif fault == "error":
                    self._send(500, _error("InternalServerError", "Internal server error"))
                elif fault == "conflict":
                    self._send(400, _conflict(body, proxy._random))
                else:
                    status, headers, answer = self._upstream("POST", body)
                    if fault == "lost-answer":
                        self._send(500, _error("InternalServerError", "Internal server error (answer lost)"))
                    else:
                        self._send(status, answer, headers)

            def _throttle(self, operation: str, request: dict[str, Any], over: list[int]) -> None:
                """Refuse what is over budget the way DynamoDB does."""
                if operation == "TransactWriteItems":
                    self._send(400, _throttled_transaction(len(request.get("TransactItems", [])), over))
                    return
                writes = [(t, w) for t, ws in request.get("RequestItems", {}).items() for w in ws]
                if operation != "BatchWriteItem" or len(over) == len(writes):
                    tables = [t for t, _ in writes] or [str(request.get("TableName", ""))]
                    self._send(400, _throughput_exceeded(tables, region_of(self.headers.get("Authorization"))))
                    return
                kept: dict[str, list[Any]] = {}
                unprocessed: dict[str, list[Any]] = {}
                for i, (table, write) in enumerate(writes):
                    (unprocessed if i in over else kept).setdefault(table, []).append(write)
                status, headers, answer = self._upstream("POST", json.dumps({**request, "RequestItems": kept}).encode())
                if status != 200:
                    self._send(status, answer, headers)
                    return
                result = json.loads(answer)
                for table, ws in unprocessed.items():
                    result.setdefault("UnprocessedItems", {}).setdefault(table, []).extend(ws)
                self._send(200, json.dumps(result).encode())  # a new body: botocore must not check the old CRC

            def _pass_through(self, body: bytes) -> None:
                status, headers, answer = self._upstream(self.command, body)
                self._send(status, answer, headers)

            def _upstream(self, method: str, body: bytes) -> tuple[int, list[Any], bytes]:
                dropped = ("host", "connection", "content-length")  # http.client sets the body's own length
                headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
                try:
                    return proxy.forward(method, self.path, headers, body)
                except (OSError, http.client.HTTPException) as e:
                    return 500, [], _error("InternalServerError", f"endpoint unreachable: {e}")

            def _control(self, body: bytes) -> None:
                try:
                    asked = json.loads(body or b"{}")
                    rates = parse(asked.get("spec", "")) if "spec" in asked or "partition_wcu" not in asked else None
                    wcu = asked.get("partition_wcu")
                    budget = PartitionBudget(float(wcu)) if wcu is not None else None
                except (ValueError, AttributeError, TypeError) as e:
                    self._send(400, json.dumps({"code": "InvalidFaults", "message": str(e)}).encode())
                    return
                with proxy._lock:
                    if rates is not None:
                        proxy.rates = rates
                    if "partition_wcu" in asked:
                        proxy.budget = budget
                now = describe_budget(proxy.budget.wcu if proxy.budget else None)
                log.warning("fault injection now: %s, %s", describe(proxy.rates), now)
                self._send(200, json.dumps(proxy.stats()).encode())

            def _send(self, status: int, body: bytes, headers: list[Any] | None = None) -> None:
                self.send_response(status)
                kept = {"content-type", "x-amzn-requestid", "x-amz-crc32"} if status == 200 else {"content-type"}
                sent_type = False
                for name, value in headers or []:
                    if name.lower() in kept:
                        self.send_header(name, value)
                        sent_type = sent_type or name.lower() == "content-type"
                if not sent_type:
                    self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
