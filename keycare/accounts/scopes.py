"""Scope rules of the accounts app: who sees and changes which accounts and contacts."""

from django.db.models import Q

from keycare.core.scoping import register_model_perms, scope_filter, scope_rule
from keycare.users.choices import ALL_ACCOUNTS_ROLES, Role

from .models import Account, AccountTeamMember, Contact


def _team_account_ids(user, *roles: str):
    members = AccountTeamMember.objects.filter(user=user)
    if roles:
        members = members.filter(role__in=roles)
    return members.values("account_id")


@scope_rule(Account)
def account_scope(user, action: str) -> Q | bool:
    """
    view:   administrators, executives and service managers see all accounts; key account
            managers and service engineers see the accounts they own or are on the team of;
            a customer contact sees the account they belong to.
    add:    administrators and key account managers.
    change: administrators; key account managers on accounts they own or manage on the team.
    delete: administrators.
    """
    if user.has_role(Role.ADMINISTRATOR):
        return True
    if action == "view":
        if user.has_role(*ALL_ACCOUNTS_ROLES):
            return True
        q = Q(pk__in=[])
        if user.has_role(Role.KEY_ACCOUNT_MANAGER, Role.SERVICE_ENGINEER):
            q |= Q(owner=user) | Q(pk__in=_team_account_ids(user))
        if user.has_role(Role.CUSTOMER_CONTACT):
            q |= Q(pk__in=Contact.objects.filter(user=user, is_active=True).values("account_id"))
        return q
    if action == "add":
        return user.has_role(Role.KEY_ACCOUNT_MANAGER)
    if action == "change" and user.has_role(Role.KEY_ACCOUNT_MANAGER):
        return Q(owner=user) | Q(pk__in=_team_account_ids(user, "key_account_manager"))
    return False


@scope_rule(Contact)
def contact_scope(user, action: str) -> Q | bool:
    """Contacts follow their account: seen where the account is seen, edited where it may be
    changed; a customer contact sees the contacts of their own account only."""
    account_action = "view" if action == "view" else "change"
    verdict = scope_filter(Account, user, account_action)
    if isinstance(verdict, bool):
        return verdict
    return Q(account__in=Account.objects.filter(verdict).values("pk"))


register_model_perms(Account)
register_model_perms(Contact)
