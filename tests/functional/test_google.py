"""Google sign-in: POST /auth/google verifies a Google ID token against Google's keys (here a key
pair of our own, published as a JWK set by a server on 127.0.0.1 named by GOOGLE_JWKS_URL: no
network) and finds, links or creates the account. Races and lost answers are made with DynamoDB
faults under botocore (tests/faults.py); nothing of ours is replaced."""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import threading
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.settings import reset_settings
from tests.faults import interleaved, lost_answer
from tests.support import PASSWORD, Api

CLIENT_ID = "boxoffice-test.apps.googleusercontent.com"


@functools.cache
def rsa_key(name: str) -> Any:
    """One 2048-bit key per name for the whole run: generating one per test is slow."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Google:
    """Stands in for Google: a signing key, its published JWK set, and ID tokens."""

    def __init__(self, directory: Any) -> None:
        self.key = rsa_key("google")
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


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # no line on stderr per key fetch
        pass


@pytest.fixture
def google(tmp_path, monkeypatch, api) -> Any:
    """Google's key endpoint, played by a server on 127.0.0.1 publishing our own key's JWK set."""
    fake = Google(tmp_path)
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
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


def register_gina(api: Api) -> dict[str, Any]:
    """A password account with the email Google will vouch for (in other letter case)."""
    body = {"email": "Gina@Example.com", "username": "ginapw", "name": "Gina", "password": PASSWORD}
    r = api.post("/auth/register", body)
    assert r.status == 201, r.body
    return dict(r.body)


def assert_refused(r: Any, why: str) -> None:
    assert (r.status, r.body["code"]) == (401, "InvalidGoogleToken"), r.body
    assert why in r.body["message"], r.body


def test_a_good_token_signs_in_and_makes_one_account(api, google):
    first = sign_in(api, google.token())
    assert first.status == 200, first.body
    assert set(first.body) == {"access_token", "token_type", "expires_in", "user"}  # as /auth/login
    assert first.body["token_type"] == "Bearer" and first.body["user"]["email"] == "gina@example.com"
    me = api.get("/me", token=first.body["access_token"])
    assert me.status == 200 and me.body["id"] == first.body["user"]["id"]
    assert (me.body["name"], me.body["username"]) == ("Gina Google", "gina")
    again = sign_in(api, google.token())
    assert again.status == 200 and again.body["user"]["id"] == me.body["id"]
    assert again.body["access_token"] != first.body["access_token"]


def test_a_google_only_account_cannot_sign_in_with_a_password(api, google):
    made = sign_in(api, google.token()).body["user"]
    # (Under the limit of 5 failed sign-ins per account, so the answer is the password check's.)
    for who, password in (("email", PASSWORD), ("email", "None"), ("username", PASSWORD)):
        r = api.post("/auth/login", {who: made[who], "password": password})
        assert (r.status, r.body["code"]) == (401, "InvalidCredentials"), (who, password, r.body)


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
        ({"iat": int(time.time()) + 3600}, "issued in the future"),
        ({"exp": None}, '"exp"'),
        ({"iat": None}, '"iat"'),
        ({"aud": "someone-else.apps.googleusercontent.com"}, "aud"),
        ({"aud": ["someone-else.apps.googleusercontent.com", CLIENT_ID]}, "aud"),  # Google's aud is one string
        ({"iss": "https://evil.example.com"}, "iss"),
        ({"iss": "https://accounts.google.com.evil.example.com"}, "iss"),
        ({"email_verified": False}, "not verified"),
        ({"email_verified": "false"}, "not verified"),
        ({"email_verified": None}, "not verified"),
        ({"email": None}, "no email"),
        ({"sub": None}, "malformed"),
    ],
)
def test_bad_tokens_are_401_and_say_why(api, google, overrides, why):
    assert_refused(sign_in(api, google.token(**overrides)), why)
    assert sign_in(api, google.token(sub="another", email="other@example.com")).status == 200  # the setup works
    # Nothing was made for gina: her email is still free to register.
    r = api.post("/auth/register", {"email": "gina@example.com", "username": "gina", "name": "G", "password": PASSWORD})
    assert r.status == 201, r.body


def test_both_of_googles_issuer_spellings_are_accepted(api, google):
    assert sign_in(api, google.token(iss="accounts.google.com")).status == 200
    assert sign_in(api, google.token(iss="https://accounts.google.com")).status == 200


def test_a_token_signed_by_another_key_or_not_a_token_is_401(api, google):
    other = rsa_key("someone else")
    claims = jwt.decode(google.token(), options={"verify_signature": False})
    for token, why in (
        (google.token(key=other), "bad signature"),  # the kid of Google's key, signed by another
        (google.token()[:-8] + "AAAAAAAA", "bad signature"),
        (jwt.encode(claims, other, algorithm="RS256", headers={"kid": "not-googles"}), "no Google key"),
        (jwt.encode(claims, None, algorithm="none", headers={"kid": "k1"}), "alg"),  # unsigned
        (jwt.encode(claims, "a shared secret, 32 bytes long!!", algorithm="HS256", headers={"kid": "k1"}), "alg"),
        ("not.a.token", "malformed"),
        ("x", "malformed"),
    ):
        assert_refused(sign_in(api, token), why)


def test_without_a_client_id_google_sign_in_is_off(api, google, monkeypatch):
    for unset in ("", None):
        if unset is None:
            monkeypatch.delenv("GOOGLE_CLIENT_ID")
        else:
            monkeypatch.setenv("GOOGLE_CLIENT_ID", unset)
        reset_settings()
        r = sign_in(api, google.token())
        assert (r.status, r.body["code"]) == (503, "GoogleSignInOff"), r.body
        assert "GOOGLE_CLIENT_ID" in r.body["message"]


@pytest.mark.parametrize(
    "published",
    [None, "<html>Service Unavailable</html>", '{"keys": []}'],  # down, nonsense, no keys
)
def test_when_googles_keys_cannot_be_had_it_is_503_not_a_bad_token(api, google, monkeypatch, published):
    # Given Google's key endpoint unreachable (a closed port), answering nonsense, or publishing no keys
    googles = os.environ["GOOGLE_JWKS_URL"]
    if published is None:
        url = "http://127.0.0.1:9/certs"
    else:
        (google.jwks.parent / "broken.json").write_text(published)
        url = googles.rsplit("/", 1)[0] + "/broken.json"
    monkeypatch.setenv("GOOGLE_JWKS_URL", url)
    reset_settings()
    # Then a good token is not called bad: 503 with a reason and a Retry-After, nothing made
    r = sign_in(api, google.token())
    assert (r.status, r.body["code"]) == (503, "GoogleKeysUnavailable"), r.body
    assert "Google's signing keys" in r.body["message"] and r.headers.get("retry-after") == "5"
    monkeypatch.setenv("GOOGLE_JWKS_URL", googles)
    reset_settings()
    assert sign_in(api, google.token()).status == 200  # the keys back: the same token signs in


def test_a_password_account_with_the_verified_email_is_linked(api, google):
    account = register_gina(api)
    linked = sign_in(api, google.token())
    assert linked.status == 200, linked.body
    assert linked.body["user"]["id"] == account["id"] and linked.body["user"]["username"] == "ginapw"
    assert api.get("/me", token=linked.body["access_token"]).body["id"] == account["id"]
    login = api.post("/auth/login", {"username": "ginapw", "password": PASSWORD})
    assert login.status == 200 and login.body["user"]["id"] == account["id"]  # the password still works
    assert sign_in(api, google.token()).body["user"]["id"] == account["id"]  # now found by its Google subject


def test_a_linked_account_is_found_by_its_google_subject_not_its_email(api, google):
    # Given a linked account whose email then changed (the token still carries the old one)
    account = register_gina(api)
    token = sign_in(api, google.token()).body["access_token"]
    moved = {"email": "gina.new@example.com", "current_password": PASSWORD}
    assert api.patch(f"/users/{account['id']}", moved, token=token).status == 200
    # Then the Google subject still signs in to it, and no account is made for the old email
    r = sign_in(api, google.token())
    assert r.status == 200 and r.body["user"]["id"] == account["id"], r.body
    assert r.body["user"]["email"] == "gina.new@example.com"


def test_an_unverified_email_links_nothing(api, google):
    account = register_gina(api)
    assert_refused(sign_in(api, google.token(email_verified=False)), "not verified")
    # Had that linked subject 1122334455, another Google subject would now be refused (409): it links.
    other = sign_in(api, google.token(sub="5566"))
    assert other.status == 200 and other.body["user"]["id"] == account["id"], other.body
    assert (sign_in(api, google.token()).status, sign_in(api, google.token()).body["code"]) == (
        409,
        "GoogleAccountConflict",
    )


@pytest.mark.parametrize("first", ["password", "google"])
def test_another_google_subject_for_a_linked_email_is_409(api, google, first):
    if first == "password":
        register_gina(api)
    account = sign_in(api, google.token()).body["user"]
    other = sign_in(api, google.token(sub="9999"))
    assert (other.status, other.body["code"]) == (409, "GoogleAccountConflict"), other.body
    assert sign_in(api, google.token()).body["user"]["id"] == account["id"]  # the link is unchanged


def test_a_taken_username_gets_another(api, google):
    someone = {"email": "someone@example.com", "username": "Gina", "name": "Someone", "password": PASSWORD}
    assert api.post("/auth/register", someone).status == 201  # the email's local part is their username
    r = sign_in(api, google.token())
    assert r.status == 200, r.body
    assert re.fullmatch(r"gina\.\d{6}", r.body["user"]["username"]), r.body
    assert sign_in(api, google.token()).body["user"]["username"] == r.body["user"]["username"]


@pytest.mark.parametrize(
    ("email", "username"),
    [
        ("g+ina-x@example.com", "ginax"),
        ("ab@example.com", "ab0"),
        ("j\u00f3zef@example.com", "jzef"),
        ("-_-@example.com", "_00"),
        ("\u00e9\u00e8@example.com", "user"),
        ("a" * 64 + "@example.com", "a" * 22),
    ],
)
def test_a_new_username_is_valid_whatever_the_email(api, google, email, username):
    r = sign_in(api, google.token(email=email))
    assert r.status == 200, r.body
    assert r.body["user"]["username"] == username
    assert re.fullmatch(r"[A-Za-z0-9_.]{3,30}", username)


@pytest.mark.parametrize(
    ("name", "expected"), [(None, "gina"), ("   ", "gina"), ("  Gina  ", "Gina"), ("N" * 150, "N" * 100)]
)
def test_the_name_comes_from_the_token_else_the_email(api, google, name, expected):
    r = sign_in(api, google.token(name=name))
    assert r.status == 200 and r.body["user"]["name"] == expected, r.body


def test_a_first_sign_in_whose_answer_was_lost_makes_one_account(api, google):
    # Given the transaction that makes the account applied, but answered 500 (botocore resends it)
    with lost_answer("TransactWriteItems") as injected:
        first = sign_in(api, google.token())
    # Then the resend is known as already written: 200, the account made once
    assert injected.sent == 1
    assert first.status == 200, first.body
    again = sign_in(api, google.token())
    assert again.body["user"] == first.body["user"] and first.body["user"]["username"] == "gina"


def test_a_link_whose_answer_was_lost_is_linked(api, google):
    account = register_gina(api)
    with lost_answer("TransactWriteItems") as injected:
        linked = sign_in(api, google.token())
    assert injected.sent == 1
    assert linked.status == 200 and linked.body["user"]["id"] == account["id"], linked.body


def test_two_first_sign_ins_at_once_make_one_account(api, google):
    # Given another first sign-in of the same person that gets its account written between our reads and our write
    meanwhile: list[Any] = []
    with interleaved("TransactWriteItems", lambda: meanwhile.append(sign_in(api, google.token()))) as race:
        ours = sign_in(api, google.token())
    # Then our claim of the Google subject is refused, and we sign in to the account the other one made
    assert race.sent == 1 and meanwhile[0].status == 200, meanwhile
    assert ours.status == 200, ours.body
    assert ours.body["user"]["id"] == meanwhile[0].body["user"]["id"]
    assert ours.body["user"]["username"] == "gina"


def test_two_google_subjects_linking_one_email_at_once_one_wins(api, google):
    account = register_gina(api)
    meanwhile: list[Any] = []
    with interleaved("TransactWriteItems", lambda: meanwhile.append(sign_in(api, google.token(sub="9999")))):
        ours = sign_in(api, google.token())
    assert meanwhile[0].status == 200 and meanwhile[0].body["user"]["id"] == account["id"], meanwhile
    assert (ours.status, ours.body["code"]) == (409, "GoogleAccountConflict"), ours.body
    assert sign_in(api, google.token(sub="9999")).body["user"]["id"] == account["id"]


def test_a_deleted_google_account_can_sign_up_again(api, google):
    first = sign_in(api, google.token()).body
    assert api.delete(f"/users/{first['user']['id']}", token=first["access_token"]).status == 204
    again = sign_in(api, google.token())
    assert again.status == 200 and again.body["user"]["id"] != first["user"]["id"]
