"""Sign-up, sign-in, sign-out and who is calling."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.auth import passwords, tokens
from chalicelib.auth.permissions import Permission, has
from chalicelib.domain.errors import (
    AlreadyExists,
    Busy,
    Conflict,
    Invalid,
    TooManyAttempts,
    Unauthorized,
    Unavailable,
)
from chalicelib.domain.ids import iso, new_id, utcnow
from chalicelib.settings import get_settings
from chalicelib.store import users as store
from chalicelib.store.tx import ConditionFailed
from chalicelib.store.users import User

if TYPE_CHECKING:
    from chalicelib.auth.google import Identity

ROLES = ("user", "organizer", "support", "admin")


@dataclass(frozen=True)
class Caller:
    user: User
    claims: tokens.Claims

    @property
    def id(self) -> str:
        return self.user.user_id

    @property
    def role(self) -> str:
        return self.user.role

    def can(self, permission: Permission) -> bool:
        return has(self.user.role, permission)


def register(*, email: str, username: str, name: str, password: str, role: str = "user") -> User:
    """Create an account; the password is checked against the policy and stored as a bcrypt hash."""
    passwords.check_policy(password, username=username, email=email)
    if role not in ROLES:
        raise Invalid("Unknown role.", details=[{"field": "role", "message": f"one of {', '.join(ROLES)}"}])
    now = iso(utcnow())
    user = User(
        user_id=new_id(),
        email=email,
        username=username,
        name=name,
        role=role,
        password_hash=passwords.hash_password(password),
        created_at=now,
        updated_at=now,
    )
    return store.create(user)


def login(*, password: str, email: str | None = None, username: str | None = None) -> tuple[User, str, int]:
    """Check the credentials; the same failure for an unknown account and a wrong password."""
    s = get_settings()
    now = utcnow()
    user_id = store.user_id_for_login(email, username)
    # One counter per account whichever name signs in; per name for unknown ones.
    subject = user_id or f"unknown:{(email or username or '').lower()}"
    if not store.reserve_attempt(subject, s.login_max_failures, s.login_window_seconds, now):
        raise TooManyAttempts(
            "Too many failed sign-ins; try again later.", retry_after=store.window_left(s.login_window_seconds, now)
        )
    user = store.get(user_id or "-")  # the same reads for unknown and known accounts
    if not passwords.check_password(password, user.password_hash if user else None) or user is None:
        raise Unauthorized("Wrong email, username or password.", code="InvalidCredentials")
    store.clear_failures(subject, s.login_window_seconds, now)
    token, expires_in = tokens.issue(user.user_id, int(user.token_version))
    return user, token, expires_in


GOOGLE_ATTEMPTS = 4


def google_sign_in(id_token: str) -> tuple[User, str, int]:
    """Sign in with a Google ID token: the account linked to that Google subject, else the account
    with that (Google-verified) email, now linked, else a new account. Returns what login does."""
    from chalicelib.auth import google

    s = get_settings()
    if not s.google_client_id:
        raise Unavailable("Google sign-in is not configured here (GOOGLE_CLIENT_ID).", code="GoogleSignInOff")
    who = google.verify(id_token, s.google_client_id, s.google_jwks_url)
    # A concurrent first sign-in of the same person may create or link the account between our read
    # and our write: its claims then refuse ours, and the next round finds what it made.
    for _ in range(GOOGLE_ATTEMPTS):
        user = _google_account(who)
        if user is not None:
            token, expires_in = tokens.issue(user.user_id, int(user.token_version))
            return user, token, expires_in
    raise Busy("Google sign-in is busy for this account; please retry.", retry_after=1)


def _google_account(who: Identity) -> User | None:
    """The account for this Google identity, linking or creating it; None: lost a race, read again."""
    linked = store.user_id_for_google(who.sub)
    if linked is not None:
        return store.get(linked, consistent=True)
    existing_id = store.user_id_for_login(who.email, None)
    if existing_id is not None:
        user = store.get(existing_id, consistent=True)  # sees a link made by a race we just lost
        if user is None:
            return None
        if user.google_sub and user.google_sub != who.sub:
            raise Conflict("This email's account is linked to another Google account.", code="GoogleAccountConflict")
        try:
            store.link_google(user, who.sub)
        except ConditionFailed:
            return None
        user.google_sub = who.sub
        return user
    try:
        return store.create_with_google(_new_google_user(who), who.sub)
    except AlreadyExists as e:
        if e.code != "UsernameTaken":
            return None  # the email or the subject was claimed meanwhile: read again
    try:
        return store.create_with_google(_new_google_user(who, suffix=True), who.sub)
    except AlreadyExists:
        return None


def _new_google_user(who: Identity, suffix: bool = False) -> User:
    """A passwordless account named after the email's local part (valid and, with ``suffix``, unlikely taken)."""
    base = re.sub(r"[^A-Za-z0-9_.]", "", who.email.split("@")[0])[:22] or "user"
    username = base.ljust(3, "0") + (f".{secrets.randbelow(10**6):06d}" if suffix else "")
    now = iso(utcnow())
    return User(
        user_id=new_id(),
        email=who.email,
        username=username,
        name=who.name,
        role="user",
        password_hash=None,
        created_at=now,
        updated_at=now,
    )


def authenticate(authorization: str | None) -> Caller:
    """The caller behind an ``Authorization: Bearer`` header, or Unauthorized."""
    if not authorization:
        raise Unauthorized("Sign in first: send Authorization: Bearer <token>.", code="MissingToken")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Use Authorization: Bearer <token>.", code="InvalidToken")
    claims = tokens.verify(token.strip())
    user, revoked = store.for_token(claims.sub, claims.jti)
    if revoked:
        raise Unauthorized("The token was revoked.", code="TokenRevoked")
    if user is None or user.token_version != claims.token_version:
        raise Unauthorized("The token is no longer valid.", code="InvalidToken")
    return Caller(user, claims)


def logout(caller: Caller) -> None:
    store.revoke(caller.claims.jti, caller.claims.expires_at)
