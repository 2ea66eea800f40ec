"""Messages routes (issue 8)."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
