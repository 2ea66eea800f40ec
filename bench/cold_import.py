"""Cold import of the app vs a bare Chalice + boto3 + PynamoDB import, in one run.

Each import runs in a fresh interpreter, alternating, several times; the
medians are compared.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 9
APP = "import app"
BARE = "import chalice, boto3, pynamodb.models, pynamodb.attributes"


def once(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    return time.perf_counter() - start


def main() -> None:
    once(APP), once(BARE)  # warm the OS file cache for both
    app_times, bare_times = [], []
    for _ in range(RUNS):
        app_times.append(once(APP))
        bare_times.append(once(BARE))
    app_s, bare_s = statistics.median(app_times), statistics.median(bare_times)
    print(f"python -c '{APP}': median {app_s * 1000:.0f} ms over {RUNS} runs")
    print(f"python -c '{BARE}': median {bare_s * 1000:.0f} ms over {RUNS} runs")
    print(f"cold import ratio app / bare = {app_s / bare_s:.2f}")


if __name__ == "__main__":
    main()
