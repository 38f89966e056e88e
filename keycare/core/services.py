"""Helpers shared by services in every app."""

from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from .exceptions import ConflictError, PermissionDeniedError
from .scoping import user_can, user_can_any


def require_permission(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    model: type[models.Model] | None = None,
) -> None:
    allowed = (
        user_can(actor, action, obj) if obj is not None else user_can_any(actor, action, model)
    )
    if not allowed:
        raise PermissionDeniedError(
            _("You do not have permission to do this."), extra={"code": "permission_denied"}
        )


def require_role(*, actor: Any, roles: tuple[str, ...], message: str | None = None) -> None:
    """Refuse an actor who has none of `roles` (no actor: the system itself acts)."""
    if actor is not None and not actor.has_role(*roles):
        raise PermissionDeniedError(
            message or _("You do not have permission to do this."),
            extra={"code": "permission_denied"},
        )


def apply_changes(*, instance: models.Model, data: dict[str, Any], allowed: set[str]) -> list[str]:
    """Set the allowed fields that differ; return the names of the changed fields."""
    changed = []
    for field, value in data.items():
        if field not in allowed:
            raise ValueError(f"Field {field!r} cannot be changed here")
        if getattr(instance, field) != value:
            setattr(instance, field, value)
            changed.append(field)
    return changed


def check_version(*, instance: models.Model, expected: int | None, field: str = "version") -> None:
    """Optimistic concurrency: an edit based on a stale version (the instance's `field`) is
    rejected."""
    current = getattr(instance, field)
    if expected is not None and int(expected) != current:
        raise ConflictError(
            _("Someone else changed this record while you were editing it. Reload and try again."),
            extra={"code": "stale_version", "current_version": current},
        )
