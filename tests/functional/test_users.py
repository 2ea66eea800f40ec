"""Users: listing, reading, editing and deleting, with the owner/permission rules."""

from __future__ import annotations

import json

import boto3
from click.testing import CliRunner

from chalicelib.cli import cli
from chalicelib.settings import get_settings
from tests.support import PASSWORD


def admin_token(api):
    CliRunner().invoke(
        cli,
        ["create-admin", "--email", "root@example.com", "--username", "root", "--name", "Root"],
        env={"BOXOFFICE_ADMIN_PASSWORD": PASSWORD},
    )
    return api.post("/auth/login", {"username": "root", "password": PASSWORD}).body["access_token"]


def test_strangers_never_see_private_fields(api):
    alice, a_token = api.register()
    bob, b_token = api.register()
    seen = api.get(f"/users/{alice['id']}", token=b_token)
    assert seen.status == 200
    assert set(seen.body) == {"id", "username", "name", "role", "created_at"}
    listed = api.get("/users", token=b_token).body["items"]
    assert len(listed) == 2
    assert all(("email" in u) == (u["id"] == bob["id"]) for u in listed)
    assert "email" in api.get(f"/users/{alice['id']}", token=a_token).body
    assert "email" in api.get(f"/users/{alice['id']}", token=admin_token(api)).body


def test_users_list_needs_a_token_and_paginates(api):
    assert api.get("/users").status == 401
    tokens = [api.register()[1] for _ in range(5)]
    seen, cursor = [], None
    while True:
        path = "/users?limit=2" + (f"&cursor={cursor}" if cursor else "")
        r = api.get(path, token=tokens[0])
        assert r.status == 200 and len(r.body["items"]) <= 2
        seen += [u["id"] for u in r.body["items"]]
        cursor = r.body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5


def test_users_q_is_a_partial_case_insensitive_match(api, stream):
    for name in ("tommy", "amy", "Sammy", "bob"):
        api.register(name)
    _, token = api.register("zed")
    stream.flush()  # the search index is kept by the activity consumer
    r = api.get("/users?q=MY", token=token)
    assert sorted(u["username"] for u in r.body["items"]) == ["Sammy", "amy", "tommy"]


def test_bad_paging_parameters_are_400(api):
    _, token = api.register()
    for query in ("limit=0", "limit=101", "limit=abc", "cursor=garbage", "cursor=eyJhIjoxfQ.0000"):
        r = api.get(f"/users?{query}", token=token)
        assert r.status == 400, (query, r.body)


def test_cursor_of_one_query_does_not_resume_another(api):
    _, token = api.register()
    for _ in range(3):
        api.register()
    cursor = api.get("/users?limit=1", token=token).body["next_cursor"]
    assert cursor
    assert api.get(f"/orders?cursor={cursor}", token=token).status == 400
    assert api.get(f"/users?q=user&cursor={cursor}", token=token).status == 400


def test_edit_own_profile_but_not_others(api):
    alice, a_token = api.register()
    _, b_token = api.register()
    r = api.patch(f"/users/{alice['id']}", {"name": "Alice Liddell"}, token=a_token)
    assert r.status == 200 and r.body["name"] == "Alice Liddell"
    assert api.patch(f"/users/{alice['id']}", {"name": "Hacked"}, token=b_token).status == 403
    assert api.patch(f"/users/{alice['id']}", {"role": "admin"}, token=a_token).status == 403
    assert api.get(f"/users/{alice['id']}", token=b_token).body["name"] == "Alice Liddell"
    assert api.patch("/users/nope", {"name": "x"}, token=a_token).status == 404
    assert api.patch(f"/users/{alice['id']}", {"nickname": "x"}, token=a_token).status == 400


def test_admin_changes_roles(api):
    alice, a_token = api.register()
    root = admin_token(api)
    r = api.patch(f"/users/{alice['id']}", {"role": "organizer"}, token=root)
    assert r.status == 200 and r.body["role"] == "organizer"
    assert api.get("/me", token=a_token).body["role"] == "organizer"


def test_username_and_email_moves_keep_uniqueness(api):
    alice, a_token = api.register("alice")
    api.register("bob")
    pw = {"current_password": PASSWORD}
    assert api.patch(f"/users/{alice['id']}", {"username": "BOB", **pw}, token=a_token).status == 409
    r = api.patch(f"/users/{alice['id']}", {"username": "alicia", "email": "alicia@example.com", **pw}, token=a_token)
    assert r.status == 200, r.body
    # The old names are free again; the new ones are taken.
    assert (
        api.post(
            "/auth/register", {"email": "alice@example.com", "username": "alice", "name": "New", "password": PASSWORD}
        ).status
        == 201
    )
    assert (
        api.post(
            "/auth/register",
            {"email": "alicia@example.com", "username": "x_alicia", "name": "New", "password": PASSWORD},
        ).status
        == 409
    )
    assert api.post("/auth/login", {"username": "alicia", "password": PASSWORD}).status == 200


def test_put_replaces_and_requires_every_field(api):
    alice, token = api.register()
    r = api.put(f"/users/{alice['id']}", {"name": "Only name"}, token=token)
    assert r.status == 400 and {d["field"] for d in r.body["details"]} == {"email", "username"}
    body = {"email": "new@example.com", "username": "newname", "name": "New Name"}
    r = api.put(f"/users/{alice['id']}", {**body, "current_password": PASSWORD}, token=token)
    assert r.status == 200 and {k: r.body[k] for k in body} == body


def test_delete_self_then_the_token_is_dead(api):
    alice, a_token = api.register()
    _, b_token = api.register()
    assert api.delete(f"/users/{alice['id']}", token=b_token).status == 403
    assert api.delete(f"/users/{alice['id']}", token=a_token).status == 204
    assert api.get("/me", token=a_token).status == 401
    assert api.get(f"/users/{alice['id']}", token=b_token).status == 404


def test_changing_how_you_sign_in_needs_the_current_password(api):
    alice, token = api.register("alice")
    for change in ({"email": "thief@example.com"}, {"username": "thief"}, {"password": "a brand new passphrase"}):
        for extra in ({}, {"current_password": "not my password 1"}):
            r = api.patch(f"/users/{alice['id']}", {**change, **extra}, token=token)
            assert r.status == 403 and r.body["code"] == "WrongPassword", (change, extra, r.body)
    me = api.get("/me", token=token).body
    assert (me["email"], me["username"]) == ("alice@example.com", "alice")
    # A name is not a credential; and a user manager needs no password of the user.
    assert api.patch(f"/users/{alice['id']}", {"name": "Alice L."}, token=token).status == 200
    r = api.patch(f"/users/{alice['id']}", {"email": "alice2@example.com"}, token=admin_token(api))
    assert r.status == 200 and r.body["email"] == "alice2@example.com"


# --- issue 9: user administration -----------------------------------------------------------------


def test_a_deleted_accounts_email_and_username_are_free_at_once(api):
    alice, old_token = api.register("alice")
    assert api.delete(f"/users/{alice['id']}", token=old_token).status == 204
    body = {
        "email": "ALICE@example.com",
        "username": "alice",
        "name": "Another Alice",
        "password": "a new passphrase 99",
    }
    again = api.post("/auth/register", body)
    assert again.status == 201, again.body
    assert again.body["id"] != alice["id"] and again.body["username"] == "alice"
    # The old token named the old account: it stays dead, and does not become the new one.
    assert api.get("/me", token=old_token).status == 401
    assert api.post("/auth/login", {"username": "alice", "password": PASSWORD}).status == 401
    login = api.post("/auth/login", {"email": "alice@example.com", "password": "a new passphrase 99"})
    assert login.status == 200 and login.body["user"]["id"] == again.body["id"]
    me = api.get("/me", token=login.body["access_token"]).body
    assert (me["id"], me["name"]) == (again.body["id"], "Another Alice")


def test_an_admin_edits_and_deletes_other_users_a_plain_user_cannot(api):
    root = api.admin()
    alice, a_token = api.register()
    bob, b_token = api.register()
    r = api.patch(f"/users/{alice['id']}", {"name": "Alice (renamed)", "role": "support"}, token=root)
    assert r.status == 200 and (r.body["name"], r.body["role"]) == ("Alice (renamed)", "support")
    assert api.get("/me", token=a_token).body["role"] == "support"
    put = {"email": "alice.new@example.com", "username": alice["username"], "name": "Alice Put"}
    r = api.put(f"/users/{alice['id']}", put, token=root)
    assert r.status == 200 and (r.body["email"], r.body["name"]) == (put["email"], put["name"])
    # A plain user (support, too: it has no can_manage_users) may not touch another account.
    for token in (b_token, a_token):
        other = bob["id"] if token == a_token else alice["id"]
        assert api.patch(f"/users/{other}", {"name": "x"}, token=token).status == 403
        assert api.put(f"/users/{other}", {**put, "email": "x@example.com"}, token=token).status == 403
        assert api.delete(f"/users/{other}", token=token).status == 403
    for token in (b_token, root):  # a user that does not exist is 404 for anyone
        assert api.delete("/users/01NOSUCHUSER", token=token).status == 404
        assert api.patch("/users/01NOSUCHUSER", {"name": "x"}, token=token).status == 404
    assert api.delete(f"/users/{bob['id']}", token=root).status == 204
    assert api.get("/me", token=b_token).status == 401
    assert api.get(f"/users/{bob['id']}", token=a_token).status == 404
    assert api.delete(f"/users/{bob['id']}", token=root).status == 404


def test_orders_tickets_and_invoices_of_a_deleted_buyer_stay_readable(api, stream):
    root = api.admin()
    _, org_token = api.register()
    buyer, buyer_token = api.register()
    event = api.create_event(org_token)
    order = api.buy(buyer_token, event["id"], 2).body
    assert order["user"] == {"id": buyer["id"], "username": buyer["username"], "name": buyer["name"], "deleted": False}
    stream.flush()  # the invoice comes from the billing consumer
    (invoice,) = api.get(f"/invoices?order_id={order['id']}", token=buyer_token).body["items"]
    assert invoice["payee_user"] == order["user"]
    assert api.delete(f"/users/{buyer['id']}", token=buyer_token).status == 204
    stream.flush()

    deleted = {"id": buyer["id"], "username": None, "name": "Deleted user", "deleted": True}
    seen = api.get(f"/orders/{order['id']}", token=root)
    assert seen.status == 200, seen.body
    assert seen.body["user"] == deleted and seen.body["user_id"] == buyer["id"]
    assert {k: v for k, v in seen.body.items() if k != "user"} == {k: v for k, v in order.items() if k != "user"}
    seen = api.get(f"/invoices/{invoice['id']}", token=root)
    assert seen.status == 200 and seen.body["payee_user"] == deleted and seen.body["payee"] == buyer["id"]
    attendees = api.get(f"/events/{event['id']}/attendees", token=org_token).body["items"]
    assert [a["holder"] for a in attendees] == [deleted, deleted]
    # The organizer concerned reads the order and the invoice they issued; a stranger does not.
    assert api.get(f"/orders/{order['id']}", token=org_token).body["user"] == deleted
    assert api.get(f"/invoices/{invoice['id']}", token=org_token).body["payee_user"] == deleted
    _, stranger = api.register()
    assert api.get(f"/orders/{order['id']}", token=stranger).status == 404
    assert api.get(f"/invoices/{invoice['id']}", token=stranger).status == 404
    # The organizer cancels the deleted buyer's order: refunded as any other, still naming them.
    cancelled = api.post(f"/orders/{order['id']}/cancel", token=org_token)
    assert cancelled.status == 200 and cancelled.body["user"] == deleted


def run_cli(*args):
    return CliRunner().invoke(cli, list(args))


def test_the_operator_lists_the_accounts_of_a_role_every_page(api):
    root = api.admin()
    staff = sorted((api.staff(root, "support")[0] for _ in range(5)), key=lambda u: u["username"].lower())
    api.staff(root, "organizer")
    api.register()
    listed = run_cli("users", "--role", "support", "--json", "--page-size", "2")  # three Queries
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [r["id"] for r in rows] == [u["id"] for u in staff]
    assert rows[0] == {k: staff[0][k] for k in ("id", "username", "name", "email", "created_at")}
    table = run_cli("users", "--role", "support")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split("\t") == ["id", "username", "name", "email", "created_at"]
    assert [line.split("\t")[1] for line in lines[1:]] == [u["username"] for u in staff]
    # A change of role moves the account; a deleted account leaves the list.
    assert api.patch(f"/users/{staff[0]['id']}", {"role": "organizer"}, token=root).status == 200
    assert api.delete(f"/users/{staff[1]['id']}", token=root).status == 204
    rows = json.loads(run_cli("users", "--role", "support", "--json").stdout)
    assert [r["id"] for r in rows] == [u["id"] for u in staff[2:]]
    organizers = json.loads(run_cli("users", "--role", "organizer", "--json").stdout)
    assert staff[0]["id"] in [r["id"] for r in organizers] and len(organizers) == 2
    assert [r["id"] for r in json.loads(run_cli("users", "--role", "admin", "--json").stdout)] != []


def test_the_users_command_refuses_an_unknown_role(api):
    result = run_cli("users", "--role", "superuser")
    assert result.exit_code == 1
    assert "Unknown role 'superuser'" in result.output and "support" in result.output


def _legacy(user_id, **changes):
    """Make a user look as one written before the role index (or with stale keys): raw writes,
    as the test may do to set up old data; no request path does."""
    table = boto3.client("dynamodb")
    key = {"PK": {"S": f"USER#{user_id}"}, "SK": {"S": "PROFILE"}}
    if not changes:
        table.update_item(TableName=get_settings().table_name, Key=key, UpdateExpression="REMOVE GSI2PK, GSI2SK")
        return
    names = {f"#{k}": k for k in changes}
    values = {f":{k}": {"S": v} for k, v in changes.items()}
    update = "SET " + ", ".join(f"#{k} = :{k}" for k in changes)
    table.update_item(
        TableName=get_settings().table_name,
        Key=key,
        UpdateExpression=update,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def test_reindex_users_indexes_old_accounts_once(api):
    root = api.admin()
    old, _ = api.staff(root, "support")
    stale, _ = api.staff(root, "support")
    fine, _ = api.staff(root, "support")
    _legacy(old["id"])
    _legacy(stale["id"], GSI2PK="ROLE#admin")  # indexed under a role it no longer has
    listed = [r["id"] for r in json.loads(run_cli("users", "--role", "support", "--json").stdout)]
    assert listed == [fine["id"]]
    first = run_cli("reindex-users")
    assert first.exit_code == 0, first.output
    assert "read 4 users: 2 written, 2 already indexed" in first.output
    listed = [r["id"] for r in json.loads(run_cli("users", "--role", "support", "--json").stdout)]
    assert sorted(listed) == sorted(u["id"] for u in (old, stale, fine))
    admins = [r["id"] for r in json.loads(run_cli("users", "--role", "admin", "--json").stdout)]
    assert stale["id"] not in admins and len(admins) == 1
    again = run_cli("reindex-users")
    assert "read 4 users: 0 written, 4 already indexed" in again.output
    # The re-save changed only the index keys: the account is as it was.
    assert api.get(f"/users/{old['id']}", token=root).body == old
