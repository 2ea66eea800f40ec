"""Password hashing (bcrypt) and the password policy."""

from __future__ import annotations

import functools

import bcrypt

from chalicelib.domain.errors import Invalid
from chalicelib.settings import get_settings

MIN_LENGTH = 10
MAX_BYTES = 72  # bcrypt ignores every byte after the 72nd: refuse rather than truncate silently


def hash_password(password: str) -> str:
    rounds = get_settings().bcrypt_rounds
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


def check_password(password: str, hashed: str | None) -> bool:
    """Constant work whether or not there is a hash, so timing tells nothing."""
    candidate = password.encode()[:MAX_BYTES]
    if not hashed:
        bcrypt.checkpw(candidate, _dummy_hash())
        return False
    return bcrypt.checkpw(candidate, hashed.encode())


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> bytes:
    return bcrypt.hashpw(b"no such user, same cost", bcrypt.gensalt(rounds=get_settings().bcrypt_rounds))


@functools.lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords from real leaks; loaded on
    # first use only, so cold starts of routes that never check a policy skip it.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_policy(password: str, *, username: str, email: str) -> None:
    """Raise Invalid (naming the field) unless the password is acceptable."""
    problem = _policy_problem(password, username=username, email=email)
    if problem:
        raise Invalid(problem, code="WeakPassword", details=[{"field": "password", "message": problem}])


def _policy_problem(password: str, *, username: str, email: str) -> str | None:
    if len(password) < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters."
    if len(password.encode()) > MAX_BYTES:
        return f"Password must be at most {MAX_BYTES} bytes in UTF-8."
    lowered = password.lower()
    if lowered in {username.lower(), email.lower(), email.lower().split("@")[0]}:
        return "Password must not be your username or email."
    if lowered in _common_passwords():
        return "Password is too common."
    return None
