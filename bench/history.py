"""History checker: concurrent buyers, cancellers and the stream flow against a running
local cloud, every request and answer recorded; then the table (and the payment
provider's ledger) is audited against what the clients were told.

    python -m bench.history                       # its own local cloud, faults on, 20 s of load
    python -m bench.history --faults none --duration 60 --buyers 16
    python -m bench.history --url http://127.0.0.1:8000 --state .local-cloud   # a running `make run`

Exit code 1 when anything is wrong. What is checked, after the stream flow has
caught up:

- every section: ``sold + held + remaining == capacity``; ``sold`` and revenue
  equal the confirmed orders' tickets and totals;
- every 201 names exactly one order, the buyer's, as answered; one order per
  Idempotency-Key; no order exists that its buyer was told had failed (an order
  nobody was answered 201 for must be matched, one for one, by a request of the
  same event and quantity whose outcome the client never learned: no answer or
  a 500, and no later answer for its key; a 503 means "not written");
- a cancellation answered 200 is cancelled in the table; a cancellation answered
  409 was not this client's own first cancellation;
- every order has one invoice; every cancelled order its credit note and a void
  invoice; invoice and credit-note numbers per organizer are 1..n, no gap, no repeat;
- every cancelled order has exactly one refund and ``refunded_at``; no confirmed
  order's payment is refunded; no payment is refunded twice; a charge with no
  order behind it was voided.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests
from boto3.dynamodb.types import TypeDeserializer

DEFAULT_FAULTS = "throttle:0.05,error:0.02,conflict:0.03,lost-answer:0.05"
PASSWORD = "correct horse battery staple 42"
UNKNOWN = 0  # the status recorded when no answer came back (timeout, reset)


@dataclass
class Call:
    user: str
    kind: str  # buy | cancel | register
    status: int
    body: Any
    key: str | None = None
    target: str | None = None  # the order a cancel was for
    request: dict[str, Any] = field(default_factory=dict)

    @property
    def unknown(self) -> bool:
        """The client never learned the outcome: no answer, or a server error. Not 503: the API
        answers ``Busy`` for a purchase only once no order was written nor can be (fenced)."""
        return self.status == UNKNOWN or (self.status >= 500 and self.status != 503)


@dataclass
class Report:
    calls: list[Call]
    violations: list[str]
    stats: dict[str, Any]

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        statuses = Counter(f"{c.kind} {c.status or 'no answer'}" for c in self.calls)
        lines = [f"{len(self.calls)} requests: " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))]
        lines += [f"{k}: {v}" for k, v in self.stats.items()]
        lines.append(f"violations: {len(self.violations)}")
        lines += [f"  - {v}" for v in self.violations[:50]]
        return "\n".join(lines)


class Client:
    """One simulated person: their own session, token, and record of what they were told."""

    def __init__(self, url: str, calls: list[Call], lock: threading.Lock, rng: random.Random) -> None:
        self.url = url
        self.session = requests.Session()
        self.calls = calls
        self.lock = lock
        self.rng = rng
        self.user_id = ""
        self.token = ""
        self.orders: list[str] = []  # answered 201, not cancelled by us yet

    def send(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        all_headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        all_headers.update(headers or {})
        try:
            r = self.session.request(method, self.url + path, json=body, headers=all_headers, timeout=15)
        except requests.RequestException as e:
            return UNKNOWN, {"error": str(e)}
        try:
            return r.status_code, r.json()
        except ValueError:
            return r.status_code, {"raw": r.text[:200]}

    def record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def sign_up(self, name: str) -> None:
        for _ in range(30):  # faults can refuse a sign-up too: a person tries again
            status, body = self.send("POST", "/auth/register", _registration(name))
            if status in (201, 409):
                status, body = self.send("POST", "/auth/login", {"email": f"{name}@example.com", "password": PASSWORD})
                if status == 200:
                    self.token, self.user_id = body["access_token"], body["user"]["id"]
                    return
            time.sleep(0.2)
        raise RuntimeError(f"could not sign up {name}: {status} {body}")

    def buy(self, event_id: str) -> None:
        request = {"section": "GA", "quantity": self.rng.randint(1, 3)}
        key = uuid.uuid4().hex if self.rng.random() < 0.5 else None
        for _ in range(3 if key else 1):  # with a key, a client retries an unknown outcome
            status, body = self.send(
                "POST", f"/events/{event_id}/orders", request, {"Idempotency-Key": key} if key else None
            )
            self.record(Call(self.user_id, "buy", status, body, key, event_id, request))
            if status == 201:
                self.orders.append(body["id"])
            if status != UNKNOWN and status < 500:
                return

    def cancel(self) -> None:
        if not self.orders:
            return
        order_id = self.orders.pop(self.rng.randrange(len(self.orders)))
        for _ in range(3):
            status, body = self.send("POST", f"/orders/{order_id}/cancel")
            self.record(Call(self.user_id, "cancel", status, body, target=order_id))
            if not (status == UNKNOWN or status >= 500):
                return

    def register_taken(self, email_of: str) -> None:
        """A sign-up that must fail: its transaction is cancelled (the email is taken)."""
        body = _registration(f"x{uuid.uuid4().hex[:12]}")
        body["email"] = f"{email_of}@example.com"
        status, answer = self.send("POST", "/auth/register", body)
        self.record(Call(self.user_id, "register", status, answer))


def _registration(name: str) -> dict[str, str]:
    return {"email": f"{name}@example.com", "username": name, "name": f"History {name}", "password": PASSWORD}


# -- load ------------------------------------------------------------------------------------


def drive(url: str, duration: float, buyers: int, seed: int = 1) -> tuple[list[Call], dict[str, Any]]:
    """Run the load for ``duration`` seconds; returns every call and the set-up it made."""
    calls: list[Call] = []
    lock = threading.Lock()
    tag = uuid.uuid4().hex[:8]
    organizer = Client(url, calls, lock, random.Random(seed))
    organizer.sign_up(f"org{tag}")
    capacities = {"small": 2 * buyers, "large": 40 + 8 * buyers}  # the small one sells out early
    events = [_create_event(organizer, name, capacity) for name, capacity in capacities.items()]
    people = [Client(url, calls, lock, random.Random(seed * 1000 + i)) for i in range(buyers)]
    for i, person in enumerate(people):
        person.sign_up(f"b{i}x{tag}")
    deadline = time.monotonic() + duration

    def work(person: Client) -> None:
        while time.monotonic() < deadline:
            roll = person.rng.random()
            if roll < 0.62:
                person.buy(person.rng.choice(events))
            elif roll < 0.9:
                person.cancel()
            else:
                person.register_taken(f"org{tag}")

    threads = [threading.Thread(target=work, args=(p,), daemon=True) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return calls, {"events": events, "organizer": organizer.user_id, "users": [p.user_id for p in people]}


def _create_event(organizer: Client, name: str, capacity: int) -> str:
    body = {
        "title": f"History {name}",
        "category": "music",
        "starts_at": "2099-06-01T19:00:00Z",
        "venue": {"name": "Hall", "address": "1 Main St", "lat": 0, "lon": 0},
        "sections": [{"code": "GA", "name": "Floor", "price_cents": 1500, "capacity": capacity}],
        "max_tickets_per_order": 3,
    }
    for _ in range(10):
        status, answer = organizer.send("POST", "/events", body, {"Idempotency-Key": f"event-{name}"})
        if status == 201:
            return str(answer["id"])
        time.sleep(0.2)
    raise RuntimeError(f"could not create an event: {status} {answer}")


# -- audit -----------------------------------------------------------------------------------


class Table:
    """The whole table and the payment ledger, read without faults (an audit, not a request path)."""

    def __init__(self, endpoint: str, table: str, ledger: Path | None, region: str = "us-east-1") -> None:
        self.client = boto3.client(
            "dynamodb", endpoint_url=endpoint, region_name=region, aws_access_key_id="local",
            aws_secret_access_key="local",
        )  # fmt: skip
        self.table = table
        self.ledger = ledger
        self.ledger_start = ledger.stat().st_size if ledger is not None and ledger.exists() else 0

    def items(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        des = TypeDeserializer()
        for page in self.client.get_paginator("scan").paginate(TableName=self.table, ConsistentRead=True):
            out.extend({k: des.deserialize(v) for k, v in item.items()} for item in page["Items"])
        return out

    def payments(self) -> list[dict[str, Any]]:
        """The provider's ledger since this audit began (the file is shared with earlier runs)."""
        if self.ledger is None or not self.ledger.exists():
            return []
        with self.ledger.open("rb") as f:
            f.seek(self.ledger_start)
            return [json.loads(line) for line in f.read().decode().splitlines() if line.strip()]


def settle(table: Table, events: list[str], timeout: float) -> list[dict[str, Any]]:
    """Wait until the stream flow has caught up with every order of the run (or ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        items = table.items()
        if not _behind(items, events) or time.monotonic() > deadline:
            return items
        time.sleep(0.5)


def _behind(items: list[dict[str, Any]], events: list[str]) -> list[str]:
    docs = {i["invoice_id"]: i for i in items if i.get("type") == "invoice"}
    behind = []
    for order in (i for i in items if i.get("type") == "order" and i["event_id"] in events):
        oid = order["order_id"]
        credited = f"{oid}-CN" in docs and bool(order.get("refunded_at"))
        if f"{oid}-INV" not in docs or (order["status"] == "cancelled" and not credited):
            behind.append(oid)
    return behind


def audit(
    calls: list[Call], setup: dict[str, Any], items: list[dict[str, Any]], payments: list[dict[str, Any]]
) -> list[str]:
    events = set(setup["events"])
    orders = {i["order_id"]: i for i in items if i.get("type") == "order" and i["event_id"] in events}
    violations: list[str] = []
    violations += _sections(items, events, orders)
    violations += _answers(calls, orders)
    violations += _invoices(items, orders, setup["organizer"])
    every_payment = {i.get("payment_ref") for i in items if i.get("type") == "order"}
    violations += _money(orders, payments, every_payment)
    violations += [
        f"order {o} has no invoice yet (the stream flow did not catch up)" for o in _behind(items, list(events))
    ]
    return violations


def _sections(items: list[dict[str, Any]], events: set[str], orders: dict[str, dict[str, Any]]) -> list[str]:
    out = []
    for sec in (i for i in items if i.get("type") == "section" and i["PK"].removeprefix("EVENT#") in events):
        event_id = sec["PK"].removeprefix("EVENT#")
        sold, held, remaining, capacity = (int(sec.get(k, 0)) for k in ("sold", "held", "remaining", "capacity"))
        if sold + held + remaining != capacity:
            out.append(
                f"section {event_id}/{sec['code']}: sold {sold} + held {held} + remaining {remaining} != {capacity}"
            )
        confirmed = [o for o in orders.values() if o["event_id"] == event_id and o["section"] == sec["code"]
                     and o["status"] == "confirmed"]  # fmt: skip
        tickets = sum(int(o["quantity"]) for o in confirmed)
        revenue = sum(int(o["total_cents"]) for o in confirmed)
        if sold != tickets:
            out.append(f"section {event_id}/{sec['code']}: sold {sold} but confirmed orders hold {tickets} tickets")
        if int(sec.get("revenue_cents", 0)) != revenue:
            out.append(f"section {event_id}/{sec['code']}: revenue {sec.get('revenue_cents')} != orders' {revenue}")
    return out


def _answers(calls: list[Call], orders: dict[str, dict[str, Any]]) -> list[str]:
    out = []
    buys = [c for c in calls if c.kind == "buy"]
    answered: dict[str, set[str]] = defaultdict(set)  # user → order ids answered 201
    by_key: dict[tuple[str, str], set[str]] = defaultdict(set)
    for c in (c for c in buys if c.status == 201):
        oid = c.body["id"]
        answered[c.user].add(oid)
        if c.key:
            by_key[(c.user, c.key)].add(oid)
        order = orders.get(oid)
        if order is None:
            out.append(f"buy answered 201 with order {oid}, which is not in the table")
        elif (order["user_id"], order["event_id"], order["quantity"]) != (c.user, c.target, c.request["quantity"]):
            out.append(f"order {oid} is not what its 201 said: {order['user_id']}/{order['quantity']}")
    out += [
        f"Idempotency-Key {k} made {len(ids)} orders: {sorted(ids)}" for (_, k), ids in by_key.items() if len(ids) > 1
    ]
    # An order no 201 named must be one a request never heard back about (and whose key, if any,
    # never got a definite answer later): each such request explains at most one order like it.
    settled = {(c.user, c.key) for c in buys if c.key and not c.unknown}
    unanswered: dict[str, list[tuple[str | None, int]]] = defaultdict(list)
    for c in buys:
        if c.unknown and (c.user, c.key) not in settled:
            unanswered[c.user].append((c.target, c.request["quantity"]))
    for oid, order in sorted(orders.items()):
        if oid in answered[order["user_id"]]:
            continue
        shape = (order["event_id"], order["quantity"])
        if shape in unanswered[order["user_id"]]:
            unanswered[order["user_id"]].remove(shape)
        else:
            out.append(f"order {oid} exists, but its buyer {order['user_id']} was told the purchase failed")
    out += _cancellations(calls, orders)
    return out


def _cancellations(calls: list[Call], orders: dict[str, dict[str, Any]]) -> list[str]:
    out = []
    for target in {c.target for c in calls if c.kind == "cancel"}:
        attempts = [c for c in calls if c.kind == "cancel" and c.target == target]
        order = orders.get(target or "")
        status = order["status"] if order else None
        if any(c.status == 200 for c in attempts) and status != "cancelled":
            out.append(f"cancel of {target} answered 200 but the order is {status}")
        first = attempts[0]
        if first.status == 409 and first.body.get("code") == "AlreadyCancelled":
            out.append(f"cancel of {target} answered 409 AlreadyCancelled, yet nobody had cancelled it before")
        if status == "cancelled" and all(c.status not in (200, UNKNOWN) and c.status < 500 for c in attempts):
            out.append(f"order {target} is cancelled but every cancel of it was answered as failed")
    return out


def _invoices(items: list[dict[str, Any]], orders: dict[str, dict[str, Any]], organizer: str) -> list[str]:
    out = []
    docs = {i["invoice_id"]: i for i in items if i.get("type") == "invoice"}
    for oid, order in orders.items():
        invoice, credit = docs.get(f"{oid}-INV"), docs.get(f"{oid}-CN")
        if invoice is not None and invoice["order_id"] != oid:
            out.append(f"invoice {oid}-INV belongs to {invoice['order_id']}")
        if order["status"] == "confirmed" and credit is not None:
            out.append(f"confirmed order {oid} has a credit note")
        if order["status"] == "cancelled" and invoice is not None and invoice.get("status") != "void":
            out.append(f"cancelled order {oid}: its invoice is {invoice.get('status')}, not void")
    for kind in ("invoice", "credit_note"):
        numbers = sorted(
            int(d["number"]) for d in docs.values() if d["organizer_id"] == organizer and d["kind"] == kind
        )
        if numbers != list(range(1, len(numbers) + 1)):
            repeats = [n for n, c in Counter(numbers).items() if c > 1]
            gaps = sorted(set(range(1, (numbers or [0])[-1] + 1)) - set(numbers))
            out.append(f"{kind} numbers are not 1..{len(numbers)}: repeated {repeats[:10]}, missing {gaps[:10]}")
    return out


def _money(orders: dict[str, dict[str, Any]], payments: list[dict[str, Any]], every_payment: set[Any]) -> list[str]:
    out = []
    charges = {p["reference"]: p for p in payments if p["op"] == "charge"}
    refunds: dict[str, set[str]] = defaultdict(set)  # payment → distinct refund keys (a key refunds once)
    for p in (p for p in payments if p["op"] == "refund"):
        refunds[p["reference"]].add(p["key"])
    out += [
        f"payment {ref} refunded {len(keys)} times: {sorted(keys)}" for ref, keys in refunds.items() if len(keys) > 1
    ]
    for oid, order in orders.items():
        ref = str(order.get("payment_ref"))
        if ref not in charges:
            out.append(f"order {oid}: its payment {ref} was never charged")
        elif order["status"] == "confirmed" and refunds.get(ref):
            out.append(f"confirmed order {oid}: its payment was refunded ({sorted(refunds[ref])})")
        elif order["status"] == "cancelled" and (not refunds.get(ref) or not order.get("refunded_at")):
            out.append(
                f"cancelled order {oid}: refunds {sorted(refunds.get(ref, []))}, refunded_at {order.get('refunded_at')}"
            )
    for ref, charge in charges.items():
        if ref not in every_payment and not refunds.get(ref):
            out.append(f"payment {ref} (order {charge['order_id']}) was charged, has no order, and was not voided")
    return out


# -- running it ------------------------------------------------------------------------------


def check(
    url: str,
    dynamodb: str,
    table: str,
    ledger: Path | None,
    duration: float = 15,
    buyers: int = 8,
    settle_timeout: float = 60,
    seed: int = 1,
) -> Report:
    """Drive the running cloud at ``url`` for ``duration`` s, let the stream flow settle, audit."""
    started = time.monotonic()
    store = Table(dynamodb, table, ledger)
    calls, setup = drive(url, duration, buyers, seed)
    loaded = time.monotonic()
    items = settle(store, setup["events"], settle_timeout)
    violations = audit(calls, setup, items, store.payments())
    orders = [i for i in items if i.get("type") == "order" and i["event_id"] in setup["events"]]
    stats = {
        "load seconds": round(loaded - started, 1),
        "settle seconds": round(time.monotonic() - loaded, 1),
        "orders": len(orders),
        "cancelled": sum(o["status"] == "cancelled" for o in orders),
    }
    return Report(calls, violations, stats)


def fault_stats(env: dict[str, str]) -> dict[str, Any]:
    """What the running cloud's fault proxy injected (empty when faults are off)."""
    url = env.get("BOXOFFICE_FAULTS_URL")
    if not url:
        return {}
    try:
        return dict(requests.get(url, timeout=5).json())
    except (requests.RequestException, ValueError):
        return {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--url", help="a running local cloud's API (default: start one)")
    parser.add_argument("--state", default=".local-cloud", help="its state folder (env file, payment ledger)")
    parser.add_argument("--backend", default="dynamodb-local", help="for the cloud this starts")
    parser.add_argument("--faults", default=DEFAULT_FAULTS, help="for the cloud this starts ('none': no faults)")
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--buyers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    from infra.local.cloud import StateDir, read_env_file
    from infra.local.running import RunningCloud

    cloud = None
    if args.url:
        url, files = args.url.rstrip("/"), StateDir(Path(args.state))
    else:
        faults = [] if args.faults == "none" else ["--faults", args.faults]
        cloud = RunningCloud(args.backend, args=faults)
        url, files = cloud.url, cloud.files
        print(f"local cloud ({args.backend}, faults {args.faults}) at {url}, state {files.root}", flush=True)
    try:
        env = read_env_file(files.env_file)
        if not env:
            raise SystemExit(f"no running local cloud found in {files.root} (its env file is missing)")
        ledger = Path(env.get("PAYMENT_LEDGER") or files.payments)  # where that cloud's provider writes
        report = check(url, env["AWS_ENDPOINT_URL_DYNAMODB"], env["BOXOFFICE_TABLE"], ledger,
                       args.duration, args.buyers, seed=args.seed)  # fmt: skip
        report.stats["faults"] = fault_stats(env)
    finally:
        if cloud is not None:
            cloud.stop()
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
