"""Google sign-in: POST /auth/google verifies a Google ID token against Google's keys (here a key
pair of our own, published as a JWK set by a server on 127.0.0.1 named by GOOGLE_JWKS_URL: no
network) and finds,
links or creates the account."""

from __future__ import annotations

import functools
import http.server
import json
import threading
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.settings import reset_settings
from tests.support import PASSWORD, Api

CLIENT_ID = "boxoffice-test.apps.googleusercontent.com"


class Google:
    """Stands in for Google: a signing key, its published JWK set, and ID tokens."""

    def __init__(self, directory: Any) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = directory / "certs.json"
        self.jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]}))

    def token(self, key: Any = None, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": "https://accounts.google.com",
            "aud": CLIENT_ID,
            "sub": "1122334455",
            "email": "gina@example.com",
            "email_verified": True,
            "name": "Gina Google",
            "iat": now,
            "exp": now + 3600,
            **overrides,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture
def google(tmp_path, monkeypatch, api) -> Any:
    """Google's key endpoint, played by a server on 127.0.0.1 publishing our own key's JWK set."""
    fake = Google(tmp_path)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("GOOGLE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("GOOGLE_JWKS_URL", f"http://127.0.0.1:{server.server_address[1]}/{fake.jwks.name}")
    reset_settings()
    yield fake
    server.shutdown()
    monkeypatch.undo()
    reset_settings()


def sign_in(api: Api, token: str) -> Any:
    return api.post("/auth/google", {"id_token": token})


def test_a_good_token_signs_in_and_makes_one_account(api, google):
    first = sign_in(api, google.token())
    assert first.status == 200, first.body
    assert first.body["token_type"] == "Bearer" and first.body["user"]["email"] == "gina@example.com"
    me = api.get("/me", token=first.body["access_token"]).body
    assert (me["name"], me["username"]) == ("Gina Google", "gina")
    again = sign_in(api, google.token())
    assert again.status == 200 and again.body["user"]["id"] == me["id"]
    # A Google-only account has no password to sign in with.
    for password in ("", PASSWORD):
        assert api.post("/auth/login", {"email": "gina@example.com", "password": password or "x"}).status == 401


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
        ({"aud": "someone-else.apps.googleusercontent.com"}, "aud"),
        ({"iss": "https://evil.example.com"}, "iss"),
        ({"email_verified": False}, "not verified"),
        ({"email": None}, "no email"),
        ({"sub": None}, "malformed"),
    ],
)
def test_bad_tokens_are_401_and_say_why(api, google, overrides, why):
    r = sign_in(api, google.token(**overrides))
    assert (r.status, r.body["code"]) == (401, "InvalidGoogleToken"), r.body
    assert why in r.body["message"]
    assert api.post("/auth/login", {"email": "gina@example.com", "password": "x"}).status == 401  # nothing made


def test_a_token_signed_by_another_key_or_not_a_token_is_401(api, google):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for token in (google.token(key=other), "not.a.token", google.token()[:-8] + "AAAAAAAA"):
        r = sign_in(api, token)
        assert (r.status, r.body["code"]) == (401, "InvalidGoogleToken"), (token, r.body)


def test_without_a_client_id_google_sign_in_is_off(api, google, monkeypatch):
    monkeypatch.delenv("GOOGLE_CLIENT_ID")
    reset_settings()
    r = sign_in(api, google.token())
    assert (r.status, r.body["code"]) == (503, "GoogleSignInOff")


def test_a_password_account_with_the_verified_email_is_linked(api, google):
    r = api.post(
        "/auth/register", {"email": "Gina@Example.com", "username": "gina", "name": "Gina", "password": PASSWORD}
    )
    assert r.status == 201
    unverified = sign_in(api, google.token(email_verified=False))
    assert unverified.status == 401
    linked = sign_in(api, google.token())
    assert linked.status == 200 and linked.body["user"]["id"] == r.body["id"]
    assert api.post("/auth/login", {"username": "gina", "password": PASSWORD}).status == 200  # still works
    # The same email from another Google account: refused, not relinked.
    other = sign_in(api, google.token(sub="9999"))
    assert (other.status, other.body["code"]) == (409, "GoogleAccountConflict")


def test_a_taken_username_gets_another(api, google):
    someone = {"email": "someone@example.com", "username": "Gina", "name": "Someone", "password": PASSWORD}
    assert api.post("/auth/register", someone).status == 201  # the email's local part is their username
    r = sign_in(api, google.token())
    assert r.status == 200, r.body
    assert r.body["user"]["username"].startswith("gina.") and r.body["user"]["username"] != "gina"


def test_a_deleted_google_account_can_sign_up_again(api, google):
    first = sign_in(api, google.token()).body
    assert api.delete(f"/users/{first['user']['id']}", token=first["access_token"]).status == 204
    again = sign_in(api, google.token())
    assert again.status == 200 and again.body["user"]["id"] != first["user"]["id"]
