import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from keycare.core.exceptions import PermissionDeniedError
from keycare.core.scoping import user_can
from keycare.core.search import search_text
from keycare.core.services import apply_changes, check_version, require_permission
from keycare.core.validators import normalise_phone
from keycare.users.models import User

from ..choices import PersonalDataAction
from ..lock_objects import contact_qs_select_for_update
from ..models import (
    Account,
    Contact,
    ContactAccount,
    ImportantDate,
    PersonalDataAccess,
    PersonalDetails,
)

CONTACT_EDITABLE_FIELDS = {
    "account",
    "name",
    "title",
    "department",
    "mobile",
    "email",
    "wechat_id",
    "buying_role",
    "decision_style",
    "influence",
    "relationship",
    "reports_to",
    "introduced_by_contact",
    "introduced_by_user",
    "user",
    "portal_sees_branches",
    "is_active",
}
PERSONAL_FIELDS = {"birthday", "preferences", "family", "hobbies"}


def _check_chain(contact: Contact, field: str, message: str) -> None:
    """reports_to and introduced_by_contact must not loop back to the contact."""
    seen = {contact.pk}
    node = getattr(contact, field)
    while node is not None:
        if node.pk in seen:
            raise ValidationError({field: message})
        seen.add(node.pk)
        node = getattr(node, field)


def _prepare(contact: Contact) -> None:
    contact.mobile = normalise_phone(contact.mobile)
    contact.email = (contact.email or "").strip().lower()
    contact.full_clean()
    if contact.pk:
        _check_chain(contact, "reports_to", _("This would make the reporting line circular."))
        _check_chain(
            contact, "introduced_by_contact", _("This would make the introductions circular.")
        )
    contact.search_text = search_text(contact.name)


@transaction.atomic
def contact_create(*, actor: User | None, account: Account, **fields: Any) -> Contact:
    if actor is not None:
        require_permission(actor=actor, action="change", obj=account)
    unknown = set(fields) - CONTACT_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Unknown contact fields: {sorted(unknown)}")
    contact = Contact(account=account, **fields)
    _prepare(contact)
    contact.save()
    return contact


@transaction.atomic
def contact_update(
    *,
    actor: User | None,
    contact: Contact,
    data: dict[str, Any],
    expected_version: int | None = None,
) -> Contact:
    contact = contact_qs_select_for_update().get(pk=contact.pk)
    if actor is not None:
        require_permission(actor=actor, action="change", obj=contact)
        if "account" in data and data["account"] != contact.account:
            require_permission(actor=actor, action="change", obj=data["account"])
    check_version(instance=contact, expected=expected_version)
    changed = apply_changes(instance=contact, data=data, allowed=CONTACT_EDITABLE_FIELDS)
    if not changed:
        return contact
    _prepare(contact)
    contact.version += 1
    contact.save()
    return contact


@transaction.atomic
def contact_delete(*, actor: User, contact: Contact) -> None:
    require_permission(actor=actor, action="delete", obj=contact)
    contact.delete()


@transaction.atomic
def contact_membership_set(
    *, actor: User | None, contact: Contact, account: Account, buying_role: str, title: str = ""
) -> ContactAccount:
    """Add the contact to another account (or change their role there)."""
    if actor is not None:
        require_permission(actor=actor, action="change", obj=account)
    if account.pk == contact.account_id:
        raise ValidationError({"account": _("This is already the contact's main account.")})
    link = ContactAccount(contact=contact, account=account, buying_role=buying_role, title=title)
    link.full_clean(validate_unique=False, validate_constraints=False)
    link, _created = ContactAccount.objects.update_or_create(
        contact=contact, account=account, defaults={"buying_role": buying_role, "title": title}
    )
    return link


@transaction.atomic
def contact_membership_remove(*, actor: User | None, link: ContactAccount) -> None:
    if actor is not None:
        require_permission(actor=actor, action="change", obj=link.account)
    link.delete()


# --- personal details: restricted, audited, erasable -------------------------------------


def _require_personal_access(actor: User, contact: Contact) -> None:
    from ..scopes import may_see_personal_data

    if not may_see_personal_data(actor, contact):
        raise PermissionDeniedError(
            _("Only the account team and administrators may see personal details."),
            extra={"code": "personal_data_denied"},
        )


def _log(actor: User | None, contact: Contact, action: str, channel: str) -> None:
    PersonalDataAccess.objects.create(contact=contact, user=actor, action=action, channel=channel)


@transaction.atomic
def personal_details_get(
    *, actor: User, contact: Contact, channel: str = "web"
) -> tuple[PersonalDetails | None, list[ImportantDate]]:
    """Read a person's personal details; the read itself is recorded."""
    _require_personal_access(actor, contact)
    details = PersonalDetails.objects.filter(contact=contact).first()
    dates = list(contact.important_dates.all())
    _log(actor, contact, PersonalDataAction.VIEW, channel)
    return details, dates


@transaction.atomic
def personal_details_update(
    *, actor: User | None, contact: Contact, data: dict[str, Any], channel: str = "web"
) -> PersonalDetails:
    if actor is not None:
        _require_personal_access(actor, contact)
    unknown = set(data) - PERSONAL_FIELDS
    if unknown:
        raise ValueError(f"Unknown personal fields: {sorted(unknown)}")
    details, _created = PersonalDetails.objects.select_for_update().get_or_create(contact=contact)
    for field, value in data.items():
        setattr(details, field, value)
    details.full_clean()
    details.save()
    _log(actor, contact, PersonalDataAction.CHANGE, channel)
    return details


@transaction.atomic
def important_date_add(
    *,
    actor: User | None,
    contact: Contact,
    label: str,
    date: dt.date,
    yearly: bool = True,
    remind_days_before: int = 7,
    channel: str = "web",
) -> ImportantDate:
    if actor is not None:
        _require_personal_access(actor, contact)
    item = ImportantDate(
        contact=contact,
        label=label,
        date=date,
        yearly=yearly,
        remind_days_before=remind_days_before,
    )
    item.full_clean()
    item.save()
    _log(actor, contact, PersonalDataAction.CHANGE, channel)
    return item


@transaction.atomic
def important_date_remove(*, actor: User, item: ImportantDate, channel: str = "web") -> None:
    _require_personal_access(actor, item.contact)
    item.delete()
    _log(actor, item.contact, PersonalDataAction.CHANGE, channel)


#: Records other apps derive from a person's personal details (e.g. birthday reminders), erased
#: with them in the same transaction; each takes the contact. Registered at start-up with
#: `personal_data_eraser`, so this app needs to know nothing of them.
PERSONAL_DATA_ERASERS: list = []


def personal_data_eraser(func):
    if func not in PERSONAL_DATA_ERASERS:
        PERSONAL_DATA_ERASERS.append(func)
    return func


@transaction.atomic
def personal_details_erase(*, actor: User, contact: Contact, channel: str = "web") -> None:
    """Erase one person's personal details on request (right to erasure), keeping the
    business record (name, title, role at the account) and the audit of the erasure."""
    _require_personal_access(actor, contact)
    if not (user_can(actor, "change", contact) or actor.has_role("administrator")):
        raise PermissionDeniedError(
            _("You do not have permission to do this."), extra={"code": "permission_denied"}
        )
    PersonalDetails.objects.filter(contact=contact).delete()
    ImportantDate.objects.filter(contact=contact).delete()
    for erase in PERSONAL_DATA_ERASERS:
        erase(contact)
    _log(actor, contact, PersonalDataAction.ERASE, channel)
