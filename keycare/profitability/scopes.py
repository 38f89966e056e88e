"""Scope rules of profitability: margins, costs and concessions are commercial figures.

- cost rates, policies and the approval thresholds: read by staff who may see orders
  (administrators, executives, service managers, key account managers); written by
  administrators (through the services);
- concessions: administrators and executives see all; everyone sees their own requests; key
  account managers see those of the accounts they manage (they approve the first step);
  service managers those whose chain has a service-manager or executive step, and those
  they decided; written only through the concession services;
- profit alerts: seen where the account's orders are seen.
"""

from django.db.models import Exists, OuterRef, Q

from keycare.accounts.models import Account, Order
from keycare.accounts.scopes import owned_account_ids, team_account_ids
from keycare.core.scoping import register_model_perms, scope_filter, scope_rule
from keycare.users.choices import Role

from .choices import ApprovalLevel
from .models import (
    Concession,
    ConcessionPolicy,
    ConcessionStep,
    CostRate,
    ProfitabilitySettings,
    ProfitAlert,
)


def _commercial(user, action: str) -> bool:
    if action != "view":
        return False  # written by administrators through the services only
    return scope_filter(Order, user, "view") is not False


@scope_rule(CostRate)
def cost_rate_scope(user, action: str) -> bool:
    return _commercial(user, action)


@scope_rule(ConcessionPolicy)
def concession_policy_scope(user, action: str) -> bool:
    return _commercial(user, action)


@scope_rule(ProfitabilitySettings)
def profitability_settings_scope(user, action: str) -> bool:
    return _commercial(user, action)


@scope_rule(Concession)
def concession_scope(user, action: str) -> Q | bool:
    if action != "view":
        return False  # every change goes through the concession services
    if user.has_role(Role.ADMINISTRATOR, Role.EXECUTIVE):
        return True
    q = Q(requested_by=user)
    if user.has_role(Role.KEY_ACCOUNT_MANAGER):
        q |= Q(account__in=owned_account_ids(user)) | Q(account__in=team_account_ids(user))
    if user.has_role(Role.SERVICE_MANAGER):
        steps = ConcessionStep.objects.filter(concession=OuterRef("pk"))
        q |= Exists(
            steps.filter(level__in=(ApprovalLevel.SERVICE_MANAGER, ApprovalLevel.EXECUTIVE))
        )
        q |= Exists(steps.filter(decided_by=user))
    return q


@scope_rule(ProfitAlert)
def profit_alert_scope(user, action: str) -> Q | bool:
    if action != "view":
        return False
    verdict = scope_filter(Order, user, "view")
    if isinstance(verdict, bool):
        return verdict
    accounts = scope_filter(Account, user, "view")
    if isinstance(accounts, bool):
        return accounts
    return Q(account__in=Account.objects.filter(accounts).values("pk"))


for model in (CostRate, ConcessionPolicy, ProfitabilitySettings, Concession, ProfitAlert):
    register_model_perms(model)
