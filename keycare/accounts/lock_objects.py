"""Row locks for read-modify-write in the accounts services."""

from django.db.models import QuerySet

from .models import Account, Contact, Equipment


def account_qs_select_for_update() -> QuerySet[Account]:
    return Account.objects.select_for_update(of=("self",))


def contact_qs_select_for_update() -> QuerySet[Contact]:
    return Contact.objects.select_for_update(of=("self",))


def equipment_qs_select_for_update() -> QuerySet[Equipment]:
    return Equipment.objects.select_for_update(of=("self",))
