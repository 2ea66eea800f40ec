"""``chalice local`` as the local cloud runs it (``python -m infra.local.chalice_local``) answers every error
in the JSON envelope, never with an HTML page: requests refused before chalice routes them (an unknown
method, a malformed request line, a too-long request line or too-large headers) as well as the ones its
router refuses (an unknown path, a method the path lacks). Raw requests over a socket, as a client sends them."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.local.backends import free_port, stop_process, wait_for_port

pytestmark = pytest.mark.local_cloud

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    """The API alone (no local cloud): none of these requests reaches the table."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="x",
        AWS_SECRET_ACCESS_KEY="x",
        AWS_ENDPOINT_URL="http://127.0.0.1:9",  # should a request reach AWS after all: nowhere, not AWS
        JWT_SECRET="some-long-test-secret-0123456789",
        BOXOFFICE_TABLE="unused",
    )
    cmd = [sys.executable, "-m", "infra.local.chalice_local", "local", "--stage", "local",
           "--host", "127.0.0.1", "--port", str(port), "--no-autoreload"]  # fmt: skip
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, 60, proc)
        yield port
    finally:
        stop_process(proc)


def exchange(port: int, request: bytes) -> bytes:
    """Send ``request`` as is; everything the server sends until it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        with contextlib.suppress(OSError):  # it may answer and close before reading all of an oversized request
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
        data = b""
        with contextlib.suppress(ConnectionResetError):  # closed with our oversized request unread
            while chunk := sock.recv(65536):
                data += chunk
    return data


class Stream(io.BytesIO):
    def close(self) -> None:
        """Stays open: HTTPResponse closes its file after a body, and another response may follow."""


class Replay:
    """What http.client.HTTPResponse reads responses from: the bytes received, one response after another."""

    def __init__(self, data: bytes) -> None:
        self.stream = Stream(data)

    def makefile(self, mode: str) -> io.BytesIO:
        return self.stream


def parse(data: bytes | Replay, method: str = "GET") -> tuple[http.client.HTTPResponse, bytes]:
    replay = data if isinstance(data, Replay) else Replay(data)
    response = http.client.HTTPResponse(replay, method=method)  # type: ignore[arg-type]
    response.begin()
    return response, response.read()


def envelope(response: http.client.HTTPResponse, body: bytes) -> dict[str, Any]:
    assert response.getheader("Content-Type", "").split(";")[0] == "application/json", response.getheaders()
    assert response.getheader("Content-Length") == str(len(body))
    assert b"<html" not in body.lower()
    payload = json.loads(body)
    assert isinstance(payload, dict) and isinstance(payload.get("message"), str), payload
    return payload


HEADERS = b"Host: 127.0.0.1\r\n\r\n"
BIG = b"a" * 70_000  # over the 65,536 bytes a request line or a header line may have
MANY = b"X-A: b\r\n" * 101  # over the 100 headers a request may have

# Refused before chalice routes the request (BaseHTTPRequestHandler.send_error): the connection is closed.
REFUSED = [
    ("TRACE", b"TRACE /health HTTP/1.1\r\n" + HEADERS, 405, "MethodNotAllowedError"),
    ("CONNECT", b"CONNECT 127.0.0.1:443 HTTP/1.1\r\n" + HEADERS, 405, "MethodNotAllowedError"),
    ("invented method", b"FROBNICATE /events HTTP/1.1\r\n" + HEADERS, 405, "MethodNotAllowedError"),
    ("malformed request line", b"this is not http\r\n" + HEADERS, 400, "BadRequest"),
    ("one word", b"garbage\r\n" + HEADERS, 400, "BadRequest"),
    ("no HTTP version", b"GET /health\r\n" + HEADERS, 400, "BadRequest"),
    ("HTTP/2 request line", b"GET /health HTTP/2.0\r\n" + HEADERS, 505, "HTTPVersionNotSupported"),
    ("request line too long", b"GET /" + BIG + b" HTTP/1.1\r\n" + HEADERS, 414, "RequestURITooLong"),
    ("header too long", b"GET /health HTTP/1.1\r\nX: " + BIG + b"\r\n" + HEADERS, 431, "RequestHeaderFieldsTooLarge"),
    ("too many headers", b"GET /health HTTP/1.1\r\n" + MANY + HEADERS, 431, "RequestHeaderFieldsTooLarge"),
]


@pytest.mark.parametrize(("request_bytes", "status", "code"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_before_routing_is_json(port: int, request_bytes: bytes, status: int, code: str) -> None:
    response, body = parse(exchange(port, request_bytes))
    payload = envelope(response, body)
    assert (response.status, payload["code"]) == (status, code), payload
    assert response.getheader("Connection") == "close"
    assert "Allow" not in response.headers


def test_refused_head_request_has_no_body(port: int) -> None:
    data = exchange(port, b"HEAD /health HTTP/1.1\r\n" + MANY + HEADERS)
    response, body = parse(data, method="HEAD")
    assert response.status == 431 and body == b"" and data.endswith(b"\r\n\r\n")
    assert response.getheader("Content-Type") == "application/json"
    assert int(response.getheader("Content-Length", "0")) > 0  # the length a GET's body would have


def test_method_the_path_lacks_is_json(port: int) -> None:
    """Chalice's own 405, rewritten into the envelope by the app's middleware."""
    response, body = parse(exchange(port, b"DELETE /health HTTP/1.1\r\n" + HEADERS))
    payload = envelope(response, body)
    assert (response.status, payload["code"]) == (405, "MethodNotAllowedError"), payload


def test_unknown_path_is_json(port: int) -> None:
    """API Gateway's own answer before the app (its "Missing Authentication Token"), in our envelope
    as the deployed gateway responses give it (infra/template.py): 404 NotFound."""
    response, body = parse(exchange(port, b"GET /nope?x=1 HTTP/1.1\r\n" + HEADERS))
    payload = envelope(response, body)
    assert (response.status, payload) == (404, {"code": "NotFound", "message": "No such route: GET /nope"})
    with_token = HEADERS.replace(b"\r\n\r\n", b"\r\nAuthorization: Bearer x\r\n\r\n", 1)
    response, body = parse(exchange(port, b"POST /nope HTTP/1.1\r\n" + with_token))
    assert (response.status, envelope(response, body)["code"]) == (404, "NotFound")


def test_routed_error_keeps_the_connection_a_refused_request_closes_it(port: int) -> None:
    """Three requests pipelined: chalice's 405 keeps the connection open; the TRACE is refused and the
    connection closed, so the third request is never answered."""
    requests = [b"DELETE /health HTTP/1.1\r\n", b"TRACE /health HTTP/1.1\r\n", b"GET /nope HTTP/1.1\r\n"]
    replay = Replay(exchange(port, b"".join(line + HEADERS for line in requests)))
    routed, body = parse(replay)
    assert envelope(routed, body)["code"] == "MethodNotAllowedError" and routed.getheader("Connection") is None
    refused, body = parse(replay)
    assert envelope(refused, body)["message"] == "Unsupported method: TRACE"
    assert refused.getheader("Connection") == "close"
    assert replay.stream.read() == b""
