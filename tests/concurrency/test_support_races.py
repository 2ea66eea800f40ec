"""Staff edit one support ticket at once, over real HTTP on the running local cloud (DynamoDB
Local): every edit is a transaction on the ticket's version, and an edit that loses the race
is re-applied on top of the winner, so no change is lost and history has each change once, in
the order the changes landed. With an explicit ``version`` the losers get 409 StaleVersion."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.concurrency.conftest import api_of, cli, running_cloud
from tests.support import PASSWORD, Api, Resp

pytestmark = pytest.mark.local_cloud

ROUNDS = 4


@pytest.fixture(scope="module")
def cloud():
    # No stream consumers needed: they would only compete for the two cores.
    with running_cloud("dynamodb-local", args=["--poll-interval", "3600"]) as running:
        yield running


def at_once(calls: list[tuple[str, dict[str, Any], str]], path: str, api: Api) -> list[Resp]:
    """PATCH ``path`` with each (body, token) from its own thread, released together."""
    start = threading.Barrier(len(calls))

    def run(call: tuple[str, dict[str, Any], str]) -> Resp:
        _, body, token = call
        start.wait()
        return api.patch(path, body, token=token)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture(scope="module")
def desk(cloud) -> dict[str, Any]:
    api = api_of(cloud)
    made = cli(
        cloud,
        "create-admin",
        "--email",
        "root@example.com",
        "--username",
        "root",
        "--name",
        "Root",
        env={"BOXOFFICE_ADMIN_PASSWORD": PASSWORD},
    )
    assert made.returncode == 0 or "taken" in made.stderr, made.stderr
    admin = api.post("/auth/login", {"username": "root", "password": PASSWORD}).body["access_token"]
    staff = [api.staff(admin, "support") for _ in range(3)]
    creator = api.register()
    return {"api": api, "admin": admin, "staff": staff, "creator": creator}


def test_concurrent_staff_edits_all_land_in_history_in_order(desk):
    api: Api = desk["api"]
    (_, s_token), (tess, t_token), (uma, u_token) = desk["staff"]
    creator_token = desk["creator"][1]
    r = api.post("/support/tickets", {"title": "t", "description": "d", "priority": "low"}, token=creator_token)
    assert r.status == 201, r.body
    path = f"/support/tickets/{r.body['id']}"
    expected_version = 1
    for n in range(ROUNDS):
        wanted = {
            "priority": ("high", "medium")[n % 2],
            "assignee_id": (tess["id"], uma["id"])[n % 2],
            "status": ("in_progress", "open")[n % 2],
            "title": f"title {n}",
            "description": f"description {n}",
        }
        calls = [
            ("priority", {"priority": wanted["priority"]}, s_token),
            ("assignee_id", {"assignee_id": wanted["assignee_id"]}, t_token),
            ("status", {"status": wanted["status"]}, u_token),
            ("title", {"title": wanted["title"]}, desk["admin"]),
            ("description", {"description": wanted["description"]}, creator_token),
        ]
        answers = at_once(calls, path, api)
        assert [a.status for a in answers] == [200] * len(calls), [a.body for a in answers]
        now = api.get(path, token=s_token).body
        assert {k: now[k] for k in wanted} == wanted  # no change lost
        expected_version += len(calls)
        assert now["version"] == expected_version
    entries = api.get(f"{path}/history?limit=100", token=creator_token).body["items"]
    assert [e["version"] for e in entries] == list(range(1, expected_version + 1))
    fields = Counter(c["field"] for e in entries[1:] for c in e["changes"])
    assert fields == {f: ROUNDS for f in ("priority", "assignee_id", "status", "title", "description")}
    # Each entry's "from" is the previous entry's "to" for that field: one consistent order.
    last: dict[str, Any] = {"priority": "low", "assignee_id": None, "status": "open", "title": "t", "description": "d"}
    for entry in entries[1:]:
        for change in entry["changes"]:
            assert change["from"] == last[change["field"]], entry
            last[change["field"]] = change["to"]


def test_with_a_version_exactly_one_concurrent_edit_wins(desk):
    api: Api = desk["api"]
    staff = desk["staff"]
    r = api.post("/support/tickets", {"title": "t", "description": "d", "priority": "low"}, token=desk["creator"][1])
    path = f"/support/tickets/{r.body['id']}"
    priorities = ("emergency", "high", "medium")
    calls = [
        ("priority", {"priority": p, "version": 1}, token) for p, (_, token) in zip(priorities, staff, strict=True)
    ]
    answers = at_once(calls, path, api)
    assert sorted(a.status for a in answers) == [200, 409, 409], [a.body for a in answers]
    assert {a.body["code"] for a in answers if a.status == 409} == {"StaleVersion"}
    winner = next(a.body for a in answers if a.status == 200)
    assert api.get(path, token=staff[0][1]).body["priority"] == winner["priority"]
    assert len(api.get(f"{path}/history", token=staff[0][1]).body["items"]) == 2
