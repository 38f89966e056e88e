"""The notification list (提醒): the user's own reminders, unread first, filtered by read
state and kind, each with its link; marking one or all read (POST, CSRF); and the unread
badge of the top bar, fetched by the page after it loads (so no page pays for it).

Staff only: a portal user gets a 403, an anonymous visitor the login page. A reminder of
someone else is never shown and never marked: the selectors and the service read only
the user's own."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from keycare.engagement.filters_reminders import ReminderFilterSet
from keycare.engagement.reminders import reminder_mark_read
from keycare.engagement.selectors.reminders import (
    reminder_entries,
    reminder_list,
    reminders_may_view,
    unread_count,
)

from .base import PageView, filter_errors, filter_form, paginate, render_page

PER_PAGE = 25
#: The largest id a database column holds.
ID_MAX = 2**63 - 1


def _guard(request) -> None:
    if not reminders_may_view(request.user):
        raise PermissionDenied(_("Reminders are for the company's staff."))


class ReminderPage(PageView):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _guard(request)
        return super().dispatch(request, *args, **kwargs)


def list_context(request, *, errors: list[str] | None = None) -> tuple[dict, int]:
    actor, query = request.user, request.GET
    errors = list(errors or [])
    status = 400 if errors else 200
    try:
        queryset = reminder_list(actor=actor, filters=query)
    except ValidationError as exc:
        errors += filter_errors(exc)
        status = 400
        queryset = reminder_list(actor=actor).none()
    page = paginate(request, queryset, per_page=PER_PAGE)
    form = filter_form(ReminderFilterSet, query)
    return {
        "page": page,
        "entries": reminder_entries(actor=actor, reminders=page.object_list),
        "unread": unread_count(actor=actor),
        "filter_form": form,
        "errors": errors,
        "query": query,
        "hx_target": "#reminder-list",
        "here": request.get_full_path(),
    }, status


class ReminderListView(ReminderPage):
    """GET: the list (the full page, or the list alone for HTMX)."""

    template_name = "web/engagement/reminders.html"
    fragment_name = "web/engagement/reminder_items.html"

    def get(self, request, *args, **kwargs):
        context, status = list_context(request)
        response = render_page(
            request, template=self.template_name, fragment=self.fragment_name, context=context
        )
        response.status_code = status
        return response


class ReminderMarkReadView(ReminderPage):
    """POST `reminder` (one or more ids) or `all=1`: marks the user's own reminders read,
    then back to `next` (the list as it was) or the list."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        raw = request.POST.getlist("reminder")
        everything = request.POST.get("all") == "1"
        ids = []
        for value in raw:
            if not value.isdigit() or not 1 <= int(value) <= ID_MAX:
                return self._refused(request, _("Choose reminders from the list."))
            ids.append(int(value))
        if not ids and not everything:
            return self._refused(request, _("Choose the reminders to mark as read."))
        changed = reminder_mark_read(actor=request.user, reminder_ids=None if everything else ids,
                                     all_unread=everything)  # fmt: skip
        messages.success(request, ngettext("%(n)d reminder marked as read.",
                                           "%(n)d reminders marked as read.", changed)
                         % {"n": changed})  # fmt: skip
        target = request.POST.get("next") or ""
        if not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect("web:reminder_list")
        return redirect(target)

    def _refused(self, request, message: str):
        context, _status = list_context(request, errors=[message])
        return TemplateResponse(request, ReminderListView.template_name, context, status=400)


class ReminderBadgeView(ReminderPage):
    """The unread count for the top bar (one indexed count)."""

    def get(self, request, *args, **kwargs):
        return TemplateResponse(
            request,
            "web/engagement/reminder_badge.html",
            {"unread": unread_count(actor=request.user)},
        )
