"""Writes of the accounts app. Every write checks the actor's permission through the scoping
layer (``actor=None`` is for trusted system callers: demo data and imports, which check the
importing user once), validates, and runs in one transaction."""

from .accounts import (
    ACCOUNT_EDITABLE_FIELDS,
    account_create,
    account_delete,
    account_set_tags,
    account_team_member_add,
    account_team_member_remove,
    account_update,
    accounts_similar,
)
from .catalogue import product_create, product_line_get_or_create, product_update
from .contacts import (
    CONTACT_EDITABLE_FIELDS,
    contact_create,
    contact_delete,
    contact_membership_remove,
    contact_membership_set,
    contact_update,
    important_date_add,
    important_date_remove,
    personal_details_erase,
    personal_details_get,
    personal_details_update,
)
from .equipment import EQUIPMENT_EDITABLE_FIELDS, equipment_create, equipment_update
from .orders import order_create, order_totals_refresh

__all__ = [
    "ACCOUNT_EDITABLE_FIELDS",
    "CONTACT_EDITABLE_FIELDS",
    "EQUIPMENT_EDITABLE_FIELDS",
    "account_create",
    "account_delete",
    "account_set_tags",
    "account_team_member_add",
    "account_team_member_remove",
    "account_update",
    "accounts_similar",
    "contact_create",
    "contact_delete",
    "contact_membership_remove",
    "contact_membership_set",
    "contact_update",
    "equipment_create",
    "equipment_update",
    "important_date_add",
    "important_date_remove",
    "order_create",
    "order_totals_refresh",
    "personal_details_erase",
    "personal_details_get",
    "personal_details_update",
    "product_create",
    "product_line_get_or_create",
    "product_update",
]
