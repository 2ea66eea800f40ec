"""python -m bench [calls] [cold_import] [throughput] [stream_lag] [invoice_throughput] [scale] [faults]
                 [moto_transactions] [seats] [search] [feed] [recommendations] [fanout] [flash_sale]
                 [purchase_cpu]
(all when none is named; the history checker is `python -m bench.history`)

Each benchmark runs in a fresh interpreter: they set up different AWS
endpoints, and clients cached by one must not leak into the next.
"""

from __future__ import annotations

import subprocess
import sys

ALL = [
    "calls",
    "cold_import",
    "throughput",
    "stream_lag",
    "invoice_throughput",
    "scale",
    "faults",
    "moto_transactions",
    "seats",
    "search",
    "feed",
    "recommendations",
    "fanout",
    "flash_sale",
    "purchase_cpu",
]


def main(argv: list[str]) -> int:
    failed = 0
    for name in argv or ALL:
        if name not in ALL:
            print(f"unknown benchmark {name!r}: one of {', '.join(ALL)}", file=sys.stderr)
            return 2
        print(f"\n== {name} ==", flush=True)
        failed |= subprocess.run([sys.executable, "-m", f"bench.{name}"]).returncode
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
