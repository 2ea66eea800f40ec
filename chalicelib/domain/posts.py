"""Posts (issue 8)."""

from __future__ import annotations

from chalicelib.streams.processor import Reactions

REACTIONS: Reactions = {}  # the activity consumer's reactions for this aggregate (merged in streams/activity.py)
