"""``chalice local`` with a listen backlog fit for many simultaneous clients.

Chalice's local server keeps socketserver's default backlog of 5 connections;
a burst of concurrent buyers then sees "connection reset by peer" before a
request is even read. Everything else is the stock ``chalice local`` command
(including its per-thread ``current_request``).

    python -m infra.local.chalice_local local --stage local --port 8000
"""

from __future__ import annotations

import sys

from chalice import local
from chalice.cli import main

BACKLOG = 256

if __name__ == "__main__":
    local.ThreadedHTTPServer.request_queue_size = BACKLOG
    sys.argv[0] = "chalice"
    sys.exit(main())
