"""Users: listing, reading, editing and deleting, with the owner/permission rules."""

from __future__ import annotations

from click.testing import CliRunner

from chalicelib.cli import cli
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
