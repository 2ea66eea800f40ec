"""Messages: items and access patterns (issue 8)."""

from __future__ import annotations
