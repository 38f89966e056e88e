from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from keycare.core.models import TimeStampedModel
from keycare.core.scoping import RestrictedQuerySet
from keycare.core.validators import validate_mobile

from ..choices import BuyingRole, DecisionStyle, Level, PersonalDataAction
from .account import Account


class Contact(TimeStampedModel):
    """A person at a customer (联系人 / 关键人物). `account` is their main employer and
    `buying_role` their role there; ContactAccount adds further accounts (e.g. the group and a
    branch), each with its own buying role."""

    account = models.ForeignKey(
        Account, verbose_name=_("main account"), on_delete=models.CASCADE, related_name="contacts"
    )
    accounts = models.ManyToManyField(
        Account,
        through="ContactAccount",
        verbose_name=_("accounts"),
        related_name="all_contacts",
        blank=True,
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile"), max_length=30, blank=True, validators=[validate_mobile])
    email = models.EmailField(_("email"), blank=True)
    wechat_id = models.CharField(_("WeChat ID"), max_length=60, blank=True)
    buying_role = models.CharField(
        _("buying role"), max_length=30, choices=BuyingRole.choices, default=BuyingRole.UNKNOWN
    )
    decision_style = models.CharField(
        _("decision style"),
        max_length=20,
        choices=DecisionStyle.choices,
        default=DecisionStyle.UNKNOWN,
    )
    influence = models.PositiveSmallIntegerField(
        _("influence level"), choices=Level.choices, default=Level.MEDIUM
    )
    relationship = models.PositiveSmallIntegerField(
        _("relationship strength"),
        choices=Level.choices,
        default=Level.LOW,
        help_text=_("How well we know this person."),
    )
    reports_to = models.ForeignKey(
        "self",
        verbose_name=_("reports to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="direct_reports",
    )
    introduced_by_contact = models.ForeignKey(
        "self",
        verbose_name=_("introduced by (contact)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="introduced_contacts",
    )
    introduced_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("introduced by (colleague)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="introduced_contacts",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("portal login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact",
    )
    portal_sees_branches = models.BooleanField(
        _("portal: sees the branches' tickets"),
        default=False,
        help_text=_(
            "On the customer portal, this person also sees and files tickets for the branches "
            "and plants under their account (e.g. a group's purchasing or service lead)."
        ),
    )
    is_active = models.BooleanField(
        _("still with the company"), default=True, help_text=_("Untick when the person has left.")
    )
    search_text = models.TextField(_("search text"), blank=True, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = HistoricalRecords(excluded_fields=["search_text"])
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.pk and self.reports_to_id == self.pk:
            raise ValidationError({"reports_to": _("A person cannot report to themselves.")})
        if self.pk and self.introduced_by_contact_id == self.pk:
            raise ValidationError(
                {"introduced_by_contact": _("A person cannot introduce themselves.")}
            )


class ContactAccount(models.Model):
    """A contact's place at an account other than their main one, with their buying role
    there."""

    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="memberships"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="memberships"
    )
    buying_role = models.CharField(
        _("buying role"), max_length=30, choices=BuyingRole.choices, default=BuyingRole.UNKNOWN
    )
    title = models.CharField(_("title"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("contact at account")
        verbose_name_plural = _("contacts at accounts")
        constraints = [
            models.UniqueConstraint(fields=["contact", "account"], name="contact_account_unique")
        ]
        indexes = [models.Index(fields=["account", "contact"], name="contact_account_acct")]

    def __str__(self) -> str:
        return f"{self.contact} @ {self.account}"


class PersonalDetails(models.Model):
    """Personal data (细节): restricted to the account team and administrators; every view is
    logged; erasable on request. No change history is kept, so erasing leaves no copy."""

    contact = models.OneToOneField(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="personal_details",
        primary_key=True,
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    preferences = models.TextField(_("preferences"), blank=True)
    family = models.TextField(_("family notes"), blank=True)
    hobbies = models.TextField(_("hobbies"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("personal details")
        verbose_name_plural = _("personal details")

    def __str__(self) -> str:
        return str(self.contact)


class ImportantDate(models.Model):
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="important_dates"
    )
    label = models.CharField(_("occasion"), max_length=100)
    date = models.DateField(_("date"))
    yearly = models.BooleanField(_("every year"), default=True)
    remind_days_before = models.PositiveSmallIntegerField(_("remind days before"), default=7)

    class Meta:
        verbose_name = _("important date")
        verbose_name_plural = _("important dates")
        ordering = ["date", "id"]

    def __str__(self) -> str:
        return f"{self.label} {self.date:%Y-%m-%d}"


class PersonalDataAccess(models.Model):
    """The audit of personal data: who viewed, changed or erased whose details, and when."""

    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="personal_data_log",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, on_delete=models.SET_NULL
    )
    action = models.CharField(_("action"), max_length=10, choices=PersonalDataAction.choices)
    channel = models.CharField(_("channel"), max_length=10)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} {self.action} {self.contact} {self.at:%Y-%m-%d %H:%M}"
