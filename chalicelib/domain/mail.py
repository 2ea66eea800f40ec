"""Email through SES (in the local cloud, the embedded endpoint accepts it)."""

from __future__ import annotations

import functools
import logging
from typing import Any

from chalicelib.settings import get_settings

log = logging.getLogger("boxoffice.mail")


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


# SES refuses these for this message or address, however often it is asked again.
PERMANENT = {"MessageRejected", "InvalidParameterValue", "MailFromDomainNotVerifiedException"}


def send_or_refused(to: str, subject: str, body: str) -> str | None:
    """Send; None when sent, SES's reason when it refused the message for good.

    A refusal is this recipient's alone: it must not fail the stream record and
    hold back everyone else's notifications. Throttling and outages still raise,
    so the record is retried.
    """
    from botocore.exceptions import ClientError

    try:
        send(to, subject, body)
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        if code not in PERMANENT:
            raise
        log.warning("SES refused mail to %s for good: %s", to, code)
        return f"{code}: {e.response.get('Error', {}).get('Message', '')}"[:500]
    return None


def reset_client() -> None:
    _ses.cache_clear()
