"""The main navigation: the areas of KeyCare and who sees them."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from keycare.users.choices import STAFF_ROLES, Role


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url_name: str | None
    roles: frozenset[str]
    #: An area whose pages arrive in a later release is shown greyed out, never as a fake page.
    available: bool = True
    #: URL names (prefixes) of the pages that belong to this area, for highlighting.
    pages: tuple[str, ...] = ()

    def is_active(self, url_name: str) -> bool:
        return any(url_name.startswith(p) for p in self.pages or (self.key,))

    def url(self) -> str | None:
        return reverse(self.url_name) if self.url_name else None


ALL_ROLES = frozenset(Role.values)

NAV_ITEMS = [
    NavItem("dashboard", _("Dashboard"), "web:dashboard", ALL_ROLES, pages=("dashboard",)),
    NavItem(
        "accounts",
        _("Accounts"),
        "web:account_list",
        ALL_ROLES,
        pages=("account", "contact", "equipment", "order", "product", "import", "export"),
    ),
    NavItem(
        "service",
        _("Service"),
        "web:ticket_list",
        ALL_ROLES,
        pages=("ticket", "team", "attachment"),
    ),
    # the insights are commercial figures: for those who may see orders
    NavItem(
        "insights",
        _("Insights"),
        "web:insights_pareto",
        frozenset(
            {Role.ADMINISTRATOR, Role.EXECUTIVE, Role.KEY_ACCOUNT_MANAGER, Role.SERVICE_MANAGER}
        ),
        pages=("insights",),
    ),
    # margins, costs and concessions: for the same people (客户损益, 优惠政策)
    NavItem(
        "profitability",
        _("Profitability"),
        "web:profitability_pnl",
        frozenset(
            {Role.ADMINISTRATOR, Role.EXECUTIVE, Role.KEY_ACCOUNT_MANAGER, Role.SERVICE_MANAGER}
        ),
        pages=("profitability", "concession", "cost_rate"),
    ),
    NavItem(
        "engagement",
        _("Engagement"),
        "web:my_week",
        frozenset(STAFF_ROLES),
        pages=(
            "engagement",
            "activity",
            "pain",
            "calendar",
            "reference",
            "style",
            "my_week",
            "coverage",
            "sponsor",
            "playbook",
            "reminder",
            "event",
            "gift",
            "vip",
        ),
    ),
    NavItem("admin", _("Administration"), "admin:index", frozenset({Role.ADMINISTRATOR})),
]


def nav_for(user) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):
        return []
    return [item for item in NAV_ITEMS if user.has_role(*item.roles)]
