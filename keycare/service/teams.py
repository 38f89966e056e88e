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
    team = _locked_team(team)
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


def _locked_team(team: ServiceTeam) -> ServiceTeam:
    return ServiceTeam.objects.select_for_update().get(pk=team.pk)


@transaction.atomic
def service_team_update(
    *, actor: User | None, team: ServiceTeam, data: dict, expected_version: int | None = None
) -> ServiceTeam:
    """Change a team's name, provinces, leader or active flag; a stale edit is refused."""
    from keycare.core.services import apply_changes, check_version

    team = _locked_team(team)
    if actor is not None:
        require_permission(actor=actor, action="change", obj=team)
    check_version(instance=team, expected=expected_version)
    data = dict(data)
    if "name" in data:
        data["name"] = data["name"].strip()
    if "provinces" in data:
        data["provinces"] = _names(data["provinces"], "provinces")
    changed = apply_changes(
        instance=team, data=data, allowed={"name", "provinces", "manager", "is_active"}
    )
    if changed:
        team.full_clean()
        team.version += 1
        team.save()
    return team


@transaction.atomic
def service_team_member_remove(*, actor: User | None, team: ServiceTeam, user: User) -> None:
    team = _locked_team(team)
    if actor is not None:
        require_permission(actor=actor, action="change", obj=team)
    ServiceTeamMember.objects.filter(team=team, user=user).delete()


def service_team_loads(*, team_ids) -> dict[int, int]:
    """Open tickets per engineer of these teams (one query), for the teams page."""
    from django.db.models import Count, Q

    from .choices import OPEN_STATUSES

    rows = (
        ServiceTeamMember.objects.filter(team_id__in=list(team_ids))
        .values("user_id")
        .annotate(
            n=Count(
                "user__assigned_tickets",
                filter=Q(user__assigned_tickets__status__in=OPEN_STATUSES),
                distinct=True,
            )
        )
        .order_by()
    )
    return {r["user_id"]: r["n"] for r in rows}
