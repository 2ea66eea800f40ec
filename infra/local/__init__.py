"""The local cloud: the whole system on one machine, no AWS account, no Docker."""

import logging


def quiet_libraries() -> None:
    """botocore and PynamoDB tell at INFO where they found credentials and settings: noise in the log."""
    for name in ("botocore", "pynamodb"):
        logging.getLogger(name).setLevel(logging.WARNING)
