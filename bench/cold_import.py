"""Cold import of the app vs a bare Chalice + boto3 + PynamoDB import, in one run.

Each import runs in a fresh interpreter, alternating, several times; the
medians are compared.

Both sides import from bytecode, as a deployment package should ship it: the installed
libraries have their ``.pyc`` files (pip writes them), and the app's own sources get theirs in a
temporary ``PYTHONPYCACHEPREFIX`` written by the first, warming run. Without that, under
``PYTHONDONTWRITEBYTECODE`` (set in some shells and CI), every run would compile the app's ~100
source files and none of the libraries', which measures the compiler rather than the imports; that
ratio is printed too, second.

Wall time is what a cold start waits; each child's CPU time (user + system, from the kernel) is
printed too, as it hardly moves when other work shares the machine and wall time does.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 9
APP = "import app"
BARE = "import chalice, boto3, pynamodb.models, pynamodb.attributes"


def once(code: str, env: dict[str, str]) -> tuple[float, float]:
    """The child's wall time and CPU time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def medians(env: dict[str, str]) -> dict[str, tuple[float, float]]:
    """{code: (median wall, median CPU)}, the app's and the bare import's runs alternating."""
    once(APP, env), once(BARE, env)  # warm the OS file cache for both (and write the bytecode)
    runs: dict[str, list[tuple[float, float]]] = {APP: [], BARE: []}
    for _ in range(RUNS):
        for code in (APP, BARE):
            runs[code].append(once(code, env))
    return {
        code: (statistics.median(w for w, _ in times), statistics.median(c for _, c in times))
        for code, times in runs.items()
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="boxoffice-pyc-") as cache:
        compiled = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        compiled["PYTHONPYCACHEPREFIX"] = cache
        timed = medians(compiled)
    source = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}
    source["PYTHONDONTWRITEBYTECODE"] = "1"
    from_source = medians(source)
    for code in (APP, BARE):
        wall, cpu = timed[code]
        print(f"python -c '{code}': median {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU over {RUNS} runs")
    (app_wall, app_cpu), (bare_wall, bare_cpu) = timed[APP], timed[BARE]
    print(f"cold import ratio app / bare = {app_wall / bare_wall:.2f}")
    print(f"  the same in CPU time: {app_cpu / bare_cpu:.2f}")
    (app_wall, app_cpu), (bare_wall, bare_cpu) = from_source[APP], from_source[BARE]
    print(
        f"  the app compiled from source every run (PYTHONDONTWRITEBYTECODE=1): {app_wall * 1000:.0f} ms"
        f" vs {bare_wall * 1000:.0f} ms wall, ratio {app_wall / bare_wall:.2f} (CPU {app_cpu / bare_cpu:.2f})"
    )


if __name__ == "__main__":
    main()
