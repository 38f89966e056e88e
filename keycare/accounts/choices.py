from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AccountStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Active")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")


class AccountTier(models.TextChoices):
    """The customer pyramid (Zeithaml, Rust & Lemon): tiers by profitability."""

    PLATINUM = "platinum", _("Platinum")
    GOLD = "gold", _("Gold")
    IRON = "iron", _("Iron")
    LEAD = "lead", _("Lead")


class AccountType(models.TextChoices):
    """Rackham & DeVincentis: intrinsic, extrinsic and strategic value customers."""

    INTRINSIC = "intrinsic", _("Intrinsic value")
    EXTRINSIC = "extrinsic", _("Extrinsic value")
    STRATEGIC = "strategic", _("Strategic value")


class AccountTeamRole(models.TextChoices):
    KEY_ACCOUNT_MANAGER = "key_account_manager", _("Key account manager")
    SERVICE_LEAD = "service_lead", _("Service lead")
    SERVICE_ENGINEER = "service_engineer", _("Service engineer")
    EXECUTIVE_SPONSOR = "executive_sponsor", _("Executive sponsor")
    SALES = "sales", _("Sales representative")


class BuyingRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    INFLUENCER = "influencer", _("Influencer")
    USER = "user", _("User")
    TECHNICAL_EVALUATOR = "technical_evaluator", _("Technical evaluator")
    COACH = "coach", _("Coach (internal champion)")
    GATEKEEPER = "gatekeeper", _("Gatekeeper")
    UNKNOWN = "unknown", _("Unknown")


class DecisionStyle(models.TextChoices):
    """The style matrix (风格矩阵)."""

    LEADER = "leader", pgettext_lazy("decision style", "Leader")
    INFLUENCER = "influencer", pgettext_lazy("decision style", "Influencer")
    CHECKER = "checker", pgettext_lazy("decision style", "Checker")
    FOLLOWER = "follower", pgettext_lazy("decision style", "Follower")
    UNKNOWN = "unknown", pgettext_lazy("decision style", "Unknown")


class Level(models.IntegerChoices):
    """A five-step scale for influence and relationship strength."""

    VERY_LOW = 1, _("1 – very low")
    LOW = 2, _("2 – low")
    MEDIUM = 3, _("3 – medium")
    HIGH = 4, _("4 – high")
    VERY_HIGH = 5, _("5 – very high")


class EquipmentStatus(models.TextChoices):
    OPERATING = "operating", _("Operating")
    DOWN = "down", _("Down")
    IN_STORAGE = "in_storage", _("In storage")
    DECOMMISSIONED = "decommissioned", _("Decommissioned")


class OrderLineType(models.TextChoices):
    PRODUCT = "product", _("Product")
    SERVICE = "service", _("Service")
    REBATE = "rebate", _("Rebate")
    CREDIT_NOTE = "credit_note", _("Credit note")


class PersonalDataAction(models.TextChoices):
    VIEW = "view", _("Viewed")
    CHANGE = "change", _("Changed")
    ERASE = "erase", _("Erased")


#: How to deal with a decision maker of each style (风格矩阵, the source document).
STYLE_GUIDANCE = {
    DecisionStyle.LEADER: _("Come straight to the point and lead with the benefits to them."),
    DecisionStyle.INFLUENCER: _(
        "Work expert to expert: bring your specialists to move the decision."
    ),
    DecisionStyle.CHECKER: _("Praise generously and back every claim with evidence."),
    DecisionStyle.FOLLOWER: _("Use the influence of others they respect to carry the decision."),
    DecisionStyle.UNKNOWN: _("Style not known yet: observe how they decide and record it."),
}
