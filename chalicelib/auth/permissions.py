"""Roles are named sets of permissions (API.md, "Roles and permissions")."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    VIEW_ALL = "can_view_all"
    EDIT_ALL = "can_edit_all"
    DELETE_ALL = "can_delete_all"
    MANAGE_USERS = "can_manage_users"
    MANAGE_TICKETS = "can_manage_tickets"
    ASSIGN_TICKETS = "can_assign_tickets"
    MANAGE_EVENTS = "can_manage_events"
    # `support` sees every support ticket but nothing else of others': a scoped view permission.
    VIEW_ALL_SUPPORT = "can_view_all_support_tickets"


ROLES: dict[str, frozenset[Permission]] = {
    "user": frozenset(),
    "organizer": frozenset({Permission.MANAGE_EVENTS}),
    "support": frozenset({Permission.VIEW_ALL_SUPPORT, Permission.MANAGE_TICKETS, Permission.ASSIGN_TICKETS}),
    "admin": frozenset(Permission),
}


def permissions_of(role: str) -> frozenset[Permission]:
    return ROLES.get(role, frozenset())


def has(role: str, permission: Permission) -> bool:
    return permission in permissions_of(role)
