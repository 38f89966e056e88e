"""The account type pages (大客户分类): the accounts per type (chart and table), one
account's assessment (questionnaire, data signals, suggestion, confirmation) and the service
strategy of each type."""

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from keycare.accounts.models import Account
from keycare.accounts.selectors import account_get
from keycare.core.exceptions import ApplicationError
from keycare.core.scoping import user_can
from keycare.insights import account_types as services
from keycare.insights.account_type_selectors import (
    account_type_assessment_get,
    account_type_assessments,
    account_type_get,
    account_type_overview,
    account_type_signals,
    account_types_visible,
    assessment_data,
    service_strategy_list,
)
from keycare.insights.metrics import metrics_ensure, trailing_twelve_months
from keycare.users.choices import Role

from ..forms.account_types import ConfirmForm, QuestionnaireForm, StrategyForm
from .base import PageView, apply_errors
from .insights import _query_with, account_filter_context

TABLE_ROWS = 100


def _require_types(actor) -> None:
    if not account_types_visible(actor):
        raise Http404


class AccountTypesView(PageView):
    """Accounts per type (a bar opens the accounts of its type) and the accounts with their
    type and latest suggestion; `?type=` and `?pending=true` narrow the table."""

    template_name = "web/insights/types.html"

    def get_context(self, **kwargs) -> dict:
        actor = self.request.user
        _require_types(actor)
        errors = {}
        try:
            figures = account_type_overview(actor=actor, filters=self.request.GET)
        except ValidationError as error:
            errors = error.message_dict
            figures = account_type_overview(actor=actor)
        keys = [*(t["type"] for t in figures["types"]), "none"]
        links = {k: _query_with(self.request, type=k, pending=None) for k in keys}
        return {
            "figures": figures,
            "errors": errors,
            **account_filter_context(actor=actor, filters=self.request.GET, applied=not errors),
            "table_rows": TABLE_ROWS,
            "type_links": links,
            "pending_link": _query_with(self.request, type=None, pending="true"),
            "all_link": _query_with(self.request, type=None, pending=None),
            "chart": {
                "labels": [*(t["label"] for t in figures["types"]), _("No type yet")],
                "values": [*(t["accounts"] for t in figures["types"]), figures["untyped"]],
                "links": [links[k] for k in keys],
            },
        }


class AccountTypeAssessView(PageView):
    """One account: its type and strategy, the data signals of the trailing twelve months,
    the questionnaire (for its key account manager and administrators), the latest
    assessment's suggestion to confirm, and every earlier assessment. POST `action=assess`
    records an assessment; `action=confirm` confirms the latest one."""

    template_name = "web/insights/type_assess.html"

    def _account(self, pk: int) -> Account:
        actor = self.request.user
        _require_types(actor)
        try:
            return account_get(actor=actor, pk=pk)
        except Account.DoesNotExist:
            raise Http404 from None

    def _context(self, account, *, questionnaire=None, confirm=None) -> dict:
        actor = self.request.user
        start, end = trailing_twelve_months()
        metrics_ensure(start=start, end=end)
        typed = account_type_get(actor=actor, account=account)
        history = [assessment_data(a)
                   for a in account_type_assessments(actor=actor, account=account)]  # fmt: skip
        latest = history[0] if history else None
        may_assess = user_can(actor, "change", account)
        answers = {a["key"]: a["answer"] for a in latest["answers"]} if latest else None
        if confirm is None and latest and not latest["confirmed_type"]:
            confirm = ConfirmForm(initial={"assessment": latest["id"],
                                           "account_type": latest["suggested_type"]})  # fmt: skip
        return {
            "account": account,
            "typed": typed,
            "data": account_type_signals(actor=actor, account=account),
            "history": history,
            "latest": latest,
            "may_assess": may_assess,
            "questionnaire": questionnaire or QuestionnaireForm(initial_answers=answers),
            "confirm": confirm,
        }

    def get_context(self, *, pk: int, **kwargs) -> dict:
        return self._context(self._account(pk))

    def post(self, request, pk: int):
        account = self._account(pk)
        if not user_can(request.user, "change", account):
            raise PermissionDenied
        if request.POST.get("action") == "confirm":
            return self._confirm(request, account)
        form = QuestionnaireForm(request.POST)
        if form.is_valid():
            try:
                assessment = services.account_type_assess(
                    actor=request.user, account=account, answers=form.answers()
                )
                messages.success(request, _("Assessment saved: it suggests %(type)s. Confirm the "
                                            "type below.")
                                 % {"type": assessment.get_suggested_type_display()})  # fmt: skip
                return redirect(reverse("web:insights_type_assess", args=[account.pk]) + "#confirm")
            except ValidationError as exc:
                apply_errors(form, exc)
        return TemplateResponse(
            request, self.template_name, self._context(account, questionnaire=form), status=400
        )

    def _confirm(self, request, account):
        form = ConfirmForm(request.POST)
        if form.is_valid():
            try:
                assessment = account_type_assessment_get(
                    actor=request.user, pk=form.cleaned_data["assessment"]
                )
            except ObjectDoesNotExist:
                raise Http404 from None
            if assessment.account_id != account.pk:
                raise Http404
            try:
                services.account_type_confirm(
                    actor=request.user, assessment=assessment,
                    account_type=form.cleaned_data["account_type"],
                    reason=form.cleaned_data["reason"],
                )  # fmt: skip
                messages.success(request, _("%(account)s is now of the type %(type)s.")
                                 % {"account": account.name,
                                    "type": assessment.get_confirmed_type_display()})  # fmt: skip
                return redirect("web:insights_type_assess", pk=account.pk)
            except ValidationError as exc:
                apply_errors(form, exc)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
        return TemplateResponse(
            request, self.template_name, self._context(account, confirm=form), status=400
        )


class ServiceStrategiesView(PageView):
    """The service strategy of each type, for all who see the insights; administrators edit
    them here (a stale edit is refused and nothing is saved)."""

    template_name = "web/insights/strategies.html"

    def _context(self, request, failed: StrategyForm | None = None) -> dict:
        _require_types(request.user)
        is_admin = request.user.has_role(Role.ADMINISTRATOR)
        rows = []
        for strategy in service_strategy_list(actor=request.user):
            form = None
            if failed is not None and failed.prefix == strategy.account_type:
                form = failed
            elif is_admin:
                form = StrategyForm(prefix=strategy.account_type, initial={
                    "lock_version": strategy.lock_version, "summary": strategy.summary,
                    "summary_zh": strategy.summary_zh, "practices": strategy.practices,
                    "practices_zh": strategy.practices_zh})  # fmt: skip
            rows.append({"strategy": strategy, "form": form})
        return {"rows": rows, "is_admin": is_admin}

    def get(self, request):
        return TemplateResponse(request, self.template_name, self._context(request))

    def post(self, request):
        """One strategy's form: `account_type` names it, its fields carry that prefix."""
        _require_types(request.user)
        if not request.user.has_role(Role.ADMINISTRATOR):
            raise PermissionDenied
        account_type = request.POST.get("account_type", "")
        strategies = {s.account_type: s for s in service_strategy_list(actor=request.user)}
        if account_type not in strategies:
            raise Http404
        strategy = strategies[account_type]
        form = StrategyForm(request.POST, prefix=account_type)
        if form.is_valid():
            try:
                services.service_strategy_update(
                    actor=request.user, strategy=strategy, data=form.data_for_service(),
                    lock_version=form.cleaned_data["lock_version"],
                )  # fmt: skip
                messages.success(request, _("The service strategy for %(type)s is saved.")
                                 % {"type": strategy.get_account_type_display()})  # fmt: skip
                return redirect("web:insights_service_strategies")
            except ValidationError as exc:
                apply_errors(form, exc)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
        return TemplateResponse(
            request, self.template_name, self._context(request, failed=form), status=400
        )
