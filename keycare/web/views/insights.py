"""The insights area (客户价值洞察): who the key accounts are, and why."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from keycare.accounts.choices import AccountTier
from keycare.core.exceptions import ApplicationError
from keycare.core.scoping import user_can_any
from keycare.insights.metrics import metrics_ensure
from keycare.insights.models import AccountMetric
from keycare.insights.selectors import (
    clv_analysis,
    concentration_analysis,
    concentration_periods,
    insights_account_filters,
    insights_alerts,
    insights_filter_choices,
    insights_period,
    neglected_accounts,
    pareto_analysis,
    pyramid_analysis,
    volume_profit,
)

from ..exports import Sheet, xlsx_response
from .base import PageView, render_page

TABLE_ROWS = 100
#: About how many points the Pareto curve shows (downsampled beyond, with the cut-offs).
CURVE_POINTS = 200
PYRAMID_TIERS = ("platinum", "gold", "iron", "lead")


def require_insights(actor) -> None:
    """The insights pages are for those who may see orders (404 for everyone else)."""
    if not user_can_any(actor, "view", AccountMetric):
        raise Http404


def account_filter_context(*, actor, filters, applied: bool = True) -> dict:
    """The region and industry selects of a page: the values among the accounts the actor
    sees, and the ones chosen (none when the page's filters were not applied: a wrong one
    shows the default figures). A value no visible account has stays selectable."""
    chosen = {}
    if applied:
        try:
            chosen = insights_account_filters(filters)
        except ValidationError:
            chosen = {}
    choices = insights_filter_choices(actor=actor)
    for key, value in chosen.items():
        if value not in choices[key]:
            choices[key] = [value, *choices[key]]
    return {"choices": choices, "chosen": chosen}


def _account_url(pk: int) -> str:
    return reverse("web:account_detail", args=[pk])


def _query_with(request, **params) -> str:
    """This page's query string with `params` set (None: removed), never the export."""
    query = request.GET.copy()
    query.pop("export", None)
    for key, value in params.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return "?" + query.urlencode()


def _drill(request, key: str, allowed, message: str, errors: dict) -> str | None:
    """A drill-down parameter (`abc=A`, `tier=gold`): one of `allowed`, else the message."""
    value = request.GET.get(key) or None
    if value is not None and value not in allowed:
        errors[key] = [message]
        return None
    return value


def _tier_label(tier: str | None) -> str | None:
    return str(AccountTier(tier).label) if tier in AccountTier.values else None


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if value else None


class _AnalysisView(PageView):
    """One analysis page: the figures for the filters, or — when a filter is wrong — the
    message and the default figures (never a silently different subset). `?export=xlsx`
    downloads the page's tables for the same filters, for the same people."""

    analysis = None
    uses_metrics = True
    export_name = ""

    def get(self, request, *args, **kwargs):
        export = request.GET.get("export")
        if not export:
            return super().get(request, *args, **kwargs)
        if export != "xlsx":
            raise Http404
        context = self.get_context(**kwargs)
        if context["errors"] or context.get("unavailable"):
            # say what is wrong rather than download other rows than asked for
            return render_page(request, template=self.template_name, context=context)
        return xlsx_response(
            filename=self.export_filename(context),
            caption=self.export_caption(context),
            sheets=self.export_sheets(context),
        )

    def analysis_options(self) -> dict:
        """Extra keyword arguments of the analysis (e.g. how many rows the page shows)."""
        return {}

    def export_filename(self, context: dict) -> str:
        period = context["figures"]["period"]
        return f"keycare-{self.export_name}-{period['from']}-{period['to']}.xlsx"

    def export_caption(self, context: dict) -> list[str]:
        figures, chosen = context["figures"], context["chosen"]
        caption = []
        if "period" in figures:
            caption.append(_("Period: %(start)s – %(end)s")
                           % {"start": figures["period"]["from"], "end": figures["period"]["to"]})  # fmt: skip
        if "level" in figures:
            level = (
                _("Accounts") if figures["level"] == "account" else _("Groups with their branches")
            )
            caption.append(_("Level: %(level)s") % {"level": level})
        caption.append(_("Region: %(region)s") % {"region": chosen.get("province") or _("all")})
        caption.append(
            _("Industry: %(industry)s") % {"industry": chosen.get("industry") or _("all")}
        )
        return caption

    def export_sheets(self, context: dict) -> list[Sheet]:
        raise NotImplementedError

    def get_context(self, **kwargs) -> dict:
        actor = self.request.user
        require_insights(actor)
        if self.uses_metrics:  # a period asked for the first time is computed first
            try:
                start, end = insights_period(self.request.GET)
            except ValidationError:
                start, end = insights_period(None)  # the analysis below reports the error
            metrics_ensure(start=start, end=end)
        analysis = type(self).analysis
        errors = {}
        try:
            figures = analysis(actor=actor, filters=self.request.GET, **self.analysis_options())
        except ValidationError as error:
            errors = error.message_dict
            figures = analysis(actor=actor, **self.analysis_options())
        selects = account_filter_context(actor=actor, filters=self.request.GET, applied=not errors)
        return {"figures": figures, "errors": errors, "query": self.request.GET, **selects}


class ParetoView(_AnalysisView):
    """Both rankings; `?abc=A` narrows the tables (and the export) to one class, a point of
    the curve opens its account."""

    template_name = "web/insights/pareto.html"
    analysis = staticmethod(pareto_analysis)
    export_name = "pareto"

    def analysis_options(self) -> dict:
        """The page reads only what it shows: the table's first rows (of the class asked
        for) and a downsampled curve; the export reads every row of the class."""
        abc = self.request.GET.get("abc")
        options = {"abc": abc if abc in ("A", "B", "C") else None}
        if not self.request.GET.get("export"):
            options.update(rows=TABLE_ROWS, curve=CURVE_POINTS)
        return options

    def get_context(self, **kwargs) -> dict:
        context = super().get_context(**kwargs)
        figures = context["figures"]
        abc = _drill(self.request, "abc", ("A", "B", "C"), _("Choose class A, B or C."),
                     context["errors"])  # fmt: skip
        n = figures["accounts"]
        charts, measures = {}, []
        for measure in ("revenue", "gross_profit"):
            data = figures[measure]
            points = data.get("curve_points", [])
            charts[measure] = {
                "labels": [f"{round(100 * p['rank'] / n)}%" for p in points],
                "values": [p["cumulative"] for p in points],
                "name": str(data["total"]),
                "links": [_account_url(p["account"]) for p in points],
            }
            first = {
                "A": 1,
                "B": data["classes"]["A"]["accounts"] + 1,
                "C": data["classes"]["A"]["accounts"] + data["classes"]["B"]["accounts"] + 1,
            }
            table = [{**r, "rank": i} for i, r in enumerate(data["rows"], start=first[abc or "A"])]
            # how many rows the table would have in full (the footer says "the first 100 of")
            total = data["classes"][abc]["accounts"] if abc else n
            measures.append((measure, {**data, "table_total": total}, table))
        # the risk views' alerts in short, linking to them (the same period and region)
        alerts = insights_alerts(actor=self.request.user,
                                 filters=None if context["errors"] else self.request.GET)  # fmt: skip
        return {**context, "charts": charts, "table_rows": TABLE_ROWS, "measures": measures,
                "abc": abc, "alerts": alerts}  # fmt: skip

    def export_caption(self, context: dict) -> list[str]:
        caption = super().export_caption(context)
        a, b = context["figures"]["cutoffs"]
        caption.append(
            _("Class A up to %(a)s%%, class B up to %(b)s%%") % {"a": f"{a:g}", "b": f"{b:g}"}
        )
        if context["abc"]:
            caption.append(_("Class %(abc)s only") % {"abc": context["abc"]})
        return caption

    def export_sheets(self, context: dict) -> list[Sheet]:
        titles = {"revenue": _("Revenue"), "gross_profit": _("Gross profit")}
        headers = [pgettext("rank", "#"), _("Account"), _("Value"), _("Share (%)"),
                   _("Cumulative (%)"), _("Class")]  # fmt: skip
        return [
            Sheet(titles[measure], headers, [
                [r["rank"], r["name"], r["value"], r["share"], r["cumulative"], r["abc"]]
                for r in table
            ])
            for measure, _data, table in context["measures"]
        ]  # fmt: skip


class PyramidView(_AnalysisView):
    """The tiers; a tier (card or bar) narrows the accounts table to it with `?tier=gold`."""

    template_name = "web/insights/pyramid.html"
    analysis = staticmethod(pyramid_analysis)
    export_name = "pyramid"

    def get_context(self, **kwargs) -> dict:
        context = super().get_context(**kwargs)
        figures = context["figures"]
        tier = _drill(self.request, "tier", PYRAMID_TIERS, _("Choose a tier of the pyramid."),
                      context["errors"])  # fmt: skip
        links = {t: _query_with(self.request, tier=t) for t in PYRAMID_TIERS}
        context.update(
            tier=tier,
            tier_links=links,
            accounts=[a for a in figures["accounts"] if tier is None or a["tier"] == tier],
            table_rows=TABLE_ROWS,
            chart={
                "labels": [_tier_label(t) for t in PYRAMID_TIERS],
                "values": [figures["tiers"][t]["accounts"] for t in PYRAMID_TIERS],
                "links": [links[t] for t in PYRAMID_TIERS],
            },
        )
        return context

    def export_caption(self, context: dict) -> list[str]:
        caption = super().export_caption(context)
        platinum, gold = context["figures"]["splits"]
        caption.append(_("Platinum the top %(platinum)s%%, gold up to the top %(gold)s%%")
                       % {"platinum": f"{platinum:g}", "gold": f"{gold:g}"})  # fmt: skip
        if context["tier"]:
            caption.append(_("Tier %(tier)s only") % {"tier": _tier_label(context["tier"])})
        return caption

    def export_sheets(self, context: dict) -> list[Sheet]:
        return [
            Sheet(_("Accounts"),
                  [_("Account"), _("Tier"), _("Current tier"), _("Profit after cost to serve")],
                  [[a["name"], _tier_label(a["tier"]), _tier_label(a["current_tier"]), a["profit"]]
                   for a in context["accounts"]]),
            Sheet(_("Lead accounts"),
                  [_("Account"), _("Profit after cost to serve"), _("Why")],
                  [[a["name"], a["profit"], a["reason"]] for a in context["figures"]["lead"]]),
        ]  # fmt: skip


class ConcentrationView(_AnalysisView):
    template_name = "web/insights/concentration.html"
    analysis = staticmethod(concentration_analysis)
    export_name = "concentration"

    def get_context(self, **kwargs) -> dict:
        require_insights(self.request.user)
        try:  # the trend's calendar years are computed first, as the period is
            periods = concentration_periods(self.request.GET)
        except ValidationError:
            periods = concentration_periods(None)  # the analysis reports the error
        for start, end in periods[1:]:
            metrics_ensure(start=start, end=end)
        context = super().get_context(**kwargs)
        figures = context["figures"]
        trend = figures["trend"]
        context["trend_chart"] = {
            "labels": [r["label"] for r in trend],
            "series": [
                {"name": _("Largest account (%)"), "values": [r["top_1_share"] for r in trend]},
                {"name": _("Top 5 (%)"), "values": [r["top_5_share"] for r in trend]},
                {"name": _("Top 10 (%)"), "values": [r["top_10_share"] for r in trend]},
                {"name": _("HHI"), "values": [r["hhi"] for r in trend], "axis": 1},
            ],
        }
        # the accounts behind the shares are the Pareto ranking for the same filters
        ranking = reverse("web:insights_pareto") + _query_with(self.request, level=figures["level"])
        context["chart"] = {
            "labels": [_("Largest account"), _("Top 5"), _("Top 10")],
            "values": [figures["top_1_share"], figures["top_5_share"], figures["top_10_share"]],
            "links": [ranking] * 3,
        }
        context["ranking_url"] = ranking
        return context

    def export_sheets(self, context: dict) -> list[Sheet]:
        f = context["figures"]
        return [Sheet(_("Concentration"), [_("Figure"), _("Value")], [
            [_("Accounts"), f["accounts"]],
            [_("Largest account (% of revenue)"), f["top_1_share"]],
            [_("Top 5 (% of revenue)"), f["top_5_share"]],
            [_("Top 10 (% of revenue)"), f["top_10_share"]],
            [_("HHI"), f["hhi"]],
            [_("Gini"), f["gini"]],
        ]), Sheet(_("Trend"), [_("Period"), _("Accounts"), _("Largest account (%)"),
                               _("Top 5 (%)"), _("Top 10 (%)"), _("HHI"), _("Gini")], [
            [r["label"], r["accounts"], r["top_1_share"], r["top_5_share"], r["top_10_share"],
             r["hhi"], r["gini"]] for r in f["trend"]
        ])]  # fmt: skip


class VolumeProfitView(_AnalysisView):
    template_name = "web/insights/volume_profit.html"
    analysis = staticmethod(volume_profit)
    export_name = "volume-profit"

    def get_context(self, **kwargs) -> dict:
        context = super().get_context(**kwargs)
        points = context["figures"]["points"]
        plain = [p for p in points if not p["volume_without_profit"]]
        flagged = [p for p in points if p["volume_without_profit"]]
        context["chart"] = {
            "x_label": _("Revenue"),
            "y_label": _("Contribution"),
            "points": [[p["revenue"], p["contribution"], p["name"]] for p in plain],
            "flagged": [[p["revenue"], p["contribution"], p["name"]] for p in flagged],
            "links": [[_account_url(p["account"]) for p in plain],
                      [_account_url(p["account"]) for p in flagged]],
        }  # fmt: skip
        context["table_rows"] = TABLE_ROWS
        return context

    def export_sheets(self, context: dict) -> list[Sheet]:
        figures = context["figures"]
        headers = [_("Account"), _("Revenue"), _("Gross profit"), _("Contribution"),
                   _("Margin (%)")]  # fmt: skip

        def cells(p):
            return [p["name"], p["revenue"], p["gross_profit"], p["contribution"], p["margin"]]

        return [
            Sheet(_("Volume without profit"), headers, [cells(p) for p in figures["flagged"]]),
            Sheet(_("All accounts"), [*headers, _("Volume without profit")],
                  [[*cells(p), _("Yes") if p["volume_without_profit"] else _("No")]
                   for p in figures["points"]]),
        ]  # fmt: skip


class NeglectedView(_AnalysisView):
    template_name = "web/insights/neglected.html"
    analysis = staticmethod(neglected_accounts)
    uses_metrics = False
    export_name = "neglected"

    def get_context(self, **kwargs) -> dict:
        context = super().get_context(**kwargs)
        by_tier = context["figures"]["by_tier"]
        tiers = [t for t in (*PYRAMID_TIERS, "") if t in by_tier]
        context["chart"] = {
            "labels": [_tier_label(t) or _("No tier") for t in tiers],
            "values": [by_tier[t] for t in tiers],
        }
        return context

    def export_filename(self, context: dict) -> str:
        return f"keycare-neglected-{timezone.localdate().isoformat()}.xlsx"

    def export_caption(self, context: dict) -> list[str]:
        days = _("Days without contact: %(days)s") % {"days": context["figures"]["days"]}
        return [days, *super().export_caption(context)]

    def export_sheets(self, context: dict) -> list[Sheet]:
        return [Sheet(_("Neglected accounts"),
                      [_("Account"), _("Tier"), _("Last order"), _("Last ticket"),
                       _("Last visit"), _("Days since")],
                      [[a["name"], _tier_label(a["tier"]), _date(a["last_order"]),
                        _date(a["last_ticket"]), _date(a["last_visit"]), a["days_since"]]
                       for a in context["figures"]["accounts"]]),
                Sheet(_("Small accounts served below the floor"),
                      [_("Account"), _("Tier"), _("Tickets"), _("SLA breached"), _("SLA met")],
                      [[a["name"], _tier_label(a["tier"]), a["tickets"], a["breached"], a["met"]]
                       for a in context["figures"]["below_floor"]])]  # fmt: skip


class ClvView(_AnalysisView):
    """Predictive customer value: the fitted models, a warning when the data could not pin
    a parameter down, and each account's outlook; too little data is said, not a crash."""

    template_name = "web/insights/clv.html"
    export_name = "clv"
    chart_accounts = 20

    def get_context(self, **kwargs) -> dict:
        require_insights(self.request.user)
        errors = {}
        try:
            try:
                figures = clv_analysis(actor=self.request.user, filters=self.request.GET)
            except ValidationError as error:
                errors = error.message_dict
                figures = clv_analysis(actor=self.request.user)
        except ApplicationError as error:
            return {"figures": None, "unavailable": error.message, "errors": {}}
        top = [r for r in figures["accounts"] if r["expected_revenue_12m"] is not None]
        top = top[: self.chart_accounts]
        return {
            "figures": figures,
            "unavailable": None,
            "errors": errors,
            **account_filter_context(
                actor=self.request.user, filters=self.request.GET, applied=not errors
            ),
            "query": self.request.GET,
            "table_rows": TABLE_ROWS,
            "chart": {
                "labels": [r["name"] for r in top],
                "values": [r["expected_revenue_12m"] for r in top],
                "links": [_account_url(r["account"]) for r in top],
            },
        }

    def export_filename(self, context: dict) -> str:
        return f"keycare-clv-{context['figures']['calibration_end']}.xlsx"

    def export_caption(self, context: dict) -> list[str]:
        figures = context["figures"]
        caption = [_("Calibrated on the orders up to %(date)s")
                   % {"date": figures["calibration_end"]}]  # fmt: skip
        if figures["at_bound"]:
            caption.append(_("Not pinned down by the data: %(parameters)s")
                           % {"parameters": ", ".join(figures["at_bound"])})  # fmt: skip
        return caption

    def export_sheets(self, context: dict) -> list[Sheet]:
        return [Sheet(_("Customer lifetime value"),
                      [_("Account"), _("P(alive)"), _("Expected orders, next 12 months"),
                       _("Expected revenue, next 12 months")],
                      [[r["name"], r["p_alive"], r["expected_orders_12m"],
                        r["expected_revenue_12m"]] for r in context["figures"]["accounts"]])]  # fmt: skip
