"""Who sees the value metrics: they are commercial figures (revenue, margin), so only those
who may see orders, and for the accounts they see."""

from django.db.models import Q

from keycare.accounts.models import Account, Order
from keycare.core.scoping import register_model_perms, scope_filter, scope_rule

from .models import AccountMetric, TierChange


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
    """The history of an account's tier follows the account; written by the tier services."""
    if action != "view":
        return False
    verdict = scope_filter(Account, user, "view")
    if isinstance(verdict, bool):
        return verdict
    return Q(account__in=Account.objects.filter(verdict).values("pk"))


register_model_perms(AccountMetric)
register_model_perms(TierChange)
