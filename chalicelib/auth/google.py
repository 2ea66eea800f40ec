"""Google sign-in: verify a Google OpenID Connect ID token.

The signature is checked against Google's published keys (RS256 only), fetched by PyJWT's
``PyJWKClient`` from ``GOOGLE_JWKS_URL`` and cached per URL for the life of the Lambda container.
The URL is a setting, so the tests point it at a server on 127.0.0.1 publishing their own key
pair: they never reach the network, and nothing in our code is replaced.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import Unauthorized, Unavailable

GOOGLE_JWKS = "https://www.googleapis.com/oauth2/v3/certs"
ISSUERS = ["https://accounts.google.com", "accounts.google.com"]
REQUIRED = ["iss", "aud", "exp", "iat", "sub"]


@dataclass(frozen=True)
class Identity:
    sub: str
    email: str
    name: str


def _invalid(why: str) -> Unauthorized:
    return Unauthorized(f"The Google ID token is not valid: {why}.", code="InvalidGoogleToken")


@functools.lru_cache(maxsize=4)
def _keys(url: str) -> Any:
    import jwt  # lazily: PyJWT's RSA support imports cryptography

    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=10)


def verify(id_token: str, client_id: str, jwks_url: str) -> Identity:
    """The verified identity in the token, or 401 ``InvalidGoogleToken`` saying why."""
    import jwt

    try:
        key = _keys(jwks_url).get_signing_key_from_jwt(id_token).key
        claims = jwt.decode(
            id_token,
            key,
            algorithms=["RS256"],
            audience=client_id,
            issuer=ISSUERS,
            # strict_aud: Google's aud is one string; a list naming us among others is not for us alone.
            options={"require": REQUIRED, "strict_aud": True},
            leeway=30,
        )
    except jwt.ExpiredSignatureError as e:
        raise _invalid("expired") from e
    except jwt.ImmatureSignatureError as e:
        raise _invalid(f"not valid yet: issued in the future ({e})") from e
    except jwt.InvalidAudienceError as e:
        raise _invalid("issued for another application (aud)") from e
    except jwt.InvalidIssuerError as e:
        raise _invalid("not issued by Google (iss)") from e
    except jwt.InvalidSignatureError as e:
        raise _invalid("bad signature") from e
    except (jwt.PyJWKClientConnectionError, jwt.PyJWKSetError, json.JSONDecodeError) as e:
        # Google's key endpoint is down or answered nonsense: the token may be fine, so not a 401.
        raise Unavailable(
            "Google's signing keys could not be fetched; try again shortly.",
            code="GoogleKeysUnavailable",
            retry_after=5,
        ) from e
    except jwt.PyJWKClientError as e:
        raise _invalid(f"no Google key verifies it ({e})") from e
    except jwt.InvalidTokenError as e:
        raise _invalid(f"malformed ({e})") from e
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise _invalid("it carries no email")
    if claims.get("email_verified") not in (True, "true"):
        raise _invalid("Google has not verified its email")
    name = claims.get("name")
    name = name.strip()[:100] if isinstance(name, str) else ""
    return Identity(sub=str(claims["sub"]), email=email, name=name or email.split("@")[0])
