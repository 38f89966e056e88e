"""The engagement activity pages (客户互动): the activity list with its filters and overdue
next steps, one activity with its people (and how to deal with each: the style matrix
guidance), files, timeline and the complete / cancel / next-step forms, the plan-or-log
form (prefilled from the query string by the pages that link to it), the calendar (week
and month, for a user, a service team or the colleagues) with the private .ics feed, the
needs and pains log, the reference customers, the style guidance and the engagement
settings.

Every page is for the company's staff (a customer contact gets a 403) and reads through
the engagement selectors, so a key account manager sees only their accounts' rows (any
other is a 404). Every write is a POST through a service; a stale edit is said on the form
with a 409, bad input with a 400, a refusal with a 403."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views import View

from keycare.accounts.models import Account, Contact
from keycare.accounts.scopes import may_see_costs
from keycare.core.downloads import private_file_response
from keycare.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from keycare.core.scoping import restrict, user_can, user_can_any
from keycare.engagement import calendar as feeds
from keycare.engagement.choices import ActivityKind, ActivityStatus, PainStatus
from keycare.engagement.filters import ActivityFilter, PainFilter, ReferenceFilter
from keycare.engagement.models import (
    Activity,
    ActivityAttachment,
    EngagementSettings,
    Pain,
    PlaybookItem,
    ReferenceCustomer,
)
from keycare.engagement.selectors.activities import (
    activity_get,
    activity_list,
    activity_log,
    attachment_get,
    calendar_entries,
    calendar_team_user_ids,
    calendar_teams,
    calendar_users,
    contact_recent_activities,
)
from keycare.engagement.selectors.pains import pain_get, pain_list, pain_list_with_links, pain_log
from keycare.engagement.selectors.programme import (
    reference_customer_list,
    style_guidance_all,
    style_guidance_for,
    style_guidance_list,
)
from keycare.engagement.services import activities as activity_services
from keycare.engagement.services import pains as pain_services
from keycare.engagement.services import programme as programme_services
from keycare.engagement.services.activities import at_account_q, staff_users
from keycare.profitability.models import Concession
from keycare.service.attachments import INLINE_TYPES
from keycare.service.models import Ticket
from keycare.users.choices import STAFF_ROLES, Role

from ..forms.engagement_activities import (
    ActivityForm,
    AttachmentForm,
    CancelForm,
    CompleteForm,
    EngagementSettingsForm,
    PainForm,
    PainLinkForm,
    PainStatusForm,
    ReferenceForm,
    StyleGuidanceForm,
    VersionForm,
)
from .base import PageView, apply_errors, filter_errors, filter_form, paginate, render_page

ID_MAX = 2**63 - 1
#: The most accounts an account select offers (the others are reached from their page).
ACCOUNT_CHOICES = 1000
LOG_LABELS = {
    "activity_planned": pgettext_lazy("engagement log", "Planned"),
    "activity_done": pgettext_lazy("engagement log", "Done"),
    "activity_changed": pgettext_lazy("engagement log", "Changed"),
    "activity_cancelled": pgettext_lazy("engagement log", "Cancelled"),
    "activity_next_step_done": pgettext_lazy("engagement log", "Next step done"),
    "activity_attachment_added": pgettext_lazy("engagement log", "File attached"),
    "pain_raised": pgettext_lazy("engagement log", "Logged"),
    "pain_changed": pgettext_lazy("engagement log", "Changed"),
    "pain_status_changed": pgettext_lazy("engagement log", "Status changed"),
    "pain_linked": pgettext_lazy("engagement log", "Linked"),
    "pain_unlinked": pgettext_lazy("engagement log", "Link removed"),
}


# --- shared ------------------------------------------------------------------------------


def require_staff(user) -> None:
    """Engagement is the company's own business: customer contacts get a 403."""
    if not user.has_role(*STAFF_ROLES):
        raise PermissionDenied(_("You do not have permission to do this."))


def require_admin(user) -> None:
    if not user.has_role(Role.ADMINISTRATOR):
        raise PermissionDenied(_("You do not have permission to do this."))


def _int(raw) -> int | None:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if 0 < value <= ID_MAX else None


def _respond(request, template, context, *, status=200, fragment=None):
    response = render_page(request, template=template, fragment=fragment, context=context)
    htmx = getattr(request, "htmx", None)
    # HTMX swaps only successful answers: a fragment carries its errors itself
    response.status_code = 200 if (fragment and htmx and not htmx.boosted) else status
    return response


def _service_error(form, exc) -> int:
    """Put a service's refusal on the form; the status to answer with."""
    if isinstance(exc, ValidationError):
        apply_errors(form, exc)
        return 400
    form.add_error(None, exc.message)
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, PermissionDeniedError):
        return 403
    return 400


def _account_or_404(actor, raw) -> Account:
    pk = _int(raw)
    account = restrict(Account.objects.all(), actor, "view").filter(pk=pk).first() if pk else None
    if account is None:
        raise Http404
    return account


def _activity_or_404(actor, pk) -> Activity:
    try:
        return activity_get(actor=actor, pk=pk)
    except Activity.DoesNotExist:
        raise Http404 from None


def _pain_or_404(actor, pk) -> Pain:
    try:
        return pain_get(actor=actor, pk=pk)
    except Pain.DoesNotExist:
        raise Http404 from None


def account_contacts(actor, account: Account):
    """The people of an account (its own and those also at it), as the actor sees them."""
    return restrict(Contact.objects.filter(at_account_q(account)), actor, "view").order_by(
        "-is_active", "name", "id"
    )


def people_with_guidance(contacts, guidance=None) -> list[dict]:
    """Each person with how to deal with them (their decision style's guidance)."""
    guidance = guidance or style_guidance_all()
    return [{"contact": c, "guidance": guidance.get(c.decision_style) or guidance["unknown"]}
            for c in contacts]  # fmt: skip


def contact_engagement(actor, contact: Contact) -> dict:
    """What the contact page shows of engagement: how to deal with them and their recent
    activities (staff only; nothing for a customer contact)."""
    if not actor.has_role(*STAFF_ROLES):
        return {}
    return {
        "engagement_guidance": style_guidance_for(contact.decision_style),
        "engagement_activities": contact_recent_activities(actor=actor, contact=contact),
        "engagement_may_plan": user_can(actor, "view", contact.account),
    }


def log_rows(entries) -> list[dict]:
    return [{"entry": e, "label": LOG_LABELS.get(e.action, e.action)} for e in entries]


# --- the activity list -------------------------------------------------------------------

ACTIVITY_FILTERS = ("q", "kind", "status", "overdue", "planned_from", "planned_to")


class ActivityListView(PageView):
    """The activities the user sees, filtered (kind, status, overdue next steps, planned
    dates, a search, `account`, `owner=me`), newest first, 25 a page; HTMX gets the
    table alone. A wrong filter is said on the page with a 400."""

    template_name = "web/engagement/activity_list.html"
    fragment_name = "web/engagement/activity_table.html"

    def get(self, request):
        actor = request.user
        require_staff(actor)
        query = request.GET.copy()
        if query.get("owner") == "me":
            query["owner"] = str(actor.pk)
        errors = []
        try:
            queryset = activity_list(actor=actor, filters=query)
        except ValidationError as exc:
            errors = filter_errors(exc)
            queryset = activity_list(actor=actor).none()
        form = filter_form(ActivityFilter, request.GET)
        for name in list(form.fields):
            if name not in ACTIVITY_FILTERS:
                del form.fields[name]
        for name in ("planned_from", "planned_to"):
            form.fields[name].widget.input_type = "date"
        account = None
        if _int(request.GET.get("account")):
            account = restrict(Account.objects.all(), actor, "view").filter(
                pk=_int(request.GET.get("account"))).first()  # fmt: skip
        context = {
            "page": paginate(request, queryset, per_page=25),
            "filter_form": form,
            "filter_errors": errors,
            "query": request.GET,
            "account": account,
            "mine": request.GET.get("owner") in ("me", str(actor.pk)),
            "hx_target": "#activity-table",
            "today": timezone.localdate(),
        }
        return _respond(request, self.template_name, context, status=400 if errors else 200,
                        fragment=self.fragment_name)  # fmt: skip


# --- plan or log an activity -------------------------------------------------------------

PREFILL = ("kind", "subject", "contacts", "target_contact", "playbook_item", "planned_at",
           "objective")  # fmt: skip


def _prefill(query) -> dict:
    """The initial values other pages link with (`?account=…&kind=introduction&contacts=1
    &contacts=2&target_contact=3&playbook_item=4&subject=…`); anything unusable is left out."""
    initial = {}
    if query.get("kind") in ActivityKind.values:
        initial["kind"] = query["kind"]
    if query.get("subject"):
        initial["subject"] = str(query["subject"]).strip()[:200]
    if query.get("objective"):
        initial["objective"] = str(query["objective"]).strip()[:2000]
    contacts = [pk for pk in (_int(v) for v in query.getlist("contacts")) if pk]
    if contacts:
        initial["contacts"] = contacts
    for name in ("target_contact", "playbook_item"):
        if _int(query.get(name)):
            initial[name] = _int(query.get(name))
    if query.get("planned_at"):
        initial["planned_at"] = str(query["planned_at"])[:16]
    return initial


def _activity_form(request, account: Account, *, data=None, initial=None, editing=None):
    actor = request.user
    references = Account.objects.filter(
        reference__consent=True, reference__available=True).exclude(pk=account.pk).order_by("name")  # fmt: skip
    return ActivityForm(
        data, initial=initial, editing=editing, contacts=account_contacts(actor, account),
        may_see_costs=may_see_costs(actor),
        staff=staff_users().order_by("username"), references=references,
        playbook_items=PlaybookItem.objects.select_related("playbook"),
    )  # fmt: skip


def _chosen_people(form, account, actor) -> list[dict]:
    """The people chosen on the form (theirs and the one to reach), with their guidance."""
    if form.is_bound:
        raw = [*form.data.getlist("contacts"), form.data.get("target_contact")]
    else:
        raw = [*list(form.initial.get("contacts") or []), form.initial.get("target_contact")]
    ids = [pk for pk in (_int(getattr(v, "pk", v)) for v in raw) if pk]
    if not ids:
        return []
    people = list(account_contacts(actor, account).filter(pk__in=ids))
    return people_with_guidance(people)


class ActivityFormView(PageView):
    """Plan an activity (or log one done) for an account — GET without `account`: choose
    it; with it, the form, prefilled from the query string — or change one (`pk`: its
    owner and those who may change the account). Shows how to deal with each person
    chosen; a reference customer over its yearly limit is a warning after saving."""

    template_name = "web/engagement/activity_form.html"

    def _load(self, request, pk):
        require_staff(request.user)
        if pk is None:
            return None
        activity = _activity_or_404(request.user, pk)
        if not user_can(request.user, "change", activity):
            raise PermissionDenied(_("You do not have permission to do this."))
        if activity.status == ActivityStatus.CANCELLED:
            raise PermissionDenied(_("A cancelled activity stays as it was."))
        return activity

    def _context(self, request, account, form, activity=None) -> dict:
        return {"account": account, "form": form, "activity": activity,
                "people": _chosen_people(form, account, request.user)}  # fmt: skip

    def get(self, request, pk=None):
        actor = request.user
        activity = self._load(request, pk)
        if activity is None:
            if not request.GET.get("account"):
                accounts = restrict(Account.objects.all(), actor, "view").only("pk", "name").order_by(
                    "name", "id")[:ACCOUNT_CHOICES]  # fmt: skip
                keep = [(k, v) for k in PREFILL for v in request.GET.getlist(k)]
                return TemplateResponse(request, self.template_name,
                                        {"account": None, "accounts": accounts, "keep": keep})  # fmt: skip
            account = _account_or_404(actor, request.GET.get("account"))
            if not user_can_any(actor, "add", Activity):
                raise PermissionDenied(_("You do not have permission to do this."))
            initial = {"owner": actor.pk, "duration_minutes": 60, **_prefill(request.GET)}
            form = _activity_form(request, account, initial=initial)
        else:
            account = activity.account
            initial = {name: getattr(activity, name) for name in ActivityForm.SERVICE_FIELDS
                       if name not in ("contacts", "participants")}  # fmt: skip
            for name in ("planned_at", "done_at"):
                if initial.get(name):
                    initial[name] = timezone.localtime(initial[name])
            initial.update(contacts=[c.pk for c in activity.contacts.all()],
                           participants=[u.pk for u in activity.participants.all()],
                           version=activity.version)  # fmt: skip
            form = _activity_form(request, account, initial=initial, editing=activity)
        return TemplateResponse(request, self.template_name,
                                self._context(request, account, form, activity))  # fmt: skip

    def post(self, request, pk=None):
        actor = request.user
        activity = self._load(request, pk)
        account = (
            activity.account if activity else _account_or_404(actor, request.POST.get("account"))
        )
        form = _activity_form(request, account, data=request.POST, editing=activity)
        status = 400
        if form.is_valid():
            data = form.service_data()
            try:
                if activity is None:
                    saved = activity_services.activity_create(
                        actor=actor, account=account, kind=data.pop("kind"),
                        subject=data.pop("subject"), **data)  # fmt: skip
                    messages.success(request, _("Activity saved."))
                else:
                    saved = activity_services.activity_update(
                        actor=actor, activity=activity, data=data,
                        version=form.cleaned_data["version"])  # fmt: skip
                    messages.success(request, _("Activity changed."))
            except (ValidationError, ApplicationError) as exc:
                status = _service_error(form, exc)
            else:
                for warning in saved.warnings:
                    messages.warning(request, warning["message"])
                return redirect("web:activity_detail", pk=saved.pk)
        return TemplateResponse(request, self.template_name,
                                self._context(request, account, form, activity), status=status)  # fmt: skip


class ActivityGuidanceView(PageView):
    """The "how to talk to them" box of the form (HTMX): the guidance of each person
    chosen (`contacts`, `target_contact`) of the account."""

    template_name = "web/engagement/activity_guidance.html"

    def get(self, request):
        require_staff(request.user)
        account = _account_or_404(request.user, request.GET.get("account"))
        ids = [pk for pk in (_int(v) for v in [*request.GET.getlist("contacts"),
                                               request.GET.get("target_contact")]) if pk]  # fmt: skip
        people = list(account_contacts(request.user, account).filter(pk__in=ids)) if ids else []
        return TemplateResponse(request, self.template_name,
                                {"people": people_with_guidance(people)})  # fmt: skip


# --- one activity ------------------------------------------------------------------------


def activity_detail_context(request, activity: Activity, **extra) -> dict:
    actor = request.user
    may_change = user_can(actor, "change", activity)
    guidance = style_guidance_all()
    log = activity_log(actor=actor, activity=activity)
    cancelled = next((e for e in reversed(log) if e.action == "activity_cancelled"), None)
    open_step = bool(activity.next_step and activity.next_step_done_at is None
                     and activity.status != ActivityStatus.CANCELLED)  # fmt: skip
    version = {"version": activity.version}
    return {
        "activity": activity,
        "people": people_with_guidance(activity.contacts.all(), guidance),
        "target": people_with_guidance([activity.target_contact], guidance)[0]
        if activity.target_contact else None,
        "participants": list(activity.participants.all()),
        "attachments": list(activity.attachments.all()),
        "pains": list(activity.pains.all()),
        "log": log_rows(log),
        "cancel_reason": (cancelled.data or {}).get("reason") if cancelled else "",
        "may_change": may_change,
        "is_planned": activity.status == ActivityStatus.PLANNED,
        "open_step": open_step,
        "warnings": activity_services.reference_visit_warnings(activity=activity)
        if activity.status == ActivityStatus.PLANNED else [],
        "complete_form": CompleteForm(initial={"done_at": timezone.localtime().replace(
            second=0, microsecond=0), "cost": activity.cost, **version},
            may_see_costs=may_see_costs(request.user)),
        "may_see_costs": may_see_costs(request.user),
        "cancel_form": CancelForm(initial=version),
        "attach_form": AttachmentForm(initial=version),
        "step_form": VersionForm(initial=version),
        **extra,
    }  # fmt: skip


class ActivityDetailView(PageView):
    template_name = "web/engagement/activity_detail.html"

    def get(self, request, pk: int):
        require_staff(request.user)
        activity = _activity_or_404(request.user, pk)
        return TemplateResponse(request, self.template_name,
                                activity_detail_context(request, activity))  # fmt: skip


class ActivityActionView(PageView):
    """POST only: complete, cancel, mark the next step done or attach a file, at the
    version shown. A refusal is said on the activity's page (400, 403 or 409) with the
    input kept."""

    http_method_names = ["post"]
    action = ""
    FORMS = {"complete": CompleteForm, "cancel": CancelForm, "next_step_done": VersionForm,
             "attach": AttachmentForm}  # fmt: skip
    DONE = {
        "complete": gettext_lazy("The activity is recorded as done."),
        "cancel": gettext_lazy("The activity is cancelled."),
        "next_step_done": gettext_lazy("The next step is done."),
        "attach": gettext_lazy("File attached."),
    }

    def post(self, request, pk: int):
        actor = request.user
        require_staff(actor)
        activity = _activity_or_404(actor, pk)
        extra = {"may_see_costs": may_see_costs(actor)} if self.action == "complete" else {}
        form = self.FORMS[self.action](request.POST, request.FILES, **extra)
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                if self.action == "complete":
                    activity_services.activity_complete(actor=actor, activity=activity, **data)
                elif self.action == "cancel":
                    activity_services.activity_cancel(actor=actor, activity=activity, **data)
                elif self.action == "next_step_done":
                    activity_services.activity_next_step_done(
                        actor=actor, activity=activity, **data
                    )
                else:
                    activity_services.activity_attachment_add(
                        actor=actor, activity=activity, upload=data["file"], version=data["version"])  # fmt: skip
            except (ValidationError, ApplicationError) as exc:
                status = _service_error(form, exc)
            else:
                messages.success(request, self.DONE[self.action])
                return redirect("web:activity_detail", pk=activity.pk)
        fresh = _activity_or_404(actor, pk)
        context = activity_detail_context(request, fresh, action_error=self.action,
                                          action_errors=[e for errors in form.errors.values()
                                                         for e in errors])  # fmt: skip
        if self.action in ("complete", "cancel", "attach"):
            context[f"{self.action}_form"] = form  # the input is kept
        return TemplateResponse(request, ActivityDetailView.template_name, context, status=status)


class AttachmentDownloadView(LoginRequiredMixin, View):
    """A file of an activity, for those who see the activity (anyone else: a 404)."""

    def get(self, request, pk: int):
        require_staff(request.user)
        try:
            attachment = attachment_get(actor=request.user, pk=pk)
            handle = attachment.file.open("rb")
        except (ActivityAttachment.DoesNotExist, FileNotFoundError):
            raise Http404 from None
        return private_file_response(
            handle, filename=attachment.name, content_type=attachment.content_type,
            inline=attachment.content_type in INLINE_TYPES,
        )  # fmt: skip


# --- the calendar ------------------------------------------------------------------------


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _month_span(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    last = following - dt.timedelta(days=1)
    return _monday(first), _monday(last) + dt.timedelta(days=6)


class CalendarView(PageView):
    """The planned activities and due next steps of a week or a month (`view`, `date`),
    for me, chosen colleagues (`user`, repeatable), a service team (`team`) or all the
    colleagues I may look at (`who=colleagues`). Managers may look at everyone; a key
    account manager at themselves and the colleagues on their accounts' teams."""

    template_name = "web/engagement/calendar.html"

    def get(self, request):
        actor = request.user
        require_staff(actor)
        query = request.GET
        errors = []
        view = query.get("view") if query.get("view") in ("week", "month") else "week"
        try:
            day = (
                dt.date.fromisoformat(query["date"]) if query.get("date") else timezone.localdate()
            )
        except ValueError:
            errors.append(_("Enter a date as YYYY-MM-DD."))
            day = timezone.localdate()
        people = list(calendar_users(actor=actor))
        teams = list(calendar_teams(actor=actor))
        who = query.get("who") or (
            "team" if query.get("team") else "user" if query.get("user") else "me"
        )
        team = None
        if who == "team":
            team = next((t for t in teams if t.pk == _int(query.get("team"))), None)
            if team is None:
                errors.append(_("Choose one of the service teams in the list."))
                ids = [actor.pk]
            else:
                ids = calendar_team_user_ids(actor=actor, team=team)
        elif who == "colleagues":
            ids = [u.pk for u in people]
        elif who == "user":
            ids = [pk for pk in (_int(v) for v in query.getlist("user")) if pk] or [actor.pk]
        else:
            who, ids = "me", [actor.pk]
        if view == "week":
            start = _monday(day)
            end = start + dt.timedelta(days=6)
            previous, following = start - dt.timedelta(days=7), start + dt.timedelta(days=7)
        else:
            start, end = _month_span(day)
            first = day.replace(day=1)
            previous = (first - dt.timedelta(days=1)).replace(day=1)
            following = (first + dt.timedelta(days=32)).replace(day=1)
        entries = []
        try:
            entries = calendar_entries(actor=actor, start=start, end=end, user_ids=ids)
        except ValidationError as exc:
            errors.extend(exc.messages)
        by_day: dict[dt.date, list] = {}
        for entry in entries:
            by_day.setdefault(entry.day, []).append(entry)
        days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
        weeks = [[{"day": d, "entries": by_day.get(d, []), "in_month": view == "week"
                   or d.month == day.month} for d in days[i:i + 7]]
                 for i in range(0, len(days), 7)]  # fmt: skip
        names = {u.pk: u for u in people}
        names.setdefault(actor.pk, actor)
        context = {
            "view": view, "day": day, "start": start, "end": end, "weeks": weeks,
            "previous": previous, "following": following, "today": timezone.localdate(),
            "who": who, "team": team, "teams": teams, "people": people,
            "chosen": [names[pk] for pk in ids if pk in names], "chosen_ids": ids,
            "several": len(ids) > 1, "errors": errors, "count": len(entries),
        }  # fmt: skip
        return _respond(request, self.template_name, context, status=400 if errors else 200)


class CalendarFeedView(PageView):
    """The private .ics address of my calendar: GET says whether it exists (never the
    address: it is not stored); POST creates it, or resets it (the old one stops at once),
    and shows the new address this once."""

    template_name = "web/engagement/calendar_feed.html"

    def _context(self, request, url=None) -> dict:
        return {"feed": feeds.calendar_feed_get(actor=request.user), "url": url}

    def get(self, request):
        require_staff(request.user)
        return TemplateResponse(request, self.template_name, self._context(request))

    def post(self, request):
        require_staff(request.user)
        token = feeds.calendar_feed_create_or_reset(actor=request.user)
        url = request.build_absolute_uri(reverse("web:calendar_feed_ics", args=[token]))
        response = TemplateResponse(request, self.template_name, self._context(request, url))
        response["Cache-Control"] = "private, no-store"
        return response


class CalendarFeedIcsView(View):
    """The feed itself, for the user's calendar app: no login, the token is the key; a
    wrong or reset token is a 404."""

    def get(self, request, token: str):
        user = feeds.calendar_feed_user(token)
        if user is None:
            raise Http404
        body = feeds.calendar_ics(user=user, today=timezone.localdate())
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="keycare.ics"'
        response["Cache-Control"] = "private, max-age=300"
        response["X-Content-Type-Options"] = "nosniff"
        return response


# --- needs and pains ---------------------------------------------------------------------

PAIN_FILTERS = ("q", "status", "open", "impact_min")


class PainListView(PageView):
    """The needs and pains the user sees, filtered; `account` (or the account's own page,
    /engagement/accounts/<pk>/pains/) shows one account's log with its links."""

    template_name = "web/engagement/pain_list.html"
    fragment_name = "web/engagement/pain_table.html"

    def get(self, request, account_pk=None):
        actor = request.user
        require_staff(actor)
        account = _account_or_404(actor, account_pk) if account_pk else None
        query = request.GET.copy()
        if account is not None:
            query["account"] = str(account.pk)
        errors = []
        selector = pain_list_with_links if account is not None else pain_list
        try:
            queryset = selector(actor=actor, filters=query)
        except ValidationError as exc:
            errors = filter_errors(exc)
            queryset = pain_list(actor=actor).none()
        form = filter_form(PainFilter, request.GET)
        for name in list(form.fields):
            if name not in PAIN_FILTERS:
                del form.fields[name]
        context = {
            "page": paginate(request, queryset, per_page=25),
            "filter_form": form, "filter_errors": errors, "query": request.GET,
            "account": account, "with_links": account is not None,
            "may_add": account is not None and user_can(actor, "change", account),
            "hx_target": "#pain-table",
        }  # fmt: skip
        return _respond(request, self.template_name, context, status=400 if errors else 200,
                        fragment=self.fragment_name)  # fmt: skip


def _pain_form(request, account, *, data=None, initial=None, editing=False) -> PainForm:
    return PainForm(data, initial=initial, editing=editing,
                    contacts=account_contacts(request.user, account),
                    staff=staff_users().order_by("username"))  # fmt: skip


class PainFormView(PageView):
    """Log a need or pain (`?account=`) or change one; those who may change the account."""

    template_name = "web/engagement/pain_form.html"

    def _load(self, request, pk):
        require_staff(request.user)
        if pk is None:
            account = _account_or_404(request.user, request.GET.get("account")
                                      or request.POST.get("account"))  # fmt: skip
            pain = None
        else:
            pain = _pain_or_404(request.user, pk)
            account = pain.account
        target = pain or account
        if not user_can(request.user, "change", target):
            raise PermissionDenied(_("You do not have permission to do this."))
        return pain, account

    def get(self, request, pk=None):
        pain, account = self._load(request, pk)
        if pain is None:
            initial = {"owner": request.user.pk, "raised_on": timezone.localdate()}
            if _int(request.GET.get("raised_by")):
                initial["raised_by"] = _int(request.GET.get("raised_by"))
        else:
            initial = {name: getattr(pain, name) for name in PainForm.SERVICE_FIELDS}
            initial["version"] = pain.version
        form = _pain_form(request, account, initial=initial, editing=pain is not None)
        return TemplateResponse(request, self.template_name,
                                {"form": form, "pain": pain, "account": account})  # fmt: skip

    def post(self, request, pk=None):
        pain, account = self._load(request, pk)
        form = _pain_form(request, account, data=request.POST, editing=pain is not None)
        status = 400
        if form.is_valid():
            data = form.service_data()
            try:
                if pain is None:
                    saved = pain_services.pain_create(actor=request.user, account=account, **data)
                else:
                    saved = pain_services.pain_update(actor=request.user, pain=pain, data=data,
                                                      version=form.cleaned_data["version"])  # fmt: skip
            except (ValidationError, ApplicationError) as exc:
                status = _service_error(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("web:pain_detail", pk=saved.pk)
        return TemplateResponse(request, self.template_name,
                                {"form": form, "pain": pain, "account": account}, status=status)  # fmt: skip


def pain_detail_context(request, pain: Pain, **extra) -> dict:
    actor = request.user
    may_change = user_can(actor, "change", pain)
    linked = {"activities": {a.pk for a in pain.activities.all()},
              "tickets": {t.pk for t in pain.tickets.all()},
              "concessions": {c.pk for c in pain.concessions.all()}}  # fmt: skip
    choices = {}
    if may_change:
        account = pain.account_id
        choices = {
            "activities": [a for a in restrict(Activity.objects.filter(account=account), actor, "view")
                           .order_by("-planned_at", "-id")[:50] if a.pk not in linked["activities"]],
            "tickets": [t for t in restrict(Ticket.objects.filter(account=account), actor, "view")
                        .order_by("-opened_at", "-id")[:50] if t.pk not in linked["tickets"]],
            "concessions": [c for c in restrict(Concession.objects.filter(account=account), actor, "view")
                            .order_by("-requested_at", "-id")[:50] if c.pk not in linked["concessions"]],
        }  # fmt: skip
    return {
        "pain": pain, "may_change": may_change, "choices": choices,
        "log": log_rows(pain_log(actor=actor, pain=pain)),
        "statuses": [(v, label) for v, label in PainStatus.choices if v != pain.status],
        **extra,
    }  # fmt: skip


class PainDetailView(PageView):
    template_name = "web/engagement/pain_detail.html"

    def get(self, request, pk: int):
        require_staff(request.user)
        pain = _pain_or_404(request.user, pk)
        return TemplateResponse(request, self.template_name, pain_detail_context(request, pain))


class PainActionView(PageView):
    """POST only: link or unlink an activity, ticket or concession (`links`), or move the
    pain to another status (`status`), at the version shown."""

    http_method_names = ["post"]
    action = ""

    def post(self, request, pk: int):
        actor = request.user
        require_staff(actor)
        pain = _pain_or_404(actor, pk)
        form = (PainLinkForm if self.action == "links" else PainStatusForm)(request.POST)
        status = 400
        errors = []
        if form.is_valid():
            data = form.cleaned_data
            try:
                if self.action == "links":
                    service = (
                        pain_services.pain_link
                        if data["action"] == "add"
                        else pain_services.pain_unlink
                    )
                    service(
                        actor=actor,
                        pain=pain,
                        version=data["version"],
                        **{data["what"]: [data["pk"]]},
                    )
                else:
                    pain_services.pain_status_change(actor=actor, pain=pain, status=data["status"],
                                                     version=data["version"])  # fmt: skip
            except ValidationError as exc:
                errors = exc.messages
            except ApplicationError as exc:
                errors = [exc.message]
                status = 409 if isinstance(exc, ConflictError) else (
                    403 if isinstance(exc, PermissionDeniedError) else 400)  # fmt: skip
            else:
                messages.success(request, _("Saved."))
                return redirect("web:pain_detail", pk=pain.pk)
        else:
            errors = [e for errs in form.errors.values() for e in errs]
        context = pain_detail_context(request, _pain_or_404(actor, pk), action_errors=errors)
        return TemplateResponse(request, PainDetailView.template_name, context, status=status)


# --- reference customers -----------------------------------------------------------------


class ReferenceListView(PageView):
    """The reference customers with their consent, availability and how often each was
    used (visits this year against its limit, in total, the last one)."""

    template_name = "web/engagement/reference_list.html"

    def get(self, request):
        actor = request.user
        require_staff(actor)
        errors = []
        try:
            references = list(reference_customer_list(actor=actor, filters=request.GET))
        except ValidationError as exc:
            errors = filter_errors(exc)
            references = []
        form = filter_form(ReferenceFilter, request.GET)
        accounts = []
        if user_can_any(actor, "add", ReferenceCustomer):
            accounts = list(restrict(Account.objects.all(), actor, "change").filter(reference=None)
                            .only("pk", "name").order_by("name", "id")[:ACCOUNT_CHOICES])  # fmt: skip
        context = {"references": references, "filter_form": form, "filter_errors": errors,
                   "accounts": accounts}  # fmt: skip
        return _respond(request, self.template_name, context, status=400 if errors else 200)


class ReferenceFormView(PageView):
    """Mark an account as a reference customer, or change it (administrators and those
    who may change the account); a stale edit is a 409 with the input kept."""

    template_name = "web/engagement/reference_form.html"

    def _load(self, request, account_pk):
        require_staff(request.user)
        account = _account_or_404(request.user, account_pk)
        if not activity_services.may_act_on_account(
            request.user, ReferenceCustomer, "change", account
        ):
            raise PermissionDenied(_("You do not have permission to do this."))
        return account, ReferenceCustomer.objects.filter(account=account).first()

    def _form(self, request, account, data=None, initial=None, *, editing=False) -> ReferenceForm:
        return ReferenceForm(data, initial=initial, editing=editing,
                             contacts=account_contacts(request.user, account))  # fmt: skip

    def get(self, request, account_pk: int):
        account, reference = self._load(request, account_pk)
        initial = {"consent": True, "available": True}
        if reference is not None:
            initial = {name: getattr(reference, name) for name in ReferenceForm.SERVICE_FIELDS}
            initial["lock_version"] = reference.lock_version
        form = self._form(request, account, initial=initial)
        return TemplateResponse(request, self.template_name,
                                {"form": form, "account": account, "reference": reference})  # fmt: skip

    def post(self, request, account_pk: int):
        account, reference = self._load(request, account_pk)
        form = self._form(request, account, data=request.POST, editing=reference is not None)
        status = 400
        if form.is_valid():
            try:
                programme_services.reference_customer_set(
                    actor=request.user, account=account, data=form.service_data(),
                    version=form.cleaned_data.get("lock_version"))  # fmt: skip
            except (ValidationError, ApplicationError) as exc:
                status = _service_error(form, exc)
            else:
                messages.success(request, _("Reference customer saved."))
                return redirect("web:reference_list")
        return TemplateResponse(request, self.template_name,
                                {"form": form, "account": account, "reference": reference},
                                status=status)  # fmt: skip


class ReferenceNewView(PageView):
    """Choose the account to mark as a reference customer (GET `account`)."""

    http_method_names = ["get"]

    def get(self, request):
        require_staff(request.user)
        account = _account_or_404(request.user, request.GET.get("account"))
        return redirect("web:reference_edit", account_pk=account.pk)


# --- style guidance and settings ---------------------------------------------------------


class StyleGuidanceView(PageView):
    """How to deal with each decision style (风格矩阵), for every member of staff to read;
    administrators edit each style in both languages (POST one style at a time)."""

    template_name = "web/engagement/style_guidance.html"

    def _context(self, request, bound=None) -> dict:
        rows = style_guidance_list(actor=request.user)
        forms = []
        for row in rows:
            if bound is not None and bound.data.get("style") == row.style:
                forms.append((row, bound))
            else:
                forms.append((row, StyleGuidanceForm(initial={
                    "style": row.style, "summary": row.summary, "summary_zh": row.summary_zh,
                    "tips": row.tips, "tips_zh": row.tips_zh, "lock_version": row.lock_version})))  # fmt: skip
        return {"rows": forms, "may_edit": request.user.has_role(Role.ADMINISTRATOR)}

    def get(self, request):
        require_staff(request.user)
        return TemplateResponse(request, self.template_name, self._context(request))

    def post(self, request):
        require_staff(request.user)
        require_admin(request.user)
        form = StyleGuidanceForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                programme_services.style_guidance_update(
                    actor=request.user, style=form.cleaned_data["style"],
                    data=form.service_data(), lock_version=form.cleaned_data["lock_version"])  # fmt: skip
            except (ValidationError, ApplicationError) as exc:
                status = _service_error(form, exc)
            else:
                messages.success(request, _("Guidance saved."))
                return redirect("web:style_guidance")
        return TemplateResponse(request, self.template_name, self._context(request, form),
                                status=status)  # fmt: skip


class EngagementSettingsView(PageView):
    """The engagement settings: read by all staff, changed by administrators."""

    template_name = "web/engagement/settings.html"

    def _form(self, row: EngagementSettings, data=None) -> EngagementSettingsForm:
        initial = {name: getattr(row, name) for name in programme_services.SETTINGS_FIELDS}
        initial["lock_version"] = row.lock_version
        return EngagementSettingsForm(data, initial=initial)

    def _context(self, request, form=None) -> dict:
        row = programme_services.engagement_settings_get()
        values = [(EngagementSettings._meta.get_field(name).verbose_name, getattr(row, name))
                  for name in programme_services.SETTINGS_FIELDS]  # fmt: skip
        return {"settings": row, "values": values, "form": form or self._form(row),
                "may_edit": request.user.has_role(Role.ADMINISTRATOR)}  # fmt: skip

    def get(self, request):
        require_staff(request.user)
        return TemplateResponse(request, self.template_name, self._context(request))

    def post(self, request):
        require_staff(request.user)
        require_admin(request.user)
        form = self._form(programme_services.engagement_settings_get(), request.POST)
        status = 400
        if form.is_valid():
            try:
                programme_services.engagement_settings_update(
                    actor=request.user, data=form.service_data(),
                    lock_version=form.cleaned_data["lock_version"])  # fmt: skip
            except (ValidationError, ApplicationError) as exc:
                status = _service_error(form, exc)
            else:
                messages.success(request, _("Settings saved."))
                return redirect("web:engagement_settings")
        return TemplateResponse(request, self.template_name, self._context(request, form),
                                status=status)  # fmt: skip
