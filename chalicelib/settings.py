"""One Settings object, read from the environment the first time it is needed.

Lambda cold starts pay for every import-time side effect, so nothing here runs
at import: call :func:`get_settings`. Tests call :func:`reset_settings` after
changing the environment.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


@dataclass(frozen=True)
class Settings:
    stage: str
    table_name: str
    region: str
    jwt_issuer: str
    jwt_audience: str
    token_ttl_seconds: int
    bcrypt_rounds: int
    max_body_bytes: int
    idempotency_ttl_seconds: int
    login_max_failures: int
    login_window_seconds: int
    fanout_page: int  # recipients per fan-out step: one stream record never does more
    support_reopen_days: int  # a creator may reopen a resolved support ticket for this long
    google_client_id: str | None  # Google sign-in's OAuth client id (the tokens' aud); none: sign-in off
    google_jwks_url: str  # where Google's signing keys are published
    validate_responses: bool  # check each success body against its OpenAPI schema (on in the tests)
    jwt_secret_parameter: str | None
    _jwt_secret: str | None
    mail_from: str
    reports_bucket: str

    @property
    def jwt_secret(self) -> str:
        """The HMAC key for tokens: from JWT_SECRET, or fetched once from SSM."""
        if self._jwt_secret:
            return self._jwt_secret
        if self.jwt_secret_parameter:
            return _secret_from_ssm(self.jwt_secret_parameter, self.region)
        raise RuntimeError("JWT_SECRET (or JWT_SECRET_PARAMETER) is not set")


@functools.lru_cache(maxsize=4)
def _secret_from_ssm(name: str, region: str) -> str:
    import boto3  # lazily: only deployed stages read the secret from SSM

    client = boto3.client("ssm", region_name=region)
    value: str = client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    return value


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        stage=os.environ.get("BOXOFFICE_STAGE", "dev"),
        table_name=os.environ.get("BOXOFFICE_TABLE", "boxoffice"),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        jwt_issuer=os.environ.get("JWT_ISSUER", "boxoffice"),
        jwt_audience=os.environ.get("JWT_AUDIENCE", "boxoffice-api"),
        token_ttl_seconds=_int("TOKEN_TTL_SECONDS", 24 * 3600),
        bcrypt_rounds=_int("BCRYPT_ROUNDS", 12),
        max_body_bytes=_int("MAX_BODY_BYTES", 64 * 1024),
        idempotency_ttl_seconds=_int("IDEMPOTENCY_TTL_SECONDS", 24 * 3600),
        login_max_failures=_int("LOGIN_MAX_FAILURES", 5),
        login_window_seconds=_int("LOGIN_WINDOW_SECONDS", 15 * 60),
        fanout_page=_int("FANOUT_PAGE", 50),
        support_reopen_days=_int("SUPPORT_REOPEN_DAYS", 14),
        google_client_id=os.environ.get("GOOGLE_CLIENT_ID") or None,
        google_jwks_url=os.environ.get("GOOGLE_JWKS_URL") or "https://www.googleapis.com/oauth2/v3/certs",
        validate_responses=os.environ.get("VALIDATE_RESPONSES", "") in ("1", "true"),
        jwt_secret_parameter=os.environ.get("JWT_SECRET_PARAMETER") or None,
        _jwt_secret=os.environ.get("JWT_SECRET") or None,
        mail_from=os.environ.get("MAIL_FROM", "tickets@boxoffice.example.com"),
        reports_bucket=os.environ.get("REPORTS_BUCKET", "boxoffice-reports"),
    )


def reset_settings() -> None:
    get_settings.cache_clear()
