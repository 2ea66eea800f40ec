"""A cold ``import app`` loads only what every function needs: the libraries of request bodies
(pydantic, email-validator), tokens and ticket codes (PyJWT, cryptography), QR images (segno),
places (pygeohash) and ids (python-ulid) are imported by the code that uses them, on first use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAZY = ["pydantic", "pydantic_core", "email_validator", "jwt", "cryptography", "segno", "pygeohash", "ulid"]


def test_importing_the_app_loads_none_of_the_lazy_libraries():
    code = f"import json, sys, app; print(json.dumps([m for m in {LAZY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_every_route_still_has_its_body_model():
    from chalicelib.api.routing import ROUTES

    bodies = [r for r in ROUTES if r.body_name is not None]
    assert bodies and all(r.body is not None and r.body.__name__ == r.body_name for r in bodies)
