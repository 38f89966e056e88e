"""The seeded concession policies and approval thresholds (a starting point administrators
adjust): more latitude for the higher tiers, every tier held to a margin floor."""

from decimal import Decimal as D

POLICIES = [
    # name, tier, discount %, line margin %, period margin %, after-CTS margin %, free hours,
    # free visits, goodwill parts, warranty months, penalty waived, gift per contact
    (
        "默认政策 Default policy",
        "",
        D(15),
        D(15),
        D(20),
        D(5),
        D(40),
        4,
        D(10000),
        12,
        D(20000),
        D(1000),
    ),
    (
        "白金客户 Platinum",
        "platinum",
        D(25),
        D(10),
        D(15),
        D(3),
        D(120),
        12,
        D(50000),
        24,
        D(100000),
        D(2000),
    ),
    ("黄金客户 Gold", "gold", D(20), D(12), D(18), D(4), D(80), 8, D(25000), 18, D(50000), D(1500)),
    ("潜力客户 Lead", "lead", D(5), D(20), D(25), D(10), D(8), 1, D(2000), 6, D(5000), D(300)),
]
FIELDS = ("name", "tier", "max_discount_pct", "min_line_margin_pct", "min_period_margin_pct",
          "min_contribution_margin_pct", "max_free_service_hours", "max_free_visits",
          "max_goodwill_parts_value", "max_extended_warranty_months", "max_penalty_waiver_value",
          "gift_limit_per_contact")  # fmt: skip


def profitability_defaults_ensure(policy_model, settings_model) -> None:
    """Create the seeded policies and the settings row where missing (idempotent)."""
    for values in POLICIES:
        data = dict(zip(FIELDS, values, strict=True))
        policy_model.objects.get_or_create(tier=data["tier"], account_type="", defaults=data)
    settings_model.objects.get_or_create(pk=1)
