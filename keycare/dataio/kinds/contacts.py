from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from keycare.accounts.choices import BuyingRole, DecisionStyle
from keycare.accounts.models import Contact
from keycare.core.search import search_text
from keycare.core.tabular import Column
from keycare.core.validators import normalise_phone

from ..parsing import choice_lookup, parse_bool, parse_choice, parse_int
from .base import BatchResult, Kind, RowError, RowRejected
from .refs import AccountRefs


class ContactsKind(Kind):
    """Contacts are matched on account + name; reports-to names another contact of the same
    account and is resolved after all rows are in."""

    name = "contacts"
    columns = [
        Column(
            "account", ("Account", "account", "客户", "客户名称", "所属客户", "公司"), required=True
        ),
        Column("name", ("Name", "name", "姓名", "联系人"), required=True),
        Column("title", ("Title", "title", "职务", "职位")),
        Column("department", ("Department", "department", "部门")),
        Column("mobile", ("Mobile", "mobile", "手机", "手机号", "手机号码")),
        Column("email", ("Email", "email", "邮箱", "电子邮箱")),
        Column("wechat_id", ("WeChat ID", "wechat", "wechat_id", "微信", "微信号")),
        Column("buying_role", ("Buying role", "buying_role", "采购角色", "决策角色")),
        Column("decision_style", ("Decision style", "decision_style", "决策风格", "风格")),
        Column("influence", ("Influence", "influence", "影响力")),
        Column("relationship", ("Relationship", "relationship", "关系强度", "关系")),
        Column("reports_to", ("Reports to", "reports_to", "直属上级", "上级")),
        Column("is_active", ("Active", "is_active", "在职", "是否在职")),
    ]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.refs = AccountRefs()
        self.seen: dict[tuple[int, str], int] = {}
        self.pending_reports: list[tuple[int, int, int, str]] = []  # row, contact, account, name
        self.role_table = choice_lookup(BuyingRole)
        self.style_table = choice_lookup(DecisionStyle)

    def process(self, batch):
        result = BatchResult()
        self.refs.prefetch({v.get("account", "").strip() for _, v in batch})
        account_ids = {self.refs.get(v.get("account", "")) for _, v in batch} - {None}
        names = {v.get("name", "").strip() for _, v in batch}
        existing = {
            (c.account_id, c.name): c
            for c in Contact.objects.filter(account_id__in=account_ids, name__in=names).order_by(
                "-pk"
            )
        }
        new, changed, reports = [], [], []
        for row, values in batch:
            try:
                contact, fields, account_id = self._row(row, values, existing)
            except RowRejected as exc:
                result.errors += exc.errors
                continue
            if contact.pk is None:
                new.append(contact)
            elif fields:
                changed.append((contact, fields))
            else:
                result.unchanged += 1
            if "reports_to" in self.header_names:
                reports.append((row, contact, account_id, values.get("reports_to", "").strip()))
        if result.errors:
            return result
        if new:
            bulk_create_with_history(new, Contact, batch_size=500)
        if changed:
            for contact, _f in changed:
                contact.version += 1
            names_ = sorted({f for _, fs in changed for f in fs} | {"version", "search_text"})
            bulk_update_with_history([c for c, _ in changed], Contact, names_, batch_size=500)
        self.pending_reports += [(row, c.pk, a, n) for row, c, a, n in reports]
        result.created, result.updated = len(new), len(changed)
        return result

    def _row(self, row, values, existing):
        parsed, cell_errors = self.parse_cells(
            row,
            values,
            {
                "buying_role": lambda t: parse_choice(t, self.role_table, BuyingRole),
                "decision_style": lambda t: parse_choice(t, self.style_table, DecisionStyle),
                "influence": lambda t: parse_int(t, minimum=1, maximum=5),
                "relationship": lambda t: parse_int(t, minimum=1, maximum=5),
                "is_active": parse_bool,
            },
        )
        ref = values["account"].strip()
        account_id = self.refs.get(ref)
        if account_id is None:
            raise RowRejected(
                [
                    *cell_errors,
                    RowError(
                        row,
                        self.header("account"),
                        _("No account “%(ref)s” (by credit code or name).") % {"ref": ref},
                    ),
                ]
            )
        name = values["name"].strip()
        key = (account_id, name)
        if key in self.seen:
            raise RowRejected(
                [
                    RowError(
                        row,
                        self.header("name"),
                        _("The same person at the same account is already in row %(row)d.")
                        % {"row": self.seen[key]},
                    )
                ]
            )
        self.seen[key] = row
        data = {"account_id": account_id, "name": name}
        for field in ("title", "department", "wechat_id"):
            if field in self.header_names:
                data[field] = values.get(field, "").strip()
        if "mobile" in self.header_names:
            data["mobile"] = normalise_phone(values.get("mobile", ""))
        if "email" in self.header_names:
            data["email"] = values.get("email", "").strip().lower()
        for field in ("buying_role", "decision_style", "influence", "relationship", "is_active"):
            if parsed.get(field) is not None:
                data[field] = parsed[field]
        contact = existing.get(key)
        if contact is None:
            contact = Contact(**data)
            fields = list(data)
        else:
            fields = self.differs(contact, data)
        errors = list(cell_errors)
        if contact.pk is None or fields:
            try:
                contact.full_clean(
                    exclude=[
                        "account",
                        "search_text",
                        *[k for k, v in parsed.items() if v is None],
                    ],
                    validate_unique=False,
                    validate_constraints=False,
                )
            except ValidationError as exc:
                errors += self.model_errors(row, exc).errors
            contact.search_text = search_text(contact.name)
        if errors:
            raise RowRejected(errors)
        return contact, fields, account_id

    def finish(self):
        """Resolve reports-to names within each account, now that every contact exists."""
        errors: list[RowError] = []
        updates = []
        for row, contact_id, account_id, boss_name in self.pending_reports:
            boss_id = None
            if boss_name:
                boss_id = (
                    Contact.objects.filter(account_id=account_id, name=boss_name)
                    .values_list("pk", flat=True)
                    .first()
                )
                if boss_id is None:
                    errors.append(
                        RowError(
                            row,
                            self.header("reports_to"),
                            _("No contact named “%(name)s” at this account.") % {"name": boss_name},
                        )
                    )
                    continue
                if boss_id == contact_id:
                    errors.append(
                        RowError(
                            row,
                            self.header("reports_to"),
                            _("A person cannot report to themselves."),
                        )
                    )
                    continue
            updates.append((contact_id, boss_id))
        if errors:
            raise RowRejected(errors)
        current = dict(
            Contact.objects.filter(pk__in=[c for c, _ in updates]).values_list(
                "pk", "reports_to_id"
            )
        )
        to_save = [Contact(pk=c, reports_to_id=b) for c, b in updates if current.get(c) != b]
        Contact.objects.bulk_update(to_save, ["reports_to"], batch_size=500)
        self._check_cycles([c for c, _ in updates], errors)
        return len(to_save)

    def _check_cycles(self, contact_ids: list[int], errors: list[RowError]) -> None:
        accounts = Contact.objects.filter(pk__in=contact_ids).values("account_id")
        boss = dict(
            Contact.objects.filter(account_id__in=accounts).values_list("pk", "reports_to_id")
        )
        rows = {c: row for row, c, _a, _n in self.pending_reports}
        for start in contact_ids:
            node, steps = boss.get(start), 0
            while node is not None and steps < 10_000:
                if node == start:
                    errors.append(
                        RowError(
                            rows.get(start, 0),
                            self.header("reports_to"),
                            _("This would make the reporting line circular."),
                        )
                    )
                    break
                node, steps = boss.get(node), steps + 1
        if errors:
            raise RowRejected(errors)

    def export_rows(self, queryset):
        for c in queryset.select_related("account", "reports_to").iterator(chunk_size=2000):
            yield [
                c.account.credit_code or c.account.name,
                c.name,
                c.title,
                c.department,
                c.mobile,
                c.email,
                c.wechat_id,
                c.get_buying_role_display(),
                c.get_decision_style_display(),
                c.influence,
                c.relationship,
                c.reports_to.name if c.reports_to else "",
                _("yes") if c.is_active else _("no"),
            ]
