"""Users, their unique email/username claims, revoked tokens and login failures."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError

from chalicelib.domain.errors import AlreadyExists, NotFound, StaleVersion
from chalicelib.store import keys
from chalicelib.store.pagination import Page, decode_cursor, page
from chalicelib.store.table import Item, find
from chalicelib.store.tx import ConditionFailed, Tx


class User(Item, discriminator="user"):
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    username = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute(default="user")
    password_hash = UnicodeAttribute(null=True)
    google_sub = UnicodeAttribute(null=True)
    token_version = NumberAttribute(default=0)
    version = NumberAttribute(default=1)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    def set_keys(self) -> User:
        self.pk, self.sk = keys.user(self.user_id)
        self.gsi1pk = keys.users_index()
        self.gsi1sk = keys.user_sort(self.username, self.user_id)
        self.gsi2pk, self.gsi2sk = self.role_keys()
        return self

    def role_keys(self) -> tuple[str, str]:
        """The user's place in the role index (GSI2): follows every change of role or username."""
        return keys.users_by_role(self.role), keys.user_sort(self.username, self.user_id)


class Claim(Item, discriminator="claim"):
    """Holds an email or username for one user: uniqueness by conditional put."""

    user_id = UnicodeAttribute()


class RevokedToken(Item, discriminator="revoked_token"):
    pass


class LoginFailures(Item, discriminator="login_failures"):
    attempts = NumberAttribute(default=0)
    last_attempt = UnicodeAttribute(null=True)  # the id of the attempt counted last


def _claim(key: tuple[str, str], user_id: str) -> Claim:
    return Claim(key[0], key[1], user_id=user_id)


def create(user: User) -> User:
    user.set_keys()
    tx = Tx()
    tx.put("email", _claim(keys.email_claim(user.email), user.user_id), Claim.pk.does_not_exist())
    tx.put("username", _claim(keys.username_claim(user.username), user.user_id), Claim.pk.does_not_exist())
    # The user id is new: its put failing means this very transaction already committed.
    tx.put("user", user, User.pk.does_not_exist(), fresh=True)
    try:
        tx.commit()
    except ConditionFailed as e:
        raise _taken(e) from e
    return user


def create_with_google(user: User, sub: str) -> User:
    """A new account signed in with Google: its email, username and Google subject claimed, one
    transaction. AlreadyExists (code EmailTaken / UsernameTaken / GoogleTaken) when one is taken."""
    user.google_sub = sub
    user.set_keys()
    tx = Tx()
    tx.put("email", _claim(keys.email_claim(user.email), user.user_id), Claim.pk.does_not_exist())
    tx.put("username", _claim(keys.username_claim(user.username), user.user_id), Claim.pk.does_not_exist())
    tx.put("google", _claim(keys.google_claim(sub), user.user_id), Claim.pk.does_not_exist())
    tx.put("user", user, User.pk.does_not_exist(), fresh=True)
    try:
        tx.commit()
    except ConditionFailed as e:
        if "google" in e:
            raise AlreadyExists("That Google account is linked already.", code="GoogleTaken") from e
        raise _taken(e) from e
    return user


def link_google(user: User, sub: str) -> None:
    """Link a Google subject to an existing account: the claim (absent, or already ours) and the
    user's ``google_sub`` (absent, or this one), one transaction; ConditionFailed otherwise."""
    claim = _claim(keys.google_claim(sub), user.user_id)
    tx = Tx()
    tx.put("google", claim, Claim.pk.does_not_exist() | (Claim.user_id == user.user_id))
    free = User.pk.exists() & (User.google_sub.does_not_exist() | (User.google_sub == sub))
    tx.update("user", user, [User.google_sub.set(sub)], free)
    tx.commit()


def user_id_for_google(sub: str) -> str | None:
    # Strongly consistent: after losing a race for this claim, the next read must see the winner's.
    claim = find(Claim, keys.google_claim(sub))
    return claim.user_id if claim is not None else None


def _taken(e: ConditionFailed) -> AlreadyExists:
    field = "email" if "email" in e else "username"
    return AlreadyExists(f"That {field} is already taken.", code=f"{field.capitalize()}Taken", field=field)


def get(user_id: str, consistent: bool = False) -> User | None:
    return find(User, keys.user(user_id), consistent)


def require(user_id: str) -> User:
    user = get(user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def user_id_for_login(email: str | None, username: str | None) -> str | None:
    key = keys.email_claim(email) if email else keys.username_claim(username or "")
    claim = find(Claim, key, False)
    return claim.user_id if claim is not None else None


def for_token(user_id: str, jti: str) -> tuple[User | None, bool]:
    """The user behind a token, and whether the token was revoked: one BatchGetItem."""
    user, revoked = None, False
    # Strongly consistent: a logout or password change takes effect on the very next request.
    for item in Item.batch_get([keys.user(user_id), keys.revoked_token(jti)], consistent_read=True):
        if isinstance(item, User):
            user = item
        elif isinstance(item, RevokedToken):
            revoked = True
    return user, revoked


def revoke(jti: str, expires_at: datetime) -> None:
    pk, sk = keys.revoked_token(jti)
    RevokedToken(pk, sk, ttl=expires_at).save()


def update(user: User, changes: dict[str, Any], bump_tokens: bool = False) -> User:
    """Apply ``changes`` to the user; moves email/username claims in the same transaction."""
    old_email, old_username = user.email, user.username
    expected = user.version
    for name, value in changes.items():
        setattr(user, name, value)
    if bump_tokens:
        user.token_version += 1
    user.version = expected + 1
    user.set_keys()
    tx = Tx()
    tx.put("user", user, User.version == expected)
    for field, old, new, key_fn in (
        ("email", old_email, user.email, keys.email_claim),
        ("username", old_username, user.username, keys.username_claim),
    ):
        if old.lower() != new.lower():
            tx.put(field, _claim(key_fn(new), user.user_id), Claim.pk.does_not_exist())
            tx.delete(f"old_{field}", _claim(key_fn(old), user.user_id), Claim.user_id == user.user_id)
    try:
        tx.commit()
    except ConditionFailed as e:
        if "user" in e:
            raise StaleVersion("The user changed meanwhile; read it again and retry.") from e
        raise _taken(e) from e
    return user


def delete(user: User) -> None:
    tx = Tx()
    tx.delete("user", user, User.version == user.version)
    tx.delete("email", _claim(keys.email_claim(user.email), user.user_id), Claim.user_id == user.user_id)
    tx.delete("username", _claim(keys.username_claim(user.username), user.user_id), Claim.user_id == user.user_id)
    if user.google_sub:  # the Google account may sign up again, as a new account
        tx.delete("google", _claim(keys.google_claim(user.google_sub), user.user_id), Claim.user_id == user.user_id)
    try:
        tx.commit()
    except ConditionFailed as e:
        raise StaleVersion("The user changed meanwhile; read it again and retry.") from e


def list_users(limit: int, cursor: str | None, q: str | None) -> Page[User]:
    """Every user by username; with ``q``, those whose username or name holds it (the n-gram index)."""
    if q is not None:
        from chalicelib.store import search  # it imports this module

        return search.find_users(q, limit, cursor)
    scope = "users#"
    start = decode_cursor(cursor, scope)
    results = Item.gsi1.query(keys.users_index(), limit=limit, last_evaluated_key=start)
    return page(results, limit, User, scope)


def by_role(role: str, limit: int, cursor: str | None) -> Page[User]:
    """One page of the accounts with ``role``, by username (a Query of GSI2)."""
    scope = keys.users_by_role(role)
    results = Item.gsi2.query(scope, limit=limit, last_evaluated_key=decode_cursor(cursor, scope))
    return page(results, limit, User, scope)


def scan_users() -> Iterator[User]:
    """Every user: a Scan, for operator commands only (never a request path)."""
    return (item for item in Item.scan(Item.type == User) if isinstance(item, User))


def set_role_keys(user: User) -> bool:
    """Write only the role-index keys of a user read earlier, if the role and username they derive
    from are still the ones read. False when the user changed or went meanwhile: a change went
    through :func:`update`, which set the keys itself."""
    gsi2pk, gsi2sk = user.role_keys()
    try:
        user.update(
            actions=[User.gsi2pk.set(gsi2pk), User.gsi2sk.set(gsi2sk)],
            condition=(User.role == user.role) & (User.username == user.username),
        )
    except UpdateError as e:
        if e.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def reserve_attempt(subject: str, limit: int, window: int, now: datetime) -> bool:
    """Count a sign-in attempt before the password is checked; False once ``limit`` are used.

    One atomic conditional ADD, so parallel guesses cannot all read an old
    count. The window is in the key: an old count is never read, TTL or not.
    """
    pk, sk = keys.login_failures(subject, _bucket(window, now))
    expires = now + timedelta(seconds=2 * window)
    attempt = uuid.uuid4().hex
    # botocore resends an update whose answer was lost: that resend counts the attempt twice (harmless, the
    # counter only rate-limits), but must not be refused as over the limit: the attempt's own id lets it pass.
    try:
        LoginFailures(pk, sk).update(
            actions=[
                LoginFailures.attempts.add(1),
                LoginFailures.last_attempt.set(attempt),
                LoginFailures.ttl.set(expires),
                LoginFailures.type.set(LoginFailures),
            ],
            condition=LoginFailures.pk.does_not_exist()
            | (LoginFailures.attempts < limit)
            | (LoginFailures.last_attempt == attempt),
        )
    except UpdateError as e:
        if e.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def clear_failures(subject: str, window: int, now: datetime) -> None:
    pk, sk = keys.login_failures(subject, _bucket(window, now))
    LoginFailures(pk, sk).delete()


def _bucket(window: int, now: datetime) -> int:
    return int(now.timestamp()) // max(window, 1)


def window_left(window: int, now: datetime) -> int:
    """Seconds until the current counting window ends."""
    return max(window, 1) - int(now.timestamp()) % max(window, 1)
