import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from keycare.core.services import apply_changes, check_version, require_permission
from keycare.users.models import User

from ..lock_objects import equipment_qs_select_for_update
from ..models import Equipment

EQUIPMENT_EDITABLE_FIELDS = {
    "serial_number",
    "product",
    "account",
    "site",
    "install_date",
    "warranty_end",
    "status",
    "parent",
    "contract_ref",
    "notes",
}


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    # clamp to the month's last day (31 Jan + 1 month = 28/29 Feb)
    for candidate in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def default_warranty_end(equipment: Equipment) -> dt.date | None:
    if equipment.install_date is None or equipment.product_id is None:
        return None
    return add_months(equipment.install_date, equipment.product.warranty_months)


def _validate(equipment: Equipment) -> None:
    equipment.serial_number = (equipment.serial_number or "").strip()
    if equipment.warranty_end is None:
        equipment.warranty_end = default_warranty_end(equipment)
    equipment.full_clean()
    if equipment.parent_id:
        if equipment.parent.account_id != equipment.account_id:
            raise ValidationError(
                {"parent": _("A unit can only be part of equipment at the same account.")}
            )
        seen = {equipment.pk}
        node = equipment.parent
        while node is not None:
            if node.pk in seen:
                raise ValidationError({"parent": _("This would make the equipment tree circular.")})
            seen.add(node.pk)
            node = node.parent
    if (
        equipment.install_date
        and equipment.warranty_end
        and (equipment.warranty_end < equipment.install_date)
    ):
        raise ValidationError({"warranty_end": _("The warranty cannot end before installation.")})


@transaction.atomic
def equipment_create(*, actor: User | None, **fields: Any) -> Equipment:
    equipment = Equipment(**fields)
    if actor is not None:
        require_permission(actor=actor, action="add", model=Equipment)
        require_permission(actor=actor, action="change", obj=equipment.account)
    _validate(equipment)
    equipment.save()
    return equipment


@transaction.atomic
def equipment_update(
    *,
    actor: User | None,
    equipment: Equipment,
    data: dict[str, Any],
    expected_version: int | None = None,
) -> Equipment:
    equipment = equipment_qs_select_for_update().get(pk=equipment.pk)
    if actor is not None:
        require_permission(actor=actor, action="change", obj=equipment)
        if "account" in data and data["account"] != equipment.account:
            require_permission(actor=actor, action="change", obj=data["account"])
    check_version(instance=equipment, expected=expected_version)
    if not apply_changes(instance=equipment, data=data, allowed=EQUIPMENT_EDITABLE_FIELDS):
        return equipment
    _validate(equipment)
    equipment.version += 1
    equipment.save()
    return equipment
