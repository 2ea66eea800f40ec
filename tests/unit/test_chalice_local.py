"""chalice local's answer for a path no route has, in process: Chalice's own LocalGateway (what both
``chalice local`` and chalice.test.Client route with) refuses it as API Gateway would (403 "Missing
Authentication Token"), and infra/local/chalice_local.py turns that into what the deployed gateway
responses give (infra/template.py): 404 NotFound in the {code, message} envelope. Over HTTP, against
the local runner itself: tests/concurrency/test_json_errors.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.config import Config
from chalice.local import LocalGateway, LocalGatewayException

from infra.local.chalice_local import gateway_error
from infra.template import GATEWAY_RESPONSES


@pytest.fixture
def gateway() -> LocalGateway:
    from app import app

    return LocalGateway(app, Config.create(chalice_app=app, app_name="boxoffice"))


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer x"}], ids=["anonymous", "with-a-token"])
def test_an_unknown_path_is_not_found_as_deployed(gateway: LocalGateway, headers: dict[str, str]) -> None:
    with pytest.raises(LocalGatewayException) as refused:
        gateway.handle_request("GET", "/no/such/path?x=1", headers, b"")
    assert refused.value.CODE == 403  # Chalice mirrors API Gateway's own answer...
    status, response_headers, body = gateway_error("GET", "/no/such/path?x=1", refused.value)
    deployed_status, deployed_code, _ = GATEWAY_RESPONSES["MISSING_AUTHENTICATION_TOKEN"]
    assert deployed_status is not None
    assert (status, json.loads(body)) == (  # ...which the runner answers as the stack's gateway response does
        int(deployed_status),
        {"code": deployed_code, "message": "No such route: GET /no/such/path"},
    )
    assert response_headers["Content-Type"] == "application/json"


def test_a_method_the_path_lacks_reaches_the_app(gateway: LocalGateway) -> None:
    """Routed (chalice knows the path), so the app's middleware answers: 405 in the envelope."""
    response: dict[str, Any] = gateway.handle_request("DELETE", "/health", {}, b"")
    assert response["statusCode"] == 405
    assert json.loads(response["body"])["code"] == "MethodNotAllowedError"
