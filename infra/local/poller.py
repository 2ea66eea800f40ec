"""The local stand-in for Lambda's DynamoDB event source mappings.

It reads the table's stream from whatever endpoint serves it (embedded moto,
DynamoDB Local, LocalStack), builds Lambda-shaped events and calls the Chalice
stream handlers. Like an event source mapping with
``FunctionResponseTypes: [ReportBatchItemFailures]`` it checkpoints up to the
first failed record and retries from there; after ``max_retries`` it parks
that record (logged, written to a JSON-lines file, inspectable with
``python -m infra.local parked``) and goes on, as a bisecting mapping with an
on-failure destination would.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("boxoffice.local.poller")

Handler = Callable[[dict[str, Any], Any], Any]


def lambda_record(raw: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A DynamoDB Streams GetRecords record → the record Lambda hands a function."""
    body = dict(raw["dynamodb"])
    created = body.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):  # boto3 parses it; Lambda sends epoch seconds
        body["ApproximateCreationDateTime"] = created.timestamp()
    return {
        "eventID": raw.get("eventID"),
        "eventName": raw["eventName"],
        "eventVersion": raw.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": raw.get("awsRegion") or region,
        "dynamodb": body,
        "eventSourceARN": stream_arn,
    }


class StreamReader:
    """Every record of a stream, shard by shard, each read once."""

    def __init__(self, streams: Any, stream_arn: str, region: str, start: str = "TRIM_HORIZON") -> None:
        self.streams = streams
        self.stream_arn = stream_arn
        self.region = region
        self.start = start
        self._iterators: dict[str, str | None] = {}

    def _discover(self) -> None:
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                it = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=self.start
                )
                self._iterators[shard_id] = it.get("ShardIterator")

    def read(self, limit: int = 1000) -> list[dict[str, Any]]:
        self._discover()
        out: list[dict[str, Any]] = []
        for shard_id, iterator in list(self._iterators.items()):
            while iterator:
                response = self.streams.get_records(ShardIterator=iterator, Limit=limit)
                records = response.get("Records", [])
                out.extend(lambda_record(r, self.stream_arn, self.region) for r in records)
                iterator = response.get("NextShardIterator")
                if not records:
                    break
            self._iterators[shard_id] = iterator  # None: the shard is closed and read
        return out


@dataclass
class Consumer:
    """One event source mapping: a handler, its own checkpoint and retry count."""

    name: str
    handler: Handler
    batch_size: int = 100
    max_retries: int = 3
    parked_file: Path | None = None
    pending: deque[dict[str, Any]] = field(default_factory=deque)
    attempts: dict[str, int] = field(default_factory=dict)
    parked: list[dict[str, Any]] = field(default_factory=list)
    delivered: int = 0

    def deliver(self) -> None:
        """Hand pending records to the handler until done or a failure must wait for a retry."""
        while self.pending:
            batch = [self.pending[i] for i in range(min(self.batch_size, len(self.pending)))]
            failed = self._invoke(batch)
            done = len(batch) if not failed else next(i for i, r in enumerate(batch) if _seq(r) in failed)
            for _ in range(done):
                self.attempts.pop(_seq(self.pending.popleft()), None)
                self.delivered += 1
            if not failed:
                continue
            head = self.pending[0]
            tries = self.attempts[_seq(head)] = self.attempts.get(_seq(head), 0) + 1
            if tries <= self.max_retries:
                return  # retried on the next poll, from this record on
            self._park(self.pending.popleft(), failed[_seq(head)])

    def _invoke(self, batch: list[dict[str, Any]]) -> dict[str, str]:
        try:
            result = self.handler({"Records": batch}, _Context(self.name))
        except Exception as e:  # the whole batch failed
            log.exception("%s: handler raised; the batch is retried", self.name)
            return {_seq(r): f"handler raised {type(e).__name__}: {e}" for r in batch}
        failures = (result or {}).get("batchItemFailures", []) if isinstance(result, dict) else []
        return {f["itemIdentifier"]: "reported in batchItemFailures" for f in failures if "itemIdentifier" in f}

    def _park(self, record: dict[str, Any], reason: str) -> None:
        entry = {
            "consumer": self.name,
            "sequence_number": _seq(record),
            "reason": reason,
            "attempts": self.attempts.pop(_seq(record), 0),
            "record": record,
        }
        self.parked.append(entry)
        log.error("%s: parked record %s after %d attempts (%s)", self.name, _seq(record), entry["attempts"], reason)
        if self.parked_file is not None:
            self.parked_file.parent.mkdir(parents=True, exist_ok=True)
            with self.parked_file.open("a") as f:
                f.write(json.dumps(entry, default=str) + "\n")


def _seq(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


class _Context:
    def __init__(self, name: str) -> None:
        self.function_name = name
        self.memory_limit_in_mb = 128
        self.aws_request_id = f"local-{time.time_ns()}"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


class Poller(threading.Thread):
    """Polls the stream every ``interval`` seconds and feeds every consumer."""

    def __init__(self, reader: StreamReader, consumers: list[Consumer], interval: float = 0.2) -> None:
        super().__init__(name="stream-poller", daemon=True)
        self.reader = reader
        self.consumers = consumers
        self.interval = interval
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.tick()
            self._halt.wait(self.interval)

    def tick(self) -> None:
        try:
            records = self.reader.read()
        except Exception:
            log.exception("reading the stream failed; trying again")
            return
        for consumer in self.consumers:
            consumer.pending.extend(records)
            try:
                consumer.deliver()
            except Exception:  # never let one consumer stop the poller
                log.exception("%s: delivery failed", consumer.name)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)
