import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from keycare.core.figures import account_figures_changed
from keycare.core.services import require_permission
from keycare.users.models import User

from ..calculations import line_amounts
from ..choices import OrderLineType
from ..models import Account, Order, OrderLine

ZERO = Decimal("0")


def order_line_amounts(line: OrderLine) -> None:
    """Fill the line's totals from its unit figures (see calculations.line_amounts)."""
    for field, value in line_amounts(
        line_type=line.line_type, quantity=line.quantity, list_price=line.list_price,
        net_price=line.net_price, unit_cost=line.unit_cost,
    ).items():  # fmt: skip
        setattr(line, field, value)


def validate_line(line: OrderLine) -> None:
    if line.line_type in (OrderLineType.PRODUCT,) and line.product_id is None:
        raise ValidationError({"product": _("A product line needs a product.")})
    if line.quantity == 0:
        raise ValidationError({"quantity": _("The quantity cannot be zero.")})
    if line.line_type == OrderLineType.PRODUCT and line.net_price < 0:
        raise ValidationError(
            {
                "net_price": _(
                    "A product line has a positive price; use a rebate or credit note line."
                )
            }
        )


@transaction.atomic
def order_create(
    *,
    actor: User | None,
    number: str,
    account: Account,
    order_date: dt.date,
    lines: Iterable[dict[str, Any]],
    currency: str = "CNY",
    notes: str = "",
) -> Order:
    if actor is not None:
        require_permission(actor=actor, action="add", model=Order)
    order = Order(
        number=number.strip(),
        account=account,
        order_date=order_date,
        currency=currency,
        notes=notes,
    )
    order.full_clean()
    order.save()
    built = []
    for n, data in enumerate(lines, start=1):
        data = dict(data)
        data.setdefault("line_number", n)
        product = data.get("product")
        if product is not None:
            data.setdefault("list_price", product.list_price)
            data.setdefault("net_price", data["list_price"])
            data.setdefault("unit_cost", product.standard_cost)
            data.setdefault("description", product.name)
        line = OrderLine(order=order, **data)
        order_line_amounts(line)
        validate_line(line)
        line.full_clean(exclude=["order"])
        built.append(line)
    OrderLine.objects.bulk_create(built)
    order_totals_refresh(order_ids=[order.pk])
    order.refresh_from_db()
    account_figures_changed(account_ids=[order.account_id])
    return order


def order_totals_refresh(*, order_ids: Iterable[int] | None = None) -> int:
    """Recompute order totals from their lines in one UPDATE (set-based). On PostgreSQL one
    grouped join of the lines instead of a correlated subquery per total and order: an
    import refreshes the orders of every batch of 5,000 lines."""
    if connection.vendor == "postgresql":
        return _totals_refresh_grouped(order_ids)
    lines = OrderLine.objects.filter(order=OuterRef("pk")).order_by().values("order")
    money = DecimalField(max_digits=16, decimal_places=2)

    def total(field: str, source=lines):
        return Coalesce(
            Subquery(source.annotate(s=Sum(field)).values("s")[:1], output_field=money),
            Value(ZERO, output_field=money),
        )

    rebates = lines.filter(line_type__in=(OrderLineType.REBATE, OrderLineType.CREDIT_NOTE))

    updates = {
        "total_list": total("list_amount"),
        "total_net": total("net_amount"),
        "total_discount": total("discount_amount"),
        "total_cost": total("cost_amount"),
        "total_rebate": -total("net_amount", rebates),
        "line_count": Coalesce(Subquery(lines.annotate(c=Count("pk")).values("c")[:1]), Value(0)),
    }
    if order_ids is None:
        return Order.objects.update(**updates)
    ids = sorted(set(order_ids))
    done = 0
    for start in range(0, len(ids), 5000):  # stay under the database's parameter limit
        done += Order.objects.filter(pk__in=ids[start : start + 5000]).update(**updates)
    return done


def _totals_refresh_grouped(order_ids: Iterable[int] | None) -> int:
    quote = connection.ops.quote_name
    order, line = quote(Order._meta.db_table), quote(OrderLine._meta.db_table)
    negative = [str(OrderLineType.REBATE), str(OrderLineType.CREDIT_NOTE)]
    if order_ids is None:
        orders, params = f"(SELECT id FROM {order}) t", []  # noqa: S608
    else:
        orders, params = "unnest(%s::bigint[]) AS t(id)", [sorted(set(order_ids))]
        if not params[0]:
            return 0
    # table names come from the models; ids and line types are parameters
    sql = f"""
        UPDATE {order} o SET
            total_list = s.total_list, total_net = s.total_net,
            total_discount = s.total_discount, total_cost = s.total_cost,
            total_rebate = s.total_rebate, line_count = s.line_count
        FROM (
            SELECT t.id,
                COALESCE(SUM(l.list_amount), 0) AS total_list,
                COALESCE(SUM(l.net_amount), 0) AS total_net,
                COALESCE(SUM(l.discount_amount), 0) AS total_discount,
                COALESCE(SUM(l.cost_amount), 0) AS total_cost,
                -COALESCE(SUM(l.net_amount) FILTER (WHERE l.line_type = ANY(%s)), 0)
                    AS total_rebate,
                COUNT(l.id) AS line_count
            FROM {orders}
            LEFT JOIN {line} l ON l.order_id = t.id
            GROUP BY t.id
        ) s
        WHERE o.id = s.id
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [negative, *params])
        return cursor.rowcount
