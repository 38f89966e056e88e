"""The engagement log: every service that changes an engagement record writes one entry in
the same transaction (convention 7), named `<record>_<past verb>` in `action`."""

from typing import Any

from django.db import models

from .models import EngagementLog


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)  # dates, decimals


def log_event(
    *, obj: models.Model, action: str, actor: Any = None, account: Any = None, **data: Any
) -> EngagementLog:
    """Record that `actor` did `action` to `obj` (its account taken from `obj.account` unless
    given); `data` holds what changed (from → to) or the figures of a decision."""
    if account is None:
        account = getattr(obj, "account", None)
    return EngagementLog.objects.create(
        account=account,
        object_type=obj._meta.model_name,
        object_id=obj.pk,
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        data=_plain(data),
    )
