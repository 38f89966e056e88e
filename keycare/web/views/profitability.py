"""The profitability area (盈利与让利): the account P&L with its cost to serve by driver
(客户损益), the whale curve (鲸鱼曲线), the concession policies and approval thresholds, the
activity-based cost rates, the reports, and the P&L section of the account 360 page.

Every page asks the domain whether the user may see margins (`require_pnl`: 403 for
service engineers and the portal); a wrong filter is said on the page with status 400 and
the default figures, never a 500; `?export=xlsx` downloads the page's tables."""

import datetime as dt
import re
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from keycare.accounts.choices import AccountTier, AccountType
from keycare.accounts.models import Account
from keycare.accounts.selectors import account_get
from keycare.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from keycare.insights.selectors import insights_filter_choices
from keycare.profitability import policies as policy_services
from keycare.profitability import rates as rate_services
from keycare.profitability.calculations import DRIVERS
from keycare.profitability.choices import CostDriver, PnlDriver
from keycare.profitability.models import ConcessionPolicy, CostRate, ProfitabilitySettings
from keycare.profitability.pnl import (
    GROUPINGS,
    account_pnl,
    pnl_account_filters,
    pnl_may_view,
    pnl_report,
    require_pnl,
    whale_curve_report,
)
from keycare.profitability.reports import (
    REPORT_GROUPINGS,
    below_floor_accounts,
    concessions_report,
    flagged_order_lines,
    over_policy_accounts,
)
from keycare.users.choices import Role

from ..exports import Sheet, xlsx_response
from ..forms.profitability import CostRateForm, PolicyForm, ThresholdsForm
from .base import PageView, apply_errors, render_page

PNL_ROWS = 100
#: The largest id a database column holds.
ID_MAX = 2**63 - 1
GROUP_LABELS = {
    "account": gettext_lazy("Account"),
    "group": gettext_lazy("Group (with its branches)"),
    "tier": gettext_lazy("Tier"),
    "account_type": gettext_lazy("Account type"),
    "province": gettext_lazy("Region"),
    "owner": gettext_lazy("Key account manager"),
}
REPORT_LABELS = {
    "account": gettext_lazy("Account"),
    "kind": gettext_lazy("Kind"),
    "approver": gettext_lazy("Approver"),
    "month": gettext_lazy("Month"),
    "requested_by": gettext_lazy("Requested by"),
}
REPORT_TABS = ("concessions", "over_policy", "below_floor", "flagged")


# --- shared ------------------------------------------------------------------------------


def guard(actor) -> None:
    """Margins, costs and concessions are for those who may see orders: 403 for others."""
    try:
        require_pnl(actor)
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from None


def is_admin(actor) -> bool:
    return actor.has_role(Role.ADMINISTRATOR)


def require_admin(actor) -> None:
    if not is_admin(actor):
        raise PermissionDenied(_("You do not have permission to do this."))


def number(value) -> str:
    """240000 → "240,000"; 28.24 → "28.24" (for the messages that show a computation)."""
    value = Decimal(value)
    return f"{value:,.0f}" if value == value.to_integral() else f"{value:,.2f}"


def driver_label(code: str) -> str:
    return str(PnlDriver(code).label) if code in PnlDriver.values else code


def reason_text(reason: dict) -> str:
    """One loss reason: sold below cost, or a cost driver with its share of the cost to serve."""
    if reason["code"] == "below_cost":
        return _("Sold below cost")
    if reason.get("share") is None:
        return driver_label(reason["code"])
    return _("%(driver)s (%(share)s%% of the cost to serve)") % {
        "driver": driver_label(reason["code"]), "share": reason["share"],
    }  # fmt: skip


def reason_texts(reasons) -> list[str]:
    return [reason_text(r) for r in reasons or []]


def account_url(pk) -> str:
    return reverse("web:account_detail", args=[pk])


def period_caption(start, end) -> str:
    return _("Period: %(start)s – %(end)s") % {"start": start, "end": end}


def tier_choices() -> list[tuple[str, str]]:
    return [(v, str(label)) for v, label in AccountTier.choices]


def type_choices() -> list[tuple[str, str]]:
    return [(v, str(label)) for v, label in AccountType.choices]


def account_filter_selects(actor, query) -> dict:
    """The region, industry, tier and type selects: the values among the visible accounts
    and the ones chosen (none when the input was wrong)."""
    try:
        chosen = pnl_account_filters(query)
    except ValidationError:
        chosen = {}
    choices = insights_filter_choices(actor=actor)
    for key in ("province", "industry"):
        if chosen.get(key) and chosen[key] not in choices[key]:
            choices[key] = [chosen[key], *choices[key]]
    return {"choices": choices, "chosen": chosen, "tiers": tier_choices(),
            "types": type_choices()}  # fmt: skip


def filter_caption(chosen: dict) -> list[str]:
    tiers, types = dict(tier_choices()), dict(type_choices())
    return [
        _("Region: %(region)s") % {"region": chosen.get("province") or _("all")},
        _("Industry: %(industry)s") % {"industry": chosen.get("industry") or _("all")},
        _("Tier: %(tier)s") % {"tier": tiers.get(chosen.get("tier"), chosen.get("tier")) or _("all")},
        _("Account type: %(type)s")
        % {"type": types.get(chosen.get("account_type"), chosen.get("account_type")) or _("all")},
    ]  # fmt: skip


class ProfitPage(PageView):
    """A page of the area: permission first, then the figures; a page whose input was
    wrong answers 400 (with the message and the default figures) and is never exported.
    `?export=xlsx` downloads `export_sheets` for the same filters."""

    export_name = ""

    def get(self, request, *args, **kwargs):
        guard(request.user)
        export = request.GET.get("export")
        if export not in (None, "", "xlsx"):
            raise Http404
        context = self.get_context(**kwargs)
        if export and not context.get("errors"):
            return xlsx_response(
                filename=f"keycare-{self.export_name}-{timezone.localdate().isoformat()}.xlsx",
                caption=self.export_caption(context),
                sheets=self.export_sheets(context),
            )
        return self.render(request, context)

    def render(self, request, context, *, status: int | None = None):
        response = render_page(request, template=self.template_name, fragment=self.fragment_name,
                               context=context)  # fmt: skip
        response.status_code = status or (400 if context.get("errors") else 200)
        return response

    def export_caption(self, context: dict) -> list[str]:
        return []

    def export_sheets(self, context: dict) -> list[Sheet]:
        raise NotImplementedError


def _figures(call, *, actor, query, errors=None, **kwargs) -> tuple[dict, dict]:
    """The figures for the filters, or the errors (found here or by the domain) and the
    default figures."""
    if errors:
        return call(actor=actor, filters=None, **kwargs), errors
    try:
        return call(actor=actor, filters=query, **kwargs), {}
    except ValidationError as exc:
        return call(actor=actor, filters=None, **kwargs), exc.message_dict


def choice_errors(query, **allowed) -> dict:
    """The query parameters the domain reads leniently (anything not "asc" is descending),
    checked as the API checks them: a value not in the list is an error, not ignored."""
    errors = {}
    for name, values in allowed.items():
        value = query.get(name)
        if value not in (None, "") and value not in values:
            errors[name] = [_("Choose a value from the list.")]
    return errors


def _pnl_cells(row: dict) -> list:
    return [row["revenue"], row["discounts"], row["rebates"], row["cost_of_goods"],
            row["gross_profit"], row["gross_margin"],
            *[row["drivers"].get(d) for d in DRIVERS],
            row["cost_to_serve"], row["contribution"], row["contribution_margin"]]  # fmt: skip


#: Which of the P&L cells are percentages (gross margin, contribution margin).
PCT_CELLS = {5, 5 + len(DRIVERS) + 3}


def _display(cells: list) -> list[tuple]:
    """(value, is a percentage) for the template."""
    return [(value, i in PCT_CELLS) for i, value in enumerate(cells)]


def _pnl_headers() -> list[str]:
    return [_("Revenue"), _("Discounts"), _("Rebates"), _("Cost of goods"), _("Gross profit"),
            _("Gross margin (%)"), *[driver_label(d) for d in DRIVERS], _("Cost to serve"),
            _("Contribution"), _("Contribution margin (%)")]  # fmt: skip


# --- the P&L -----------------------------------------------------------------------------


class PnlView(ProfitPage):
    """The period's P&L per account (or group, tier, type, region, key account manager),
    the loss-makers highlighted with why, 100 rows a page, the totals of every row."""

    template_name = "web/profitability/pnl.html"
    fragment_name = "web/profitability/_pnl_table.html"
    export_name = "pnl"

    def get_context(self, **kwargs) -> dict:
        actor, query = self.request.user, self.request.GET
        report, errors = _figures(pnl_report, actor=actor, query=query,
                                  errors=choice_errors(query, order=("asc", "desc")))  # fmt: skip
        page = Paginator(report["rows"], PNL_ROWS).get_page(query.get("page"))
        for row in page.object_list:
            self._decorate(row, report["group_by"])
        return {
            "report": report,
            "errors": errors,
            "query": query,
            "page": page,
            "hx_target": "#pnl-table",
            "drivers": [(d, driver_label(d)) for d in DRIVERS],
            "total_cells": _display(_pnl_cells(report["total"])),
            "total_accounts": report["accounts"],
            "period": {"from": report["start"], "to": report["end"]},
            "groupings": [(g, GROUP_LABELS[g]) for g in GROUPINGS],
            "group_label": GROUP_LABELS[report["group_by"]],
            # the label, the accounts (when grouped), the figures: for the empty row
            "columns": 1 + (report["group_by"] != "account") + len(_pnl_headers()),
            "ascending": query.get("order") == "asc" and not errors,
            **account_filter_selects(actor, None if errors else query),
        }

    @staticmethod
    def _decorate(row: dict, group_by: str) -> None:
        row["cells"] = _display(_pnl_cells(row))
        row["reason_texts"] = reason_texts(row["reasons"])
        row["url"] = account_url(row["account_id"]) if group_by in ("account", "group") else None

    def export_caption(self, context: dict) -> list[str]:
        report = context["report"]
        return [period_caption(report["start"], report["end"]),
                _("Grouped by: %(group)s") % {"group": context["group_label"]},
                *filter_caption(context["chosen"])]  # fmt: skip

    def export_sheets(self, context: dict) -> list[Sheet]:
        report = context["report"]
        headers = [context["group_label"], _("Accounts"), *_pnl_headers(), _("Why it loses money")]
        rows = [[r["label"], r["accounts"], *_pnl_cells(r), "; ".join(reason_texts(r["reasons"]))]
                for r in report["rows"]]  # fmt: skip
        rows.append([_("Total"), sum(r["accounts"] for r in report["rows"]),
                     *_pnl_cells(report["total"]), ""])  # fmt: skip
        return [Sheet(_("Account P&L"), headers, rows)]


# --- the whale curve ---------------------------------------------------------------------


class WhaleCurveView(ProfitPage):
    """Cumulative contribution from the most to the least profitable account: it rises
    above 100% and falls back as the loss-makers destroy profit."""

    template_name = "web/profitability/whale.html"
    export_name = "whale-curve"

    def get_context(self, **kwargs) -> dict:
        actor, query = self.request.user, self.request.GET
        options = {"max_points": 10**9} if query.get("export") else {}
        curve, errors = _figures(whale_curve_report, actor=actor, query=query,
                                 errors=choice_errors(query, level=("account", "group")),
                                 **options)  # fmt: skip
        for row in curve["loss_making_accounts"]:
            row["reason_texts"] = reason_texts(row["reasons"])
        percent = curve["peak_pct"] is not None
        points = curve["points"]
        # the curve starts at the origin, which links nowhere: one link per point of the line
        chart = {
            "percent": percent,
            "points": [[0, 0, ""]] + [
                [p["rank"], p["cumulative_pct"] if percent else p["cumulative"], p["name"]]
                for p in points
            ],
            "links": [None] + [account_url(p["account_id"]) for p in points],
            "peak": [curve["peak_rank"], curve["peak_pct"] if percent else curve["peak"]],
            "x_label": _("Accounts, most profitable first"),
            "y_label": _("Cumulative contribution (%)") if percent else _("Cumulative contribution"),
            "peak_label": _("Peak"),
            "hundred_label": _("Total contribution"),
        }  # fmt: skip
        return {
            "curve": curve,
            "errors": errors,
            "query": query,
            "chart": chart,
            "level": curve["level"],
            "level_label": _("Accounts") if curve["level"] == "account" else _("Groups with their branches"),
            "period": {"from": curve["start"], "to": curve["end"]},
        }  # fmt: skip

    def export_caption(self, context: dict) -> list[str]:
        curve = context["curve"]
        return [period_caption(curve["start"], curve["end"]),
                _("Level: %(level)s") % {"level": context["level_label"]}]  # fmt: skip

    def export_sheets(self, context: dict) -> list[Sheet]:
        curve = context["curve"]
        return [
            Sheet(_("Whale curve"),
                  [_("Rank"), _("Account or group"), _("Revenue"), _("Contribution"),
                   _("Cumulative contribution"), _("Cumulative contribution (%)")],
                  [[p["rank"], p["name"], p["revenue"], p["contribution"], p["cumulative"],
                    p["cumulative_pct"]] for p in curve["points"]]),
            Sheet(_("Loss-making accounts"),
                  [_("Account or group"), *_pnl_headers(), _("Why it loses money")],
                  [[r["label"], *_pnl_cells(r), "; ".join(r["reason_texts"])]
                   for r in curve["loss_making_accounts"]]),
        ]  # fmt: skip


# --- policies and thresholds -------------------------------------------------------------

LIMIT_FIELDS = policy_services.LIMIT_FIELDS


def _field_label(model, name) -> str:
    return capfirst(str(model._meta.get_field(name).verbose_name))


def _policy_initial(policy: ConcessionPolicy) -> dict:
    initial = {f: getattr(policy, f) for f in policy_services.POLICY_FIELDS}
    initial["lock_version"] = policy.lock_version
    return initial


def _thresholds_form(settings: ProfitabilitySettings, data=None) -> ThresholdsForm:
    initial = {f: getattr(settings, f) for f in policy_services.SETTINGS_FIELDS}
    initial["lock_version"] = settings.lock_version
    return ThresholdsForm(data, initial=initial)


class PolicyListView(ProfitPage):
    """The concession policies with their limits (empty: no limit) and the approval
    thresholds; administrators edit them, everyone else reads. POST: the thresholds."""

    template_name = "web/profitability/policies.html"
    export_name = "concession-policies"

    def get_context(self, *, thresholds_form=None, **kwargs) -> dict:
        actor = self.request.user
        policies = list(policy_services.policy_list(actor=actor))
        settings = policy_services.profitability_settings_get()
        for policy in policies:
            policy.limits = [getattr(policy, f) for f in LIMIT_FIELDS]
        return {
            "policies": policies,
            "limit_labels": [_field_label(ConcessionPolicy, f) for f in LIMIT_FIELDS],
            "settings": settings,
            "thresholds": [(_field_label(ProfitabilitySettings, f), getattr(settings, f))
                           for f in policy_services.SETTINGS_FIELDS],
            "may_edit": is_admin(actor),
            "thresholds_form": thresholds_form or _thresholds_form(settings),
            "errors": {},
        }  # fmt: skip

    def post(self, request):
        guard(request.user)
        require_admin(request.user)
        form = _thresholds_form(policy_services.profitability_settings_get(), request.POST)
        if form.is_valid():
            try:
                policy_services.profitability_settings_update(
                    actor=request.user, data=form.service_data(),
                    lock_version=form.cleaned_data["lock_version"],
                )  # fmt: skip
            except ValidationError as exc:
                apply_errors(form, exc)
            except ConflictError as exc:  # a stale edit: say so, keep the input (409 as the API)
                form.add_error(None, exc.message)
                return self.render(request, self.get_context(thresholds_form=form), status=409)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Approval thresholds saved."))
                return redirect("web:concession_policies")
        return self.render(request, self.get_context(thresholds_form=form), status=400)

    def export_sheets(self, context: dict) -> list[Sheet]:
        no_limit = _("no limit")
        return [
            Sheet(_("Concession policies"),
                  [_("Policy"), _("Tier"), _("Account type"), *context["limit_labels"], _("Active")],
                  [[p.name, p.get_tier_display() or _("Any"), p.get_account_type_display() or _("Any"),
                    *[no_limit if v is None else v for v in p.limits],
                    _("Yes") if p.is_active else _("No")] for p in context["policies"]]),
            Sheet(_("Approval thresholds"), [_("Threshold"), _("Value")],
                  [[label, value] for label, value in context["thresholds"]]),
        ]  # fmt: skip


class PolicyFormView(PageView):
    """Add or change a policy (administrators; others 403). A stale edit is refused with
    the message, the input kept."""

    template_name = "web/profitability/policy_form.html"

    def _load(self, request, pk):
        guard(request.user)
        require_admin(request.user)
        if pk is None:
            return None
        policy = policy_services.policy_list(actor=request.user).filter(pk=pk).first()
        if policy is None:
            raise Http404
        return policy

    def _render(self, request, form, policy, status=200):
        response = render_page(request, template=self.template_name,
                               context={"form": form, "policy": policy})  # fmt: skip
        response.status_code = status
        return response

    def get(self, request, pk=None):
        policy = self._load(request, pk)
        initial = _policy_initial(policy) if policy else {"is_active": True}
        return self._render(request, PolicyForm(initial=initial, editing=policy is not None),
                            policy)  # fmt: skip

    def post(self, request, pk=None):
        policy = self._load(request, pk)
        form = PolicyForm(request.POST, editing=policy is not None)
        status = 400
        if form.is_valid():
            try:
                if policy is None:
                    policy_services.policy_create(actor=request.user, data=form.service_data())
                    messages.success(request, _("Policy added."))
                else:
                    policy_services.policy_update(
                        actor=request.user, policy=policy, data=form.service_data(),
                        lock_version=form.cleaned_data["lock_version"],
                    )  # fmt: skip
                    messages.success(request, _("Policy saved."))
                return redirect("web:concession_policies")
            except ValidationError as exc:
                apply_errors(form, exc)
            except ConflictError as exc:  # a stale edit: 409, as the API answers it
                form.add_error(None, exc.message)
                status = 409
            except ApplicationError as exc:
                form.add_error(None, exc.message)
        return self._render(request, form, policy, status)


class PolicyDeleteView(PageView):
    http_method_names = ["post"]

    def post(self, request, pk):
        guard(request.user)
        require_admin(request.user)
        policy = policy_services.policy_list(actor=request.user).filter(pk=pk).first()
        if policy is None:
            raise Http404
        try:
            policy_services.policy_delete(actor=request.user, policy=policy)
        except ValidationError as exc:  # the default policy stays
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Policy %(name)s removed.") % {"name": policy.name})
        return redirect("web:concession_policies")


# --- cost rates --------------------------------------------------------------------------


class CostRateView(ProfitPage):
    """Each driver's rate in effect today (a warning where a driver has none yet), the
    whole history, and for administrators the form adding a rate from a day on."""

    template_name = "web/profitability/rates.html"
    export_name = "cost-rates"

    def get_context(self, *, form=None, **kwargs) -> dict:
        actor, query = self.request.user, self.request.GET
        errors = {}
        try:
            history = list(
                rate_services.cost_rate_list(actor=actor, driver=query.get("driver") or None)
            )
        except ValidationError as exc:
            errors = exc.message_dict
            history = list(rate_services.cost_rate_list(actor=actor))
        today = timezone.localdate()
        for rate in history:
            rate.future = rate.valid_from > today
        current = rate_services.rates_current()
        return {
            "current": [(code, label, current.get(code)) for code, label in CostDriver.choices],
            "missing": [label for code, label in CostDriver.choices if current.get(code) is None],
            "history": history,
            "drivers": CostDriver.choices,
            "driver": query.get("driver") if not errors else "",
            "may_edit": is_admin(actor),
            "form": form or CostRateForm(initial={"valid_from": today + dt.timedelta(days=1)}),
            "errors": errors,
            "query": query,
        }

    def post(self, request):
        guard(request.user)
        require_admin(request.user)
        form = CostRateForm(request.POST)
        if form.is_valid():
            try:
                rate = rate_services.cost_rate_create(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, self._saved_message(rate))
                return redirect("web:cost_rates")
        return self.render(request, self.get_context(form=form), status=400)

    @staticmethod
    def _saved_message(rate: CostRate) -> str:
        values = {"driver": rate.get_driver_display(), "day": rate.valid_from.isoformat(),
                  "rate": number(rate.rate)}  # fmt: skip
        if rate.pool_cost is not None and rate.capacity:
            values.update(pool=number(rate.pool_cost), capacity=number(rate.capacity))
            return _("%(driver)s from %(day)s: %(pool)s ÷ %(capacity)s = %(rate)s.") % values
        return _("%(driver)s from %(day)s: %(rate)s.") % values

    def export_sheets(self, context: dict) -> list[Sheet]:
        return [
            Sheet(_("Current rates"), [_("Cost driver"), _("Rate"), _("Valid from")],
                  [[label, rate.rate if rate else None, rate.valid_from if rate else None]
                   for _code, label, rate in context["current"]]),
            Sheet(_("Rate history"),
                  [_("Cost driver"), _("Valid from"), _("Rate"), _("Cost of the resource pool"),
                   _("Capacity"), _("Note"), _("Added by"), _("Added at")],
                  [[r.get_driver_display(), r.valid_from, r.rate, r.pool_cost, r.capacity, r.note,
                    str(r.created_by or ""), timezone.localtime(r.created_at).replace(tzinfo=None)]
                   for r in context["history"]]),
        ]  # fmt: skip


class CostRateWithdrawView(PageView):
    """POST only, administrators: withdraw a rate that has not taken effect yet."""

    http_method_names = ["post"]

    def post(self, request, pk):
        guard(request.user)
        require_admin(request.user)
        rate = rate_services.cost_rate_list(actor=request.user).filter(pk=pk).first()
        if rate is None:
            raise Http404
        try:
            rate_services.cost_rate_withdraw(actor=request.user, rate=rate)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The rate from %(day)s is withdrawn.")
                             % {"day": rate.valid_from.isoformat()})  # fmt: skip
        return redirect("web:cost_rates")


# --- reports -----------------------------------------------------------------------------


class ReportsView(ProfitPage):
    """The reports, one tab each: concessions granted (by account, kind, approver, month or
    requester), accounts and contacts over their policy, accounts below the margin floor,
    order lines that break the policy without a concession."""

    template_name = "web/profitability/reports.html"
    export_name = "profitability-report"

    def get_context(self, **kwargs) -> dict:
        actor, query = self.request.user, self.request.GET
        errors = {}
        tab = query.get("tab") or "concessions"
        if tab not in REPORT_TABS:
            errors["tab"] = [_("Choose a report from the list.")]
            tab = "concessions"
        source = {"concessions": concessions_report, "over_policy": over_policy_accounts,
                  "below_floor": below_floor_accounts, "flagged": flagged_order_lines}[tab]  # fmt: skip
        options, account = {}, None
        if tab == "flagged":  # one account's lines (the link of its 360 page)
            account = self._account(query, errors)
            options["account"] = account
        figures, more_errors = _figures(source, actor=actor, query=None if errors else query,
                                        **options)  # fmt: skip
        errors.update(more_errors)
        context = {
            "account": account,
            "tab": tab,
            "figures": figures,
            "errors": errors,
            "query": query,
            "period": {"from": figures["start"], "to": figures["end"]},
            "groupings": [(g, REPORT_LABELS[g]) for g in REPORT_GROUPINGS],
            "by": figures.get("by", "account"),
            "account_filters": tab in ("below_floor", "flagged"),
            **account_filter_selects(actor, None if errors else query),
        }
        if tab == "concessions":
            context["by_label"] = REPORT_LABELS[figures["by"]]
        return context

    def _account(self, query, errors: dict) -> Account | None:
        """The `account` asked for: one the user sees (else a 404); not a whole number in
        the range of an id: an error, the lines of every account shown."""
        raw = (query.get("account") or "").strip()
        if not raw:
            return None
        if not re.fullmatch(r"[0-9]{1,19}", raw) or not 1 <= int(raw) <= ID_MAX:
            errors["account"] = [_("Choose an account from the list.")]
            return None
        try:
            return account_get(actor=self.request.user, pk=int(raw))
        except Account.DoesNotExist:
            raise Http404 from None

    def export_caption(self, context: dict) -> list[str]:
        caption = [period_caption(context["period"]["from"], context["period"]["to"])]
        if context["account"] is not None:
            caption.append(_("Account: %(name)s") % {"name": context["account"].name})
        if context["tab"] == "concessions":
            caption.append(_("Grouped by: %(group)s") % {"group": context["by_label"]})
        if context["account_filters"]:
            caption += filter_caption(context["chosen"])
        return caption

    def export_sheets(self, context: dict) -> list[Sheet]:
        tab, f = context["tab"], context["figures"]
        if tab == "concessions":
            rows = [[r["label"], r["count"], r["amount"]] for r in f["rows"]]
            rows.append([_("Total"), f["total"]["count"], f["total"]["amount"]])
            return [
                Sheet(
                    _("Concessions granted"),
                    [context["by_label"], _("Concessions"), _("Amount")],
                    rows,
                )
            ]
        if tab == "over_policy":
            return [
                Sheet(_("Accounts over the policy"),
                      [_("Account"), _("Policy"), _("Granted"), _("Limits exceeded")],
                      [[r["name"], r["policy"], r["total"], "; ".join(e["message"] for e in r["exceeded"])]
                       for r in f["rows"]]),
                Sheet(_("Gifts over the limit"),
                      [_("Contact"), _("Account"), _("Gifts"), _("Limit")],
                      [[g["contact"], g["name"], g["value"], g["limit"]] for g in f["gifts"]]),
            ]  # fmt: skip
        if tab == "below_floor":
            return [Sheet(_("Below the margin floor"),
                          [_("Account"), _("Policy"), _("Revenue"), _("Gross margin (%)"),
                           _("Contribution"), _("Contribution margin (%)"), _("Floors broken")],
                          [[r["name"], r["policy"], r["revenue"], r["gross_margin"], r["contribution"],
                            r["contribution_margin"], "; ".join(b["message"] for b in r["below"])]
                           for r in f["rows"]])]  # fmt: skip
        return [Sheet(_("Flagged order lines"),
                      [_("Order number"), _("Date"), _("Account"), _("Product"), _("List value"),
                       _("Net value"), _("Discount (%)"), _("Gross margin (%)"), _("Why flagged"),
                       _("Policy")],
                      [[r["order"].number, r["order"].order_date, r["account"].name,
                        " ".join(filter(None, [r["line"].product.code if r["line"].product else "",
                                               r["line"].description])), r["line"].list_amount,
                        r["line"].net_amount, r["discount_pct"], r["margin_pct"], " ".join(r["why"]),
                        r["policy"] or ""]
                       for r in f["rows"]])]  # fmt: skip


# --- the account 360 page ----------------------------------------------------------------


def account_profit_section(*, actor, account, has_branches: bool | None = None) -> dict | None:
    """The P&L section of the account 360 page (None for those who may not see margins):
    the trailing twelve months' P&L, its own and with its branches, the loss reasons, the
    number of flagged order lines and the latest concessions. A fixed number of queries;
    `has_branches` (whether the actor sees any branch) spares one when the page knows it."""
    if not pnl_may_view(actor):
        return None
    from keycare.profitability.concessions import concession_may_request
    from keycare.profitability.reports import flagged_order_line_count
    from keycare.profitability.selectors import concession_list

    pnl = account_pnl(actor=actor, account=account, has_branches=has_branches)
    flagged, flagged_more = flagged_order_line_count(actor=actor, account=account)
    recent = concession_list(actor=actor).filter(account=account).prefetch_related(None)
    own, group = pnl["own"], pnl["group"]
    return {
        "pnl": pnl,
        "drivers": [(driver_label(d), own["drivers"].get(d), group["drivers"].get(d)) for d in DRIVERS],
        "reason_texts": reason_texts(pnl["reasons"]),
        "flagged": flagged,
        "flagged_more": flagged_more,
        "concessions": list(recent.select_related(None).select_related("requested_by")[:5]),
        "may_request": concession_may_request(actor, account),
    }  # fmt: skip
