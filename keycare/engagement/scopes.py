"""Scope rules of engagement. What the company does to win the people at an account is
internal: customer contacts see none of it.

- activities, pains, VIP members and the engagement log follow the account: seen by staff
  who see the account (a key account manager: only their accounts); activities are changed
  by their owner and by those who may change the account, pains and VIP members by those
  who may change the account;
- the style guidance, settings, playbooks and VIP levels are read by all staff and written
  by administrators; reference customers are read by all staff and changed by
  administrators and those who may change the account;
- business events are seen by all staff, created by administrators, executives, key account
  managers and service managers, changed by their organiser, administrators and
  executives; invitations are seen where their account is seen (and by the organiser), and
  changed by the organiser or by those who may change the account;
- gifts are commercial: seen by those who see the account's orders, and by who recorded
  them; recorded by those who may change the account; decided (approved or rejected) by
  administrators and executives only, through the services;
- reminders and calendar feeds are their user's own.
"""

from django.db.models import Q

from keycare.accounts.models import Account, Order
from keycare.core.scoping import register_model_perms, scope_filter, scope_rule
from keycare.users.choices import STAFF_ROLES, Role

from .models import (
    Activity,
    ActivityAttachment,
    BusinessEvent,
    CalendarFeed,
    EngagementLog,
    EngagementSettings,
    EventInvitation,
    Gift,
    Pain,
    Playbook,
    PlaybookItem,
    ReferenceCustomer,
    Reminder,
    StyleGuidance,
    VipLevel,
    VipMember,
)


def _staff(user) -> bool:
    return user.has_role(*STAFF_ROLES)


def _accounts(user, action: str, field: str = "account") -> Q | bool:
    """Rows of an account, for staff: view where the account is seen, any other action
    where it may be changed."""
    if not _staff(user):
        return False
    verdict = scope_filter(Account, user, "view" if action == "view" else "change")
    if isinstance(verdict, bool):
        return verdict
    return Q(**{f"{field}__in": Account.objects.filter(verdict).values("pk")})


def _or(first: Q | bool, second: Q) -> Q | bool:
    if first is True:
        return True
    if first is False:
        return second
    return first | second


@scope_rule(Activity)
def activity_scope(user, action: str) -> Q | bool:
    if action in ("view", "add"):
        if not _staff(user):
            return False
        verdict = scope_filter(Account, user, "view")
        if isinstance(verdict, bool):
            return verdict
        return Q(account__in=Account.objects.filter(verdict).values("pk"))
    if action == "delete":
        return user.has_role(Role.ADMINISTRATOR)
    return _or(_accounts(user, action), Q(owner=user)) if _staff(user) else False


@scope_rule(ActivityAttachment)
def activity_attachment_scope(user, action: str) -> Q | bool:
    verdict = activity_scope(user, "view" if action == "view" else "change")
    if isinstance(verdict, bool):
        return verdict
    return Q(activity__in=Activity.objects.filter(verdict).values("pk"))


@scope_rule(Pain)
def pain_scope(user, action: str) -> Q | bool:
    if action == "delete":
        return user.has_role(Role.ADMINISTRATOR)
    if action == "view":
        return _accounts(user, "view")
    return _accounts(user, "change")


@scope_rule(EngagementLog)
def engagement_log_scope(user, action: str) -> Q | bool:
    if action != "view":
        return False  # written by the services only
    if user.has_role(Role.ADMINISTRATOR):
        return True
    return _accounts(user, "view")


def _reference_data(user, action: str) -> bool:
    if action == "view":
        return _staff(user)
    return user.has_role(Role.ADMINISTRATOR)


@scope_rule(StyleGuidance)
def style_guidance_scope(user, action: str) -> bool:
    return _reference_data(user, action) and action in ("view", "change")


@scope_rule(EngagementSettings)
def engagement_settings_scope(user, action: str) -> bool:
    return _reference_data(user, action) and action in ("view", "change")


@scope_rule(Playbook)
def playbook_scope(user, action: str) -> bool:
    return _reference_data(user, action)


@scope_rule(PlaybookItem)
def playbook_item_scope(user, action: str) -> bool:
    return _reference_data(user, action)


@scope_rule(VipLevel)
def vip_level_scope(user, action: str) -> bool:
    return _reference_data(user, action)


@scope_rule(ReferenceCustomer)
def reference_customer_scope(user, action: str) -> Q | bool:
    if action == "view":
        return _staff(user)
    if action == "delete":
        return user.has_role(Role.ADMINISTRATOR)
    return _accounts(user, "change")


@scope_rule(VipMember)
def vip_member_scope(user, action: str) -> Q | bool:
    if action == "view":
        return _accounts(user, "view")
    if action == "delete":
        return user.has_role(Role.ADMINISTRATOR)
    return _accounts(user, "change")


@scope_rule(BusinessEvent)
def business_event_scope(user, action: str) -> Q | bool:
    if not _staff(user):
        return False
    if action == "view":
        return True
    if user.has_role(Role.ADMINISTRATOR, Role.EXECUTIVE):
        return True
    if action == "add":
        return user.has_role(Role.KEY_ACCOUNT_MANAGER, Role.SERVICE_MANAGER)
    if action == "change":
        return Q(organiser=user)
    return False


@scope_rule(EventInvitation)
def event_invitation_scope(user, action: str) -> Q | bool:
    if not _staff(user):
        return False
    if user.has_role(Role.ADMINISTRATOR, Role.EXECUTIVE):
        return True
    if action == "delete":
        return Q(event__organiser=user)
    return _or(_accounts(user, action), Q(event__organiser=user))


@scope_rule(Gift)
def gift_scope(user, action: str) -> Q | bool:
    if not _staff(user):
        return False
    if user.has_role(Role.ADMINISTRATOR):
        return True
    if action == "view":
        orders = scope_filter(Order, user, "view")
        if orders is True:
            return True
        if orders is False:
            return Q(requested_by=user)
        # a key account manager: the accounts they own or are on the team of
        return _or(_accounts(user, "change"), Q(requested_by=user))
    if action == "add":
        return True if user.has_role(Role.EXECUTIVE) else _accounts(user, "change")
    if action == "change":
        return user.has_role(Role.EXECUTIVE)  # decisions; recording goes through the services
    return False


@scope_rule(Reminder)
def reminder_scope(user, action: str) -> Q | bool:
    if action in ("add", "delete"):
        return False  # created by the reminder tick only
    return Q(user=user)


@scope_rule(CalendarFeed)
def calendar_feed_scope(user, action: str) -> Q | bool:
    return Q(user=user) if _staff(user) else False


for _model in (
    Activity,
    ActivityAttachment,
    BusinessEvent,
    CalendarFeed,
    EngagementLog,
    EngagementSettings,
    EventInvitation,
    Gift,
    Pain,
    Playbook,
    PlaybookItem,
    ReferenceCustomer,
    Reminder,
    StyleGuidance,
    VipLevel,
    VipMember,
):
    register_model_perms(_model)
