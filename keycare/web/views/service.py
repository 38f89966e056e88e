"""The service area: ticket list, ticket page with its timeline and attachments, opening a
ticket, and downloading an attachment."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from keycare.accounts.models import Account
from keycare.core.downloads import private_file_response
from keycare.core.exceptions import ApplicationError
from keycare.core.scoping import user_can
from keycare.service import attachments, selectors, services, visits
from keycare.service.filters import TicketFilterSet
from keycare.service.models import Ticket, TicketAttachment
from keycare.service.workflow import allowed_transitions
from keycare.users.selectors import user_list, user_list_with_role

from ..forms.service import CommentForm, ResolveForm, TicketForm
from .base import FilteredListView, PageView, apply_errors


class ServiceDashboardView(PageView):
    template_name = "web/service/dashboard.html"

    def get_context(self, **kwargs) -> dict:
        from keycare.accounts.choices import AccountTier
        from keycare.service.choices import Priority, TicketStatus
        from keycare.service.dashboard import service_dashboard

        if self.request.user.is_portal_user:
            raise Http404
        errors = {}
        try:
            figures = service_dashboard(actor=self.request.user, filters=self.request.GET)
        except ValidationError as error:
            # say what is wrong, and show the unfiltered figures rather than a wrong subset
            errors = error.message_dict
            figures = service_dashboard(actor=self.request.user)
        status_labels = dict(TicketStatus.choices)
        age_labels = [
            (_("%(a)d–%(b)d days") % {"a": b["from_days"], "b": b["to_days"]}) if b["to_days"]
            else _("over %(a)d days") % {"a": b["from_days"]}
            for b in figures["backlog_age"]
        ]  # fmt: skip
        return {
            "figures": figures,
            "errors": errors,
            "charts": {
                "status": {
                    "labels": [str(status_labels[s]) for s in figures["by_status"]],
                    "values": list(figures["by_status"].values()),
                },
                "priority": {
                    "labels": list(figures["by_priority"]),
                    "values": list(figures["by_priority"].values()),
                },
                "age": {
                    "labels": age_labels,
                    "values": [b["count"] for b in figures["backlog_age"]],
                },
                "compliance": {
                    "labels": [c["month"] for c in figures["sla_compliance"]],
                    "values": [c["compliance"] for c in figures["sla_compliance"]],
                    "name": _("SLA compliance %"),
                },
                "csat": {
                    "labels": [c["month"] for c in figures["csat_trend"]],
                    "values": [c["csat"] for c in figures["csat_trend"]],
                    "name": _("CSAT %"),
                },
                "nps": {
                    "labels": [c["month"] for c in figures["nps_trend"]],
                    "values": [c["nps"] for c in figures["nps_trend"]],
                    "name": _("NPS"),
                    "min": -100,
                    "max": 100,
                },
            },
            "rollups": [
                (_("By engineer"), figures["by_engineer"], "by-engineer"),
                (_("By team"), figures["by_team"], "by-team"),
            ],
            "priorities": Priority.choices,
            "tiers": AccountTier.choices,
            "teams": selectors.service_team_list(actor=self.request.user),
            "engineers": user_list_with_role(actor=self.request.user, role="service_engineer"),
            "query": self.request.GET,
        }


class TicketListView(FilteredListView):
    selector = staticmethod(selectors.ticket_list)
    filterset_class = TicketFilterSet
    fragment_name = "web/service/_ticket_table.html"
    title = gettext_lazy("Service tickets")
    pretitle = gettext_lazy("Service")
    filter_fields = ("q", "status", "priority", "sla", "open")

    def extra_context(self):
        from django.urls import reverse

        return {
            "can_add": True,
            "add_url": reverse("web:ticket_create"),
            "tabs_template": "web/service/_tabs.html",
        }


def _ticket_or_404(user, pk) -> Ticket:
    try:
        return selectors.ticket_get(actor=user, pk=pk)
    except Ticket.DoesNotExist:
        raise Http404 from None


class TicketDetailView(PageView):
    template_name = "web/service/ticket_detail.html"

    def get_context(self, *, pk: int, **kwargs) -> dict:
        return self._context(_ticket_or_404(self.request.user, pk))

    def _context(self, ticket, comment_form=None, resolve_form=None):
        actor = self.request.user
        can_change = user_can(actor, "change", ticket)
        # one read of the engineers: the assign list (managers) and the visit planner; the
        # page shows their names only, so not their groups (`has_role` reads its own)
        all_engineers = (
            list(user_list_with_role(actor=actor, role="service_engineer").prefetch_related(None))
            if can_change
            else []
        )
        engineers = all_engineers if actor.has_role("service_manager", "administrator") else []
        staff = not actor.is_portal_user
        visits = (
            list(selectors.visit_list(actor=actor, filters={"ticket": ticket.pk})) if staff else []
        )
        # one query for the files whatever their number; each reply lists its own
        files = list(selectors.attachment_list(actor=actor, ticket=ticket))
        by_comment: dict[int, list] = {}
        for file in files:
            by_comment.setdefault(file.comment_id, []).append(file)
        comments = list(selectors.ticket_comments(actor=actor, ticket=ticket))
        for comment in comments:
            comment.files = by_comment.get(comment.pk, [])
        return {
            "ticket": ticket,
            "visits": visits,
            # the parts in stock only feed the check-out form of a visit not done yet
            "stock": list(selectors.stock_for(actor=actor))
            if staff and any(v.status != v.Status.DONE for v in visits)
            else [],
            "visit_engineers": all_engineers,
            "comments": comments,
            "attachments": files,
            "timeline": selectors.ticket_timeline(actor=actor, ticket=ticket),
            "can_change": can_change,
            "transitions": allowed_transitions(ticket.status) if can_change else [],
            "can_claim": ticket.assignee_id is None
            and can_change
            and actor.has_role("service_engineer"),
            "engineers": engineers,
            "comment_form": comment_form or CommentForm(),
            "resolve_form": resolve_form or ResolveForm(initial={"resolution": ticket.resolution}),
            "is_staff_user": not actor.is_portal_user,
        }

    def post(self, request, pk):
        ticket = _ticket_or_404(request.user, pk)
        action = request.POST.get("action")
        comment_form = resolve_form = None
        try:
            if action == "comment":
                comment_form = CommentForm(request.POST, request.FILES)
                if comment_form.is_valid():
                    data = comment_form.cleaned_data
                    try:
                        attachments.ticket_comment_with_attachments(
                            actor=request.user, ticket=ticket, body=data["body"],
                            is_public=not data["internal"], uploads=data["file"],
                        )  # fmt: skip
                        return redirect("web:ticket_detail", pk=ticket.pk)
                    except ValidationError as exc:
                        apply_errors(comment_form, exc)
            elif action == "claim":
                services.ticket_claim(actor=request.user, ticket=ticket)
                messages.success(request, _("The ticket is yours."))
                return redirect("web:ticket_detail", pk=ticket.pk)
            elif action == "auto_assign":
                services.ticket_auto_assign(actor=request.user, ticket=ticket)
                return redirect("web:ticket_detail", pk=ticket.pk)
            elif action == "assign":
                assignee = (
                    user_list(actor=request.user)
                    .filter(pk=request.POST.get("assignee") or 0, is_active=True)
                    .first()
                )
                services.ticket_assign(actor=request.user, ticket=ticket, assignee=assignee,
                                       expected_version=request.POST.get("version"))  # fmt: skip
                return redirect("web:ticket_detail", pk=ticket.pk)
            elif action == "plan_visit":
                from django.utils.dateparse import parse_datetime
                from django.utils.timezone import make_aware

                start = parse_datetime(request.POST.get("planned_start", ""))
                if start is None:
                    raise ValidationError(_("Enter the date and time of the visit."))
                if start.tzinfo is None:
                    start = make_aware(start)
                engineers = user_list(actor=request.user).filter(
                    pk__in=request.POST.getlist("engineers"), is_active=True
                )
                visits.visit_plan(
                    actor=request.user, ticket=ticket, planned_start=start, engineers=engineers
                )
                messages.success(request, _("Visit planned."))
                return redirect("web:ticket_detail", pk=ticket.pk)
            elif action in ("check_in", "complete_visit"):
                visit = next((v for v in selectors.visit_list(actor=request.user, filters={"ticket": ticket.pk})
                              if str(v.pk) == request.POST.get("visit")), None)  # fmt: skip
                if visit is None:
                    raise Http404
                if action == "check_in":
                    visits.visit_check_in(actor=request.user, visit=visit)
                else:
                    parts = []
                    level = next((lv for lv in selectors.stock_for(actor=request.user)
                                  if str(lv.pk) == request.POST.get("stock")), None)  # fmt: skip
                    if level is not None:
                        parts.append({"product": level.product, "location": level.location,
                                      "quantity": _decimal(request.POST.get("quantity"), "1")})  # fmt: skip
                    visits.visit_complete(
                        actor=request.user, visit=visit, work_done=request.POST.get("work_done", ""),
                        labour_hours=_decimal(request.POST.get("labour_hours"), "0"),
                        travel_cost=_decimal(request.POST.get("travel_cost"), "0"), parts=parts,
                        signed_off_by=request.POST.get("signed_off_by", ""),
                    )  # fmt: skip
                messages.success(request, _("Visit updated."))
                return redirect("web:ticket_detail", pk=ticket.pk)
            elif action == "transition":
                status = request.POST.get("status", "")
                if status == "resolved":
                    resolve_form = ResolveForm(request.POST)
                    if not resolve_form.is_valid():
                        raise ValidationError(
                            resolve_form.errors.as_data().get("resolution", [_("Invalid")])
                        )
                    services.ticket_transition(
                        actor=request.user, ticket=ticket, status=status,
                        expected_version=request.POST.get("version"),
                        resolution=resolve_form.cleaned_data["resolution"],
                        root_cause=resolve_form.cleaned_data["root_cause"],
                    )  # fmt: skip
                else:
                    services.ticket_transition(actor=request.user, ticket=ticket, status=status,
                                               expected_version=request.POST.get("version"))  # fmt: skip
                messages.success(request, _("Ticket updated."))
                return redirect("web:ticket_detail", pk=ticket.pk)
            else:
                raise Http404
        except ApplicationError as exc:
            messages.error(request, exc.message)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        ticket = _ticket_or_404(request.user, pk)
        return TemplateResponse(
            request,
            self.template_name,
            self._context(ticket, comment_form, resolve_form),
            status=400,
        )


def _decimal(value, default: str):
    from decimal import Decimal, InvalidOperation

    try:
        return Decimal((value or default).strip())
    except InvalidOperation:
        raise ValidationError(_("“%(value)s” is not a number.") % {"value": value}) from None


class TicketCreateView(PageView):
    template_name = "web/service/ticket_form.html"

    def get(self, request):
        account = None
        if request.GET.get("account", "").isdigit():
            account = (
                Account.objects.restrict(request.user, "view")
                .filter(pk=request.GET["account"])
                .first()
            )
        form = TicketForm(actor=request.user, account=account)
        return TemplateResponse(request, self.template_name, {"form": form})

    def post(self, request):
        form = TicketForm(request.POST, request.FILES, actor=request.user)
        if form.is_valid():
            data = dict(form.cleaned_data)
            account = data.pop("account")
            if request.user.is_portal_user:
                data["channel"] = "portal"
                # the person asking is the contact, unless they name a colleague
                data["contact"] = data.get("contact") or getattr(request.user, "contact", None)
            try:
                ticket = attachments.ticket_create_with_attachments(
                    actor=request.user, account=account, uploads=data.pop("file"), **data
                )
                messages.success(
                    request, _("Ticket %(number)s opened.") % {"number": ticket.number}
                )
                return redirect("web:ticket_detail", pk=ticket.pk)
            except ValidationError as exc:
                apply_errors(form, exc)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
        return TemplateResponse(request, self.template_name, {"form": form}, status=400)


class AttachmentDownloadView(LoginRequiredMixin, View):
    """A ticket's file, for those who may see it (customers: the files visible to them);
    anyone else gets a 404, as for the ticket. Pictures open in the browser, the rest
    downloads."""

    def get(self, request, pk: int):
        try:
            attachment = selectors.attachment_get(actor=request.user, pk=pk)
            handle = attachment.file.open("rb")
        except (TicketAttachment.DoesNotExist, FileNotFoundError):
            raise Http404 from None
        return private_file_response(
            handle, filename=attachment.name, content_type=attachment.content_type,
            inline=attachment.content_type in attachments.INLINE_TYPES,
        )  # fmt: skip
