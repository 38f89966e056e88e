from collections import OrderedDict
from collections.abc import Iterable
from decimal import Decimal
from operator import itemgetter

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from keycare.accounts.calculations import line_amounts
from keycare.accounts.choices import OrderLineType
from keycare.accounts.models import Order, OrderLine
from keycare.accounts.services.orders import order_totals_refresh
from keycare.core.figures import account_figures_changed
from keycare.core.tabular import Column

from ..parsing import choice_lookup, parse_choice, parse_date, parse_decimal, parse_int
from .base import BatchResult, Kind, RowError, RowRejected
from .refs import AccountRefs, ProductRefs

LINE_FIELDS = [
    "line_type",
    "product_id",
    "description",
    "quantity",
    "list_price",
    "net_price",
    "unit_cost",
    "list_amount",
    "net_amount",
    "discount_amount",
    "cost_amount",
]
RECENT_ORDERS = 20_000
line_values = itemgetter(*LINE_FIELDS)


def _columns(model, fields: list[str]) -> list[str]:
    meta = model._meta
    return [
        meta.get_field(f.removesuffix("_id") if f.endswith("_id") else f).column for f in fields
    ]


def _insert_lines(rows: list[tuple]) -> None:
    """Write new order lines (rows: order id, line number, *LINE_FIELDS): COPY on PostgreSQL,
    an executemany INSERT elsewhere. COPY is several times faster than a prepared INSERT per
    row, and both skip model instances, which would cost more than the database work."""
    columns = _columns(OrderLine, ["order", "line_number", *LINE_FIELDS])
    if connection.vendor == "postgresql":
        _copy(OrderLine._meta.db_table, columns, rows)
        return
    quote = connection.ops.quote_name
    # table and column names come from the model and are quoted; values are parameters
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(OrderLine._meta.db_table),
        ", ".join(quote(c) for c in columns),
        ", ".join(["%s"] * len(columns)),
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _copy(table: str, columns: list[str], rows: Iterable[tuple]) -> None:
    """COPY rows into a PostgreSQL table (psycopg 3). Errors are wrapped like the ORM's, so the
    engine reports a refused row as a DatabaseError and rolls everything back."""
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    with connection.wrap_database_errors, connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(statement) as copy:
            write = copy.write_row
            for row in rows:
                write(row)


def _create_orders(orders: list[dict[str, object]]) -> dict[str, int]:
    """Create orders (dicts of field attname -> value, the same fields in each, "number" among
    them); return number -> id.

    On PostgreSQL the ids are drawn from the table's sequence in one query and the rows are
    COPYed, with every other column at its model default, as bulk_create would write them."""
    if connection.vendor != "postgresql":
        new = [Order(**values) for values in orders]
        Order.objects.bulk_create(new, batch_size=1000)
        return {o.number: o.pk for o in new}
    meta = Order._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(orders)],
        )
        ids = [r[0] for r in cursor.fetchall()]
    now = timezone.now()
    given = list(orders[0])
    fields = [f for f in meta.concrete_fields if f.attname not in given and not f.primary_key]
    fixed = tuple(
        now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_db_prep_save(f.get_default(), connection)
        for f in fields
    )  # fmt: skip
    columns = [meta.pk.column, *(meta.get_field(f).column for f in given)]
    columns += [f.column for f in fields]
    rows = ((pk, *values.values(), *fixed) for pk, values in zip(ids, orders, strict=True))
    _copy(meta.db_table, columns, rows)
    return {values["number"]: pk for pk, values in zip(ids, orders, strict=True)}


class OrdersKind(Kind):
    """Order lines, one row each, with the order's number, date and account repeated on every
    line. Matched on order number + line number. Built for ERP exports of millions of lines:
    rows are checked without per-row queries and written in bulk, and order totals are
    recomputed once at the end in set-based SQL."""

    name = "orders"
    batch_size = 5000
    columns = [
        Column(
            "number",
            ("Order number", "order_number", "number", "订单号", "订单编号", "单据编号"),
            required=True,
        ),
        Column(
            "line_number", ("Line number", "line_number", "line", "行号", "行项目"), required=True
        ),
        Column(
            "order_date",
            ("Order date", "order_date", "date", "订单日期", "日期", "单据日期"),
            required=True,
        ),
        Column(
            "account",
            ("Account", "account", "客户", "客户名称", "客户编码", "统一社会信用代码"),
            required=True,
        ),
        Column("product_code", ("Product code", "product_code", "产品编码", "物料编码")),
        Column("description", ("Description", "description", "描述", "产品名称", "摘要")),
        Column("quantity", ("Quantity", "quantity", "qty", "数量"), required=True),
        Column("list_price", ("List price", "list_price", "目录价", "标准单价")),
        Column("net_price", ("Net price", "net_price", "成交价", "成交单价", "实际单价")),
        Column("discount", ("Discount", "discount", "折扣金额", "折扣")),
        Column(
            "unit_cost", ("Standard cost", "standard_cost", "unit_cost", "标准成本", "单位成本")
        ),
        Column("line_type", ("Line type", "line_type", "行类型", "类型")),
        Column("currency", ("Currency", "currency", "币种")),
    ]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.accounts = AccountRefs()
        self.products = ProductRefs()
        # number -> (id, account, date) of recently seen orders; older ones are looked up again
        self.orders: OrderedDict[str, tuple[int, int, object]] = OrderedDict()
        # Line keys of recently seen orders: catches a repeated line in an ERP export (which
        # lists an order's lines together) without keeping every key of a huge file in memory.
        self.recent: OrderedDict[str, dict[int, int]] = OrderedDict()
        self.type_table = choice_lookup(OrderLineType)
        # built once: a dict of closures per row costs as much as parsing some of the cells
        self.parsers = {
            "line_number": lambda t: parse_int(t, minimum=1, maximum=1_000_000),
            "order_date": parse_date,
            "quantity": lambda t: parse_decimal(t, places=3),
            "list_price": parse_decimal,
            "net_price": parse_decimal,
            "discount": parse_decimal,
            "unit_cost": lambda t: parse_decimal(t, allow_negative=False),
            "line_type": lambda t: parse_choice(t, self.type_table, OrderLineType),
        }
        self._present: dict[tuple[str, ...], dict] = {}
        # accounts whose orders this import changed: told once, when the import finishes
        self.affected_accounts: set[int] = set()

    def process(self, batch):
        result = BatchResult()
        self.accounts.prefetch({v.get("account", "").strip() for _, v in batch})
        self.products.prefetch({v.get("product_code", "").strip() for _, v in batch} - {""})
        numbers = {v.get("number", "").strip() for _, v in batch} - set(self.orders)
        for pk, number, account_id, order_date in Order.objects.filter(
            number__in=numbers
        ).values_list("pk", "number", "account_id", "order_date"):
            self.orders[number] = (pk, account_id, order_date)
        parsed_rows = []
        for row, values in batch:
            try:
                parsed_rows.append(self._row(row, values))
            except RowRejected as exc:
                result.errors += exc.errors
        if result.errors:
            return result
        # order headers: create the new ones, correct account/date of existing ones
        headers: dict[str, tuple[int, object, str]] = {}
        for p in parsed_rows:
            headers.setdefault(p["number"], (p["account_id"], p["order_date"], p["currency"]))
        new_orders = {
            n: {"number": n, "account_id": a, "order_date": d, "currency": c or "CNY"}
            for n, (a, d, c) in headers.items()
            if n not in self.orders
        }
        created_ids: set[int] = set()
        if new_orders:
            ids = _create_orders(list(new_orders.values()))
            for n, values in new_orders.items():
                self.orders[n] = (ids[n], values["account_id"], values["order_date"])
            created_ids = set(ids.values())
        fix = []
        for number, (account_id, order_date, _currency) in headers.items():
            pk, old_account, old_date = self.orders[number]
            if (old_account, old_date) != (account_id, order_date):
                fix.append(Order(pk=pk, account_id=account_id, order_date=order_date))
                self.affected_accounts.update((old_account, account_id))
                self.orders[number] = (pk, account_id, order_date)
        if fix:
            Order.objects.bulk_update(fix, ["account", "order_date"], batch_size=1000)
        # lines: compare as tuples and insert with one prepared statement per batch, which is
        # several times faster than building model instances for millions of rows
        # (orders created just now have no lines to compare with)
        order_ids = {self.orders[p["number"]][0] for p in parsed_rows} - created_ids
        existing = {
            (row[1], row[2]): row
            for row in OrderLine.objects.filter(order_id__in=order_ids).values_list(
                "pk", "order_id", "line_number", *LINE_FIELDS
            )
        } if order_ids else {}  # fmt: skip
        create, update = [], []
        touched: set[int] = set()
        orders, accounts = self.orders, self.affected_accounts
        for p in parsed_rows:
            order_id = orders[p["number"]][0]
            values = line_values(p["line"])
            old = existing.get((order_id, p["line_number"])) if existing else None
            if old is None:
                create.append((order_id, p["line_number"], *values))
                touched.add(order_id)
                accounts.add(p["account_id"])
                continue
            if old[3:] != values:
                update.append(OrderLine(pk=old[0], **p["line"]))
            else:
                result.unchanged += 1
                continue
            touched.add(order_id)
            accounts.add(p["account_id"])
        if create:
            _insert_lines(create)
        if update:
            OrderLine.objects.bulk_update(update, LINE_FIELDS, batch_size=1000)
        touched |= {o.pk for o in fix}
        # totals of the orders this batch touched, set-based (an order split across two
        # batches is simply summed again)
        order_totals_refresh(order_ids=touched)
        while len(self.orders) > RECENT_ORDERS:
            self.orders.popitem(last=False)
        result.created, result.updated = len(create), len(update)
        return result

    def _row(self, row: int, values: dict[str, str]) -> dict:
        # Only the columns this row has: every parser here reads a missing cell ("") as None,
        # so skipping them changes nothing and saves four calls a row for a typical export.
        parsers = self._present.get(keys := tuple(values))
        if parsers is None:
            parsers = self._present[keys] = {k: f for k, f in self.parsers.items() if k in keys}
        parsed, errors = self.parse_cells(row, values, parsers)
        number = values["number"].strip()
        account_id = self.accounts.get(values["account"])
        if account_id is None:
            errors.append(
                RowError(
                    row,
                    self.header("account"),
                    _("No account “%(ref)s” (by credit code or name).")
                    % {"ref": values["account"].strip()},
                )
            )
        line_type = parsed.get("line_type") or OrderLineType.PRODUCT
        code = values.get("product_code", "").strip()
        product = self.products.get(code) if code else None
        if code and product is None:
            errors.append(
                RowError(
                    row,
                    self.header("product_code"),
                    _("No product with the code “%(code)s”.") % {"code": code},
                )
            )
        line_type_bad = bool(errors) and any(e.column == self.header("line_type") for e in errors)
        if not code and line_type == OrderLineType.PRODUCT and not line_type_bad:
            errors.append(
                RowError(
                    row, self.header("product_code"), _("A product line needs a product code.")
                )
            )
        quantity = parsed.get("quantity")
        if quantity is not None and quantity == 0:
            errors.append(RowError(row, self.header("quantity"), _("The quantity cannot be zero.")))
        list_price = parsed.get("list_price")
        net_price = parsed.get("net_price")
        if list_price is None and product is not None:
            list_price = product[1]
        if net_price is None and list_price is not None:
            discount = parsed.get("discount") or Decimal(0)
            net_price = (
                (list_price - discount / quantity).quantize(Decimal("0.01"))
                if quantity
                else list_price
            )
        if (
            net_price is None
            and parsed.get("net_price") is None
            and not (errors and any(e.column == self.header("net_price") for e in errors))
        ):
            errors.append(
                RowError(row, self.header("net_price"), _("Give a net price or a list price."))
            )
        if line_type == OrderLineType.PRODUCT and net_price is not None and net_price < 0:
            errors.append(
                RowError(
                    row,
                    self.header("net_price"),
                    _("A product line has a positive price; use a rebate or credit note line."),
                )
            )
        recent = self.recent.get(number)
        if recent is not None and parsed.get("line_number") in recent:
            errors.append(
                RowError(
                    row,
                    self.header("line_number"),
                    _("Line %(line)s of order %(order)s is already in row %(row)d.")
                    % {
                        "line": parsed["line_number"],
                        "order": number,
                        "row": recent[parsed["line_number"]],
                    },
                )
            )
        if errors:
            raise RowRejected(errors)
        if recent is None:
            recent = self.recent[number] = {}
            if len(self.recent) > RECENT_ORDERS:
                self.recent.popitem(last=False)
        recent[parsed["line_number"]] = row
        unit_cost = parsed.get("unit_cost")
        if unit_cost is None:
            unit_cost = product[2] if product else Decimal(0)
        amounts = line_amounts(
            line_type=line_type, quantity=quantity,
            list_price=list_price if list_price is not None else net_price,
            net_price=net_price, unit_cost=unit_cost,
        )  # fmt: skip
        line = {
            "line_type": line_type,
            "product_id": product[0] if product else None,
            "description": (
                values.get("description", "").strip() or (product[3] if product else "")
            )[:200],
            "quantity": quantity,
            **amounts,
        }
        return {
            "number": number,
            "line_number": parsed["line_number"],
            "order_date": parsed["order_date"],
            "account_id": account_id,
            "currency": values.get("currency", "").strip().upper()[:3],
            "line": line,
        }

    def finish(self):
        # totals are refreshed batch by batch; the metrics once, for the whole import
        account_figures_changed(account_ids=self.affected_accounts)
        return 0

    def export_rows(self, queryset):
        lines = OrderLine.objects.filter(order__in=queryset.values("pk")).select_related(
            "order__account", "product"
        )
        for line in lines.order_by("order__order_date", "order__number", "line_number").iterator(
            chunk_size=5000
        ):
            order = line.order
            yield [
                order.number,
                line.line_number,
                order.order_date,
                order.account.credit_code or order.account.name,
                line.product.code if line.product else "",
                line.description,
                line.quantity,
                line.list_price,
                line.net_price,
                line.discount_amount,
                line.unit_cost,
                line.get_line_type_display(),
                order.currency,
            ]
