"""Sign-up, sign-in, tokens and logout, through the HTTP front door."""

from __future__ import annotations

import time

import jwt
import pytest
from click.testing import CliRunner

from chalicelib.cli import cli
from tests.support import PASSWORD

SECRET = "test-secret-not-for-production-0123456789"


def reg(api, **overrides):
    body = {"email": "dana@example.com", "username": "dana", "name": "Dana", "password": PASSWORD}
    body.update(overrides)
    return api.post("/auth/register", body)


def test_register_returns_the_user_without_secrets(api):
    r = reg(api)
    assert r.status == 201
    assert set(r.body) >= {"id", "username", "name", "role", "created_at", "email"}
    assert r.body["role"] == "user" and r.body["email"] == "dana@example.com"
    assert not any("password" in k or "hash" in k for k in r.body)


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"role": "admin"}, "role"),
        ({"email": "not-an-email"}, "email"),
        ({"username": "no spaces"}, "username"),
        ({"username": "ab"}, "username"),
        ({"password": "short"}, "password"),
        ({"password": "dana"}, "password"),
        ({"password": "1234567890"}, "password"),
        ({"password": "dana@example.com"}, "password"),
        ({"password": "é" * 40}, "password"),  # 80 bytes: bcrypt would ignore the tail
        ({"name": 42}, "name"),
    ],
)
def test_register_refuses_bad_input_and_writes_nothing(api, overrides, field):
    r = reg(api, **overrides)
    assert r.status == 400, r.body
    assert r.body["code"] in ("ValidationError", "WeakPassword")
    assert any(d["field"] == field for d in r.body["details"]), r.body
    # Nothing was created: the same email and username register fine afterwards.
    assert reg(api).status == 201


def test_email_and_username_are_unique_case_insensitively(api):
    assert reg(api).status == 201
    r = reg(api, email="DANA@Example.com", username="other")
    assert r.status == 409 and r.body["code"] == "EmailTaken"
    r = reg(api, email="other@example.com", username="DANA")
    assert r.status == 409 and r.body["code"] == "UsernameTaken"


def test_login_by_email_or_username(api):
    reg(api)
    for ident in ({"email": "DANA@example.com"}, {"username": "dana"}):
        r = api.post("/auth/login", {**ident, "password": PASSWORD})
        assert r.status == 200, r.body
        assert r.body["token_type"] == "Bearer" and r.body["expires_in"] == 86400
        assert r.body["user"]["username"] == "dana"
        claims = jwt.decode(r.body["access_token"], SECRET, algorithms=["HS256"], audience="boxoffice-api")
        assert {"iss", "aud", "exp", "iat", "sub", "jti"} <= set(claims)


def test_login_failure_is_the_same_for_unknown_user_and_wrong_password(api):
    reg(api)
    wrong = api.post("/auth/login", {"email": "dana@example.com", "password": "wrong password 123"})
    unknown = api.post("/auth/login", {"email": "nobody@example.com", "password": "wrong password 123"})
    assert wrong.status == unknown.status == 401
    assert wrong.body == unknown.body


def test_login_needs_exactly_one_identifier(api):
    r = api.post("/auth/login", {"email": "a@example.com", "username": "abc", "password": "x"})
    assert r.status == 400
    assert api.post("/auth/login", {"password": "x"}).status == 400


def test_repeated_failures_slow_the_account_down(api):
    reg(api)
    reg(api, email="eve@example.com", username="eve")
    for _ in range(5):
        assert api.post("/auth/login", {"username": "dana", "password": "wrong password 123"}).status == 401
    r = api.post("/auth/login", {"username": "dana", "password": PASSWORD})
    assert r.status == 429 and r.body["code"] == "TooManyAttempts" and "retry-after" in r.headers
    assert api.post("/auth/login", {"username": "eve", "password": PASSWORD}).status == 200


def test_me_and_logout(api):
    _, token = api.register()
    _, other = api.register()
    assert api.get("/me", token=token).status == 200
    assert api.post("/auth/logout", token=token).status == 204
    r = api.get("/me", token=token)
    assert r.status == 401 and r.body["code"] == "TokenRevoked"
    assert api.get("/me", token=other).status == 200


def _forge(claims, key=SECRET, alg="HS256"):
    base = {
        "iss": "boxoffice",
        "aud": "boxoffice-api",
        "iat": int(time.time()),
        "exp": int(time.time()) + 60,
        "jti": "j1",
        "tv": 0,
    }
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, key, algorithm=alg)


def test_bad_tokens_get_401(api):
    user, _ = api.register()
    sub = user["id"]
    assert _forge({"sub": sub}) and api.get("/me", token=_forge({"sub": sub})).status == 200  # the forge is right
    bad = [
        None,
        "not-a-jwt",
        _forge({"sub": sub}, key="another-secret-of-enough-length-0000"),
        _forge({"sub": sub, "exp": int(time.time()) - 10}),
        _forge({"sub": sub, "aud": "someone-else"}),
        _forge({"sub": sub, "iss": "someone-else"}),
        _forge({"sub": sub, "jti": None}),
        _forge({"sub": sub, "tv": 7}),
        _forge({"sub": "no-such-user"}),
        _forge({"sub": sub}, key=SECRET * 2, alg="HS512"),  # another algorithm than the pinned one
    ]
    for token in bad:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        r = api.get("/me", headers=headers)
        assert r.status == 401, (token, r.body)
        assert set(r.body) >= {"code", "message"}
    assert api.get("/me", headers={"Authorization": "Basic abc"}).status == 401


def test_unsigned_token_is_refused(api):
    user, _ = api.register()
    header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"  # {"alg":"none","typ":"JWT"}
    import base64
    import json

    payload = base64.urlsafe_b64encode(
        json.dumps(
            {
                "sub": user["id"],
                "iss": "boxoffice",
                "aud": "boxoffice-api",
                "exp": int(time.time()) + 60,
                "iat": 1,
                "jti": "x",
            }
        ).encode()
    )
    token = f"{header}.{payload.decode().rstrip('=')}."
    assert api.get("/me", token=token).status == 401


def test_password_change_signs_out_other_sessions(api):
    user, token = api.register()
    r = api.patch(
        f"/users/{user['id']}",
        {"password": "a brand new passphrase", "current_password": "wrong one 1234"},
        token=token,
    )
    assert r.status == 403
    r = api.patch(
        f"/users/{user['id']}", {"password": "a brand new passphrase", "current_password": PASSWORD}, token=token
    )
    assert r.status == 200, r.body
    assert api.get("/me", token=token).status == 401
    login = api.post("/auth/login", {"username": user["username"], "password": "a brand new passphrase"})
    assert login.status == 200


def test_admin_registers_users_with_a_role(api, aws):
    _, token = api.register()
    body = {"email": "org@example.com", "username": "org", "name": "Org", "password": PASSWORD, "role": "organizer"}
    assert api.post("/auth/register/admin", body, token=token).status == 403
    result = CliRunner().invoke(
        cli,
        ["create-admin", "--email", "root@example.com", "--username", "root", "--name", "Root"],
        env={"BOXOFFICE_ADMIN_PASSWORD": PASSWORD},
    )
    assert result.exit_code == 0, result.output
    admin = api.post("/auth/login", {"username": "root", "password": PASSWORD}).body["access_token"]
    r = api.post("/auth/register/admin", body, token=admin)
    assert r.status == 201 and r.body["role"] == "organizer"
    assert api.get("/me", token=admin).body["role"] == "admin"


def test_cli_refuses_a_weak_admin_password(api, aws):
    result = CliRunner().invoke(
        cli,
        ["create-admin", "--email", "root@example.com", "--username", "root", "--name", "Root"],
        env={"BOXOFFICE_ADMIN_PASSWORD": "password1"},
    )
    assert result.exit_code != 0 and "Password" in result.output
    assert api.post("/auth/login", {"username": "root", "password": "password1"}).status == 401
