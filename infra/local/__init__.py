"""The local cloud: the whole system on one machine, no AWS account, no Docker."""

import logging

# "1" in a `chalice local` worker's environment: bind with SO_REUSEPORT, sharing the port with the other workers.
REUSE_PORT_ENV = "BOXOFFICE_REUSE_PORT"


def quiet_libraries() -> None:
    """botocore and PynamoDB tell at INFO where they found credentials and settings: noise in the log."""
    for name in ("botocore", "pynamodb"):
        logging.getLogger(name).setLevel(logging.WARNING)
