"""Sign-up, sign-in, sign-out and who is calling."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.auth import passwords, tokens
from chalicelib.auth.permissions import Permission, has
from chalicelib.domain.errors import Invalid, TooManyAttempts, Unauthorized
from chalicelib.domain.ids import iso, new_id, utcnow
from chalicelib.settings import get_settings
from chalicelib.store import users as store
from chalicelib.store.users import User

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
