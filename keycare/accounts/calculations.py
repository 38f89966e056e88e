"""Pure functions of the accounts domain (no ORM): order line arithmetic."""

from decimal import Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0")
NEGATIVE_LINE_TYPES = frozenset({"rebate", "credit_note"})


def line_amounts(
    *,
    line_type: str,
    quantity: Decimal,
    list_price: Decimal,
    net_price: Decimal,
    unit_cost: Decimal,
) -> dict[str, Decimal]:
    """Unit prices and line totals of one order line. Rebates and credit notes are negative
    lines: a positive price given for one is turned negative. They have no discount: their
    list price is their price (a rebate given with list price 0 is not also a discount)."""
    if line_type in NEGATIVE_LINE_TYPES:
        if net_price > 0 and quantity > 0:
            net_price = -net_price
        list_price = net_price
    list_amount = (quantity * list_price).quantize(CENT)
    net_amount = (quantity * net_price).quantize(CENT)
    return {
        "list_price": list_price,
        "net_price": net_price,
        "unit_cost": unit_cost or ZERO,
        "list_amount": list_amount,
        "net_amount": net_amount,
        "cost_amount": (quantity * (unit_cost or ZERO)).quantize(CENT),
        "discount_amount": (list_amount - net_amount).quantize(CENT),
    }
