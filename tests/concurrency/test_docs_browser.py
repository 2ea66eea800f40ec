"""/docs in a real browser with no internet: headless Chromium (Debian's ``chromium``, which
``make test`` installs where it is missing) opens the page on a running local cloud with every
host but loopback unresolvable and every proxied request sent to a dead port, and must find the
operations rendered by Swagger UI, with no request leaving 127.0.0.1. A screenshot is kept in
test-artifacts/docs.png."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from tests.concurrency.conftest import running_cloud

pytestmark = pytest.mark.local_cloud

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
OFFLINE = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",  # anything not loopback goes to a closed port
    # The browser's own chatter (sync, updates, spelling): not the page's requests.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-default-browser-check",
    "--disable-spell-checking",
    "--no-pings",
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("no chromium on PATH: `make test` installs Debian's chromium where it may (as root)")
    return found


@pytest.fixture(scope="module")
def cloud():
    with running_cloud("dynamodb-local", args=["--poll-interval", "3600"]) as running:
        yield running


def run(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium(), *OFFLINE, f"--user-data-dir={tmp / 'profile'}", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_docs_page_renders_every_operation_offline(cloud, tmp_path):
    url = f"{cloud.url}/docs"
    net_log = tmp_path / "net.json"
    dom = run("--virtual-time-budget=30000", f"--log-net-log={net_log}", "--dump-dom", url, tmp=tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    paths = set(re.findall(r'class="opblock-summary-path"[^>]*data-path="([^"]+)"', dom.stdout))
    assert {"/support/tickets", "/events/{event_id}/holds", "/auth/login"} <= paths, dom.stdout[-3000:]
    documented = set(requests.get(f"{cloud.url}/openapi.json", timeout=30).json()["paths"])
    assert paths == documented  # every path of the document, rendered as an operation block
    # "Try it out" sends to where the page came from (on AWS, the stage's prefix included).
    assert re.search(rf'<select[^>]*id="servers".*?<option value="{re.escape(cloud.url)}"', dom.stdout, re.S)
    # Every request the page made went to the local cloud (the browser's own calls home carry no
    # initiator and fail anyway: the network is cut).
    made = page_requests(net_log, cloud.url)
    assert {"/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/openapi.json"} <= {
        u.removeprefix(cloud.url).split("?")[0] for u in made
    }
    assert {u for u in made if not u.startswith(cloud.url)} == set()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "docs.png"
    taken = run("--virtual-time-budget=30000", "--window-size=1280,2400", f"--screenshot={shot}", url, tmp=tmp_path)
    assert taken.returncode == 0 and shot.stat().st_size > 10_000, taken.stderr[-2000:]
    print(f"screenshot: {shot}")


def page_requests(net_log: Path, origin: str) -> set[str]:
    """The URLs a page at ``origin`` asked for, from Chromium's NetLog (cut short if still open)."""
    text = net_log.read_text().rstrip().rstrip(",")
    events = json.loads(text if text.endswith("}") else text + "]}")["events"]
    return {
        e["params"]["url"] for e in events if "url" in e.get("params", {}) and e["params"].get("initiator") == origin
    }


def test_the_check_sees_a_page_that_reaches_out(cloud, tmp_path):
    """The check above can fail: the old page, loading Swagger UI from a CDN, is seen asking for it."""
    page = tmp_path / "cdn.html"
    page.write_text('<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>')
    net_log = tmp_path / "net.json"
    run("--virtual-time-budget=5000", f"--log-net-log={net_log}", "--dump-dom", page.as_uri(), tmp=tmp_path)
    text = net_log.read_text()
    assert "unpkg.com/swagger-ui-dist" in text
