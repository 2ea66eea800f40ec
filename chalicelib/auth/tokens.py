"""JWT access tokens: one pinned algorithm, every registered claim checked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.domain.errors import Unauthorized
from chalicelib.domain.ids import new_id, utcnow
from chalicelib.settings import get_settings

ALGORITHM = "HS256"
REQUIRED = ["iss", "aud", "exp", "iat", "sub", "jti"]


@dataclass(frozen=True)
class Claims:
    sub: str
    jti: str
    token_version: int
    expires_at: datetime


def _jwt() -> Any:
    # PyJWT imports `cryptography` for its RSA/EC algorithms (~45 ms here): imported
    # on first use, so the stream and job functions, which import the app but
    # never touch a token, don't pay for it at cold start.
    import jwt

    return jwt


def issue(user_id: str, token_version: int) -> tuple[str, int]:
    """A signed access token for the user, and its lifetime in seconds."""
    s = get_settings()
    now = utcnow()
    payload = {
        "iss": s.jwt_issuer,
        "aud": s.jwt_audience,
        "sub": user_id,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=s.token_ttl_seconds)).timestamp()),
        "jti": new_id(),
        "tv": token_version,
    }
    return _jwt().encode(payload, s.jwt_secret, algorithm=ALGORITHM), s.token_ttl_seconds


def verify(token: str) -> Claims:
    s = get_settings()
    jwt = _jwt()
    try:
        data = jwt.decode(
            token,
            s.jwt_secret,
            algorithms=[ALGORITHM],
            audience=s.jwt_audience,
            issuer=s.jwt_issuer,
            options={"require": REQUIRED},
        )
    except jwt.ExpiredSignatureError as e:
        raise Unauthorized("The token has expired.", code="TokenExpired") from e
    except jwt.PyJWTError as e:
        raise Unauthorized("The token is not valid.", code="InvalidToken") from e
    if not isinstance(data.get("sub"), str) or not isinstance(data.get("jti"), str):
        raise Unauthorized("The token is not valid.", code="InvalidToken")
    return Claims(
        sub=data["sub"],
        jti=data["jti"],
        token_version=int(data.get("tv", 0)),
        expires_at=datetime.fromtimestamp(int(data["exp"]), UTC),
    )
