"""Benchmarks: each prints ratios measured in one run (python -m bench [name ...])."""

from __future__ import annotations

import os
from typing import Any


def use_moto_in_process() -> None:
    """The environment of an in-process benchmark on moto: set before boto3 or the app is imported."""
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "BOXOFFICE_TABLE": "boxoffice-bench",
            "JWT_SECRET": "bench-secret-0123456789-0123456789-0123",
            "BCRYPT_ROUNDS": "4",
        }
    )
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
        del os.environ[name]


def app_clients() -> list[Any]:
    """The botocore client of every model class of the app (a subclass may have a connection of its own)."""
    from chalicelib.store.table import Item

    discriminator = Item._get_discriminator_attribute()
    assert discriminator is not None
    models: list[Any] = [Item, *discriminator.get_registered_subclasses(Item)]
    clients = {id(c): c for c in (m._get_connection().connection.client for m in models)}
    return list(clients.values())
