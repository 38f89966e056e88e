"""Service teams (服务团队): the engineers who work together, the provinces they cover and
each engineer's skills, used by the assignment rules and the dashboard's team filter."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from keycare.accounts.models import Account
from keycare.core.services import require_permission
from keycare.users.choices import Role
from keycare.users.models import User

from .models import ServiceTeam, ServiceTeamMember


def _names(values, field: str) -> list[str]:
    if isinstance(values, str):
        values = values.replace("，", ",").split(",")
    cleaned = []
    for value in values or []:
        if not isinstance(value, str):
            raise ValidationError({field: _("Use names separated by commas.")})
        value = value.strip()
        if value and value not in cleaned:
            cleaned.append(value)
    return cleaned


@transaction.atomic
def service_team_create(
    *, actor: User | None, name: str, provinces=(), manager: User | None = None
) -> ServiceTeam:
    if actor is not None:
        require_permission(actor=actor, action="add", model=ServiceTeam)
    team = ServiceTeam(name=name.strip(), provinces=_names(provinces, "provinces"), manager=manager)
    team.full_clean()
    team.save()
    return team


@transaction.atomic
def service_team_member_set(
    *, actor: User | None, team: ServiceTeam, user: User, skills=()
) -> ServiceTeamMember:
    """Put an engineer in a team (or update their skills there)."""
    if actor is not None:
        require_permission(actor=actor, action="change", obj=team)
    if not user.has_role(Role.SERVICE_ENGINEER, Role.SERVICE_MANAGER):
        raise ValidationError({"user": _("Teams are made of service engineers and managers.")})
    member, _created = ServiceTeamMember.objects.update_or_create(
        team=team, user=user, defaults={"skills": _names(skills, "skills")}
    )
    member.full_clean()
    return member


def team_for_account(account: Account) -> ServiceTeam | None:
    """The active service team whose region covers the account's province (region match);
    with several, the one covering the fewest provinces (the most specific)."""
    if not account.province:
        return None
    teams = [
        t for t in ServiceTeam.objects.filter(is_active=True) if account.province in t.provinces
    ]
    return min(teams, key=lambda t: (len(t.provinces), t.name), default=None)
