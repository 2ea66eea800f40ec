"""How every route is declared: auth, body parsing, errors, and the OpenAPI record.

``route`` wraps a view so that it receives a :class:`Ctx` (the caller, the
validated body, query helpers) and may return a dict, a :class:`Reply` or an
idempotency replay; every exception becomes a JSON error in ``api/errors.py``.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from chalice import Blueprint, Response
from chalice.app import Request
from pynamodb.exceptions import PynamoDBException

from chalicelib.api import errors
from chalicelib.domain import auth
from chalicelib.domain.errors import DomainError, Invalid, NotFound, Unauthorized
from chalicelib.settings import get_settings
from chalicelib.store.idempotency import Replay

if TYPE_CHECKING:
    from pydantic import BaseModel, TypeAdapter

# Curl's -d sends form encoding by default; every body is parsed as JSON whatever
# its label, so a JSON body works and anything else gets a clear 400.
CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]
AuthMode = Literal["required", "optional", "none"]
MAX_LIMIT, DEFAULT_LIMIT = 100, 20
MAX_ID_LENGTH = 100
PAGE = {"limit": f"1-{MAX_LIMIT} (default {DEFAULT_LIMIT})", "cursor": "from next_cursor"}  # a list's query parameters


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str | list[str]] = field(default_factory=dict)


@dataclass
class RouteDoc:
    method: str
    path: str
    summary: str
    auth: AuthMode
    body_name: str | None  # a model of api/schemas.py, by name: see ``route``
    status: int
    tag: str
    query: dict[str, str]
    headers: dict[str, str]

    @property
    def body(self) -> type[BaseModel] | None:
        """The pydantic model of the request body."""
        return _request_model(self.body_name) if self.body_name is not None else None

    @property
    def response(self) -> Any:
        """The pydantic model of the success body (api/responses.py, imported only when asked: its
        models are built at import, which a cold start would pay for nothing)."""
        return _response_models().get((self.method, self.path))


@functools.cache
def _response_models() -> dict[tuple[str, str], Any]:
    from chalicelib.api.responses import RESPONSES

    return RESPONSES


@functools.cache
def _checker(method: str, path: str) -> TypeAdapter[Any] | None:
    from pydantic import TypeAdapter

    model = _response_models().get((method, path))
    return TypeAdapter(model) if model is not None else None


@functools.cache
def _request_model(name: str) -> type[BaseModel]:
    """A request body's model, by name. api/schemas.py (and pydantic, and email-validator) is
    imported with the first request that has a body: a cold start that serves none (a stream or
    scheduled function, a GET) does not build its models."""
    from chalicelib.api import schemas

    model: type[BaseModel] = getattr(schemas, name)
    return model


def _is_validation_error(exc: Exception) -> bool:
    """A pydantic ValidationError (a body refused), without importing pydantic to ask: if it is not
    imported yet, nothing has raised one."""
    pydantic_core = sys.modules.get("pydantic_core")
    return pydantic_core is not None and isinstance(exc, pydantic_core.ValidationError)


ROUTES: list[RouteDoc] = []


class Ctx:
    def __init__(self, request: Request, caller: auth.Caller | None, body: Any) -> None:
        self.request = request
        self._caller = caller
        self.body = body

    @property
    def caller(self) -> auth.Caller:
        if self._caller is None:  # only on routes declared auth="none"/"optional"
            raise Unauthorized("Sign in first.", code="MissingToken")
        return self._caller

    @property
    def signed_in(self) -> auth.Caller | None:
        """The caller on an ``optional`` route, or None without a token (a bad token was 401 already)."""
        return self._caller

    def query(self, name: str, max_length: int = 200) -> str | None:
        params: Any = self.request.query_params or {}
        value: str | None = params.get(name)
        if value is not None and len(value) > max_length:
            raise _bad_param(name, f"at most {max_length} characters")
        return value

    def page(self) -> tuple[int, str | None]:
        raw = self.query("limit", 10)
        limit = DEFAULT_LIMIT
        if raw is not None:
            if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
                raise _bad_param("limit", f"a whole number from 1 to {MAX_LIMIT}")
            limit = int(raw)
        return limit, self.query("cursor", 4000) or None

    def header(self, name: str) -> str | None:
        value: str | None = self.request.headers.get(name)
        return value


def _bad_param(name: str, message: str) -> Invalid:
    return Invalid(f"Query parameter {name}: {message}.", details=[{"field": name, "message": message}])


def route(
    bp: Blueprint,
    path: str,
    method: str,
    *,
    summary: str,
    auth_mode: AuthMode = "required",
    body: str | None = None,
    status: int = 200,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a route. ``body`` names the request body's model in api/schemas.py (a name, not
    the class: the models are built on first use, not at import; a cold start pays nothing for them)."""
    tag = getattr(bp, "_import_name", "api").rsplit(".", 1)[-1]
    ROUTES.append(RouteDoc(method, path, summary, auth_mode, body, status, tag, query or {}, headers or {}))

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def view(**params: str) -> Response:
            try:
                request = bp.current_request
                if any(len(value) > MAX_ID_LENGTH for value in params.values()):
                    raise NotFound("No such resource.")  # no id is that long; and keys have a size limit
                ctx = Ctx(request, _caller(request, auth_mode), _body(request, body))
                result = fn(ctx, **params)
                if get_settings().validate_responses:
                    checked = _checker(method, path)
                    if checked is not None:
                        _conforms(checked, result)
                return _respond(result, status)
            except DomainError as err:
                return errors.from_domain(err)
            except PynamoDBException as err:
                return errors.from_store(err)
            except Exception as exc:
                if _is_validation_error(exc):
                    return errors.from_validation(exc)  # type: ignore[arg-type]
                return errors.internal(exc)

        bp.route(path, methods=[method], content_types=CONTENT_TYPES)(view)
        return fn

    return decorate


def _conforms(checked: TypeAdapter[Any], result: Any) -> None:
    """The success body matches the documented schema (tests turn this on: VALIDATE_RESPONSES)."""
    body = result.body if isinstance(result, (Reply, Replay)) else result
    if isinstance(result, Replay) and result.status_code >= 300:
        return
    from pydantic import ValidationError

    try:
        checked.validate_python(body, strict=False)
    except ValidationError as e:  # our bug, not the client's: a 500 (and a failing test), never a 400
        raise RuntimeError(f"the response does not match its documented schema: {e}") from None


def _caller(request: Request, mode: AuthMode) -> auth.Caller | None:
    header = request.headers.get("authorization")
    if mode == "none" or (mode == "optional" and not header):
        return None
    return auth.authenticate(header)


def _body(request: Request, name: str | None) -> Any:
    raw = request.raw_body or b""
    limit = get_settings().max_body_bytes
    if len(raw) > limit:
        raise Invalid(f"The body is larger than {limit} bytes.", code="BodyTooLarge")
    if name is None:
        return None
    if not raw.strip():
        raise Invalid("This request needs a JSON body.", code="MissingBody")
    return _request_model(name).model_validate_json(raw)


def _respond(result: Any, status: int) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, Replay):
        return Response(body=result.body, status_code=result.status_code, headers=_JSON)
    if isinstance(result, Reply):
        if result.status == 204:
            return Response(body="", status_code=204, headers=result.headers)
        return Response(body=result.body, status_code=result.status, headers={**_JSON, **result.headers})
    if status == 204:
        return Response(body="", status_code=204)
    return Response(body=result, status_code=status, headers=_JSON)


_JSON: dict[str, str | list[str]] = {"Content-Type": "application/json"}


def page_body(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}


def normalize_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice answers some errors itself (405, 415, 500) as ``{Code, Message}``:
    rewrite them into the API's ``{code, message}`` envelope."""
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body and "code" not in body:
        response.body = {"code": body["Code"], "message": body.get("Message", "")}
    return response
