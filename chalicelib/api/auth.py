"""/auth/* and /me."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.routing import Ctx, Reply, route
from chalicelib.auth.permissions import Permission
from chalicelib.domain import auth, users
from chalicelib.domain.errors import Forbidden

if TYPE_CHECKING:
    from chalicelib.api.schemas import AdminRegisterBody, GoogleBody, LoginBody, RegisterBody

bp = Blueprint(__name__)


@route(bp, "/auth/register", "POST", summary="Create an account", auth_mode="none", body="RegisterBody", status=201)
def register(ctx: Ctx) -> dict[str, Any]:
    b: RegisterBody = ctx.body
    user = auth.register(email=b.email, username=b.username, name=b.name, password=b.password)
    return users.view(user, None, private=True)


@route(
    bp,
    "/auth/register/admin",
    "POST",
    summary="Create an account with a role (admins)",
    body="AdminRegisterBody",
    status=201,
)
def register_admin(ctx: Ctx) -> dict[str, Any]:
    if not ctx.caller.can(Permission.MANAGE_USERS):
        raise Forbidden("Only admins may create accounts with a role.")
    b: AdminRegisterBody = ctx.body
    user = auth.register(email=b.email, username=b.username, name=b.name, password=b.password, role=b.role)
    return users.view(user, ctx.caller)


@route(bp, "/auth/login", "POST", summary="Sign in: get a bearer token", auth_mode="none", body="LoginBody")
def login(ctx: Ctx) -> dict[str, Any]:
    b: LoginBody = ctx.body
    user, token, expires_in = auth.login(password=b.password, email=b.email, username=b.username)
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "user": users.view(user, None, private=True),
    }


@route(
    bp,
    "/auth/google",
    "POST",
    summary="Sign in with Google: a Google ID token for our bearer token (the account is found, linked or made)",
    auth_mode="none",
    body="GoogleBody",
)
def google(ctx: Ctx) -> dict[str, Any]:
    b: GoogleBody = ctx.body
    user, token, expires_in = auth.google_sign_in(b.id_token)
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "user": users.view(user, None, private=True),
    }


@route(bp, "/auth/logout", "POST", summary="Sign out: this token is refused from now on", status=204)
def logout(ctx: Ctx) -> Reply:
    auth.logout(ctx.caller)
    return Reply(204)


@route(bp, "/me", "GET", summary="The signed-in user, with email")
def me(ctx: Ctx) -> dict[str, Any]:
    return users.view(ctx.caller.user, ctx.caller)
