"""Writes for accounts, account teams and contacts. Every write checks the actor's
permission through the scoping layer, validates, and runs in one transaction."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from keycare.core.services import apply_changes, check_version, require_permission
from keycare.users.models import User

from .lock_objects import account_qs_select_for_update
from .models import Account, AccountTeamMember, Contact

ACCOUNT_EDITABLE_FIELDS = {
    "name",
    "name_en",
    "short_name",
    "parent",
    "industry",
    "province",
    "city",
    "address",
    "status",
    "owner",
    "notes",
}


def _validate_parent(account: Account) -> None:
    """The hierarchy must stay a tree: no cycles through the parent chain."""
    seen = {account.pk} if account.pk else set()
    node = account.parent
    while node is not None:
        if node.pk in seen:
            raise ValidationError(
                {"parent": _("This parent would make the account hierarchy circular.")}
            )
        seen.add(node.pk)
        node = node.parent


@transaction.atomic
def account_create(*, actor: User | None, **fields: Any) -> Account:
    """Create an account. `actor=None` is for trusted system callers (demo data, imports)."""
    if actor is not None:
        require_permission(actor=actor, action="add", model=Account)
    unknown = set(fields) - ACCOUNT_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Unknown account fields: {sorted(unknown)}")
    if actor is not None and fields.get("owner") is None:
        fields["owner"] = actor
    account = Account(**fields)
    account.full_clean()
    _validate_parent(account)
    account.save()
    return account


@transaction.atomic
def account_update(
    *, actor: User, account: Account, data: dict[str, Any], expected_version: int | None = None
) -> Account:
    account = account_qs_select_for_update().get(pk=account.pk)
    require_permission(actor=actor, action="change", obj=account)
    check_version(instance=account, expected=expected_version)
    changed = apply_changes(instance=account, data=data, allowed=ACCOUNT_EDITABLE_FIELDS)
    if not changed:
        return account
    account.full_clean()
    if "parent" in changed:
        _validate_parent(account)
    # The row is locked, so a plain increment is safe (and history can record the value).
    account.version += 1
    account.save()
    return account


@transaction.atomic
def account_delete(*, actor: User, account: Account) -> None:
    require_permission(actor=actor, action="delete", obj=account)
    if account.children.exists():
        raise ValidationError(
            _("This account has branches. Move or delete them before deleting the account.")
        )
    account.delete()


@transaction.atomic
def account_team_member_add(
    *, actor: User | None, account: Account, user: User, role: str
) -> AccountTeamMember:
    if actor is not None:
        require_permission(actor=actor, action="change", obj=account)
    member, _created = AccountTeamMember.objects.get_or_create(
        account=account, user=user, role=role
    )
    member.full_clean()
    return member


@transaction.atomic
def contact_create(*, actor: User | None, account: Account, **fields: Any) -> Contact:
    if actor is not None:
        require_permission(actor=actor, action="change", obj=account)
    contact = Contact(account=account, **fields)
    contact.full_clean()
    contact.save()
    return contact
