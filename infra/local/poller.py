"""The local stand-in for Lambda's DynamoDB event source mappings.

One :class:`StreamPoller` thread per consumer (``billing``, ``activity``), as
each mapping in AWS reads the stream on its own. It reads the table's stream
from whatever endpoint serves it (DynamoDB Local, embedded moto, LocalStack),
builds Lambda-shaped events and calls the Chalice stream handler. Like a
mapping with ``ReportBatchItemFailures`` and ``BisectBatchOnFunctionError`` it
checkpoints up to the first failed record and retries from there, splits a
batch that fails as a whole, and after ``max_retries`` parks the record
(logged, written to ``parked.jsonl``) and goes on, as an on-failure
destination would take it.

It never goes silent: a shard that returns nothing for ``refresh_after``
seconds gets a fresh iterator after the last record read, the stream is
described again (new shards, closed shards), and the table is asked for its
current stream (a table re-created, or moto swapping in a copy of the table
after a cancelled transaction). Each consumer's position (stream, shard, last
delivered sequence number) is saved in ``state_dir`` after every batch, so a
restarted local cloud resumes after the last delivered record: records
written while it was down are delivered, nothing twice that was done.
"""

from __future__ import annotations

import json
import logging
import os
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
TRIM_HORIZON = "TRIM_HORIZON"
MAX_BACKOFF = 10.0


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


def _seq(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def _error_code(e: Exception) -> str:
    response = getattr(e, "response", None) or {}
    return str(response.get("Error", {}).get("Code") or type(e).__name__)


@dataclass
class Position:
    """Where a consumer stands: its stream and, per shard, the last sequence number it is done with."""

    stream_arn: str | None = None
    shards: dict[str, str] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)  # closed shards read and delivered to the end

    def to_json(self) -> dict[str, Any]:
        return {"stream_arn": self.stream_arn, "shards": self.shards, "finished": sorted(self.finished)}

    @classmethod
    def load(cls, path: Path | None) -> Position:
        if path is None or not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text())
            return cls(raw.get("stream_arn"), dict(raw.get("shards", {})), set(raw.get("finished", [])))
        except (OSError, ValueError, AttributeError) as e:
            log.warning("ignoring unreadable checkpoint %s (%s): starting from the stream's oldest record", path, e)
            return cls()

    def save(self, path: Path | None) -> None:
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.to_json()))
        tmp.replace(path)  # atomic: a crash leaves the old checkpoint or the new one


class StreamReader:
    """Reads a table's stream shard by shard, parents before children, from a position.

    ``read()`` returns (shard, record) pairs in stream order per shard; what it
    returns is never returned again.
    """

    def __init__(
        self,
        dynamodb: Any,
        streams: Any,
        table: str,
        region: str,
        position: Position | None = None,
        refresh_after: float = 1.0,
    ) -> None:
        self.dynamodb = dynamodb
        self.streams = streams
        self.table = table
        self.region = region
        self.refresh_after = refresh_after
        start = position or Position()
        self.stream_arn: str | None = start.stream_arn
        self._read: dict[str, str] = dict(start.shards)  # shard → last sequence number read
        self._finished: set[str] = set(start.finished)
        self._iterators: dict[str, str | None] = {}
        self._parents: dict[str, str | None] = {}
        self._idle_since: dict[str, float] = {}
        self._described_at = 0.0

    # -- discovery ---------------------------------------------------------------------------
    def _current_stream(self) -> str:
        arn = str(self.dynamodb.describe_table(TableName=self.table)["Table"].get("LatestStreamArn") or "")
        if not arn:
            raise RuntimeError(f"table {self.table} has no stream")
        if arn != self.stream_arn:
            if self.stream_arn is not None:
                log.warning("the table's stream changed (%s → %s): reading the new one from its start",
                            self.stream_arn, arn)  # fmt: skip
            self.stream_arn = arn
            self._read.clear()
            self._finished.clear()
            self._iterators.clear()
            self._parents.clear()
        return arn

    def _describe(self) -> None:
        arn = self._current_stream()
        shards: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"StreamArn": arn}
        while True:
            description = self.streams.describe_stream(**kwargs)["StreamDescription"]
            shards.extend(description.get("Shards", []))
            last = description.get("LastEvaluatedShardId")
            if not last or last == kwargs.get("ExclusiveStartShardId"):
                break
            kwargs["ExclusiveStartShardId"] = last
        self._parents = {s["ShardId"]: s.get("ParentShardId") for s in shards}
        self._described_at = time.monotonic()

    def _iterator(self, shard_id: str) -> str | None:
        """A fresh iterator: after the last record read from the shard, else from its oldest record."""
        assert self.stream_arn is not None
        after = self._read.get(shard_id)
        kwargs: dict[str, Any] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
            if after
            else {"ShardIteratorType": TRIM_HORIZON}
        )
        try:
            response = self.streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard_id, **kwargs)
        except Exception as e:
            if _error_code(e) != "TrimmedDataAccessException":
                raise
            log.warning("shard %s: records after %s are trimmed; reading from its oldest record", shard_id, after)
            response = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=TRIM_HORIZON
            )
        self._idle_since[shard_id] = time.monotonic()
        iterator: str | None = response.get("ShardIterator")
        return iterator

    def _depth(self, shard_id: str) -> tuple[int, str]:
        """Parents sort before their children, so one read can finish a parent and start its child."""
        depth, parent = 0, self._parents.get(shard_id)
        while parent is not None and parent in self._parents and depth < 100:
            depth, parent = depth + 1, self._parents.get(parent)
        return depth, shard_id

    def _ready(self, shard_id: str) -> bool:
        """A child shard is read once its parent is read to its end (or gone from the stream)."""
        parent = self._parents.get(shard_id)
        return parent is None or parent not in self._parents or parent in self._finished

    # -- reading -----------------------------------------------------------------------------
    def read(self, limit: int = 1000) -> list[tuple[str, dict[str, Any]]]:
        """Up to about ``limit`` new records; a shard whose read fails is read again on the next call."""
        if not self._parents or time.monotonic() - self._described_at >= self.refresh_after:
            self._describe()
        out: list[tuple[str, dict[str, Any]]] = []
        open_shards = [shard for shard in self._parents if shard not in self._finished]
        for shard_id in sorted(open_shards, key=self._depth):
            if len(out) >= limit or not self._ready(shard_id):
                continue
            try:
                out.extend(self._read_shard(shard_id, limit - len(out)))
            except Exception as e:
                log.warning("reading shard %s failed (%s); it is read again on the next poll", shard_id, e)
                self._drop_iterator(shard_id)
        return out

    def _drop_iterator(self, shard_id: str) -> None:
        """Forget a shard's iterator (expired, or its read failed): the next read asks for a new one."""
        self._iterators.pop(shard_id, None)
        self._described_at = 0.0

    def _read_shard(self, shard_id: str, limit: int) -> list[tuple[str, dict[str, Any]]]:
        assert self.stream_arn is not None
        out: list[tuple[str, dict[str, Any]]] = []
        while len(out) < limit and shard_id not in self._finished:
            iterator = self._iterators.get(shard_id)
            if iterator is None:
                iterator = self._iterators[shard_id] = self._iterator(shard_id)
            if iterator is None:
                break
            try:
                response = self.streams.get_records(ShardIterator=iterator, Limit=min(1000, max(1, limit - len(out))))
            except Exception:
                if not out:
                    raise
                # What was read stands (the position is after it): hand it over, read on next time.
                self._drop_iterator(shard_id)
                break
            records = response.get("Records", [])
            out.extend((shard_id, lambda_record(r, self.stream_arn, self.region)) for r in records)
            self._advance(shard_id, records, response.get("NextShardIterator"))
            if not records:
                break
        return out

    def _advance(self, shard_id: str, records: list[dict[str, Any]], following: str | None) -> None:
        now = time.monotonic()
        if records:
            self._read[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
            self._idle_since[shard_id] = now
        if following is None:  # closed and read to its end: its children may start
            self._finished.add(shard_id)
            self._iterators.pop(shard_id, None)
        elif not records and now - self._idle_since.get(shard_id, now) >= self.refresh_after:
            # Silent for a while: get a new iterator after the last record read (on the next read).
            # Cheap, and it keeps the poller going when an endpoint orphans old iterators (moto did).
            self._iterators.pop(shard_id, None)
            self._idle_since[shard_id] = now
        else:
            self._iterators[shard_id] = following

    def position(self) -> Position:
        return Position(self.stream_arn, dict(self._read), set(self._finished))

    def knows(self, shard_id: str) -> bool:
        """Whether the shard belongs to the stream being read (not to one that was replaced)."""
        return shard_id in self._parents or shard_id in self._read


@dataclass
class Consumer:
    """One event source mapping: a handler, its own checkpoint and retry count."""

    name: str
    handler: Handler
    batch_size: int = 100
    max_retries: int = 3
    parked_file: Path | None = None
    backoff: float = 0.0  # seconds before the first retry of a failed record, doubled each time (capped)
    pending: deque[tuple[str, dict[str, Any]]] = field(default_factory=deque)
    attempts: dict[str, int] = field(default_factory=dict)
    parked: list[dict[str, Any]] = field(default_factory=list)
    delivered: int = 0
    done: dict[str, str] = field(default_factory=dict)  # shard → last sequence number delivered or parked
    bisected: int | None = None  # the batch size while narrowing down a batch that failed as a whole
    retry_at: float = 0.0  # monotonic time before which a failed record is not retried

    def deliver(self, after_batch: Callable[[], None] | None = None) -> bool:
        """Hand pending records to the handler until done; False when a failure waits for a retry.
        ``after_batch`` runs after every batch (the poller saves its checkpoint there)."""
        if self.pending and time.monotonic() < self.retry_at:
            return False
        while self.pending:
            if after_batch is not None and self.delivered:
                after_batch()
            size = min(self.bisected or self.batch_size, len(self.pending))
            batch = [self.pending[i][1] for i in range(size)]
            failed, whole = self._invoke(batch)
            if whole and size > 1:
                # Like BisectBatchOnFunctionError: split the batch and try again, so the
                # record that breaks the handler is found instead of blaming the first one.
                self.bisected = max(1, size // 2)
                log.warning("%s: batch of %d records %s..%s failed as a whole; retrying it in halves",
                            self.name, size, _seq(batch[0]), _seq(batch[-1]))  # fmt: skip
                return False
            done = len(batch) if not failed else next(i for i, r in enumerate(batch) if _seq(r) in failed)
            for _ in range(done):
                self._finish(self.pending.popleft())
            if not failed:
                continue  # (a bisected size holds until the record that broke the batch is parked)
            head = self.pending[0][1]
            tries = self.attempts[_seq(head)] = self.attempts.get(_seq(head), 0) + 1
            if tries <= self.max_retries:
                delay = min(MAX_BACKOFF, self.backoff * 2 ** (tries - 1))
                self.retry_at = time.monotonic() + delay
                log.warning("%s: record %s failed (%s); retry %d of %d in %.1fs",
                            self.name, _seq(head), failed[_seq(head)], tries, self.max_retries, delay)  # fmt: skip
                return False
            shard, record = self.pending.popleft()
            self._park(record, failed[_seq(head)])
            self._finish((shard, record), delivered=False)
            self.bisected = None
        self.bisected = None
        return True

    def _finish(self, item: tuple[str, dict[str, Any]], delivered: bool = True) -> None:
        shard, record = item
        self.attempts.pop(_seq(record), None)
        self.done[shard] = _seq(record)
        self.delivered += int(delivered)

    def _invoke(self, batch: list[dict[str, Any]]) -> tuple[dict[str, str], bool]:
        """The failed records (sequence → reason), and whether the batch failed as a whole."""
        try:
            result = self.handler({"Records": batch}, _Context(self.name))
        except Exception as e:
            log.exception("%s: handler raised on records %s..%s", self.name, _seq(batch[0]), _seq(batch[-1]))
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


class _Context:
    def __init__(self, name: str) -> None:
        self.function_name = name
        self.memory_limit_in_mb = 128
        self.aws_request_id = f"local-{time.time_ns()}"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


class StreamPoller(threading.Thread):
    """One consumer's mapping: polls every ``interval`` seconds, delivers, saves its position."""

    def __init__(
        self, reader: StreamReader, consumer: Consumer, interval: float = 0.2, checkpoint: Path | None = None
    ) -> None:
        super().__init__(name=f"stream-{consumer.name}", daemon=True)
        self.reader = reader
        self.consumer = consumer
        self.interval = interval
        self.checkpoint = checkpoint
        self._saved = reader.position()
        self._halt = threading.Event()

    @classmethod
    def resuming(
        cls,
        consumer: Consumer,
        dynamodb: Any,
        streams: Any,
        table: str,
        region: str,
        state_dir: Path | None,
        interval: float = 0.2,
    ) -> StreamPoller:
        """A poller that starts after the consumer's last checkpoint in ``state_dir`` (if any)."""
        checkpoint = state_dir / f"{consumer.name}.json" if state_dir is not None else None
        position = Position.load(checkpoint)
        if position.shards:
            log.info("%s: resuming after %s", consumer.name,
                     ", ".join(f"{s} #{n}" for s, n in sorted(position.shards.items())))  # fmt: skip
        reader = StreamReader(dynamodb, streams, table, region, position, refresh_after=max(1.0, interval * 5))
        return cls(reader, consumer, interval, checkpoint)

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                busy = self.tick()
            except Exception:  # never let anything stop the poller: it would go silent
                log.exception("%s: poll failed; trying again", self.consumer.name)
                busy = False
            if not busy:
                self._halt.wait(self.interval)

    def tick(self) -> bool:
        """One poll; True when records were delivered and more may be waiting."""
        stream = self.reader.stream_arn
        try:
            records = self.reader.read(limit=self.consumer.batch_size * 4) if not self.consumer.pending else []
        except Exception as e:
            log.warning("%s: reading the stream failed (%s: %s); trying again", self.consumer.name,
                        _error_code(e), e)  # fmt: skip
            return False
        if self.reader.stream_arn != stream and stream is not None:
            # A new stream: what was pending or done belongs to the old one (a deleted table).
            self.consumer.pending.clear()
            self.consumer.done.clear()
            self.consumer.attempts.clear()
            self._saved = Position(self.reader.stream_arn)
        self.consumer.pending.extend(records)
        try:
            finished = self.consumer.deliver(after_batch=self._save)
        except Exception:  # never let a consumer's bug stop its poller
            log.exception("%s: delivery failed", self.consumer.name)
            finished = False
        self._save()
        return finished and bool(records)

    def _save(self) -> None:
        done = {**self._saved.shards, **self.consumer.done} if self._saved.stream_arn == self.reader.stream_arn else {}
        shards = {shard: seq for shard, seq in (done or self.consumer.done).items() if self.reader.knows(shard)}
        finished = {s for s in self.reader.position().finished if not self._pending_in(s)}
        position = Position(self.reader.stream_arn, shards, finished)
        if position.to_json() != self._saved.to_json():
            try:
                position.save(self.checkpoint)
                self._saved = position
            except OSError as e:
                log.warning("%s: could not save the checkpoint (%s)", self.consumer.name, e)

    def _pending_in(self, shard: str) -> bool:
        return any(s == shard for s, _ in self.consumer.pending)

    def stop(self, timeout: float = 2.0) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(timeout=timeout)
