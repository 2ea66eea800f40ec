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
        self._last_seen: dict[str, str] = {}

    def _discover(self) -> None:
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            if shard["ShardId"] not in self._iterators:
                self._iterators[shard["ShardId"]] = self._iterator(shard["ShardId"])

    def _iterator(self, shard_id: str) -> str | None:
        """A fresh iterator: after the last record read from the shard, else from ``start``."""
        after = self._last_seen.get(shard_id)
        kwargs = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
            if after
            else {"ShardIteratorType": self.start}
        )
        iterator: str | None = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard_id, **kwargs
        ).get("ShardIterator")
        return iterator

    def read(self, limit: int = 1000) -> list[dict[str, Any]]:
        """New records of every shard; a shard that fails now is read again next time."""
        self._discover()
        out: list[dict[str, Any]] = []
        for shard_id in list(self._iterators):
            try:
                out.extend(self._read_shard(shard_id, limit))
            except Exception as e:
                if "ExpiredIteratorException" in type(e).__name__ or "ExpiredIterator" in str(e):
                    self._iterators[shard_id] = self._iterator(shard_id)  # stalled too long: resume after the last
                log.warning("reading shard %s failed (%s); it is read again on the next poll", shard_id, e)
        return out

    def _read_shard(self, shard_id: str, limit: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        iterator = self._iterators[shard_id]
        while iterator:
            response = self.streams.get_records(ShardIterator=iterator, Limit=limit)
            records = response.get("Records", [])
            out.extend(lambda_record(r, self.stream_arn, self.region) for r in records)
            if records:
                self._last_seen[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
            iterator = response.get("NextShardIterator")
            self._iterators[shard_id] = iterator  # None: the shard is closed and read
            if not records:
                break
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
    bisected: int | None = None  # the batch size while narrowing down a batch that failed as a whole

    def deliver(self) -> None:
        """Hand pending records to the handler until done or a failure must wait for a retry."""
        while self.pending:
            size = min(self.bisected or self.batch_size, len(self.pending))
            batch = [self.pending[i] for i in range(size)]
            failed, whole = self._invoke(batch)
            if whole and size > 1:
                # Like BisectBatchOnFunctionError: split the batch and try again, so the
                # record that breaks the handler is found instead of blaming the first one.
                self.bisected = max(1, size // 2)
                return
            done = len(batch) if not failed else next(i for i, r in enumerate(batch) if _seq(r) in failed)
            for _ in range(done):
                self.attempts.pop(_seq(self.pending.popleft()), None)
                self.delivered += 1
            if not failed:
                continue  # (a bisected size holds until the record that broke the batch is parked)
            head = self.pending[0]
            tries = self.attempts[_seq(head)] = self.attempts.get(_seq(head), 0) + 1
            if tries <= self.max_retries:
                return  # retried on the next poll, from this record on
            self._park(self.pending.popleft(), failed[_seq(head)])
            self.bisected = None
        self.bisected = None

    def _invoke(self, batch: list[dict[str, Any]]) -> tuple[dict[str, str], bool]:
        """The failed records (sequence → reason), and whether the batch failed as a whole."""
        try:
            result = self.handler({"Records": batch}, _Context(self.name))
        except Exception as e:
            log.exception("%s: handler raised on a batch of %d", self.name, len(batch))
            return {_seq(r): f"handler raised {type(e).__name__}: {e}" for r in batch}, True
        failures = (result or {}).get("batchItemFailures", []) if isinstance(result, dict) else []
        failed = {str(f.get("itemIdentifier")): "reported in batchItemFailures" for f in failures}
        if set(failed) - {_seq(r) for r in batch}:
            # Lambda treats an identifier it did not send (or an empty one) as a failure of the whole batch.
            log.error("%s: batchItemFailures names records not in the batch: %s", self.name, sorted(failed))
            return {_seq(r): "batchItemFailures named an unknown record" for r in batch}, True
        return failed, False

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
