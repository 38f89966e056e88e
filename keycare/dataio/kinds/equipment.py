from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from keycare.accounts.choices import EquipmentStatus
from keycare.accounts.models import Equipment, Product
from keycare.accounts.services.equipment import add_months
from keycare.core.tabular import Column

from ..parsing import choice_lookup, parse_choice, parse_date
from .base import BatchResult, Kind, RowError, RowRejected
from .refs import AccountRefs, ProductRefs


class EquipmentKind(Kind):
    """Installed base, matched on product code + serial number. `part of` names the serial
    number of another unit at the same account (a line and its machines)."""

    name = "equipment"
    columns = [
        Column(
            "serial_number",
            ("Serial number", "serial_number", "序列号", "出厂编号", "设备编号"),
            required=True,
        ),
        Column(
            "product_code", ("Product code", "product_code", "产品编码", "物料编码"), required=True
        ),
        Column("account", ("Account", "account", "客户", "客户名称", "使用单位"), required=True),
        Column("site", ("Site", "site", "安装地点", "地点")),
        Column("install_date", ("Install date", "install_date", "安装日期")),
        Column("warranty_end", ("Warranty end", "warranty_end", "保修截止", "保修到期日")),
        Column("status", ("Status", "status", "状态", "设备状态")),
        Column("parent_serial", ("Part of", "parent_serial", "所属设备", "上级设备序列号")),
        Column("contract_ref", ("Service contract", "contract_ref", "服务合同", "合同编号")),
        Column("notes", ("Notes", "notes", "备注")),
    ]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.accounts = AccountRefs()
        self.products = ProductRefs()
        self.seen: dict[tuple[int, str], int] = {}
        self.pending_parents: list[tuple[int, int, int, str]] = []
        self.status_table = choice_lookup(EquipmentStatus)

    def process(self, batch):
        result = BatchResult()
        self.accounts.prefetch({v.get("account", "").strip() for _, v in batch})
        self.products.prefetch({v.get("product_code", "").strip() for _, v in batch})
        keys = set()
        for _row, v in batch:
            product = self.products.get(v.get("product_code", ""))
            if product:
                keys.add((product[0], v.get("serial_number", "").strip()))
        existing = {}
        product_ids = {k[0] for k in keys}
        serials = {k[1] for k in keys}
        for e in Equipment.objects.filter(product_id__in=product_ids, serial_number__in=serials):
            existing[(e.product_id, e.serial_number)] = e
        warranty = dict(
            Product.objects.filter(pk__in=product_ids).values_list("pk", "warranty_months")
        )
        new, changed, parents = [], [], []
        for row, values in batch:
            try:
                parsed = self.cells(
                    row,
                    values,
                    {
                        "install_date": parse_date,
                        "warranty_end": parse_date,
                        "status": lambda t: parse_choice(t, self.status_table, EquipmentStatus),
                    },
                )
                errors = []
                product = self.products.get(values["product_code"])
                if product is None:
                    errors.append(
                        RowError(
                            row,
                            self.header("product_code"),
                            _("No product with the code “%(code)s”.")
                            % {"code": values["product_code"].strip()},
                        )
                    )
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
                if errors:
                    raise RowRejected(errors)
                serial = values["serial_number"].strip()
                key = (product[0], serial)
                if key in self.seen:
                    raise RowRejected(
                        [
                            RowError(
                                row,
                                self.header("serial_number"),
                                _("The same unit is already in row %(row)d.")
                                % {"row": self.seen[key]},
                            )
                        ]
                    )
                self.seen[key] = row
                data = {"serial_number": serial, "product_id": product[0], "account_id": account_id}
                for field in ("site", "contract_ref", "notes"):
                    if field in self.header_names:
                        data[field] = values.get(field, "").strip()
                for field in ("install_date", "status"):
                    if parsed.get(field) is not None:
                        data[field] = parsed[field]
                if parsed.get("warranty_end") is not None:
                    data["warranty_end"] = parsed["warranty_end"]
                elif parsed.get("install_date") is not None:
                    data["warranty_end"] = add_months(parsed["install_date"], warranty[product[0]])
                unit = existing.get(key)
                if unit is None:
                    unit = Equipment(**data)
                    fields = list(data)
                else:
                    fields = self.differs(unit, data)
                if unit.pk is None or fields:
                    try:
                        unit.full_clean(
                            exclude=["product", "account", "parent"],
                            validate_unique=False,
                            validate_constraints=False,
                        )
                    except ValidationError as exc:
                        raise self.model_errors(row, exc) from None
                    if (
                        unit.install_date
                        and unit.warranty_end
                        and unit.warranty_end < unit.install_date
                    ):
                        raise RowRejected(
                            [
                                RowError(
                                    row,
                                    self.header("warranty_end"),
                                    _("The warranty cannot end before installation."),
                                )
                            ]
                        )
            except RowRejected as exc:
                result.errors += exc.errors
                continue
            if unit.pk is None:
                new.append(unit)
            elif fields:
                changed.append((unit, fields))
            else:
                result.unchanged += 1
            if "parent_serial" in self.header_names:
                parents.append((row, unit, account_id, values.get("parent_serial", "").strip()))
        if result.errors:
            return result
        if new:
            bulk_create_with_history(new, Equipment, batch_size=500)
        if changed:
            for unit, _f in changed:
                unit.version += 1
            names = sorted({f for _, fs in changed for f in fs} | {"version"})
            bulk_update_with_history([u for u, _ in changed], Equipment, names, batch_size=500)
        self.pending_parents += [(row, u.pk, a, s) for row, u, a, s in parents]
        result.created, result.updated = len(new), len(changed)
        return result

    def finish(self):
        errors, updates = [], []
        for row, unit_id, account_id, parent_serial in self.pending_parents:
            parent_id = None
            if parent_serial:
                matches = list(
                    Equipment.objects.filter(
                        account_id=account_id, serial_number=parent_serial
                    ).values_list("pk", flat=True)[:2]
                )
                if len(matches) != 1 or matches[0] == unit_id:
                    errors.append(
                        RowError(
                            row,
                            self.header("parent_serial"),
                            _("No single other unit with serial number “%(sn)s” at this account.")
                            % {"sn": parent_serial},
                        )
                    )
                    continue
                parent_id = matches[0]
            updates.append((unit_id, parent_id))
        if errors:
            raise RowRejected(errors)
        current = dict(
            Equipment.objects.filter(pk__in=[u for u, _ in updates]).values_list("pk", "parent_id")
        )
        to_save = [Equipment(pk=u, parent_id=p) for u, p in updates if current.get(u) != p]
        Equipment.objects.bulk_update(to_save, ["parent"], batch_size=500)
        return len(to_save)

    def export_rows(self, queryset):
        for e in queryset.select_related("product", "account", "parent").iterator(chunk_size=2000):
            yield [
                e.serial_number,
                e.product.code,
                e.account.credit_code or e.account.name,
                e.site,
                e.install_date,
                e.warranty_end,
                e.get_status_display(),
                e.parent.serial_number if e.parent else "",
                e.contract_ref,
                e.notes,
            ]
