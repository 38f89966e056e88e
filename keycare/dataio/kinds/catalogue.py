from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from keycare.accounts.models import Product, ProductLine
from keycare.core.tabular import Column

from ..parsing import parse_bool, parse_decimal, parse_int
from .base import BatchResult, Kind, RowError, RowRejected


class ProductsKind(Kind):
    name = "products"
    columns = [
        Column("code", ("Product code", "code", "产品编码", "物料编码", "编码"), required=True),
        Column("name", ("Name", "name", "产品名称", "名称"), required=True),
        Column("product_line", ("Product line", "product_line", "产品线")),
        Column("category", ("Category", "category", "类别", "产品类别")),
        Column("unit", ("Unit", "unit", "单位")),
        Column("list_price", ("List price", "list_price", "目录价", "标准售价", "单价")),
        Column("standard_cost", ("Standard cost", "standard_cost", "标准成本", "成本")),
        Column(
            "warranty_months", ("Warranty months", "warranty_months", "保修期（月）", "保修月数")
        ),
        Column("is_active", ("Active", "is_active", "启用", "是否启用")),
    ]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen: dict[str, int] = {}
        self.lines: dict[str, ProductLine] = {}

    def _line(self, ref: str) -> ProductLine:
        if ref not in self.lines:
            line = (
                ProductLine.objects.filter(code=ref).first()
                or ProductLine.objects.filter(name=ref).first()
            )
            if line is None:
                line = ProductLine(code=ref[:30], name=ref[:100])
                line.full_clean()
                line.save()
            self.lines[ref] = line
        return self.lines[ref]

    def process(self, batch):
        result = BatchResult()
        codes = {v.get("code", "").strip() for _, v in batch}
        existing = {p.code: p for p in Product.objects.filter(code__in=codes)}
        new, changed = [], []
        for row, values in batch:
            try:
                parsed = self.cells(
                    row,
                    values,
                    {
                        "list_price": lambda t: parse_decimal(t, allow_negative=False),
                        "standard_cost": lambda t: parse_decimal(t, allow_negative=False),
                        "warranty_months": lambda t: parse_int(t, minimum=0, maximum=600),
                        "is_active": parse_bool,
                    },
                )
                code = values["code"].strip()
                if code in self.seen:
                    raise RowRejected(
                        [
                            RowError(
                                row,
                                self.header("code"),
                                _("The same product is already in row %(row)d.")
                                % {"row": self.seen[code]},
                            )
                        ]
                    )
                self.seen[code] = row
                data = {"code": code, "name": values["name"].strip()}
                for key in ("category", "unit"):
                    if key in self.header_names and values.get(key, "").strip():
                        data[key] = values[key].strip()
                for key in ("list_price", "standard_cost", "warranty_months", "is_active"):
                    if parsed.get(key) is not None:
                        data[key] = parsed[key]
                if values.get("product_line", "").strip():
                    data["product_line"] = self._line(values["product_line"].strip())
                product = existing.get(code)
                if product is None:
                    product = Product(**data)
                    fields = list(data)
                else:
                    fields = self.differs(product, data)
                if product.pk is None or fields:
                    try:
                        product.full_clean(validate_unique=False, validate_constraints=False)
                    except ValidationError as exc:
                        raise self.model_errors(row, exc) from None
            except RowRejected as exc:
                result.errors += exc.errors
                continue
            if product.pk is None:
                new.append(product)
            elif fields:
                changed.append((product, fields))
            else:
                result.unchanged += 1
        if result.errors:
            return result
        if new:
            bulk_create_with_history(new, Product, batch_size=500)
        if changed:
            names = sorted(
                {("product_line" if f == "product_line" else f) for _, fs in changed for f in fs}
            )
            bulk_update_with_history([p for p, _ in changed], Product, names, batch_size=500)
        result.created, result.updated = len(new), len(changed)
        return result

    def _hide_cost(self) -> bool:
        from keycare.accounts.scopes import may_see_costs

        return self.actor is not None and not may_see_costs(self.actor)

    def export_header_row(self, language: str) -> list[str]:
        headers = self.export_headers(language)
        if self._hide_cost():
            del headers[[c.key for c in self.columns].index("standard_cost")]
        return headers

    def export_rows(self, queryset):
        hide_cost = self._hide_cost()
        for p in queryset.select_related("product_line").iterator(chunk_size=2000):
            row = [
                p.code, p.name, p.product_line.code if p.product_line else "", p.category, p.unit,
                p.list_price, p.standard_cost, p.warranty_months, _("yes") if p.is_active else _("no"),
            ]  # fmt: skip
            if hide_cost:
                del row[6]
            yield row
