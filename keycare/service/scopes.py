"""Who sees and works which tickets, calendars and SLA policies."""

from django.db.models import Q

from keycare.accounts.models import Account
from keycare.accounts.scopes import owned_account_ids, portal_account_ids, team_account_ids
from keycare.core.scoping import register_model_perms, scope_filter, scope_rule
from keycare.users.choices import STAFF_ROLES, Role

from .models import (
    BusinessCalendar,
    FieldVisit,
    MaintenancePlan,
    NpsSurvey,
    ServiceContract,
    ServiceTeam,
    SlaPolicy,
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketEvent,
)


@scope_rule(Ticket)
def ticket_scope(user, action: str) -> Q | bool:
    """
    view:   administrators, executives and service managers see all tickets; key account
            managers the tickets of the accounts they see; service engineers the tickets
            assigned to them and those of the accounts they serve; a customer contact the
            tickets of their own account.
    add:    everyone who sees an account (customers through the portal).
    change: administrators and service managers; service engineers on their tickets and the
            unassigned tickets of the accounts they serve; key account managers on their
            accounts' tickets.
    delete: nobody (tickets are closed, never deleted), administrators excepted.
    """
    if user.has_role(Role.ADMINISTRATOR):
        return True
    if action == "delete":
        return False
    if action == "add":
        return scope_filter(Account, user, "view") is not False
    if user.has_role(Role.SERVICE_MANAGER) or (action == "view" and user.has_role(Role.EXECUTIVE)):
        return True
    q = Q(pk__in=[])
    if user.has_role(Role.KEY_ACCOUNT_MANAGER):
        q |= Q(account__in=owned_account_ids(user)) | Q(account__in=team_account_ids(user))
    if user.has_role(Role.SERVICE_ENGINEER):
        served = Q(account__in=owned_account_ids(user)) | Q(account__in=team_account_ids(user))
        if action == "view":
            q |= Q(assignee=user) | served
        else:
            q |= Q(assignee=user) | (served & Q(assignee__isnull=True))
    if user.has_role(Role.CUSTOMER_CONTACT) and action == "view":
        q |= Q(account__in=portal_account_ids(user))
    return q


def _public_on_visible_tickets(user) -> Q | bool:
    """Rows of the tickets the user sees; for customers only those marked visible to them."""
    verdict = scope_filter(Ticket, user, "view")
    if verdict is False:
        return False
    q = Q() if verdict is True else Q(ticket__in=Ticket.objects.filter(verdict).values("pk"))
    if not user.has_role(*STAFF_ROLES):
        q &= Q(is_public=True)
    return q


@scope_rule(TicketComment)
def ticket_comment_scope(user, action: str) -> Q | bool:
    """Replies follow their ticket; customers see only replies visible to them."""
    return _public_on_visible_tickets(user)


@scope_rule(TicketEvent)
def ticket_event_scope(user, action: str) -> Q | bool:
    verdict = scope_filter(Ticket, user, "view")
    if verdict is False or action != "view":
        return False
    q = Q() if verdict is True else Q(ticket__in=Ticket.objects.filter(verdict).values("pk"))
    if not user.has_role(*STAFF_ROLES):
        q &= ~Q(kind__in=["note", "assigned", "internal_attachment"])
    return q


@scope_rule(TicketAttachment)
def ticket_attachment_scope(user, action: str) -> Q | bool:
    """Files follow their ticket: whoever sees the ticket sees its files, customers only the
    files visible to them. Adding a file needs the right to see the ticket (a customer adds
    files to their own tickets); removing one is for administrators and service managers."""
    if action in ("change", "delete"):
        return user.has_role(Role.ADMINISTRATOR, Role.SERVICE_MANAGER)
    return _public_on_visible_tickets(user)


@scope_rule(ServiceTeam)
def service_team_scope(user, action: str) -> Q | bool:
    """Staff see the teams; administrators and service managers maintain them."""
    if action == "view":
        return user.has_role(*STAFF_ROLES)
    return user.has_role(Role.ADMINISTRATOR, Role.SERVICE_MANAGER)


@scope_rule(NpsSurvey)
def nps_survey_scope(user, action: str) -> Q | bool:
    """NPS answers are internal (staff who see the account); administrators, service managers
    and the account's key account managers send surveys. Answers come through the one-time
    link only, so nobody changes a survey."""
    if not user.has_role(*STAFF_ROLES) or action in ("change", "delete"):
        return user.has_role(Role.ADMINISTRATOR) and action == "delete"
    if action == "add":
        if user.has_role(Role.ADMINISTRATOR, Role.SERVICE_MANAGER):
            return True
        if user.has_role(Role.KEY_ACCOUNT_MANAGER):
            return Q(account__in=owned_account_ids(user)) | Q(account__in=team_account_ids(user))
        return False
    verdict = scope_filter(Account, user, "view")
    if isinstance(verdict, bool):
        return verdict
    return Q(account__in=Account.objects.filter(verdict).values("pk"))


@scope_rule(FieldVisit)
def field_visit_scope(user, action: str) -> Q | bool:
    """Visits (with their costs) are internal: staff only. They follow their ticket; the
    engineers on a visit may always work it."""
    if not user.has_role(*STAFF_ROLES):
        return False
    verdict = scope_filter(Ticket, user, "view" if action == "view" else "change")
    if verdict is True:
        return True
    q = (
        Q(pk__in=[])
        if verdict is False
        else Q(ticket__in=Ticket.objects.filter(verdict).values("pk"))
    )
    if user.has_role(Role.SERVICE_ENGINEER):
        q |= Q(
            pk__in=FieldVisit.engineers.through.objects.filter(user=user).values("fieldvisit_id")
        )
    return q


@scope_rule(ServiceContract)
def service_contract_scope(user, action: str) -> Q | bool:
    """Contracts follow their account for reading; administrators and service managers
    maintain them. Customers see their own account's contracts."""
    if action != "view":
        return user.has_role(Role.ADMINISTRATOR, Role.SERVICE_MANAGER)
    verdict = scope_filter(Account, user, "view")
    if isinstance(verdict, bool):
        return verdict
    return Q(account__in=Account.objects.filter(verdict).values("pk"))


@scope_rule(MaintenancePlan)
def maintenance_plan_scope(user, action: str) -> Q | bool:
    if action != "view":
        return user.has_role(Role.ADMINISTRATOR, Role.SERVICE_MANAGER)
    if not user.has_role(*STAFF_ROLES):
        return False
    verdict = scope_filter(Account, user, "view")
    if isinstance(verdict, bool):
        return verdict
    return Q(equipment__account__in=Account.objects.filter(verdict).values("pk"))


@scope_rule(SlaPolicy)
def sla_policy_scope(user, action: str) -> Q | bool:
    """Staff read the policies; administrators maintain them."""
    return user.has_role(Role.ADMINISTRATOR) or (action == "view" and user.has_role(*STAFF_ROLES))


@scope_rule(BusinessCalendar)
def calendar_scope(user, action: str) -> Q | bool:
    return user.has_role(Role.ADMINISTRATOR) or (action == "view" and user.has_role(*STAFF_ROLES))


for _model in (
    Ticket, TicketComment, TicketEvent, FieldVisit, ServiceContract, MaintenancePlan, SlaPolicy,
    BusinessCalendar, TicketAttachment, ServiceTeam, NpsSurvey,
):  # fmt: skip
    register_model_perms(_model)
