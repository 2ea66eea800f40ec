"""Test environment: moto in-process for functional tests, fresh table per test."""

from __future__ import annotations

import os

# Before anything imports boto3 or the app: a fake, isolated AWS. An endpoint the caller named is kept
# aside for the one test that targets it (tests/concurrency/test_any_endpoint.py).
if os.environ.get("AWS_ENDPOINT_URL"):
    os.environ["BOXOFFICE_TARGET_ENDPOINT"] = os.environ["AWS_ENDPOINT_URL"]
for _name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[_name]
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "BOXOFFICE_TABLE": "boxoffice-test",
        "JWT_SECRET": "test-secret-not-for-production-0123456789",
        "BCRYPT_ROUNDS": "4",
        "VALIDATE_RESPONSES": os.environ.get("VALIDATE_RESPONSES", "1"),  # success bodies checked against the document
    }
)

from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

import boto3  # noqa: E402
import pytest  # noqa: E402
from chalice.test import Client  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib.domain import mail  # noqa: E402
from chalicelib.settings import get_settings, reset_settings  # noqa: E402
from chalicelib.store.table import create_table  # noqa: E402
from tests.support import Api  # noqa: E402


@pytest.fixture
def aws() -> Iterator[Any]:
    """A fresh moto account: the table created from its one definition, the
    reports bucket, and the verified sender address."""
    reset_settings()
    mail.reset_client()
    with mock_aws():
        client = boto3.client("dynamodb")
        create_table(client)
        boto3.client("s3").create_bucket(Bucket=get_settings().reports_bucket)
        boto3.client("ses").verify_email_identity(EmailAddress=get_settings().mail_from)
        yield client


@pytest.fixture
def chalice_client(aws: Any) -> Iterator[Client]:
    from app import app

    with Client(app, stage_name="local") as client:
        yield client


@pytest.fixture
def api(chalice_client: Client) -> Api:
    return Api.over_chalice(chalice_client)


@pytest.fixture
def stream(chalice_client: Client) -> Any:
    """The table's stream, delivered to both consumers on ``flush()`` (tests/streams/conftest.py)."""
    from tests.streams.conftest import Stream

    return Stream(chalice_client)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``-n 2 --dist loadgroup`` (make test), the tests that start local clouds run one after
    another on one worker (they share the machine's ports and cores with their servers), while the
    in-process tests spread over both workers."""
    for item in items:
        if item.get_closest_marker("local_cloud"):
            item.add_marker(pytest.mark.xdist_group("local_cloud"))
