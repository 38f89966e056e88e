"""The business events, gift register and VIP club pages (商务活动 — 活动、礼品、VIP 俱乐部).

- Events: the list with filters; one event with its invitations by account and their
  status, the invite form (choosing people), the answers, the attendance, the cost per
  attendee and per account, budget against cost, holding and cancelling; planning and
  editing an event.
- Gifts: the register with its filters, the totals per person and year and the CSV / Excel
  exports for compliance review; recording a gift, with the person's yearly total and limit
  shown before saving; one gift with its decision; the approvals waiting for an executive.
- The VIP club: its levels with their benefits, its members with their effective level and
  the level set by hand, adding and changing members, the member events.

Staff only (a customer contact gets a 403). Every write is a POST through a service; a
refusal is said on the page (400 bad input, 403 not allowed, 409 a stale version), with
nothing changed."""

import itertools

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from keycare.accounts.models import Account, Contact
from keycare.accounts.scopes import may_see_costs
from keycare.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from keycare.core.scoping import restrict, user_can, user_can_any
from keycare.core.tabular import TabularWriter
from keycare.engagement.choices import EventStatus, GiftStatus
from keycare.engagement.filters_events import (
    BusinessEventFilterSet,
    GiftFilterSet,
    VipMemberFilterSet,
)
from keycare.engagement.models import (
    BusinessEvent,
    EngagementLog,
    EventInvitation,
    Gift,
    VipLevel,
    VipMember,
)
from keycare.engagement.selectors.events import (
    event_changeable_invitation_ids,
    event_cost_summary,
    event_get,
    event_invitable_contacts,
    event_invitation_list,
    event_list,
    vip_member_events,
)
from keycare.engagement.selectors.gifts import (
    gift_approval_count,
    gift_approvals,
    gift_get,
    gift_list,
    gift_recipients,
    gift_recordable_accounts,
    gift_register_headers,
    gift_register_rows,
    gift_totals,
    gift_was_over,
)
from keycare.engagement.selectors.vip import (
    vip_level_list,
    vip_level_member_counts,
    vip_member_get,
    vip_member_list,
)
from keycare.engagement.services import events as event_services
from keycare.engagement.services import gifts as gift_services
from keycare.engagement.services import vip as vip_services
from keycare.users.choices import STAFF_ROLES, Role
from keycare.users.models import User

from ..exports import Sheet, xlsx_response
from ..forms.engagement_events import (
    AttendanceForm,
    CancelForm,
    EventForm,
    GiftDecisionForm,
    GiftForm,
    HoldForm,
    InviteForm,
    RespondForm,
    VipLevelForm,
    VipMemberForm,
)
from .base import PageView, apply_errors, filter_form, paginate, render_page

EVENT_FILTERS = ("q", "status", "kind", "starts_from", "starts_to", "vip")
GIFT_FILTERS = ("q", "year", "status", "over_limit", "given_from", "given_to")
MEMBER_FILTERS = ("q", "level", "is_active", "overridden")
#: The most rows a select offers (the newest events; the contacts by name).
CHOICES = 500
TOTAL_ROWS = 50


def require_staff(actor) -> None:
    """Engagement is internal: customer contacts see none of it."""
    if not actor.has_role(*STAFF_ROLES):
        raise PermissionDenied(_("You do not have permission to do this."))


def _filters(filterset_class, query, names) -> object:
    form = filter_form(filterset_class, query)
    for name in list(form.fields):
        if name not in names:
            del form.fields[name]
    for name, field in form.fields.items():
        if name.endswith(("_from", "_to")):
            field.widget.input_type = "date"
    return form


def _run(form, call) -> tuple[object, int | None]:
    """Call a service; a refusal goes onto the form: (result, None) or (None, status)."""
    try:
        return call(), None
    except ConflictError as exc:
        form.add_error(None, exc.message)
        return None, 409
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from None
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return None, 400
    except ValidationError as exc:
        apply_errors(form, exc)
        return None, 400


def _render(request, template, context, status=200):
    return TemplateResponse(request, template, context, status=status)


# --- events --------------------------------------------------------------------------------


class EventListView(PageView):
    """The events, newest first, with their invitation counts and cost; filters: search,
    status, kind, start dates, member events only."""

    template_name = "web/engagement/event_list.html"
    fragment_name = "web/engagement/event_list_table.html"

    def get(self, request, *args, **kwargs):
        require_staff(request.user)
        response = super().get(request, *args, **kwargs)
        if response.context_data["errors"]:
            response.status_code = 400
        return response

    def get_context(self, **kwargs) -> dict:
        actor, query = self.request.user, self.request.GET
        errors = {}
        try:
            queryset = event_list(actor=actor, filters=query)
        except ValidationError as exc:
            errors, queryset = exc.message_dict, event_list(actor=actor).none()
        return {
            "page": paginate(self.request, queryset, per_page=25),
            "filter_form": _filters(BusinessEventFilterSet, query, EVENT_FILTERS),
            "errors": errors,
            "hx_target": "#event-table",
            "may_create": user_can_any(actor, "add", BusinessEvent),
            "see_costs": may_see_costs(actor),
        }


def _organisers():
    return (
        User.objects.filter(is_active=True, groups__name__in=STAFF_ROLES)
        .distinct()
        .order_by("display_name", "username")
    )


def _event_or_404(actor, pk: int) -> BusinessEvent:
    try:
        return event_get(actor=actor, pk=pk)
    except BusinessEvent.DoesNotExist:
        raise Http404 from None


def _editable(request, model, pk, get_or_404):
    """The record a form page edits (None for a new one), or 403: staff only; a new one
    needs the right to add, an existing one the right to change it."""
    require_staff(request.user)
    if pk is None:
        if not user_can_any(request.user, "add", model):
            raise PermissionDenied(_("You do not have permission to do this."))
        return None
    obj = get_or_404(request.user, pk)
    if not user_can(request.user, "change", obj):
        raise PermissionDenied(_("You do not have permission to do this."))
    return obj


class EventFormView(PageView):
    """Plan an event, or edit one (its organiser, executives, administrators), at the
    version read."""

    template_name = "web/engagement/event_form.html"

    def _event(self, request, pk):
        return _editable(request, BusinessEvent, pk, _event_or_404)

    def get(self, request, pk=None):
        event = self._event(request, pk)
        costs = may_see_costs(request.user)
        if event is None:
            form = EventForm(organisers=_organisers(), initial={"organiser": request.user.pk},
                             costs=costs)  # fmt: skip
        else:
            initial = {name: getattr(event, name) for name in event_services.EVENT_FIELDS}
            initial.update(version=event.version, starts_at=timezone.localtime(event.starts_at),
                           ends_at=timezone.localtime(event.ends_at))  # fmt: skip
            if not costs:
                initial.pop("budget"), initial.pop("cost")
            form = EventForm(organisers=_organisers(), editing=True, initial=initial, costs=costs)
        return _render(request, self.template_name, {"form": form, "event": event})

    def post(self, request, pk=None):
        actor = request.user
        event = self._event(request, pk)
        form = EventForm(request.POST, organisers=_organisers(), editing=event is not None,
                         costs=may_see_costs(actor))  # fmt: skip
        if not form.is_valid():
            return _render(request, self.template_name, {"form": form, "event": event}, 400)
        if event is None:
            saved, status = _run(form, lambda: event_services.event_create(
                actor=actor, data=form.service_data()))  # fmt: skip
        else:
            saved, status = _run(form, lambda: event_services.event_update(
                actor=actor, event=event, data=form.service_data(),
                expected_version=form.cleaned_data["version"]))  # fmt: skip
        if saved is None:
            return _render(request, self.template_name, {"form": form, "event": event}, status)
        messages.success(request, _("The event is saved."))
        return redirect("web:event_detail", pk=saved.pk)


def event_context(request, event: BusinessEvent, **forms) -> dict:
    """The event page: its invitations by account (those the user sees), what the user may
    do, the cost per attendee and per account, and the forms."""
    actor = request.user
    invitations = list(event_invitation_list(actor=actor, event=event))
    changeable = event_changeable_invitation_ids(actor=actor, event=event)
    started = event_services.event_started(event)
    may_change = user_can(actor, "change", event)
    may_invite = event_services.event_may_invite(actor, event)
    see_costs = may_see_costs(actor)
    by_account = [
        (account, list(rows))
        for account, rows in itertools.groupby(invitations, key=lambda i: i.account)
    ]
    for invitation in invitations:
        invitation.may_change = invitation.pk in changeable
    recordable = [i for i in invitations if i.may_change]
    context = {
        "event": event,
        "by_account": by_account,
        "invitations": invitations,
        "summary": event_cost_summary(actor=actor, event=event),
        "see_costs": see_costs,
        "started": started,
        "may_change": may_change,
        "may_invite": may_invite,
        "may_answer": event.status == EventStatus.PLANNED and bool(recordable),
        "may_record": started and event.status != EventStatus.CANCELLED and bool(recordable),
        "gifts": list(gift_list(actor=actor, filters={"event": event.pk})[:20]),
        "decision_error": None,
    }
    if may_invite and "invite_form" not in forms:
        forms["invite_form"] = InviteForm(
            contacts=event_invitable_contacts(actor=actor, event=event)
        )
    if context["may_record"] and "attendance_form" not in forms:
        forms["attendance_form"] = AttendanceForm(invitations=recordable)
    if may_change and event.status == EventStatus.PLANNED and see_costs:
        forms.setdefault("hold_form", HoldForm(initial={"version": event.version,
                                                        "cost": event.cost or None}))  # fmt: skip
        forms.setdefault("cancel_form", CancelForm(initial={"version": event.version}))
    return {**context, **forms}


class EventDetailView(PageView):
    template_name = "web/engagement/event_detail.html"

    def get(self, request, pk: int):
        require_staff(request.user)
        event = _event_or_404(request.user, pk)
        return _render(request, self.template_name, event_context(request, event))


class EventActionView(PageView):
    """POST only: invite (a batch, all or nothing), respond, attendance, hold, cancel. A
    refusal is shown on the event's page with its status (400, 403, 409)."""

    http_method_names = ["post"]
    actions = ("invite", "respond", "attendance", "hold", "cancel")
    action = ""

    def post(self, request, pk: int):
        actor = request.user
        require_staff(actor)
        if self.action not in self.actions:
            raise Http404
        event = _event_or_404(actor, pk)
        handler = getattr(self, f"_{self.action}")
        return handler(request, actor, event)

    def _again(self, request, event, status, **forms):
        fresh = _event_or_404(request.user, event.pk)
        return _render(request, EventDetailView.template_name, event_context(request, fresh, **forms),
                       status)  # fmt: skip

    def _done(self, request, event, message):
        messages.success(request, message)
        return redirect("web:event_detail", pk=event.pk)

    def _invite(self, request, actor, event):
        if not event_services.event_may_invite(actor, event):
            raise PermissionDenied(_("You may not invite anyone to this event."))
        form = InviteForm(request.POST, contacts=event_invitable_contacts(actor=actor, event=event,
                                                                          limit=10_000))  # fmt: skip
        if not form.is_valid():
            return self._again(request, event, 400, invite_form=form)
        invitees = [event_services.Invitee(c) for c in form.cleaned_data["contacts"]]
        created, status = _run(form, lambda: event_services.event_invite(
            actor=actor, event=event, invitees=invitees, notes=form.cleaned_data.get("notes") or ""))  # fmt: skip
        if created is None:
            return self._again(request, event, status, invite_form=form)
        return self._done(request, event, _("%(n)s people invited.") % {"n": len(created)})

    def _respond(self, request, actor, event):
        form = RespondForm(request.POST)
        if not form.is_valid():
            message = (" ".join(form.errors["version"]) if "version" in form.errors
                       else _("Choose registered or declined."))  # fmt: skip
            return self._again(request, event, 400, respond_error=message)
        try:
            invitation = event_invitation_list(actor=actor, event=event).get(
                pk=form.cleaned_data["invitation"]
            )
        except EventInvitation.DoesNotExist:  # not seen, or not of this event
            raise Http404 from None
        _result, status = _run(form, lambda: event_services.invitation_respond(
            actor=actor, invitation=invitation, status=form.cleaned_data["status"],
            expected_version=form.cleaned_data["version"]))  # fmt: skip
        if status:
            errors = " ".join(m for field in form.errors.values() for m in field)
            return self._again(request, event, status, respond_error=errors)
        return self._done(request, event, _("The answer of %(name)s is recorded.")
                          % {"name": invitation.contact.name})  # fmt: skip

    def _attendance(self, request, actor, event):
        changeable = event_changeable_invitation_ids(actor=actor, event=event)
        invitations = [
            i for i in event_invitation_list(actor=actor, event=event) if i.pk in changeable
        ]
        form = AttendanceForm(request.POST, invitations=invitations)
        if not form.is_valid():
            return self._again(request, event, 400, attendance_form=form)
        records = [event_services.Attendance(*r) for r in form.records()]
        changed, status = _run(form, lambda: event_services.event_attendance_record(
            actor=actor, event=event, records=records))  # fmt: skip
        if changed is None:
            return self._again(request, event, status, attendance_form=form)
        return self._done(request, event, _("Attendance is recorded."))

    def _hold(self, request, actor, event):
        form = HoldForm(request.POST)
        if not form.is_valid():
            return self._again(request, event, 400, hold_form=form)
        held, status = _run(form, lambda: event_services.event_hold(
            actor=actor, event=event, cost=form.cleaned_data["cost"],
            expected_version=form.cleaned_data["version"]))  # fmt: skip
        if held is None:
            return self._again(request, event, status, hold_form=form)
        return self._done(request, event, _("The event is marked held."))

    def _cancel(self, request, actor, event):
        form = CancelForm(request.POST)
        if not form.is_valid():
            return self._again(request, event, 400, cancel_form=form)
        cancelled, status = _run(form, lambda: event_services.event_cancel(
            actor=actor, event=event, expected_version=form.cleaned_data["version"],
            reason=form.cleaned_data.get("reason") or ""))  # fmt: skip
        if cancelled is None:
            return self._again(request, event, status, cancel_form=form)
        return self._done(request, event, _("The event is cancelled."))


# --- gifts ---------------------------------------------------------------------------------


def _may_decide_any(actor) -> bool:
    return actor.has_role(Role.EXECUTIVE, Role.ADMINISTRATOR)


class GiftListView(PageView):
    """The gift register: filters (search, year, status, over the limit, dates), 25 a page,
    the totals per person and year, `?export=csv` or `?export=xlsx` for every row."""

    template_name = "web/engagement/gift_list.html"
    fragment_name = "web/engagement/gift_list_table.html"

    def get(self, request, *args, **kwargs):
        require_staff(request.user)
        export = request.GET.get("export")
        if export not in (None, "", "csv", "xlsx"):
            raise Http404
        context = self.get_context()
        if export and not context["errors"]:
            return self._export(export, context)
        response = render_page(request, template=self.template_name, fragment=self.fragment_name,
                               context=context)  # fmt: skip
        if context["errors"]:
            response.status_code = 400
        return response

    def get_context(self, **kwargs) -> dict:
        actor, query = self.request.user, self.request.GET
        errors = {}
        try:
            queryset = gift_list(actor=actor, filters=query)
            totals = gift_totals(actor=actor, filters=query)
        except ValidationError as exc:
            errors, queryset, totals = exc.message_dict, gift_list(actor=actor).none(), []
        exporting = bool(query.get("export"))
        return {
            "queryset": queryset,
            "page": None if exporting else paginate(self.request, queryset, per_page=25),
            "totals": totals if exporting else totals[:TOTAL_ROWS],
            "more_totals": max(0, len(totals) - TOTAL_ROWS),
            "filter_form": _filters(GiftFilterSet, query, GIFT_FILTERS),
            "errors": errors,
            "hx_target": "#gift-table",
            "may_record": gift_recordable_accounts(actor=actor, limit=1).exists(),
            "approval_count": gift_approval_count(actor=actor) if _may_decide_any(actor) else None,
        }

    def _export(self, fmt: str, context: dict):
        stamp = timezone.localdate().isoformat()
        headers = gift_register_headers()
        rows = gift_register_rows(context["queryset"])
        if fmt == "xlsx":
            totals = [[t["year"], t["contact"], t["account"], t["gifts"], t["approved"],
                       t["pending"], t["limit"], t["over_limit"]]
                      for t in context["totals"]]  # fmt: skip
            return xlsx_response(
                filename=f"keycare-gifts-{stamp}.xlsx",
                caption=[_("Gift register"), timezone.localtime().strftime("%Y-%m-%d %H:%M")],
                sheets=[Sheet(_("Gifts"), headers, rows),
                        Sheet(_("Totals per person and calendar year"),
                              [_("Calendar year"), _("Recipient"), _("Main account"), _("Gifts"),
                               _("Approved"), _("Awaiting approval"),
                               _("Yearly limit (highest recorded)"),
                               _("Gifts over the limit when recorded")],
                              totals)],
            )  # fmt: skip
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="keycare-gifts-{stamp}.csv"'
        writer = TabularWriter(response, "csv", headers)
        for row in rows:
            writer.write(row)
        writer.close()
        return response


def _gift_or_404(actor, pk: int) -> Gift:
    try:
        return gift_get(actor=actor, pk=pk)
    except Gift.DoesNotExist:
        raise Http404 from None


def _newest_events(actor):
    events = event_list(actor=actor).exclude(status=EventStatus.CANCELLED)
    return events.filter(pk__in=Subquery(events.values("pk")[:CHOICES]))


class GiftNewView(PageView):
    """Without an account: choose it. With `?account=<id>`: the form. POST `action=check`
    shows the person's yearly limit, what they were given around the date and the total
    with this gift (only the form when it comes from HTMX); anything else records it."""

    template_name = "web/engagement/gift_new.html"
    fragment_name = "web/engagement/gift_new_form.html"

    def _account(self, request) -> Account | None:
        raw = request.GET.get("account")
        if not raw:
            return None
        try:
            account = restrict(Account.objects.all(), request.user, "view").get(pk=int(raw))
        except (ValueError, Account.DoesNotExist, OverflowError):
            raise Http404 from None
        if not gift_services.gift_may_record(request.user, account):
            raise PermissionDenied(_("You may not record gifts for this account."))
        return account

    def _form(self, request, account, data=None, initial=None) -> GiftForm:
        return GiftForm(data, initial=initial, contacts=gift_recipients(actor=request.user, account=account),
                        events=_newest_events(request.user))  # fmt: skip

    def _respond(self, request, context, status=200):
        response = render_page(request, template=self.template_name, fragment=self.fragment_name,
                               context=context)  # fmt: skip
        htmx = getattr(request, "htmx", None)
        response.status_code = 200 if htmx and not htmx.boosted else status
        return response

    def get(self, request):
        require_staff(request.user)
        account = self._account(request)
        if account is None:
            accounts = gift_recordable_accounts(actor=request.user)
            if not accounts.exists():
                raise PermissionDenied(_("You may not record gifts."))
            return _render(request, self.template_name, {"account": None, "accounts": accounts})
        initial = {"given_on": timezone.localdate()}
        if request.GET.get("contact"):
            initial["contact"] = request.GET["contact"]
        return self._respond(
            request, {"account": account, "form": self._form(request, account, initial=initial)}
        )

    def post(self, request):
        actor = request.user
        require_staff(actor)
        account = self._account(request)
        if account is None:
            raise Http404
        form = self._form(request, account, request.POST)
        if not form.is_valid():
            return self._respond(request, {"account": account, "form": form}, 400)
        data = form.cleaned_data
        if request.POST.get("action") == "check":
            # the page's account: the person's main one or one they belong to (its limit)
            check, status = _run(form, lambda: gift_services.gift_check(
                contact=data["contact"], value=data["value"], given_on=data["given_on"],
                account=account, actor=actor))  # fmt: skip
            return self._respond(request, {"account": account, "form": form, "check": check},
                                 status or 200)  # fmt: skip
        gift, status = _run(form, lambda: gift_services.gift_record(
            actor=actor, contact=data["contact"], value=data["value"], occasion=data["occasion"],
            description=data["description"], given_on=data["given_on"], event=data.get("event"),
            account=None if data.get("event") else account))  # fmt: skip
        if gift is None:
            return self._respond(request, {"account": account, "form": form}, status)
        if gift.status == GiftStatus.APPROVED:
            messages.success(request, _("The gift is within the yearly limit and approved."))
        else:
            messages.warning(request, _("The gift is over the yearly limit: it waits for an "
                                        "executive's approval."))  # fmt: skip
        return redirect("web:gift_detail", pk=gift.pk)


#: What each entry of a gift's log says, in the reader's language.
GIFT_LOG_LABELS = {
    "gift_recorded": gettext_lazy("Recorded"),
    "gift_approved": gettext_lazy("Approved"),
    "gift_rejected": gettext_lazy("Rejected"),
    "gift_cancelled": gettext_lazy("Cancelled"),
}


def gift_context(request, gift: Gift, **extra) -> dict:
    actor = request.user
    pending = gift.status == GiftStatus.PENDING
    check = None
    if pending:  # what approving it now would make the person's year
        check = gift_services.gift_check(contact=gift.contact, value=gift.value, given_on=gift.given_on,
                                         account=gift.account, exclude=gift.pk)  # fmt: skip
    log = restrict(
        EngagementLog.objects.filter(object_type="gift", object_id=gift.pk), actor, "view"
    )
    return {
        "gift": gift,
        "over": gift_was_over(gift),
        "check": check,
        "may_decide": gift_services.gift_may_decide(actor, gift),
        "may_cancel": pending and gift.requested_by_id == actor.pk,
        "log": [
            (GIFT_LOG_LABELS.get(e.action, e.action), e)
            for e in log.select_related("actor").order_by("at", "id")
        ],
        "note": "",
        **extra,
    }


class GiftDetailView(PageView):
    template_name = "web/engagement/gift_detail.html"

    def get(self, request, pk: int):
        require_staff(request.user)
        return _render(
            request, self.template_name, gift_context(request, _gift_or_404(request.user, pk))
        )


class GiftDecideView(PageView):
    """POST only: approve, reject (with a note) or cancel, at the version shown; a refusal
    is said on the gift's page (or the approvals page it came from)."""

    http_method_names = ["post"]

    def post(self, request, pk: int):
        actor = request.user
        require_staff(actor)
        gift = _gift_or_404(actor, pk)
        form = GiftDecisionForm(request.POST)
        note = request.POST.get("note", "")
        if not form.is_valid():
            message = (_("Reload the gift: a decision needs the version you saw.") if "version" in form.errors
                       else _("Choose approve, reject or cancel."))  # fmt: skip
            return self._refused(request, gift, message, 400, note)
        action, note, version = (form.cleaned_data["action"], form.cleaned_data.get("note") or "",
                                 form.cleaned_data["version"])  # fmt: skip
        calls = {
            "approve": lambda: gift_services.gift_approve(actor=actor, gift=gift, expected_version=version, note=note),
            "reject": lambda: gift_services.gift_reject(actor=actor, gift=gift, note=note, expected_version=version),
            "cancel": lambda: gift_services.gift_cancel(actor=actor, gift=gift, expected_version=version, note=note),
        }  # fmt: skip
        try:
            calls[action]()
        except ConflictError as exc:
            return self._refused(request, gift, exc.message, 409, note)
        except PermissionDeniedError as exc:
            return self._refused(request, gift, exc.message, 403, note)
        except ApplicationError as exc:
            return self._refused(request, gift, exc.message, 400, note)
        except ValidationError as exc:
            return self._refused(request, gift, " ".join(exc.messages), 400, note)
        texts = {"approve": _("The gift is approved."), "reject": _("The gift is rejected."),
                 "cancel": _("The gift is cancelled.")}  # fmt: skip
        messages.success(request, texts[action])
        if request.POST.get("next") == "approvals":
            return redirect("web:gift_approvals")
        return redirect("web:gift_detail", pk=gift.pk)

    def _refused(self, request, gift, message, status, note):
        fresh = _gift_or_404(request.user, gift.pk)
        context = gift_context(request, fresh, decision_error=message, note=note)
        return _render(request, GiftDetailView.template_name, context, status)


class GiftApprovalsView(PageView):
    """The gifts over the limit waiting for the user's decision (executives and
    administrators), oldest gift date first."""

    template_name = "web/engagement/gift_approvals.html"

    def get(self, request):
        require_staff(request.user)
        if not _may_decide_any(request.user):
            raise PermissionDenied(
                _("Gifts over the limit are approved by executives and administrators.")
            )
        page = paginate(request, gift_approvals(actor=request.user), per_page=25)
        return _render(request, self.template_name, {"page": page})


# --- the VIP club --------------------------------------------------------------------------


class VipClubView(PageView):
    """The levels with their benefits and members, the members (filters: search, level,
    active, set by hand) with their effective level, and the member events."""

    template_name = "web/engagement/vip_club.html"
    fragment_name = "web/engagement/vip_club_members.html"

    def get(self, request, *args, **kwargs):
        require_staff(request.user)
        response = super().get(request, *args, **kwargs)
        if response.context_data["errors"]:
            response.status_code = 400
        return response

    def get_context(self, **kwargs) -> dict:
        actor, query = self.request.user, self.request.GET
        errors = {}
        try:
            members = vip_member_list(actor=actor, filters=query)
        except ValidationError as exc:
            errors, members = exc.message_dict, vip_member_list(actor=actor).none()
        levels = list(vip_level_list(actor=actor))
        counts = vip_level_member_counts(actor=actor)
        for level in levels:
            level.member_count = counts.get(level.pk, 0)
        form = _filters(VipMemberFilterSet, query, MEMBER_FILTERS)
        form.fields["level"] = forms.ChoiceField(
            label=form.fields["level"].label, required=False,
            choices=[("", _("Any")), *[(str(level.pk), level.name_text) for level in levels]],
        )  # fmt: skip
        return {
            "levels": levels,
            "page": paginate(self.request, members, per_page=25),
            "filter_form": form,
            "errors": errors,
            "hx_target": "#vip-members",
            "events": list(vip_member_events(actor=actor)[:10]),
            "may_add": user_can_any(actor, "add", VipMember),
            "is_admin": actor.has_role(Role.ADMINISTRATOR),
        }


def _member_or_404(actor, pk: int) -> VipMember:
    try:
        return vip_member_get(actor=actor, pk=pk)
    except VipMember.DoesNotExist:
        raise Http404 from None


def _joinable(actor):
    """The people the actor may add to the club: active, not members yet, of the accounts
    they may change (by account and name, at most CHOICES)."""
    qs = (
        restrict(Contact.objects.filter(is_active=True), actor, "change")
        .exclude(pk__in=VipMember.objects.values("contact_id"))
        .select_related("account")
        .order_by("account__name", "name", "pk")
    )
    return qs.filter(pk__in=Subquery(qs.values("pk")[:CHOICES]))


class VipMemberFormView(PageView):
    """Add a member, or change one (level set by hand and why, active, notes), at the
    version read."""

    template_name = "web/engagement/vip_member_form.html"

    def _member(self, request, pk):
        return _editable(request, VipMember, pk, _member_or_404)

    def get(self, request, pk=None):
        member = self._member(request, pk)
        if member is None:
            initial = (
                {"contact": request.GET.get("contact")} if request.GET.get("contact") else None
            )
            form = VipMemberForm(contacts=_joinable(request.user), initial=initial)
        else:
            form = VipMemberForm(editing=True, initial={
                "level_override": member.level_override_id, "override_reason": member.override_reason,
                "joined_on": member.joined_on, "is_active": member.is_active, "notes": member.notes,
                "version": member.version})  # fmt: skip
        return _render(request, self.template_name, {"form": form, "member": member})

    def post(self, request, pk=None):
        actor = request.user
        member = self._member(request, pk)
        if member is None:
            form = VipMemberForm(request.POST, contacts=_joinable(actor))
        else:
            form = VipMemberForm(request.POST, editing=True)
        if not form.is_valid():
            return _render(request, self.template_name, {"form": form, "member": member}, 400)
        data = form.service_data()
        if member is None:
            data.pop("is_active", None)
            saved, status = _run(form, lambda: vip_services.vip_member_add(
                actor=actor, contact=form.cleaned_data["contact"],
                **{k: v for k, v in data.items() if v is not None}))  # fmt: skip
        else:
            saved, status = _run(form, lambda: vip_services.vip_member_update(
                actor=actor, member=member, data=data, expected_version=form.cleaned_data["version"]))  # fmt: skip
        if saved is None:
            return _render(request, self.template_name, {"form": form, "member": member}, status)
        messages.success(request, _("The membership is saved."))
        return redirect("web:vip_club")


class VipMemberRemoveView(PageView):
    """POST only: end a membership (kept, inactive) at the version shown."""

    http_method_names = ["post"]

    def post(self, request, pk: int):
        actor = request.user
        require_staff(actor)
        member = _member_or_404(actor, pk)
        raw = request.POST.get("version")
        try:
            version = int(raw)  # required: without it the stale check could not be made
            vip_services.vip_member_remove(actor=actor, member=member, expected_version=version)
        except (TypeError, ValueError):
            messages.error(request, _("Reload the page and try again."))
            return redirect("web:vip_club")
        except ConflictError as exc:
            messages.error(request, exc.message)
            return redirect("web:vip_club")
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from None
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("web:vip_club")
        messages.success(
            request, _("%(name)s has left the VIP club.") % {"name": member.contact.name}
        )
        return redirect("web:vip_club")


class VipLevelFormView(PageView):
    """Administrators add or edit a level: its names and benefits in both languages, its
    rank and the tier it is given to."""

    template_name = "web/engagement/vip_level_form.html"

    def _level(self, request, pk):
        require_staff(request.user)
        if not request.user.has_role(Role.ADMINISTRATOR):
            raise PermissionDenied(_("You do not have permission to do this."))
        if pk is None:
            return None
        try:
            return vip_level_list(actor=request.user).get(pk=pk)
        except VipLevel.DoesNotExist:
            raise Http404 from None

    def get(self, request, pk=None):
        level = self._level(request, pk)
        initial = None
        if level is not None:
            initial = {name: getattr(level, name) for name in vip_services.LEVEL_FIELDS}
            initial["lock_version"] = level.lock_version
        form = VipLevelForm(editing=level is not None, initial=initial)
        return _render(request, self.template_name, {"form": form, "level": level})

    def post(self, request, pk=None):
        actor = request.user
        level = self._level(request, pk)
        form = VipLevelForm(request.POST, editing=level is not None)
        if not form.is_valid():
            return _render(request, self.template_name, {"form": form, "level": level}, 400)
        if level is None:
            saved, status = _run(
                form, lambda: vip_services.vip_level_create(actor=actor, data=form.service_data())
            )
        else:
            saved, status = _run(form, lambda: vip_services.vip_level_update(
                actor=actor, level=level, data=form.service_data(),
                lock_version=form.cleaned_data["lock_version"]))  # fmt: skip
        if saved is None:
            return _render(request, self.template_name, {"form": form, "level": level}, status)
        messages.success(request, _("The level is saved."))
        return redirect("web:vip_club")
