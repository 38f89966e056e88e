from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The six roles. Each is a Django group of the same name; a user may hold several."""

    ADMINISTRATOR = "administrator", _("Administrator")
    EXECUTIVE = "executive", _("Executive")
    KEY_ACCOUNT_MANAGER = "key_account_manager", _("Key account manager")
    SERVICE_MANAGER = "service_manager", _("Service manager")
    SERVICE_ENGINEER = "service_engineer", _("Service engineer")
    CUSTOMER_CONTACT = "customer_contact", _("Customer contact")


#: Roles that see every account (company-wide oversight).
ALL_ACCOUNTS_ROLES = frozenset({Role.ADMINISTRATOR, Role.EXECUTIVE, Role.SERVICE_MANAGER})
#: Roles of the company's own staff (everyone but portal users).
STAFF_ROLES = frozenset(set(Role) - {Role.CUSTOMER_CONTACT})
