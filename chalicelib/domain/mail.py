"""Email through SES (in the local cloud, the embedded endpoint accepts it)."""

from __future__ import annotations

import functools
from typing import Any

from chalicelib.settings import get_settings


@functools.lru_cache(maxsize=1)
def _ses() -> Any:
    import boto3  # lazily: only the activity consumer sends mail

    return boto3.client("ses", region_name=get_settings().region)


def send(to: str, subject: str, body: str) -> str:
    """Send a plain-text email; returns SES's message id."""
    response = _ses().send_email(
        Source=get_settings().mail_from,
        Destination={"ToAddresses": [to]},
        Message={
            "Subject": {"Data": subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
        },
    )
    message_id: str = response["MessageId"]
    return message_id


def reset_client() -> None:
    _ses.cache_clear()
