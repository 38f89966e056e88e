"""The insights area (客户价值洞察): who the key accounts are, and why."""

from django.core.exceptions import ValidationError
from django.http import Http404

from keycare.core.scoping import user_can_any
from keycare.insights.models import AccountMetric
from keycare.insights.selectors import (
    concentration_analysis,
    pareto_analysis,
    pyramid_analysis,
)

from .base import PageView

TABLE_ROWS = 100


class _AnalysisView(PageView):
    """One analysis page: the figures for the filters, or — when a filter is wrong — the
    message and the default figures (never a silently different subset)."""

    analysis = None

    def get_context(self, **kwargs) -> dict:
        actor = self.request.user
        if not user_can_any(actor, "view", AccountMetric):
            raise Http404
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
