from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from keycare.core.models import TimeStampedModel
from keycare.core.scoping import RestrictedQuerySet
from keycare.core.validators import validate_credit_code

from ..choices import AccountStatus, AccountTeamRole, AccountTier, AccountType


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Account(TimeStampedModel):
    """A customer company (客户). Groups, branches and plants form a tree through `parent`;
    `path` ("/1/7/42/") lets a group's figures roll up with one indexed prefix filter."""

    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        blank=True,
        validators=[validate_credit_code],
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(
        _("hierarchy path"), max_length=400, blank=True, db_index=True, editable=False
    )
    depth = models.PositiveSmallIntegerField(_("hierarchy depth"), default=0, editable=False)
    industry = models.CharField(_("industry"), max_length=60, blank=True, db_index=True)
    province = models.CharField(_("province"), max_length=30, blank=True, db_index=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    website = models.URLField(_("website"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    tier = models.CharField(_("tier"), max_length=20, choices=AccountTier.choices, blank=True)
    account_type = models.CharField(
        _("account type"), max_length=20, choices=AccountType.choices, blank=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_accounts",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="accounts")
    notes = models.TextField(_("notes"), blank=True)
    #: Lower-case names plus their full pinyin and initials, for search ("zgdx" → 中国电信).
    search_text = models.TextField(_("search text"), blank=True, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = HistoricalRecords(excluded_fields=["search_text", "path", "depth"])
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("id")), name="account_not_own_parent"
            ),
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~models.Q(credit_code=""),
                name="account_credit_code_unique",
                violation_error_message=_("An account with this credit code already exists."),
            ),
        ]

    def __str__(self) -> str:
        return self.short_name or self.name

    def clean(self) -> None:
        self.credit_code = (self.credit_code or "").strip().upper()
        if self.pk and self.parent_id == self.pk:
            raise ValidationError({"parent": _("An account cannot be its own parent.")})
        if self.credit_code:
            same = Account.objects.filter(credit_code=self.credit_code).exclude(pk=self.pk)
            if same.exists():
                raise ValidationError(
                    {"credit_code": _("An account with this credit code already exists.")}
                )


class AccountTeamMember(models.Model):
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="team"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="account_memberships",
    )
    role = models.CharField(_("team role"), max_length=30, choices=AccountTeamRole.choices)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("account team member")
        verbose_name_plural = _("account team members")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "user", "role"], name="account_team_member_unique"
            )
        ]
        indexes = [models.Index(fields=["user", "account"], name="acct_team_user_account")]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()}"
