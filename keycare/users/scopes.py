"""Scope rules of the users app."""

from django.db.models import Q

from keycare.core.scoping import register_model_perms, scope_rule

from .choices import STAFF_ROLES, Role
from .models import User


@scope_rule(User)
def user_scope(user, action: str) -> Q | bool:
    """Administrators manage everyone; staff see active staff (to assign work); a portal user
    sees only themselves. Only administrators add, change or delete users."""
    if user.has_role(Role.ADMINISTRATOR):
        return True
    if action != "view":
        return False
    if user.has_role(*STAFF_ROLES):
        return Q(is_active=True) & ~Q(groups__name=Role.CUSTOMER_CONTACT) | Q(pk=user.pk)
    return Q(pk=user.pk)


register_model_perms(User)
