"""Domain errors: plain exceptions, mapped to HTTP in exactly one place (api/errors.py)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "Error"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.extra = extra


class Invalid(DomainError):
    """The request is well-formed JSON but its content breaks a rule (400)."""

    code = "ValidationError"

    def __init__(self, message: str, *, details: list[dict[str, str]] | None = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.details = details or []


class Unauthorized(DomainError):
    code = "Unauthorized"


class Forbidden(DomainError):
    code = "Forbidden"


class NotFound(DomainError):
    code = "NotFound"


class Conflict(DomainError):
    code = "Conflict"


class AlreadyExists(Conflict):
    code = "AlreadyExists"


class SoldOut(Conflict):
    code = "SoldOut"


class StaleVersion(Conflict):
    code = "StaleVersion"


class TooManyAttempts(DomainError):
    code = "TooManyAttempts"


class Busy(DomainError):
    """Contention that outlasted our retries: the client should retry (503)."""

    code = "Busy"


class Unavailable(DomainError):
    code = "Unavailable"
