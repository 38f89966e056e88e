"""The insights area (客户价值洞察): who the key accounts are, and why."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _

from keycare.core.scoping import user_can_any
from keycare.insights.metrics import metrics_ensure
from keycare.insights.models import AccountMetric
from keycare.insights.selectors import (
    concentration_analysis,
    insights_period,
    neglected_accounts,
    pareto_analysis,
    pyramid_analysis,
    volume_profit,
)

from .base import PageView

TABLE_ROWS = 100


class _AnalysisView(PageView):
    """One analysis page: the figures for the filters, or — when a filter is wrong — the
    message and the default figures (never a silently different subset)."""

    analysis = None
    uses_metrics = True

    def get_context(self, **kwargs) -> dict:
        actor = self.request.user
        if not user_can_any(actor, "view", AccountMetric):
            raise Http404
        if self.uses_metrics:  # a period asked for the first time is computed first
            try:
                start, end = insights_period(self.request.GET)
            except ValidationError:
                start, end = insights_period(None)  # the analysis below reports the error
            metrics_ensure(start=start, end=end)
        analysis = type(self).analysis
        errors = {}
        try:
            figures = analysis(actor=actor, filters=self.request.GET)
        except ValidationError as error:
            errors = error.message_dict
            figures = analysis(actor=actor)
        return {"figures": figures, "errors": errors, "query": self.request.GET}


class ParetoView(_AnalysisView):
    template_name = "web/insights/pareto.html"
    analysis = staticmethod(pareto_analysis)

    def get_context(self, **kwargs) -> dict:
        context = super().get_context(**kwargs)
        figures = context["figures"]
        charts = {}
        for measure in ("revenue", "gross_profit"):
            rows = figures[measure]["rows"]
            n = len(rows)
            charts[measure] = {
                "labels": [f"{round(100 * (i + 1) / n)}%" for i in range(n)],
                "values": [r["cumulative"] for r in rows],
                "name": str(figures[measure]["total"]),
            }
        return {
            **context,
            "charts": charts,
            "table_rows": TABLE_ROWS,
            "measures": [
                ("revenue", figures["revenue"]),
                ("gross_profit", figures["gross_profit"]),
            ],
        }


class PyramidView(_AnalysisView):
    template_name = "web/insights/pyramid.html"
    analysis = staticmethod(pyramid_analysis)


class ConcentrationView(_AnalysisView):
    template_name = "web/insights/concentration.html"
    analysis = staticmethod(concentration_analysis)


class VolumeProfitView(_AnalysisView):
    template_name = "web/insights/volume_profit.html"
    analysis = staticmethod(volume_profit)

    def get_context(self, **kwargs) -> dict:
        context = super().get_context(**kwargs)
        points = context["figures"]["points"]
        context["chart"] = {
            "x_label": _("Revenue"),
            "y_label": _("Contribution"),
            "points": [[p["revenue"], p["contribution"], p["name"]] for p in points
                       if not p["volume_without_profit"]],
            "flagged": [[p["revenue"], p["contribution"], p["name"]] for p in points
                        if p["volume_without_profit"]],
        }  # fmt: skip
        return context


class NeglectedView(_AnalysisView):
    template_name = "web/insights/neglected.html"
    analysis = staticmethod(neglected_accounts)
    uses_metrics = False
