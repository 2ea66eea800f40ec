from __future__ import annotations

import pytest

from chalicelib.auth import passwords
from chalicelib.domain.errors import Invalid


@pytest.mark.parametrize(
    "password",
    ["short", "1234567890", "password123", "qwertyuiop", "someone_here", "someone_here@example.com", "ü" * 37],
)
def test_policy_refuses(password):
    with pytest.raises(Invalid):
        passwords.check_policy(password, username="someone_here", email="someone_here@example.com")


def test_policy_accepts_a_long_uncommon_passphrase():
    passwords.check_policy("tangerine lighthouse 42", username="someone_here", email="someone_here@example.com")


def test_hash_roundtrip_and_no_hash_is_false():
    hashed = passwords.hash_password("tangerine lighthouse 42")
    assert hashed.startswith("$2b$04$")  # BCRYPT_ROUNDS=4 in tests; 12 by default
    assert passwords.check_password("tangerine lighthouse 42", hashed)
    assert not passwords.check_password("tangerine lighthouse 43", hashed)
    assert not passwords.check_password("anything", None)


def test_bcrypt_cost_is_12_unless_configured(monkeypatch):
    from chalicelib.settings import get_settings, reset_settings

    monkeypatch.delenv("BCRYPT_ROUNDS")
    reset_settings()
    try:
        assert get_settings().bcrypt_rounds == 12
    finally:
        monkeypatch.undo()
        reset_settings()
