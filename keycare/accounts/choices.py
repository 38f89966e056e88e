from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Active")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")


class AccountTeamRole(models.TextChoices):
    KEY_ACCOUNT_MANAGER = "key_account_manager", _("Key account manager")
    SERVICE_LEAD = "service_lead", _("Service lead")
    SERVICE_ENGINEER = "service_engineer", _("Service engineer")
    EXECUTIVE_SPONSOR = "executive_sponsor", _("Executive sponsor")
    SALES = "sales", _("Sales representative")
