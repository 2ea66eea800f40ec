"""The local cloud.

python -m infra.local run [--backend dynamodb-local|moto|localstack|endpoint] [--port 8000] [--faults SPEC]
                          [--workers N] [--partition-wcu WCU]
python -m infra.local mail      # the emails SES accepted (embedded moto endpoint)
python -m infra.local parked    # stream records the poller gave up on
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import urllib.request
from typing import Any

from infra.local import backends, cloud


def _running_env() -> dict[str, str]:
    env = cloud.read_env_file()
    if not env:
        raise SystemExit("the local cloud is not running here (no .local-cloud/env): start it with `make run`")
    return env


def mail() -> int:
    url = _running_env()["AWS_ENDPOINT_URL"] + backends.MAIL_PATH
    with urllib.request.urlopen(url, timeout=10) as r:
        messages = json.load(r)["messages"]
    for m in messages:
        print(f"--- {m['id']}\nFrom: {m['from']}\nTo: {', '.join(m['to'])}\nSubject: {m['subject']}\n\n{m['body']}\n")
    print(f"{len(messages)} message(s)")
    return 0


def parked() -> int:
    parked_file = cloud.StateDir(cloud.STATE).parked
    if not parked_file.exists():
        print("no parked records")
        return 0
    entries = [json.loads(line) for line in parked_file.read_text().splitlines() if line]
    for e in entries:
        print(f"{e['consumer']}: record {e['sequence_number']} after {e['attempts']} attempts: {e['reason']}")
    print(f"{len(entries)} parked record(s); full records in {parked_file}")
    return 0


def positive(kind: type[int] | type[float]) -> Any:
    """An argparse type: a finite number above 0 (whole for ``int``)."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole' if kind is int else 'a'} number") from None
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"{text} is not a number above 0")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the local cloud and serve the API")
    backend = os.environ.get("BACKEND") or backends.DEFAULT_BACKEND
    run.add_argument("--backend", choices=backends.BACKENDS, default=backend, help="(env BACKEND)")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")), help="API port (env PORT)")
    run.add_argument("--aws-port", type=int, default=int(os.environ.get("AWS_PORT", "0")),
                     help="port of the embedded AWS endpoint (default: a free one)")  # fmt: skip
    run.add_argument("--endpoint-url", default=None, help="for --backend endpoint/localstack")
    run.add_argument("--table", default=os.environ.get("BOXOFFICE_TABLE", cloud.DEFAULT_TABLE))
    run.add_argument("--reload", action="store_true", help="restart the API when code changes")
    run.add_argument("--poll-interval", type=float, default=float(os.environ.get("POLL_INTERVAL", "0.2")),
                     help="seconds between stream polls")  # fmt: skip
    run.add_argument("--max-retries", type=int, default=5,
                     help="retries of a failing record before it is parked (MaximumRetryAttempts)")  # fmt: skip
    faults_help = "inject DynamoDB faults (env FAULTS), e.g. throttle:0.05,conflict:0.02,lost-answer:0.02"
    run.add_argument("--faults", default=os.environ.get("FAULTS") or None, help=faults_help)
    run.add_argument("--fresh", action="store_true", help="start with an empty table (wipes .local-cloud/dynamodb)")
    run.add_argument("--in-memory", action="store_true",
                     help="DynamoDB Local keeps its data in memory: faster writes, gone when stopped")  # fmt: skip
    cores = os.cpu_count() or 1
    workers_help = (
        "chalice local processes serving the API on its one port, as Lambda runs concurrent requests "
        f"in processes of their own (env WORKERS; default: one per core, {cores}; 1 with --reload)"
    )
    run.add_argument("--workers", type=positive(int), default=os.environ.get("WORKERS") or str(cores),
                     help=workers_help)  # fmt: skip
    run.add_argument("--partition-wcu", type=positive(float), default=os.environ.get("PARTITION_WCU") or None,
                     help="throttle writes beyond this many WCU per second per partition, as DynamoDB does "
                     "(env PARTITION_WCU; default: no limit)")  # fmt: skip
    run.add_argument("--no-streams", dest="streams", action="store_false",
                     help="serve the API without the stream pollers and the scheduler")  # fmt: skip
    sub.add_parser("mail", help="print the emails the embedded SES accepted")
    sub.add_parser("parked", help="print the stream records the poller parked")
    args = parser.parse_args(argv)
    if args.command == "mail":
        return mail()
    if args.command == "parked":
        return parked()
    return cloud.run(args)


if __name__ == "__main__":
    sys.exit(main())
