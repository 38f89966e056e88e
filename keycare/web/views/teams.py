"""Service teams (服务团队): who covers which provinces with which skills. Staff read the
page; administrators and service managers maintain the teams here (or in the admin)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from keycare.core.exceptions import ApplicationError
from keycare.core.scoping import user_can, user_can_any
from keycare.service import selectors, teams
from keycare.service.models import ServiceTeam
from keycare.users.selectors import user_list_with_role

from ..forms.teams import ServiceTeamForm, TeamMemberForm
from .base import PageView, apply_errors


def _engineers(actor):
    return user_list_with_role(actor=actor, role="service_engineer").order_by("username")


def _team_or_404(actor, pk: int, action: str = "view") -> ServiceTeam:
    team = selectors.service_team_list(actor=actor, active_only=False).filter(pk=pk).first()
    if team is None or (action != "view" and not user_can(actor, action, team)):
        raise Http404
    return team


class TeamListView(PageView):
    template_name = "web/service/teams.html"

    def get_context(self, **kwargs) -> dict:
        actor = self.request.user
        if actor.is_portal_user:
            raise Http404
        team_rows = list(selectors.service_team_list(actor=actor, active_only=False))
        loads = teams.service_team_loads(team_ids=[t.pk for t in team_rows])
        for team in team_rows:
            for member in team.memberships.all():
                member.open_load = loads.get(member.user_id, 0)
        can_manage = user_can_any(actor, "change", ServiceTeam)
        return {
            "teams": team_rows,
            "can_manage": can_manage,
            "member_form": TeamMemberForm(engineers=_engineers(actor)) if can_manage else None,
        }


class TeamFormView(PageView):
    template_name = "web/service/team_form.html"

    def _form(self, request, team, data=None):
        managers = user_list_with_role(actor=request.user, role="service_manager")
        initial = None
        if team is not None:
            initial = {"name": team.name, "provinces": ", ".join(team.provinces),
                       "manager": team.manager_id, "is_active": team.is_active,
                       "version": team.version}  # fmt: skip
        return ServiceTeamForm(data, initial=initial, managers=managers)

    def _load(self, request, pk):
        if pk is None:
            if not user_can_any(request.user, "add", ServiceTeam):
                raise Http404
            return None
        return _team_or_404(request.user, pk, "change")

    def get(self, request, pk=None):
        team = self._load(request, pk)
        return TemplateResponse(
            request, self.template_name, {"form": self._form(request, team), "team": team}
        )

    def post(self, request, pk=None):
        team = self._load(request, pk)
        form = self._form(request, team, request.POST)
        if form.is_valid():
            try:
                if team is None:
                    data = form.service_data()
                    data.pop("is_active")
                    teams.service_team_create(actor=request.user, **data)
                    messages.success(request, _("Team created."))
                else:
                    teams.service_team_update(
                        actor=request.user, team=team, data=form.service_data(),
                        expected_version=form.cleaned_data.get("version"),
                    )  # fmt: skip
                    messages.success(request, _("Team saved."))
                return redirect("web:team_list")
            except ValidationError as exc:
                apply_errors(form, exc)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
        return TemplateResponse(
            request, self.template_name, {"form": form, "team": team}, status=400
        )


class TeamMemberView(PageView):
    """POST only: put an engineer in the team (or change their skills), or take them out."""

    http_method_names = ["post"]

    def post(self, request, pk):
        team = _team_or_404(request.user, pk, "change")
        if request.POST.get("action") == "remove":
            user = team.members.filter(pk=request.POST.get("user") or 0).first()
            if user is not None:
                teams.service_team_member_remove(actor=request.user, team=team, user=user)
                messages.success(request, _("%(name)s left the team.") % {"name": user})
            return redirect("web:team_list")
        form = TeamMemberForm(request.POST, engineers=_engineers(request.user))
        if form.is_valid():
            try:
                teams.service_team_member_set(
                    actor=request.user, team=team, user=form.cleaned_data["user"],
                    skills=form.cleaned_data["skills"],
                )  # fmt: skip
                messages.success(request, _("Team member saved."))
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
        else:
            messages.error(
                request, " ".join(str(e) for errors in form.errors.values() for e in errors)
            )
        return redirect("web:team_list")
