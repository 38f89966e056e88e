"""The engagement programme pages: "My week" (whom to meet, why and how — each person's
style guidance — what is due, overdue and suggested, with one-click "plan" links, and the
decision makers not met with who can introduce them), the coverage report of the key
accounts and one account's coverage, the executive's sponsored accounts and the executive
overdue report, and the playbooks (administrators edit them; all staff read them). Also
the engagement section of the account 360 page.

Staff only: a customer contact gets a 403, an anonymous visitor the login page. An account
the user does not see is a 404. A "plan" link opens the activity form prefilled (account,
kind, contacts, the person to reach, the playbook item, a subject)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from keycare.accounts.models import Account
from keycare.accounts.selectors import account_get
from keycare.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from keycare.core.scoping import user_can_any
from keycare.engagement.coverage import (
    FLAGS,
    CoverageFilterSet,
    account_coverage,
    account_engagement,
    coverage_list,
    engagement_may_view,
)
from keycare.engagement.models import Playbook, PlaybookItem
from keycare.engagement.playbooks import (
    ITEM_FIELDS,
    PLAYBOOK_FIELDS,
    playbook_create,
    playbook_delete,
    playbook_get,
    playbook_item_add,
    playbook_item_remove,
    playbook_item_update,
    playbook_list,
    playbook_service_measures,
    playbook_update,
    service_strategies,
)
from keycare.engagement.selectors.my_week import my_week
from keycare.engagement.sponsors import (
    ExecutiveOverdueFilterSet,
    executive_overdue_report,
    sponsored_accounts,
)

from ..forms.engagement_programme import VERSION_MISSING, PlaybookForm, PlaybookItemForm
from .base import PageView, apply_errors, filter_errors, filter_form, paginate, render_page

PER_PAGE = 25


# --- shared ------------------------------------------------------------------------------


def _guard(actor) -> None:
    if not engagement_may_view(actor):
        raise PermissionDenied(_("Engagement is for the company's staff."))


class ProgrammePage(PageView):
    """A page of the programme: staff only (checked before anything is read)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _guard(request.user)
        return super().dispatch(request, *args, **kwargs)


def _reverse(name: str, *args) -> str | None:
    """A page of another part of the engagement area, None while it is not there."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def plan_url(**params) -> str | None:
    """The activity form prefilled: account, kind, contacts (several), target_contact,
    playbook_item, subject (empty values left out)."""
    base = _reverse("web:activity_create")
    if base is None:
        return None
    query = []
    for key, value in params.items():
        for one in value if isinstance(value, (list, tuple)) else [value]:
            if one not in (None, ""):
                query.append((key, one))
    return f"{base}?{urlencode(query)}" if query else base


def introduction_url(account_id: int, person, path) -> str | None:
    """One click from a decision maker not met: an introduction by the first person on the
    coach path we know (or a meeting when we know them well ourselves)."""
    if path is not None and path.direct:
        return plan_url(account=account_id, kind="meeting", contacts=[person.contact_id],
                        subject=_("Meeting with %(name)s") % {"name": person.name})  # fmt: skip
    first = path.first_contact if path is not None else None
    return plan_url(
        account=account_id, kind="introduction", contacts=[first.id] if first else [],
        target_contact=person.contact_id,
        subject=_("Introduction to %(name)s") % {"name": person.name},
    )  # fmt: skip


def suggestion_url(suggestion) -> str | None:
    return plan_url(
        account=suggestion.account.pk, kind=suggestion.item.kind,
        contacts=[p.contact_id for p in suggestion.people], playbook_item=suggestion.item.pk,
        subject=suggestion.item.title_text,
    )  # fmt: skip


def _flag_labels() -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in FLAGS.items()]


# --- My week -------------------------------------------------------------------------------


class MyWeekView(ProgrammePage):
    """What to do this week across the user's accounts, ordered by account value."""

    template_name = "web/engagement/my_week.html"

    def get_context(self, **kwargs) -> dict:
        week = my_week(actor=self.request.user)
        for suggestion in week.cadences:
            suggestion.plan_url = None if suggestion.already_planned else suggestion_url(suggestion)
        for entry in week.uncovered:
            entry.plan_url = (
                None
                if entry.already_planned
                else introduction_url(entry.account.pk, entry.person, entry.path)
            )
        for activity in [*week.planned, *week.overdue_next_steps]:
            activity.url = _reverse("web:activity_detail", activity.pk)
        return {"week": week, "reminders_url": _reverse("web:reminder_list"),
                "plan_any_url": plan_url()}  # fmt: skip


# --- coverage ------------------------------------------------------------------------------


class CoverageListView(ProgrammePage):
    """The key accounts' coverage, lowest score first; filters: owner, tier, type, region,
    flag, score below. A wrong filter is said on the page (status 400)."""

    template_name = "web/engagement/coverage_list.html"
    fragment_name = "web/engagement/coverage_table.html"

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if response.context_data.get("filter_errors"):
            response.status_code = 400
        return response

    def get_context(self, **kwargs) -> dict:
        actor, query = self.request.user, self.request.GET
        errors = []
        try:
            rows = coverage_list(actor=actor, filters=query)
        except ValidationError as exc:
            errors = filter_errors(exc)
            rows = coverage_list(actor=actor)
        return {
            "page": paginate(self.request, rows, per_page=PER_PAGE),
            "filter_form": filter_form(CoverageFilterSet, query),
            "filter_errors": errors,
            "query": query,
        }


class CoverageDetailView(ProgrammePage):
    """One account's buying centre: key persons by role with when we last met them and
    who did, the flags, and the coach path with a "plan an introduction" link for each
    decision maker not met."""

    template_name = "web/engagement/coverage_detail.html"

    def get_context(self, *, pk: int, **kwargs) -> dict:
        actor = self.request.user
        try:
            account = account_get(actor=actor, pk=pk)
        except Account.DoesNotExist:
            raise Http404 from None
        coverage = account_coverage(actor=actor, account=account)
        uncovered = [
            {"person": p, "path": coverage.paths.get(p.contact_id),
             "plan_url": introduction_url(account.pk, p, coverage.paths.get(p.contact_id))}
            for p in coverage.uncovered_decision_makers
        ]  # fmt: skip
        return {"account": account, "coverage": coverage, "uncovered": uncovered,
                "plan_any_url": plan_url(account=account.pk)}  # fmt: skip


# --- the executive sponsor programme ------------------------------------------------------


class SponsorAccountsView(ProgrammePage):
    """The executive's own page: the accounts they sponsor, most overdue visit first, with
    the coverage score and the service health of each."""

    template_name = "web/engagement/sponsor_accounts.html"

    def get_context(self, **kwargs) -> dict:
        rows = sponsored_accounts(actor=self.request.user)
        for row in rows:
            row.plan_url = plan_url(account=row.account.pk, kind="executive_visit",
                                    subject=_("Executive visit"))  # fmt: skip
        return {"rows": rows}


class SponsorOverdueView(ProgrammePage):
    """The key accounts with no executive contact within their cadence, and those with no
    sponsor (flagged). A wrong filter is said on the page (status 400)."""

    template_name = "web/engagement/sponsor_overdue.html"

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if response.context_data.get("filter_errors"):
            response.status_code = 400
        return response

    def get_context(self, **kwargs) -> dict:
        actor, query = self.request.user, self.request.GET
        errors = []
        try:
            rows = executive_overdue_report(actor=actor, filters=query)
        except ValidationError as exc:
            errors = filter_errors(exc)
            rows = executive_overdue_report(actor=actor)
        return {
            "page": paginate(self.request, rows, per_page=PER_PAGE),
            "filter_form": filter_form(ExecutiveOverdueFilterSet, query),
            "filter_errors": errors,
            "query": query,
        }


# --- playbooks -----------------------------------------------------------------------------


def _may_edit(actor) -> bool:
    return user_can_any(actor, "change", Playbook)


def _require_edit(actor) -> None:
    if not _may_edit(actor):
        raise PermissionDenied(_("Only administrators change playbooks."))


def _playbook_or_404(actor, pk) -> Playbook:
    try:
        return playbook_get(actor=actor, pk=pk)
    except Playbook.DoesNotExist:
        raise Http404 from None


class PlaybookListView(ProgrammePage):
    template_name = "web/engagement/playbook_list.html"

    def get_context(self, **kwargs) -> dict:
        actor = self.request.user
        playbooks = list(playbook_list(actor=actor))
        strategies = service_strategies()
        for playbook in playbooks:
            playbook.measures = playbook_service_measures(playbook, strategies=strategies)
            playbook.measure_count = len(playbook.measures["practices"]) + len(
                playbook.measures["notes"]
            )
        return {"playbooks": playbooks, "may_edit": _may_edit(actor)}


class PlaybookDetailView(ProgrammePage):
    """A playbook: its cadences and recommended activities, and its service measures (the
    type's service strategy practices and its own notes)."""

    template_name = "web/engagement/playbook_detail.html"

    def get_context(self, *, pk: int, **kwargs) -> dict:
        actor = self.request.user
        playbook = _playbook_or_404(actor, pk)
        return {"playbook": playbook, "measures": playbook_service_measures(playbook),
                "may_edit": _may_edit(actor)}  # fmt: skip


class PlaybookFormView(ProgrammePage):
    """Add or change a playbook (administrators; others 403). A stale edit is refused with
    the message, the input kept (409, as the API answers it)."""

    template_name = "web/engagement/playbook_form.html"

    def _load(self, request, pk):
        _require_edit(request.user)
        return None if pk is None else _playbook_or_404(request.user, pk)

    def _render(self, request, form, playbook, status=200):
        response = render_page(request, template=self.template_name,
                               context={"form": form, "playbook": playbook})  # fmt: skip
        response.status_code = status
        return response

    def get(self, request, pk=None):
        playbook = self._load(request, pk)
        initial = ({name: getattr(playbook, name) for name in PLAYBOOK_FIELDS}
                   | {"lock_version": playbook.lock_version}) if playbook else {"is_active": True}  # fmt: skip
        return self._render(request, PlaybookForm(initial=initial), playbook)

    def post(self, request, pk=None):
        playbook = self._load(request, pk)
        form = PlaybookForm(request.POST, editing=playbook is not None)
        status = 400
        if form.is_valid():
            try:
                if playbook is None:
                    playbook = playbook_create(actor=request.user, data=form.service_data())
                    messages.success(request, _("Playbook added."))
                else:
                    playbook_update(actor=request.user, playbook=playbook,
                                    data=form.service_data(),
                                    lock_version=form.cleaned_data["lock_version"])  # fmt: skip
                    messages.success(request, _("Playbook saved."))
                return redirect("web:playbook_detail", playbook.pk)
            except ValidationError as exc:
                apply_errors(form, exc)
            except ConflictError as exc:
                form.add_error(None, exc.message)
                status = 409
            except ApplicationError as exc:
                form.add_error(None, exc.message)
        return self._render(request, form, playbook, status)


class PlaybookDeleteView(ProgrammePage):
    http_method_names = ["post"]

    def post(self, request, pk):
        _require_edit(request.user)
        playbook = _playbook_or_404(request.user, pk)
        raw = request.POST.get("lock_version")
        if not (raw and raw.isdigit()):
            messages.error(request, VERSION_MISSING)
            return redirect("web:playbook_detail", playbook.pk)
        try:
            playbook_delete(actor=request.user, playbook=playbook, lock_version=int(raw))
        except (ConflictError, PermissionDeniedError) as exc:
            messages.error(request, exc.message)
            return redirect("web:playbook_detail", playbook.pk)
        messages.success(request, _("Playbook %(name)s removed.") % {"name": playbook.name_text})
        return redirect("web:playbook_list")


class PlaybookItemFormView(ProgrammePage):
    """Add an item to a playbook or change one (administrators; others 403); the form
    carries the playbook's edit version: a stale one is refused (409)."""

    template_name = "web/engagement/playbook_item_form.html"

    def _load(self, request, pk, item_pk):
        _require_edit(request.user)
        if item_pk is not None:
            item = PlaybookItem.objects.restrict(request.user).filter(pk=item_pk).first()
            if item is None:
                raise Http404
            return _playbook_or_404(request.user, item.playbook_id), item
        return _playbook_or_404(request.user, pk), None

    def _render(self, request, form, playbook, item, status=200):
        response = render_page(request, template=self.template_name,
                               context={"form": form, "playbook": playbook, "item": item})  # fmt: skip
        response.status_code = status
        return response

    def get(self, request, pk=None, item_pk=None):
        playbook, item = self._load(request, pk, item_pk)
        initial = {"lock_version": playbook.lock_version}
        if item is not None:
            initial |= {name: getattr(item, name) for name in ITEM_FIELDS}
        return self._render(request, PlaybookItemForm(initial=initial), playbook, item)

    def post(self, request, pk=None, item_pk=None):
        playbook, item = self._load(request, pk, item_pk)
        form = PlaybookItemForm(request.POST)
        status = 400
        if form.is_valid():
            version = form.cleaned_data["lock_version"]
            try:
                if item is None:
                    playbook_item_add(actor=request.user, playbook=playbook,
                                      data=form.service_data(), lock_version=version)  # fmt: skip
                    messages.success(request, _("Cadence added."))
                else:
                    playbook_item_update(actor=request.user, item=item, data=form.service_data(),
                                         lock_version=version)  # fmt: skip
                    messages.success(request, _("Cadence saved."))
                return redirect("web:playbook_detail", playbook.pk)
            except ValidationError as exc:
                apply_errors(form, exc)
            except ConflictError as exc:
                form.add_error(None, exc.message)
                status = 409
            except ApplicationError as exc:
                form.add_error(None, exc.message)
        return self._render(request, form, playbook, item, status)


class PlaybookItemDeleteView(ProgrammePage):
    http_method_names = ["post"]

    def post(self, request, item_pk):
        _require_edit(request.user)
        item = PlaybookItem.objects.restrict(request.user).filter(pk=item_pk).first()
        if item is None:
            raise Http404
        raw = request.POST.get("lock_version")
        if not (raw and raw.isdigit()):
            messages.error(request, VERSION_MISSING)
            return redirect("web:playbook_detail", item.playbook_id)
        try:
            playbook_item_remove(actor=request.user, item=item, lock_version=int(raw))
        except ConflictError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Cadence removed."))
        return redirect("web:playbook_detail", item.playbook_id)


# --- the account 360 page ------------------------------------------------------------------


def account_engagement_section(*, actor, account) -> dict | None:
    """The engagement section of the account 360 page (None: not for this user, e.g. a
    customer contact), with its "plan" links."""
    section = account_engagement(actor=actor, account=account)
    if section is None:
        return None
    coverage = section["coverage"]
    section["uncovered"] = [
        {"person": p, "path": coverage.paths.get(p.contact_id),
         "plan_url": introduction_url(account.pk, p, coverage.paths.get(p.contact_id))}
        for p in coverage.uncovered_decision_makers
    ]  # fmt: skip
    section["plan_url"] = plan_url(account=account.pk) if section["may_plan"] else None
    section["paths"] = [path.node_ids for path in coverage.paths.values() if path]
    return section
