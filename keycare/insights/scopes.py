"""Who sees the value metrics: they are commercial figures (revenue, margin), so only those
who may see orders, and for the accounts they see."""

from django.db.models import Q

from keycare.accounts.models import Account, Order
from keycare.core.scoping import register_model_perms, scope_filter, scope_rule
from keycare.users.choices import Role

from .models import (
    AccountMetric,
    AccountScore,
    AccountTypeAssessment,
    KeyAccount,
    KeyAccountChange,
    QualitativeScore,
    ServiceStrategy,
    TierChange,
)


@scope_rule(AccountMetric)
def account_metric_scope(user, action: str) -> Q | bool:
    """view: those who may see orders, for the accounts they see; written only by the
    recompute (no user changes a metric row)."""
    if action != "view" or scope_filter(Order, user, "view") is False:
        return False
    verdict = scope_filter(Account, user, "view")
    if isinstance(verdict, bool):
        return verdict
    return Q(account__in=Account.objects.filter(verdict).values("pk"))


@scope_rule(TierChange)
def tier_change_scope(user, action: str) -> Q | bool:
    """The history of an account's tier is seen where the metrics are (its reasons carry
    profit figures); written by the tier services."""
    return account_metric_scope(user, action)


@scope_rule(AccountScore)
def account_score_scope(user, action: str) -> Q | bool:
    """Value scores are computed from the metrics: seen where the metrics are; written only
    by the scorecard computation."""
    return account_metric_scope(user, action)


@scope_rule(QualitativeScore)
def qualitative_score_scope(user, action: str) -> Q | bool:
    """view: where the metrics are seen; change: who may change the account (its key
    account manager, administrators) — through qualitative_scores_set."""
    if action == "view":
        return account_metric_scope(user, action)
    verdict = scope_filter(Account, user, "change")
    if isinstance(verdict, bool):
        return verdict
    return Q(account__in=Account.objects.filter(verdict).values("pk"))


def _staff_follow_account(user, action: str) -> Q | bool:
    """Internal records that follow the account for staff (never the customer portal);
    written only by their services."""
    if action != "view" or user.is_portal_user:
        return False
    verdict = scope_filter(Account, user, "view")
    if isinstance(verdict, bool):
        return verdict
    return Q(account__in=Account.objects.filter(verdict).values("pk"))


@scope_rule(KeyAccount)
def key_account_scope(user, action: str) -> Q | bool:
    """Which accounts are key accounts: staff who see the account."""
    return _staff_follow_account(user, action)


@scope_rule(KeyAccountChange)
def key_account_change_scope(user, action: str) -> Q | bool:
    """The record of designations: staff who see the account."""
    return _staff_follow_account(user, action)


@scope_rule(AccountTypeAssessment)
def account_type_assessment_scope(user, action: str) -> Q | bool:
    """view: where the metrics are seen (the signals are commercial figures: discounts,
    cost to serve); add/change: who may change the account (its key account manager,
    administrators), through account_type_assess / account_type_confirm; never deleted
    (the record of why an account has its type)."""
    if action == "view":
        return account_metric_scope(user, action)
    if action == "delete":
        return False
    verdict = scope_filter(Account, user, "change")
    if isinstance(verdict, bool):
        return verdict
    return Q(account__in=Account.objects.filter(verdict).values("pk"))


@scope_rule(ServiceStrategy)
def service_strategy_scope(user, action: str) -> Q | bool:
    """view: everyone who sees the insights (who may see orders); change: administrators
    (service_strategy_update); one per type, seeded, so never added or deleted."""
    if action == "view":
        return scope_filter(Order, user, "view") is not False
    return action == "change" and user.has_role(Role.ADMINISTRATOR)


register_model_perms(AccountMetric)
register_model_perms(AccountScore)
register_model_perms(QualitativeScore)
register_model_perms(KeyAccount)
register_model_perms(KeyAccountChange)
register_model_perms(TierChange)
register_model_perms(AccountTypeAssessment)
register_model_perms(ServiceStrategy)
