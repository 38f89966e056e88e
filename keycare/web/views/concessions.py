"""Concession requests (优惠申请): the lists (mine, my approval queue, all I may see), the
new request with its profit simulation before submitting (测算利润空间), and one request
with the simulation it was decided on, its approval chain, its timeline and the decision
forms. Every write is a POST through the concession services; a decision carries the
version the decider saw, so a stale one is refused with a clear message."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Subquery
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from keycare.accounts.models import Account
from keycare.accounts.selectors import account_get, contact_list, equipment_list
from keycare.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from keycare.profitability.choices import ApprovalLevel, ConcessionStatus, StepStatus
from keycare.profitability.concessions import (
    breach_text,
    concession_approve,
    concession_may_request,
    concession_reject,
    concession_simulate,
    concession_submit,
    concession_withdraw,
    may_decide,
    note_text,
    waiting_step,
)
from keycare.profitability.filters import ConcessionFilterSet
from keycare.profitability.models import Concession
from keycare.profitability.selectors import (
    BOXES,
    concession_get,
    concession_inbox_count,
    concession_list,
    concession_requestable_accounts,
)
from keycare.service.selectors import ticket_list
from keycare.users.choices import Role

from ..exports import Sheet
from ..forms.profitability import KIND_FIELDS, OPTIONAL_INPUTS, ConcessionForm, DecisionForm
from .base import PageView, apply_errors, filter_form, paginate, render_page
from .profitability import ProfitPage, guard

FILTER_FIELDS = ("q", "status", "kind", "period_from", "period_to")
BOX_LABELS = {
    "mine": gettext_lazy("My requests"),
    "inbox": gettext_lazy("Approval queue"),
    "all": gettext_lazy("All"),
}
#: The figures of a simulation, in the order shown: (key, label, is a percentage).
SIMULATION_FIGURES = (
    ("revenue", gettext_lazy("Revenue"), False),
    ("discounts", gettext_lazy("Discounts"), False),
    ("gross_profit", gettext_lazy("Gross profit"), False),
    ("gross_margin", gettext_lazy("Gross margin"), True),
    ("cost_to_serve", gettext_lazy("Cost to serve"), False),
    ("contribution", gettext_lazy("Contribution"), False),
    ("contribution_margin", gettext_lazy("Contribution margin"), True),
)
GRANTED_LABELS = {
    "hours": gettext_lazy("Free service hours"),
    "visits": gettext_lazy("Free visits"),
    "goodwill": gettext_lazy("Goodwill parts"),
    "waiver": gettext_lazy("SLA penalties waived"),
    "gifts": gettext_lazy("Gifts to this contact"),
}
#: How many of the account's tickets (the newest) the request form offers.
TICKET_CHOICES = 100
#: What was asked, shown on the request: the request's fields, by kind.
ASKED_FIELDS = ("order_reference", "list_amount", "discount_pct", "cost_amount", "hours",
                "visits", "months", "contact", "equipment", "ticket")  # fmt: skip


def _decimal(value) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def level_labels(levels) -> list[str]:
    return [str(ApprovalLevel(lv).label) if lv in ApprovalLevel.values else lv for lv in levels]


def simulation_view(simulation: dict | None) -> dict | None:
    """A simulation (as computed, or as stored on a request) laid out for the page: the
    before and after figures with the change, the policy, what was granted so far, the
    breaches in the reader's language and the approval chain."""
    if not simulation:
        return None
    before, after = simulation.get("before") or {}, simulation.get("after") or {}
    rows = []
    for key, label, percent in SIMULATION_FIGURES:
        b, a = _decimal(before.get(key)), _decimal(after.get(key))
        rows.append({"key": key, "label": label, "percent": percent, "before": b, "after": a,
                     "change": a - b if a is not None and b is not None else None})  # fmt: skip
    breaches = [
        {**b, "message": breach_text(b["code"], b["limit"], b["value"])}
        for b in simulation.get("breaches") or []
    ]
    granted = [(GRANTED_LABELS.get(k, k), _decimal(v))
               for k, v in (simulation.get("granted_so_far") or {}).items() if _decimal(v)]  # fmt: skip
    period = simulation.get("period") or [None, None]
    return {
        "amount": _decimal(simulation.get("amount")),
        "rows": rows,
        "policy": (simulation.get("policy") or {}).get("name"),
        "granted": granted,
        "breaches": breaches,
        "within_policy": simulation.get("within_policy", not breaches),
        "chain": level_labels(simulation.get("chain") or []),
        "period": {"from": period[0], "to": period[1]},
        "notes": [note_text(n["code"], n.get("day")) for n in simulation.get("notes") or []],
    }


def _waiting(concession: Concession):
    """The waiting step, from the prefetched steps (the lists show who decides next)."""
    return next((s for s in concession.steps.all() if s.status == StepStatus.WAITING), None)


# --- the lists ---------------------------------------------------------------------------


class ConcessionListView(ProfitPage):
    """My requests, my approval queue (with its count), or all I may see, filtered by
    status, kind, effective date and a search; 25 a page; `?export=xlsx` every row."""

    template_name = "web/profitability/concessions.html"
    fragment_name = "web/profitability/_concession_table.html"
    export_name = "concessions"

    def get_context(self, **kwargs) -> dict:
        actor, query = self.request.user, self.request.GET
        box = query.get("box") or "all"
        errors = {}
        try:
            queryset = concession_list(actor=actor, filters=query, box=box)
        except ValidationError as exc:
            errors = exc.message_dict
            box = box if box in BOXES else "all"
            queryset = concession_list(actor=actor, box=box).none()
        form = filter_form(ConcessionFilterSet, query)
        for name in list(form.fields):
            if name not in FILTER_FIELDS:
                del form.fields[name]
        for name in ("period_from", "period_to"):
            form.fields[name].widget.input_type = "date"
        page = None if query.get("export") else paginate(self.request, queryset, per_page=25)
        for concession in page.object_list if page else ():
            concession.waiting = _waiting(concession)
        return {
            "box": box,
            "boxes": [(b, BOX_LABELS[b]) for b in ("mine", "inbox", "all")],
            "inbox_count": concession_inbox_count(actor=actor),
            "page": page,
            "queryset": queryset,
            "filter_form": form,
            "errors": errors,
            "query": query,
            "hx_target": "#concession-table",
            "may_request": actor.has_role(Role.KEY_ACCOUNT_MANAGER, Role.SERVICE_MANAGER,
                                          Role.EXECUTIVE, Role.ADMINISTRATOR),
        }  # fmt: skip

    def export_caption(self, context: dict) -> list[str]:
        return [str(BOX_LABELS[context["box"]])]

    def export_sheets(self, context: dict) -> list[Sheet]:
        rows = []
        for c in context["queryset"]:
            waiting = _waiting(c)
            rows.append([
                c.number, c.account.name, c.get_kind_display(), c.amount, c.get_status_display(),
                _("Yes") if c.within_policy else _("No"),
                level_labels([waiting.level])[0] if waiting and c.status == ConcessionStatus.PENDING else "",
                str(c.requested_by), timezone.localtime(c.requested_at).replace(tzinfo=None),
                c.effective_date, c.reason,
            ])  # fmt: skip
        return [Sheet(_("Concessions"),
                      [_("Number"), _("Account"), _("Kind"), _("Amount"), _("Status"),
                       _("Within policy"), _("Waiting for"), _("Requested by"), _("Requested at"),
                       _("Effective date"), _("Reason")], rows)]  # fmt: skip


# --- a new request -----------------------------------------------------------------------


class ConcessionNewView(PageView):
    """GET without an account: choose it. With `?account=<id>`: the request form. POST
    `action=simulate` shows the profit simulation (only the form and the simulation when
    it comes from HTMX), anything else submits the request."""

    template_name = "web/profitability/concession_new.html"
    fragment_name = "web/profitability/_concession_form.html"

    def _account(self, request) -> Account | None:
        raw = request.GET.get("account")
        if not raw:
            return None
        try:
            account = account_get(actor=request.user, pk=int(raw))
        except (ValueError, Account.DoesNotExist):
            raise Http404 from None
        if not concession_may_request(request.user, account):
            raise PermissionDenied(_("You may not ask for a concession for this account."))
        return account

    def _form(self, request, account, data=None) -> ConcessionForm:
        actor = request.user
        filters = {"account": account.pk}
        tickets = ticket_list(actor=actor, filters=filters)
        # the newest tickets, as a queryset a choice can still be looked up in (a slice cannot)
        newest = tickets.filter(pk__in=Subquery(tickets.values("pk")[:TICKET_CHOICES]))
        return ConcessionForm(
            data,
            contacts=contact_list(actor=actor, filters={**filters, "is_active": "true"}),
            equipment=equipment_list(actor=actor, filters=filters),
            tickets=newest,
        )

    def _render(self, request, context, *, status=200):
        response = render_page(request, template=self.template_name, fragment=self.fragment_name,
                               context=context)  # fmt: skip
        # HTMX swaps only successful answers: the fragment carries its errors itself
        htmx = getattr(request, "htmx", None)
        response.status_code = 200 if htmx and not htmx.boosted else status
        return response

    def _context(self, request, account, form, simulation=None) -> dict:
        # (field, the kinds that ask for it, whether those kinds require it)
        fields = [
            (form[name], " ".join(kind for kind, names in KIND_FIELDS.items() if name in names),
             name not in OPTIONAL_INPUTS)
            for name in ("order_reference", "list_amount", "discount_pct", "cost_amount", "hours",
                         "visits", "months", "amount", "equipment", "contact")
        ]  # fmt: skip
        return {"account": account, "form": form, "kind_fields": fields,
                "simulation": simulation_view(simulation)}  # fmt: skip

    def get(self, request):
        guard(request.user)
        account = self._account(request)
        if account is None:
            return TemplateResponse(request, self.template_name,
                                    {"account": None, "accounts": concession_requestable_accounts(actor=request.user)})  # fmt: skip
        return self._render(request, self._context(request, account, self._form(request, account)))

    def post(self, request):
        actor = request.user
        guard(actor)
        account = self._account(request)
        if account is None:
            raise Http404
        form = self._form(request, account, request.POST)
        if not form.is_valid():
            return self._render(request, self._context(request, account, form), status=400)
        kind, data = form.cleaned_data["kind"], form.kind_data()
        try:
            if request.POST.get("action") == "simulate":
                simulation = concession_simulate(
                    actor=actor, account=account, kind=kind, data=data,
                    effective_date=form.cleaned_data.get("effective_date"),
                )  # fmt: skip
                return self._render(request, self._context(request, account, form, simulation))
            concession = concession_submit(
                actor=actor, account=account, kind=kind, data=data,
                reason=form.cleaned_data.get("reason") or "",
                effective_date=form.cleaned_data.get("effective_date"),
            )  # fmt: skip
        except ValidationError as exc:
            apply_errors(form, exc)
            return self._render(request, self._context(request, account, form), status=400)
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from None
        if concession.status == ConcessionStatus.GRANTED:
            messages.success(request, _("%(number)s is within the policy and granted at once.")
                             % {"number": concession.number})  # fmt: skip
        else:
            messages.success(request, _("%(number)s is beyond the policy and sent for approval: %(chain)s.")
                             % {"number": concession.number,
                                "chain": " → ".join(level_labels(concession.simulation.get("chain") or []))})  # fmt: skip
        return redirect("web:concession_detail", pk=concession.pk)


# --- one request -------------------------------------------------------------------------


def _concession_or_404(actor, pk: int) -> Concession:
    try:
        return concession_get(actor=actor, pk=pk)
    except Concession.DoesNotExist:
        raise Http404 from None


def _asked(concession: Concession) -> list[tuple[str, object]]:
    rows = []
    for name in ASKED_FIELDS:
        value = getattr(concession, name)
        if value in (None, ""):
            continue
        if name == "equipment":
            value = value.serial_number
        elif name == "ticket":
            value = f"{value.number} {value.subject}"
        rows.append((str(Concession._meta.get_field(name).verbose_name), value))
    return rows


class ConcessionDetailView(PageView):
    """What was asked, its value and status, the simulation it was decided on, the chain
    and the timeline; the decision forms for whoever may decide the waiting step, the
    withdraw button for the requester while it waits."""

    template_name = "web/profitability/concession_detail.html"

    def get(self, request, pk: int):
        guard(request.user)
        concession = _concession_or_404(request.user, pk)
        return TemplateResponse(request, self.template_name, detail_context(request, concession))


def detail_context(request, concession: Concession, **extra) -> dict:
    actor = request.user
    step = waiting_step(concession)
    pending = concession.status == ConcessionStatus.PENDING
    return {
        "concession": concession,
        "asked": _asked(concession),
        "simulation": simulation_view(concession.simulation),
        "steps": list(concession.steps.all()),
        "events": list(concession.events.all()),
        "waiting": step if pending else None,
        "may_decide": may_decide(actor, concession, step),
        "may_withdraw": pending and concession.requested_by_id == actor.pk,
        "comment": "",
        **extra,
    }


def _decision_form_error(form: DecisionForm) -> str:
    """What is wrong with a decision's input, the action first."""
    if "action" in form.errors:
        return _("Choose approve, reject or withdraw.")
    if "version" in form.errors:
        return _(
            "The page does not say which version of the request you saw: reload it and "
            "decide again."
        )
    return " ".join(form.errors.get("comment", [])) or _("Choose approve, reject or withdraw.")


class ConcessionDecideView(PageView):
    """POST only: approve, reject (with a comment) or withdraw, at the version shown. A
    refusal is said on the request's page: 409 for a stale version, 403 for a decision
    the user may not take, 400 for a missing comment or a request already decided."""

    http_method_names = ["post"]

    def post(self, request, pk: int):
        actor = request.user
        guard(actor)
        concession = _concession_or_404(actor, pk)
        form = DecisionForm(request.POST)
        if not form.is_valid():
            return self._refused(request, concession, _decision_form_error(form), 400,
                                 request.POST.get("comment", ""))  # fmt: skip
        action, comment = form.cleaned_data["action"], form.cleaned_data.get("comment") or ""
        version = form.cleaned_data["version"]
        service = {"approve": concession_approve, "reject": concession_reject,
                   "withdraw": concession_withdraw}[action]  # fmt: skip
        try:
            decided = service(actor=actor, concession=concession, comment=comment,
                              expected_version=version)  # fmt: skip
        except ConflictError as exc:
            return self._refused(request, concession, exc.message, 409, comment)
        except PermissionDeniedError as exc:
            return self._refused(request, concession, exc.message, 403, comment)
        except ApplicationError as exc:
            return self._refused(request, concession, exc.message, 400, comment)
        except ValidationError as exc:
            return self._refused(request, concession, " ".join(exc.messages), 400, comment)
        texts = {
            "approve": _("Approved: %(number)s is granted.") if decided.status == ConcessionStatus.GRANTED
            else _("Approved: %(number)s goes on to the next approver."),
            "reject": _("%(number)s is rejected."),
            "withdraw": _("%(number)s is withdrawn."),
        }  # fmt: skip
        messages.success(request, texts[action] % {"number": decided.number})
        return redirect("web:concession_detail", pk=concession.pk)

    def _refused(self, request, concession, message, status, comment):
        fresh = _concession_or_404(request.user, concession.pk)
        context = detail_context(request, fresh, decision_error=message, comment=comment)
        return TemplateResponse(request, ConcessionDetailView.template_name, context, status=status)
