from django.utils.translation import gettext as _

from keycare.accounts.choices import AccountStatus
from keycare.accounts.selectors import account_counts_by_province, account_counts_by_status

from .base import PageView


class DashboardView(PageView):
    template_name = "web/dashboard/index.html"

    def get_context(self, **kwargs) -> dict:
        actor = self.request.user
        by_status = account_counts_by_status(actor=actor)
        by_province = account_counts_by_province(actor=actor)
        return {
            "total_accounts": sum(by_status.values()),
            "status_cards": [
                {"label": label, "value": by_status.get(value, 0), "status": value}
                for value, label in AccountStatus.choices
            ],
            "province_count": len(by_province),
            "province_chart": {
                "title": _("Accounts by province"),
                "labels": [row["province"] for row in by_province[:12]],
                "values": [row["n"] for row in by_province[:12]],
            },
        }
