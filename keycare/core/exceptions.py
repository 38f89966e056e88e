"""The one application error type. Services raise it (or Django's ValidationError);
the API handler renders it as {"message", "extra"} and web views show it on the form."""

from typing import Any


class ApplicationError(Exception):
    def __init__(self, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class PermissionDeniedError(ApplicationError):
    """The acting user may not do this (rendered as 403)."""


class ConflictError(ApplicationError):
    """The object changed since the caller read it (rendered as 409)."""
