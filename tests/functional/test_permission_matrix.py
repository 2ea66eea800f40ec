"""The permission matrix (issue 9): every support-desk and user-admin route by who calls it.

``MATRIX`` is the one table of expected statuses, read off the contract (API.md "Roles and
permissions", "Users", "Support desk", ``POST /auth/register/admin``) and the rules in
chalicelib/domain/support.py, not off what the code answers. Its columns are the callers:

- ``anonymous``: no token (401 everywhere: every route here needs a signed-in caller);
- ``creator``: the ticket's (or comment's) creator, a plain ``user``; on the user routes the
  target user themselves (``GET /users`` and ``POST /auth/register/admin``: a plain user);
- ``other``: another plain user, a stranger to the ticket (404 on what they may not see) and
  not the target user (403 where they lack the right: users are visible to the signed-in);
- ``support``: role ``support`` (tickets: read all, manage, assign; nothing else);
- ``admin``: role ``admin`` (every permission).

One test per row, on its own table (moto copies the whole table on each transaction, so a
table shared by all the rows makes every cell slower than the last): the callers, and a ticket
with a public comment and an internal note that no cell changes, are made once per row; a cell
whose call changes something gets its own ticket, comment or target user, so no cell depends on
another. A row checks all its cells and then lists every one that disagrees.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support import PASSWORD, Api

CALLERS = ("anonymous", "creator", "other", "support", "admin")

# Cells the contract does not spell out word for word:
# - ?assignee= is a staff filter ("with can_view_all or can_manage_tickets all, filtered by"): 403 without;
# - title/description: the creator, and admin through can_edit_all (FIELD_RULES); support lacks it: 403;
# - GET /support/comments/{id}: whoever reads the ticket; an internal note only staff (the creator: 404);
# - public->internal: PATCH /support/comments/{id} is "author or can_edit_all / can_delete_all" (docs/API.md:
#   `internal` needs the same *and* can_manage_tickets): the creator lacks the one, support the other: 403.
# fmt: off
MATRIX: dict[str, tuple[int, int, int, int, int]] = {
    #                                              anonymous creator other support admin
    "POST /support/tickets":                         (401,    201,    201,   201,  201),
    "GET /support/tickets":                          (401,    200,    200,   200,  200),
    "GET /support/tickets?assignee=me":              (401,    403,    403,   200,  200),
    "GET /support/tickets/{id}":                     (401,    200,    404,   200,  200),
    "PATCH /support/tickets/{id} title":             (401,    200,    404,   403,  200),
    "PATCH /support/tickets/{id} status=closed":     (401,    200,    404,   200,  200),
    "PATCH /support/tickets/{id} priority":          (401,    403,    404,   200,  200),
    "PATCH /support/tickets/{id} assignee_id":       (401,    403,    404,   200,  200),
    "PUT /support/tickets/{id} title+description":   (401,    200,    404,   403,  200),
    "DELETE /support/tickets/{id}":                  (401,    204,    404,   403,  204),
    "GET /support/tickets/{id}/history":             (401,    200,    404,   200,  200),
    "POST /support/tickets/{id}/comments public":    (401,    201,    404,   201,  201),
    "POST /support/tickets/{id}/comments internal":  (401,    403,    404,   201,  201),
    "GET /support/tickets/{id}/comments":            (401,    200,    404,   200,  200),
    "GET /support/comments/{id} public":             (401,    200,    404,   200,  200),
    "PATCH /support/comments/{id} public":           (401,    200,    404,   403,  200),
    "PATCH /support/comments/{id} public->internal": (401,    403,    404,   403,  200),
    "PUT /support/comments/{id} public":             (401,    200,    404,   403,  200),
    "DELETE /support/comments/{id} public":          (401,    204,    404,   403,  204),
    "GET /support/comments/{id} internal note":      (401,    404,    404,   200,  200),
    "POST /auth/register/admin":                     (401,    403,    403,   403,  201),
    "GET /users":                                    (401,    200,    200,   200,  200),
    "GET /users/{id}":                               (401,    200,    200,   200,  200),
    "PATCH /users/{id} name":                        (401,    200,    403,   403,  200),
    "PATCH /users/{id} role":                        (401,    403,    403,   403,  200),
    "PUT /users/{id}":                               (401,    200,    403,   403,  200),
    "DELETE /users/{id}":                            (401,    204,    403,   403,  204),
}
# fmt: on

TICKET = {"title": "Cannot find my tickets", "description": "The email never came.", "priority": "medium"}
_unique = itertools.count(1)


@dataclass
class World:
    api: Api
    tokens: dict[str, str | None]
    ids: dict[str, str]
    ticket: str  # opened by the creator; read-only: no cell changes it
    comment: str  # a public comment by the creator on it
    note: str  # an internal note by support on it


def open_ticket(w: World) -> str:
    r = w.api.post("/support/tickets", TICKET, token=w.tokens["creator"])
    assert r.status == 201, r.body
    return r.body["id"]  # type: ignore[no-any-return]


def write_comment(w: World, ticket_id: str, token: str | None, internal: bool = False) -> str:
    r = w.api.post(f"/support/tickets/{ticket_id}/comments", {"body": "Any news?", "internal": internal}, token=token)
    assert r.status == 201, r.body
    return r.body["id"]  # type: ignore[no-any-return]


@pytest.fixture
def world(api: Api) -> World:
    """The callers, and a ticket with a public comment and an internal note that no cell changes."""
    admin = api.admin()
    creator, c_token = api.register()
    other, o_token = api.register()
    staff, s_token = api.staff(admin, "support")
    tokens = {"anonymous": None, "creator": c_token, "other": o_token, "support": s_token, "admin": admin}
    ids = {"creator_id": creator["id"], "other_id": other["id"], "support_id": staff["id"]}
    w = World(api, tokens, ids, "", "", "")
    w.ticket = open_ticket(w)
    w.comment = write_comment(w, w.ticket, c_token)
    w.note = write_comment(w, w.ticket, s_token, internal=True)
    return w


# --- what each row calls, on what data ----------------------------------------------------------
# A setup returns the values its path and body need; "self" is the token of the ``creator``
# column (the ticket's creator, or the target user on the user routes).


def shared(w: World) -> dict[str, Any]:
    return {**w.ids, "self": w.tokens["creator"], "ticket": w.ticket, "comment": w.comment, "note": w.note}


def fresh_ticket(w: World) -> dict[str, Any]:
    return {**shared(w), "ticket": open_ticket(w)}


def fresh_comment(w: World) -> dict[str, Any]:
    return {**shared(w), "comment": write_comment(w, open_ticket(w), w.tokens["creator"])}


def fresh_user(w: World) -> dict[str, Any]:
    user, token = w.api.register()
    return {**shared(w), "user": user["id"], "self": token, "target": user}


def shared_user(w: World) -> dict[str, Any]:
    return {**shared(w), "user": w.ids["creator_id"]}


def new_account(_ctx: dict[str, Any]) -> dict[str, Any]:
    name = f"matrix{next(_unique)}staff"
    return {"email": f"{name}@example.com", "username": name, "name": "Staff", "password": PASSWORD, "role": "support"}


Body = Callable[[dict[str, Any]], Any] | None
Setup = Callable[[World], dict[str, Any]]
T, C = "/support/tickets/{ticket}", "/support/comments/{comment}"
CALLS: dict[str, tuple[str, str, Body, Setup]] = {
    "POST /support/tickets": ("POST", "/support/tickets", lambda _: TICKET, shared),
    "GET /support/tickets": ("GET", "/support/tickets", None, shared),
    "GET /support/tickets?assignee=me": ("GET", "/support/tickets?assignee=me", None, shared),
    "GET /support/tickets/{id}": ("GET", T, None, shared),
    "PATCH /support/tickets/{id} title": ("PATCH", T, lambda _: {"title": "Still no tickets"}, fresh_ticket),
    "PATCH /support/tickets/{id} status=closed": ("PATCH", T, lambda _: {"status": "closed"}, fresh_ticket),
    "PATCH /support/tickets/{id} priority": ("PATCH", T, lambda _: {"priority": "high"}, fresh_ticket),
    "PATCH /support/tickets/{id} assignee_id": (
        "PATCH",
        T,
        lambda ctx: {"assignee_id": ctx["support_id"]},
        fresh_ticket,
    ),
    "PUT /support/tickets/{id} title+description": (
        "PUT",
        T,
        lambda _: {**TICKET, "title": "Renamed", "description": "Reworded.", "status": "open", "assignee_id": None},
        fresh_ticket,
    ),
    "DELETE /support/tickets/{id}": ("DELETE", T, None, fresh_ticket),
    "GET /support/tickets/{id}/history": ("GET", f"{T}/history", None, shared),
    "POST /support/tickets/{id}/comments public": ("POST", f"{T}/comments", lambda _: {"body": "Hi"}, fresh_ticket),
    "POST /support/tickets/{id}/comments internal": (
        "POST",
        f"{T}/comments",
        lambda _: {"body": "Staff only", "internal": True},
        fresh_ticket,
    ),
    "GET /support/tickets/{id}/comments": ("GET", f"{T}/comments", None, shared),
    "GET /support/comments/{id} public": ("GET", C, None, shared),
    "PATCH /support/comments/{id} public": ("PATCH", C, lambda _: {"body": "Edited"}, fresh_comment),
    "PATCH /support/comments/{id} public->internal": ("PATCH", C, lambda _: {"internal": True}, fresh_comment),
    "PUT /support/comments/{id} public": ("PUT", C, lambda _: {"body": "Edited", "internal": False}, fresh_comment),
    "DELETE /support/comments/{id} public": ("DELETE", C, None, fresh_comment),
    "GET /support/comments/{id} internal note": ("GET", "/support/comments/{note}", None, shared),
    "POST /auth/register/admin": ("POST", "/auth/register/admin", new_account, shared),
    "GET /users": ("GET", "/users", None, shared),
    "GET /users/{id}": ("GET", "/users/{user}", None, shared_user),
    "PATCH /users/{id} name": ("PATCH", "/users/{user}", lambda _: {"name": "Renamed"}, fresh_user),
    "PATCH /users/{id} role": ("PATCH", "/users/{user}", lambda _: {"role": "organizer"}, fresh_user),
    "PUT /users/{id}": (
        "PUT",
        "/users/{user}",
        lambda ctx: {"email": ctx["target"]["email"], "username": ctx["target"]["username"], "name": "Replaced"},
        fresh_user,
    ),
    "DELETE /users/{id}": ("DELETE", "/users/{user}", None, fresh_user),
}

assert set(CALLS) == set(MATRIX), "every row of the matrix says how it is called"


@pytest.mark.parametrize("row", MATRIX)
def test_permission_matrix(world: World, row: str) -> None:
    """One row of ``MATRIX``: each caller's status, every cell checked before the row fails."""
    method, path, body, setup = CALLS[row]
    wrong = {}
    for caller, expected in zip(CALLERS, MATRIX[row], strict=True):
        ctx = setup(world)  # fresh data for each cell whose call changes something
        token = ctx["self"] if caller == "creator" else world.tokens[caller]
        r = world.api.request(method, path.format(**ctx), body(ctx) if body else None, token=token)
        if r.status != expected:
            code = r.body.get("code") if isinstance(r.body, dict) else r.body
            wrong[caller] = f"{r.status} {code} (contract: {expected})"
    assert not wrong, f"{row}: {wrong}"
