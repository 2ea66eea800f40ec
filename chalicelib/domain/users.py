"""User profiles: read, edit, delete, list, with the owner/permission rules."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from chalicelib.auth import passwords
from chalicelib.auth.permissions import Permission
from chalicelib.domain.auth import ROLES, Caller
from chalicelib.domain.errors import Forbidden, Invalid
from chalicelib.domain.ids import iso, utcnow
from chalicelib.store import users as store
from chalicelib.store.pagination import Page
from chalicelib.store.users import User

DELETED_NAME = "Deleted user"
ROLE_PAGE = 100  # users per Query of the role index (the operator command reads every page)


def view(user: User, viewer: Caller | None, *, private: bool = False) -> dict[str, Any]:
    """A user as others see them; the email only for themselves and user managers."""
    out: dict[str, Any] = {
        "id": user.user_id,
        "username": user.username,
        "name": user.name,
        "role": user.role,
        "created_at": user.created_at,
    }
    if private or (viewer and (viewer.id == user.user_id or viewer.can(Permission.MANAGE_USERS))):
        out["email"] = user.email
        out["updated_at"] = user.updated_at
    return out


def ref(user_id: str, user: User | None) -> dict[str, Any]:
    """How a response embeds a user it names by id (an attendee, a buyer, a payee...).

    ``user`` is what a lookup of ``user_id`` found: None means the account was deleted, and it
    shows as a deleted user (the id stays, so staff can still tell two deleted buyers apart).
    """
    if user is None:
        return {"id": user_id, "username": None, "name": DELETED_NAME, "deleted": True}
    return {"id": user_id, "username": user.username, "name": user.name, "deleted": False}


def display_name(user_id: str) -> str:
    """How a notification names a user (someone deleted since is "Someone")."""
    user = store.get(user_id)
    return user.name if user is not None else "Someone"


def get(caller: Caller, user_id: str) -> User:
    return store.require(user_id)


def _editable(caller: Caller, user_id: str) -> User:
    if caller.id != user_id and not caller.can(Permission.MANAGE_USERS):
        # They may know the user exists (GET /users/{id} is open to signed-in users): 403.
        store.require(user_id)
        raise Forbidden("You may only change your own profile.")
    return caller.user if caller.id == user_id else store.require(user_id)


def edit(caller: Caller, user_id: str, changes: dict[str, Any]) -> User:
    """Partial update (PATCH); PUT passes every editable field."""
    user = _editable(caller, user_id)
    changes = dict(changes)
    if "role" in changes and changes["role"] != user.role:
        if not caller.can(Permission.MANAGE_USERS):
            raise Forbidden("Only user managers may change roles.", field="role")
        check_role(changes["role"])
    new_password = changes.pop("password", None)
    current = changes.pop("current_password", None)
    identity = [f for f in ("email", "username") if f in changes and changes[f].lower() != getattr(user, f).lower()]
    # What signs you in changes only with the password that signs you in now.
    self_service = caller.id == user.user_id and (new_password is not None or identity)
    if self_service and not passwords.check_password(current or "", user.password_hash):
        field = "password" if new_password is not None else identity[0]
        raise Forbidden("Changing this needs your current_password.", code="WrongPassword", field=field)
    if new_password is not None:
        passwords.check_policy(
            new_password, username=changes.get("username", user.username), email=changes.get("email", user.email)
        )
        changes["password_hash"] = passwords.hash_password(new_password)
    changes["updated_at"] = iso(utcnow())
    # A new password signs out every session (the token version is in each token).
    return store.update(user, changes, bump_tokens=new_password is not None)


def check_role(role: str) -> None:
    """Invalid unless ``role`` is one of the roles (API.md, "Roles and permissions")."""
    if role not in ROLES:
        allowed = ", ".join(ROLES)
        raise Invalid(f"Unknown role {role!r}: one of {allowed}.", details=[{"field": "role", "message": allowed}])


def delete(caller: Caller, user_id: str) -> None:
    """Delete the account: its email and username are free at once and its tokens stop working
    (no user behind them). The activity consumer then takes it off friend lists, pending friend
    requests and the search index; its orders, tickets and invoices stay, naming a deleted user."""
    user = _editable(caller, user_id)
    store.delete(user)


def list_users(limit: int, cursor: str | None, q: str | None) -> Page[User]:
    return store.list_users(limit, cursor, q)


# --- the role index (operator commands) -----------------------------------------------------------


def with_role(role: str, page_size: int = ROLE_PAGE) -> Iterator[User]:
    """Every account with ``role``, by username: the role index (GSI2), one Query per page."""
    check_role(role)
    return _role_pages(role, page_size)


def _role_pages(role: str, page_size: int) -> Iterator[User]:
    cursor: str | None = None
    while True:
        found = store.by_role(role, page_size, cursor)
        yield from found.items
        if found.next_cursor is None:
            return
        cursor = found.next_cursor


@dataclass
class RoleReindex:
    read: int = 0
    current: int = 0  # already had the right keys: not written
    written: int = 0
    changed: int = 0  # changed or deleted meanwhile: that write set (or dropped) the keys itself


def reindex_roles(found: Iterable[User]) -> RoleReindex:
    """Give each user the role-index keys their role and username call for (accounts written
    before the index existed have none). Idempotent: a user whose keys are right is not written."""
    run = RoleReindex()
    for user in found:
        run.read += 1
        if (user.gsi2pk, user.gsi2sk) == user.role_keys():
            run.current += 1
        elif store.set_role_keys(user):
            run.written += 1
        else:
            run.changed += 1
    return run
