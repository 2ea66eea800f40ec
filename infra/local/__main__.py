"""python -m infra.local run [--backend moto|dynamodb-local|localstack|endpoint] [--port 8000]"""

from __future__ import annotations

import argparse
import os
import sys

from infra.local import backends, cloud


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the local cloud and serve the API")
    run.add_argument("--backend", choices=backends.BACKENDS, default=os.environ.get("BACKEND", "moto"))
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")), help="API port (env PORT)")
    run.add_argument(
        "--aws-port",
        type=int,
        default=int(os.environ.get("AWS_PORT", "0")),
        help="port of the embedded AWS endpoint (default: a free one)",
    )
    run.add_argument("--endpoint-url", default=None, help="for --backend endpoint/localstack")
    run.add_argument("--table", default=os.environ.get("BOXOFFICE_TABLE", cloud.DEFAULT_TABLE))
    run.add_argument("--reload", action="store_true", help="restart the API when code changes")
    args = parser.parse_args(argv)
    return cloud.run(args)


if __name__ == "__main__":
    sys.exit(main())
