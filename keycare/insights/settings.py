"""The insights area's settings (one row): read by the analyses as their defaults (Pareto
cut-offs, pyramid splits, days without contact, concentration alert thresholds) and by
tiers_apply (where tiers come from); changed by administrators only."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from keycare.core.exceptions import PermissionDeniedError
from keycare.core.services import check_version
from keycare.users.choices import Role
from keycare.users.models import User

from .models import InsightsSettings

#: The fields an administrator sets (everything but the edit version).
FIELDS = ("tier_source", "cutoff_a", "cutoff_b", "platinum", "gold", "neglect_days",
          "alert_top_1", "alert_top_5", "alert_hhi")  # fmt: skip


def insights_settings_get() -> InsightsSettings:
    """The settings row (seeded by the migrations; created with the defaults if missing)."""
    return InsightsSettings.current()


def insights_settings_may_change(actor: User | None) -> bool:
    return actor is not None and actor.is_authenticated and actor.has_role(Role.ADMINISTRATOR)


@transaction.atomic
def insights_settings_update(
    *, actor: User, data: Mapping[str, Any], lock_version: int | None
) -> InsightsSettings:
    """Change the settings (administrators only). `data` holds any of FIELDS; an edit based
    on a stale `lock_version` is rejected (ConflictError) and nothing is saved; the row is
    validated in full (ranges, 0 < A ≤ B ≤ 100, 0 < platinum ≤ gold ≤ 100)."""
    if not insights_settings_may_change(actor):
        raise PermissionDeniedError(
            _("You do not have permission to do this."), extra={"code": "permission_denied"}
        )
    insights_settings_get()  # the row exists before it is locked
    settings = InsightsSettings.objects.select_for_update().get(pk=1)
    check_version(instance=settings, expected=lock_version, field="lock_version")
    for field in FIELDS:
        if field in data:
            setattr(settings, field, data[field])
    settings.full_clean()
    settings.lock_version += 1
    settings.save()
    return settings
