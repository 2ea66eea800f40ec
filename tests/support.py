"""Shared test helpers: an HTTP client wrapper and factories that build real data
through the API (no direct writes to the table)."""

from __future__ import annotations

import itertools
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

PASSWORD = "correct horse battery staple 42"
_counter = itertools.count(1)
# Names unique across runs too: the local cloud keeps its data between runs.
_RUN = secrets.token_hex(3)


@dataclass
class Resp:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return self.body


class Api:
    """Speaks JSON to the app through chalice.test.Client (or any send(method, path, headers, body))."""

    def __init__(self, send: Any) -> None:
        self._send = send

    @classmethod
    def over_chalice(cls, client: Any) -> Api:
        """Through chalice.test.Client (in process)."""

        def send(method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, str], bytes]:
            r = client.http.request(method, path, headers=headers, body=body)
            return r.status_code, dict(r.headers), r.body

        return cls(send)

    @classmethod
    def over_http(cls, base_url: str, session: Any = None) -> Api:
        """Over real HTTP to a running server."""
        import requests

        http = session or requests.Session()

        def send(method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, str], bytes]:
            r = http.request(method, base_url + path, headers=headers, data=body, timeout=60)
            return r.status_code, dict(r.headers), r.content

        return cls(send)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | str | None = None,
    ) -> Resp:
        h = {"Content-Type": "application/json"}
        if token:
            h["Authorization"] = f"Bearer {token}"
        h.update(headers or {})
        data = raw if raw is not None else (json.dumps(body) if body is not None else b"")
        status, resp_headers, content = self._send(method, path, h, data)
        text = content.decode() if isinstance(content, bytes) else content
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return Resp(status, parsed, {k.lower(): v for k, v in resp_headers.items()})

    def get(self, path: str, **kw: Any) -> Resp:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Resp:
        return self.request("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Resp:
        return self.request("PATCH", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Resp:
        return self.request("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Resp:
        return self.request("DELETE", path, **kw)

    # factories -----------------------------------------------------------
    def register(self, name: str | None = None, password: str = PASSWORD) -> tuple[dict[str, Any], str]:
        """A new user and a token for them."""
        n = next(_counter)
        username = name or f"user{n}r{_RUN}"
        r = self.post(
            "/auth/register",
            {
                "email": f"{username}@example.com",
                "username": username,
                "name": f"User {username}",
                "password": password,
            },
        )
        assert r.status == 201, r.body
        login = self.post("/auth/login", {"email": f"{username}@example.com", "password": password})
        assert login.status == 200, login.body
        return r.body, login.body["access_token"]

    def admin(self) -> str:
        """A token of a new admin, made the way an operator makes the first one (the CLI, in-process)."""
        from click.testing import CliRunner

        from chalicelib.cli import cli

        username = f"root{next(_counter)}r{_RUN}"
        made = CliRunner().invoke(
            cli,
            ["create-admin", "--email", f"{username}@example.com", "--username", username, "--name", "Root"],
            env={"BOXOFFICE_ADMIN_PASSWORD": PASSWORD},
        )
        assert made.exit_code == 0, made.output
        login = self.post("/auth/login", {"username": username, "password": PASSWORD})
        assert login.status == 200, login.body
        return login.body["access_token"]  # type: ignore[no-any-return]

    def staff(self, admin_token: str, role: str = "support") -> tuple[dict[str, Any], str]:
        """A new account with ``role``, made by an admin through POST /auth/register/admin, and its token."""
        username = f"{role}{next(_counter)}r{_RUN}"
        body = {"email": f"{username}@example.com", "username": username, "name": f"Staff {username}"}
        r = self.post("/auth/register/admin", {**body, "password": PASSWORD, "role": role}, token=admin_token)
        assert r.status == 201, r.body
        login = self.post("/auth/login", {"username": username, "password": PASSWORD})
        assert login.status == 200, login.body
        return r.body, login.body["access_token"]

    def create_event(self, token: str, **overrides: Any) -> dict[str, Any]:
        r = self.post("/events", event_body(**overrides), token=token)
        assert r.status == 201, r.body
        return r.body  # type: ignore[no-any-return]

    def buy(self, token: str, event_id: str, quantity: int = 1, section: str = "GA", **kw: Any) -> Resp:
        return self.post(f"/events/{event_id}/orders", {"section": section, "quantity": quantity}, token=token, **kw)


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Midnight Jazz",
        "description": "Late show",
        "category": "music",
        "starts_at": in_days(30),
        "venue": {"name": "The Basement", "address": "7 Jazz Lane, Sydney", "lat": -33.87, "lon": 151.21},
        "sections": [
            {"code": "GA", "name": "General admission", "price_cents": 5000, "currency": "AUD", "capacity": 100},
            {"code": "A", "name": "Stalls A", "price_cents": 9000, "currency": "AUD", "rows": 5, "seats_per_row": 10},
        ],
    }
    body.update(overrides)
    return body


def section(event: dict[str, Any], code: str) -> dict[str, Any]:
    return next(s for s in event["sections"] if s["code"] == code)
