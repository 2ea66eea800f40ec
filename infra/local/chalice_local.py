"""``chalice local`` with a listen backlog fit for many simultaneous clients,
and JSON errors only.

Chalice's local server keeps socketserver's default backlog of 5 connections;
a burst of concurrent buyers then sees "connection reset by peer" before a
request is even read. And requests refused before chalice routes them (an
unknown method, a malformed request line, too-large headers) got
BaseHTTPRequestHandler's HTML error page; they get the API's
``{"code", "message"}`` envelope instead. With autoreload, the worker is this
module again (not the stock ``chalice``). Everything else is the stock
``chalice local`` command (including its per-thread ``current_request``).

Several of these processes may serve one port (``make run WORKERS=n``, as
Lambda gives each concurrent request its own process): with
``BOXOFFICE_REUSE_PORT=1`` the server binds with SO_REUSEPORT and Linux
spreads the incoming connections over the processes listening there. Every
answer names the process that served it in ``X-Boxoffice-Worker`` (its pid);
the deployed API has no such header.

    python -m infra.local.chalice_local local --stage local --port 8000
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import MutableMapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler

from chalice import local
from chalice.cli import main, reloader

from infra.local import REUSE_PORT_ENV, quiet_libraries

BACKLOG = 256
WORKER_HEADER = "X-Boxoffice-Worker"
MAX_MESSAGE = 200  # the stock messages quote the request line, which may be 64 KiB long


def send_json_error(
    self: BaseHTTPRequestHandler, code: int, message: str | None = None, explain: str | None = None
) -> None:
    """``send_error`` with a JSON body: the same status (except 501), headers and closed connection."""
    status = HTTPStatus(code)
    if status is HTTPStatus.NOT_IMPLEMENTED:
        # Only sent for a method with no ``do_`` handler (TRACE, CONNECT, FOO...). Deployed, API Gateway never
        # routes such a method to us either; 405 with chalice's own code is what chalice local already answers
        # for a method a known path lacks (DELETE /health), so clients see one answer for "not this method".
        # No ``Allow``: which methods are allowed depends on the path, and this is decided before routing.
        status, name = HTTPStatus.METHOD_NOT_ALLOWED, "MethodNotAllowedError"
        text = f"Unsupported method: {self.command}"
    else:
        name, text = "".join(w[:1].upper() + w[1:] for w in status.phrase.replace("-", " ").split()), message or ""
    text = text or status.description
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1] + "…"
    self.log_error("code %d, message %s", status, text)
    if self.request_version == "HTTP/0.9":  # no version read yet: without this, no status line or headers
        self.request_version = self.protocol_version
    body = json.dumps({"code": name, "message": text}).encode()
    self.send_response(status)
    self.send_header("Connection", "close")
    self.send_header("Content-Type", "application/json")
    self.send_header("Content-Length", str(len(body)))
    self.end_headers()
    if self.command != "HEAD":
        self.wfile.write(body)


def parse_http1_request(self: BaseHTTPRequestHandler) -> bool:
    """``parse_request``, refusing HTTP/0.9 (a request line without a version), which has no status line."""
    if not BaseHTTPRequestHandler.parse_request(self):
        return False
    if self.request_version == "HTTP/0.9":
        self.send_error(HTTPStatus.BAD_REQUEST, f"No HTTP version in the request line ({self.requestline!r})")
        return False
    return True


def gateway_error(method: str, path: str, error: local.LocalGatewayException) -> tuple[int, dict[str, str], bytes]:
    """What API Gateway answers before the app, in the envelope the deployed gateway responses give
    (infra/template.py, GATEWAY_RESPONSES): no route for this path is 404 ``NotFound`` (API Gateway's
    "Missing Authentication Token", status 403, overridden the same way there). A method the path
    lacks is the app's 405 here (chalice routes it to the app), 404 deployed."""
    if isinstance(error, local.ForbiddenError):
        status, code, message = 404, "NotFound", f"No such route: {method} {path.split('?')[0]}"
    else:
        status, code, message = error.CODE, "Unauthorized", "Not authorized."
    body = json.dumps({"code": code, "message": message[:MAX_MESSAGE]}).encode()
    return status, {**error.headers, "Content-Type": "application/json"}, body


def send_gateway_error(self: local.ChaliceRequestHandler, error: local.LocalGatewayException) -> None:
    self._send_http_response(*gateway_error(self.command, self.path, error))


def end_headers_naming_worker(self: BaseHTTPRequestHandler) -> None:
    """Every answer (the app's, a gateway error, a refused request) says which worker served it."""
    self.send_header(WORKER_HEADER, str(os.getpid()))
    BaseHTTPRequestHandler.end_headers(self)


stock_start_parent_process = reloader.start_parent_process


def start_parent_process(env: MutableMapping[str, str]) -> None:
    """The reloader's parent starts its worker as ``sys.argv``: make that this module again, not ``chalice``."""
    sys.argv = sys.orig_argv
    stock_start_parent_process(env)


if __name__ == "__main__":
    local.ThreadedHTTPServer.request_queue_size = BACKLOG
    local.ChaliceRequestHandler.send_error = send_json_error
    local.ChaliceRequestHandler.parse_request = parse_http1_request
    local.ChaliceRequestHandler._send_error_response = send_gateway_error  # type: ignore[method-assign]
    local.ChaliceRequestHandler.end_headers = end_headers_naming_worker
    if os.environ.get(REUSE_PORT_ENV) == "1":
        local.ThreadedHTTPServer.allow_reuse_port = True
    # Headers and body leave in separate writes: without TCP_NODELAY, Nagle's algorithm meets the
    # client's delayed ACK and a keep-alive request can wait 40 ms for nothing.
    local.ChaliceRequestHandler.disable_nagle_algorithm = True
    quiet_libraries()
    reloader.start_parent_process = start_parent_process
    sys.argv[0] = "chalice"
    sys.exit(main())
