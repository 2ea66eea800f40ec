"""The support desk: tickets, their state machine, history, comments and internal notes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.ids import skew_clock
from tests.support import Api


@pytest.fixture
def desk(api: Api) -> dict[str, Any]:
    """A creator, another user, two support staff and an admin, with tokens."""
    admin = api.admin()
    creator, c_token = api.register()
    other, o_token = api.register()
    sam, s_token = api.staff(admin, "support")
    tess, t_token = api.staff(admin, "support")
    return {
        "admin": admin,
        "creator": c_token,
        "creator_id": creator["id"],
        "other": o_token,
        "other_id": other["id"],
        "support": s_token,
        "support_id": sam["id"],
        "support2": t_token,
        "support2_id": tess["id"],
    }


def open_ticket(api: Api, token: str, **overrides: Any) -> dict[str, Any]:
    body = {"title": "Cannot find my tickets", "description": "The email never came.", "priority": "medium"}
    r = api.post("/support/tickets", {**body, **overrides}, token=token)
    assert r.status == 201, r.body
    return r.body  # type: ignore[no-any-return]


def test_a_ticket_opens_and_only_its_people_read_it(api, desk):
    t = open_ticket(api, desk["creator"])
    assert t["status"] == "open" and t["version"] == 1 and t["assignee"] is None
    assert t["creator"]["id"] == desk["creator_id"] and t["creator"]["deleted"] is False
    path = f"/support/tickets/{t['id']}"
    assert api.get(path, token=desk["creator"]).body == t
    assert api.get(path, token=desk["support"]).status == 200
    assert api.get(path, token=desk["admin"]).status == 200
    assert api.get(path, token=desk["other"]).status == 404
    assert api.get(path).status == 401


def edit(api: Api, token: str, ticket: dict[str, Any], method: str = "patch", **fields: Any) -> Any:
    return getattr(api, method)(f"/support/tickets/{ticket['id']}", fields, token=token)


def history(api: Api, token: str, ticket: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(f"/support/tickets/{ticket['id']}/history", token=token)
    assert r.status == 200, r.body
    return r.body["items"]  # type: ignore[no-any-return]


def notifications(api: Api, token: str) -> list[dict[str, Any]]:
    return api.get("/notifications?limit=100", token=token).body["items"]  # type: ignore[no-any-return]


def test_priority_status_and_filters_are_validated_with_the_allowed_values(api, desk):
    r = api.post("/support/tickets", {"title": "x", "description": "y", "priority": "urgent"}, token=desk["creator"])
    assert r.status == 400 and r.body["details"][0]["field"] == "priority"
    assert "emergency" in r.body["details"][0]["message"]
    t = open_ticket(api, desk["creator"])
    r = edit(api, desk["support"], t, status="done")
    assert r.status == 400 and "in_progress" in r.body["details"][0]["message"]
    r = api.get("/support/tickets?status=pending", token=desk["support"])
    assert r.status == 400 and r.body["details"] == [
        {"field": "status", "message": "one of open, in_progress, resolved, closed"}
    ]
    assert api.get("/support/tickets?priority=urgent", token=desk["support"]).status == 400
    assert edit(api, desk["creator"], t, title=None).status == 400
    assert api.get(f"/support/tickets/{t['id']}", token=desk["creator"]).body == t  # nothing changed


def test_a_ticket_links_only_the_callers_own_order_or_event(api, desk):
    _, o_token = api.register()
    event = api.create_event(o_token)
    order = api.buy(desk["creator"], event["id"]).body
    t = open_ticket(api, desk["creator"], order_id=order["id"])
    assert t["order_id"] == order["id"] and t["event_id"] == event["id"]
    assert api.post("/support/tickets", {**_body(), "order_id": order["id"]}, token=desk["other"]).status == 404
    assert api.post("/support/tickets", {**_body(), "event_id": event["id"]}, token=desk["creator"]).status == 404
    assert open_ticket(api, o_token, event_id=event["id"])["event_id"] == event["id"]
    other_event = api.create_event(o_token)
    mismatch = {**_body(), "order_id": order["id"], "event_id": other_event["id"]}
    assert api.post("/support/tickets", mismatch, token=desk["creator"]).status == 400


def _body(**overrides: Any) -> dict[str, Any]:
    return {"title": "Help", "description": "Please.", "priority": "low", **overrides}


def test_lists_go_most_urgent_then_oldest_and_strangers_see_only_their_own(api, desk):
    made = {p: open_ticket(api, desk["creator"], title=f"{p} one", priority=p) for p in ("low", "high", "medium")}
    urgent = open_ticket(api, desk["other"], title="fire", priority="emergency")
    second_high = open_ticket(api, desk["other"], title="high two", priority="high")
    staff = api.get("/support/tickets", token=desk["support"]).body["items"]
    assert [t["title"] for t in staff] == ["fire", "high one", "high two", "medium one", "low one"]
    mine = api.get("/support/tickets", token=desk["creator"]).body["items"]
    assert {t["id"] for t in mine} == {t["id"] for t in made.values()}
    assert api.get("/support/tickets?priority=high", token=desk["support"]).body["items"][1]["id"] == second_high["id"]
    # Paging follows the same order.
    first = api.get("/support/tickets?limit=2", token=desk["support"]).body
    rest = api.get(f"/support/tickets?limit=10&cursor={first['next_cursor']}", token=desk["support"]).body
    assert [t["title"] for t in first["items"] + rest["items"]] == [t["title"] for t in staff]
    # Assignment and status move a ticket between lists, in the same write.
    assert edit(api, desk["support"], urgent, assignee_id=desk["support2_id"], status="in_progress").status == 200
    by_assignee = api.get("/support/tickets?assignee=me", token=desk["support2"]).body["items"]
    assert [t["id"] for t in by_assignee] == [urgent["id"]]
    unassigned = api.get("/support/tickets?assignee=none&status=open", token=desk["support"]).body["items"]
    assert urgent["id"] not in {t["id"] for t in unassigned} and len(unassigned) == 4
    in_progress = api.get("/support/tickets?status=in_progress", token=desk["support"]).body["items"]
    assert [(t["id"], t["status"], t["version"]) for t in in_progress] == [(urgent["id"], "in_progress", 2)]
    by_creator = api.get(f"/support/tickets?creator={desk['other_id']}", token=desk["support"]).body["items"]
    assert [t["title"] for t in by_creator] == ["fire", "high two"]
    # Someone who is not staff: their own list only.
    assert api.get("/support/tickets?assignee=me", token=desk["creator"]).status == 403
    assert api.get(f"/support/tickets?creator={desk['other_id']}", token=desk["creator"]).status == 403
    assert api.get("/support/tickets?creator=me&status=open", token=desk["creator"]).body["items"] == mine


def test_history_keeps_every_kind_of_change_with_who_and_when(api, desk):
    t = open_ticket(api, desk["creator"])
    assert edit(api, desk["creator"], t, title="Still no tickets").status == 200
    assert edit(api, desk["creator"], t, description="Order 42, no email.").status == 200
    assert edit(api, desk["support"], t, priority="high").status == 200
    assert edit(api, desk["support"], t, assignee_id=desk["support2_id"]).status == 200
    assert edit(api, desk["support2"], t, status="in_progress").status == 200
    assert edit(api, desk["support2"], t, status="resolved").status == 200
    # Sending a field with the value it has is no change: nothing to allow, nothing to record.
    same = edit(api, desk["creator"], t, "put", **_fields(api, desk["creator"], t))
    assert same.status == 200 and same.body["version"] == 7
    seen = history(api, desk["creator"], t)
    assert history(api, desk["support"], t) == seen
    assert [h["version"] for h in seen] == [1, 2, 3, 4, 5, 6, 7]
    assert [(c["field"], c["to"]) for h in seen for c in h["changes"]] == [
        ("created", "open"),
        ("title", "Still no tickets"),
        ("description", "Order 42, no email."),
        ("priority", "high"),
        ("assignee_id", desk["support2_id"]),
        ("status", "in_progress"),
        ("status", "resolved"),
    ]
    assert seen[3]["changes"][0]["from"] == "medium"
    actors = [h["actor"]["id"] for h in seen]
    assert actors == [desk["creator_id"]] * 3 + [desk["support_id"]] * 2 + [desk["support2_id"]] * 2
    assert all(h["at"].endswith("Z") for h in seen)
    assert api.get(f"/support/tickets/{t['id']}/history", token=desk["other"]).status == 404


def _fields(api: Api, token: str, ticket: dict[str, Any]) -> dict[str, Any]:
    now = api.get(f"/support/tickets/{ticket['id']}", token=token).body
    return {k: now[k] for k in ("title", "description", "status", "priority", "assignee_id")}


def test_fields_the_caller_may_not_change_are_403_naming_the_field(api, desk):
    t = open_ticket(api, desk["creator"])
    for field, value in (("priority", "high"), ("assignee_id", desk["support_id"]), ("status", "in_progress")):
        r = edit(api, desk["creator"], t, **{field: value})
        assert (r.status, r.body["field"]) == (403, field), r.body
    r = edit(api, desk["support"], t, title="Renamed by staff")
    assert (r.status, r.body["field"]) == (403, "title")
    r = edit(api, desk["support"], t, assignee_id=desk["other_id"])  # not staff
    assert (r.status, r.body["code"]) == (400, "NotStaff")
    r = edit(api, desk["creator"], t, title="Mine", priority="emergency")  # all or nothing
    assert r.status == 403
    assert api.get(f"/support/tickets/{t['id']}", token=desk["creator"]).body["version"] == 1
    assert edit(api, desk["admin"], t, title="Admins edit anything").status == 200


def test_the_state_machine(api, desk):
    t = open_ticket(api, desk["creator"])
    assert edit(api, desk["creator"], t, status="resolved").body["field"] == "status"
    assert edit(api, desk["support"], t, status="resolved").body["resolved_at"] is not None
    reopened = edit(api, desk["creator"], t, status="open")
    assert reopened.status == 200 and reopened.body["resolved_at"] is None
    assert edit(api, desk["support"], t, status="resolved").status == 200
    try:
        skew_clock(timedelta(days=15))
        late = edit(api, desk["creator"], t, status="open")
        assert (late.status, late.body["code"]) == (409, "ReopenWindowPassed")
        assert edit(api, desk["creator"], t, status="closed").body["closed_at"] is not None
    finally:
        skew_clock(timedelta(0))
    r = edit(api, desk["creator"], t, status="open")
    assert (r.status, r.body["code"]) == (409, "InvalidTransition")
    assert edit(api, desk["creator"], t, status="in_progress").status == 403
    assert edit(api, desk["creator"], t, title="After the fact").body["code"] == "TicketClosed"
    assert edit(api, desk["support"], t, status="resolved").body["code"] == "InvalidTransition"
    assert edit(api, desk["support"], t, priority="low").body["code"] == "TicketClosed"
    back = edit(api, desk["support"], t, status="in_progress")
    assert back.status == 200 and back.body["closed_at"] is None
    assert [c["to"] for h in history(api, desk["creator"], t) for c in h["changes"]][1:] == [
        "resolved",
        "open",
        "resolved",
        "closed",
        "in_progress",
    ]


def test_a_stale_version_is_409_and_changes_nothing(api, desk):
    t = open_ticket(api, desk["creator"])
    assert edit(api, desk["support"], t, priority="high", version=1).status == 200
    r = edit(api, desk["support2"], t, priority="low", version=1)
    assert (r.status, r.body["code"], r.body["version"]) == (409, "StaleVersion", 2)
    assert api.get(f"/support/tickets/{t['id']}", token=desk["creator"]).body["priority"] == "high"


def test_internal_notes_never_reach_the_creator(api, desk, stream):
    t = open_ticket(api, desk["creator"])
    edit(api, desk["support"], t, assignee_id=desk["support2_id"])
    r = api.post(f"/support/tickets/{t['id']}/comments", {"body": "zebra", "internal": True}, token=desk["creator"])
    assert (r.status, r.body["field"]) == (403, "internal")
    note = api.post(
        f"/support/tickets/{t['id']}/comments",
        {"body": "Creator is a known chargeback risk: xylophone", "internal": True},
        token=desk["support"],
    ).body
    public = api.post(f"/support/tickets/{t['id']}/comments", {"body": "We are on it."}, token=desk["support"]).body
    stream.flush()
    leaked = "xylophone"
    # The comments list, the comment itself, the ticket, its history, notifications, search.
    listed = api.get(f"/support/tickets/{t['id']}/comments", token=desk["creator"]).body["items"]
    assert [c["id"] for c in listed] == [public["id"]]
    for method in ("get", "delete"):
        assert getattr(api, method)(f"/support/comments/{note['id']}", token=desk["creator"]).status == 404
    assert api.patch(f"/support/comments/{note['id']}", {"body": "x"}, token=desk["creator"]).status == 404
    seen_by_creator = [
        api.get(f"/support/tickets/{t['id']}", token=desk["creator"]).body,
        history(api, desk["creator"], t),
        notifications(api, desk["creator"]),
        api.get(f"/search?q={leaked}", token=desk["creator"]).body,
        api.get("/support/tickets", token=desk["creator"]).body,
    ]
    assert leaked not in repr(seen_by_creator)
    assert "note" not in {n["kind"].split("_")[-1] for n in notifications(api, desk["creator"])}
    # Staff see both, in order; the assignee heard of the note.
    staff_view = api.get(f"/support/tickets/{t['id']}/comments", token=desk["support2"]).body["items"]
    assert [c["id"] for c in staff_view] == [note["id"], public["id"]]
    assert [n["kind"] for n in notifications(api, desk["support2"]) if n["kind"] == "support_note"] == ["support_note"]
    # Making a public comment internal takes it out of the creator's list.
    assert api.patch(f"/support/comments/{public['id']}", {"internal": True}, token=desk["support"]).status == 200
    assert api.get(f"/support/tickets/{t['id']}/comments", token=desk["creator"]).body["items"] == []


def test_creator_and_assignee_hear_of_changes_and_public_comments(api, desk, stream):
    t = open_ticket(api, desk["creator"])
    edit(api, desk["support"], t, assignee_id=desk["support2_id"])
    edit(api, desk["support2"], t, status="in_progress")
    api.post(f"/support/tickets/{t['id']}/comments", {"body": "Any news?"}, token=desk["creator"])
    api.post(f"/support/tickets/{t['id']}/comments", {"body": "Found it."}, token=desk["support2"])
    stream.flush()
    stream.flush()  # a redelivered batch tells nobody twice

    def kinds(token: str) -> list[str]:
        return sorted(n["kind"] for n in notifications(api, token) if n["data"].get("ticket_id") == t["id"])

    assert kinds(desk["creator"]) == ["support_comment", "support_ticket_changed", "support_ticket_changed"]
    assert kinds(desk["support2"]) == ["support_comment", "support_ticket_assigned"]
    assert kinds(desk["support"]) == []  # the actor is not told of their own change
    bodies = [n["body"] for n in notifications(api, desk["creator"])]
    assert any("status open → in_progress" in b for b in bodies), bodies
    assert any("assigned to Staff support" in b for b in bodies), bodies


def test_comments_are_edited_by_their_author_and_deleted(api, desk):
    t = open_ticket(api, desk["creator"])
    c = api.post(f"/support/tickets/{t['id']}/comments", {"body": "First"}, token=desk["creator"]).body
    path = f"/support/comments/{c['id']}"
    assert api.get(path, token=desk["support"]).body == c
    r = api.patch(path, {"body": "First, edited"}, token=desk["creator"])
    assert r.status == 200 and r.body["version"] == 2
    assert api.patch(path, {"body": "Hijacked"}, token=desk["support"]).body["field"] == "body"
    assert api.put(path, {"body": "Second", "internal": False, "version": 1}, token=desk["creator"]).status == 409
    assert api.put(path, {"body": "Admin edit", "internal": False}, token=desk["admin"]).status == 200
    assert api.delete(path, token=desk["support"]).status == 403
    assert api.delete(path, token=desk["creator"]).status == 204
    assert api.get(path, token=desk["creator"]).status == 404


def test_deleting_a_ticket_removes_it_from_lists_then_its_history_and_comments(api, desk, stream):
    from chalicelib.store import keys
    from chalicelib.store.table import Item

    t = open_ticket(api, desk["creator"])
    api.post(f"/support/tickets/{t['id']}/comments", {"body": "note", "internal": True}, token=desk["support"])
    edit(api, desk["support"], t, priority="high")
    path = f"/support/tickets/{t['id']}"
    assert api.delete(path, token=desk["other"]).status == 404
    assert api.delete(path, token=desk["support"]).status == 403
    assert api.delete(path, token=desk["creator"]).status == 204
    assert api.get(path, token=desk["creator"]).status == 404
    assert api.get("/support/tickets", token=desk["support"]).body["items"] == []
    stream.flush()
    assert list(Item.query(keys.support_partition(t["id"]))) == []
    assert list(Item.gsi2.query(keys.support_comments(t["id"]))) == []


def test_an_idempotency_key_opens_one_ticket(api, desk):
    headers = {"Idempotency-Key": "ticket-1"}
    first = api.post("/support/tickets", _body(), token=desk["creator"], headers=headers)
    again = api.post("/support/tickets", _body(), token=desk["creator"], headers=headers)
    assert first.status == again.status == 201 and first.body["id"] == again.body["id"]
    assert api.post("/support/tickets", _body(title="Other"), token=desk["creator"], headers=headers).status == 409
    assert len(api.get("/support/tickets", token=desk["creator"]).body["items"]) == 1
