"""The insights area (客户价值洞察): who the key accounts are, and why."""

from django.core.exceptions import ValidationError
from django.http import Http404

from keycare.core.scoping import user_can_any
from keycare.insights.models import AccountMetric
from keycare.insights.selectors import pareto_analysis

from .base import PageView

TABLE_ROWS = 100


class ParetoView(PageView):
    template_name = "web/insights/pareto.html"

    def get_context(self, **kwargs) -> dict:
        actor = self.request.user
        if not user_can_any(actor, "view", AccountMetric):
            raise Http404
        errors = {}
        try:
            figures = pareto_analysis(actor=actor, filters=self.request.GET)
        except ValidationError as error:
            errors = error.message_dict
            figures = pareto_analysis(actor=actor)
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
            "figures": figures,
            "errors": errors,
            "charts": charts,
            "query": self.request.GET,
            "table_rows": TABLE_ROWS,
            "measures": [
                ("revenue", figures["revenue"]),
                ("gross_profit", figures["gross_profit"]),
            ],
        }
