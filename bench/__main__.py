"""python -m bench [calls] [cold_import] [throughput] [stream_lag] [invoice_throughput]   (all when none is named)"""

from __future__ import annotations

import importlib
import sys

ALL = ["calls", "cold_import", "throughput", "stream_lag", "invoice_throughput"]


def main(argv: list[str]) -> int:
    for name in argv or ALL:
        if name not in ALL:
            print(f"unknown benchmark {name!r}: one of {', '.join(ALL)}", file=sys.stderr)
            return 2
        print(f"\n== {name} ==", flush=True)
        importlib.import_module(f"bench.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
