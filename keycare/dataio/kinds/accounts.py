from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from keycare.accounts.choices import AccountStatus, AccountTier, AccountType
from keycare.accounts.models import Account, Tag
from keycare.accounts.services.accounts import _ancestor_ids, _move_subtree
from keycare.core.figures import account_figures_changed
from keycare.core.search import search_text
from keycare.core.tabular import Column
from keycare.core.validators import normalise_credit_code

from ..parsing import choice_lookup, parse_choice, split_list
from .base import BatchResult, Kind, RowError, RowRejected
from .refs import AccountRefs, UserRefs

FIELDS = [
    "name",
    "name_en",
    "short_name",
    "credit_code",
    "industry",
    "province",
    "city",
    "address",
    "website",
    "status",
    "tier",
    "account_type",
    "owner_id",
    "notes",
]


class _Pending:
    """Rows of a batch waiting to be written."""

    def __init__(self):
        self.new: list[tuple[int, Account, str]] = []
        self.changed: list[tuple[Account, list[str], str]] = []
        self.tags: dict[int, list[str]] = {}

    def provides(self, ref: str) -> bool:
        code = normalise_credit_code(ref)
        return any(a.credit_code == code or a.name == ref for _row, a, _ref in self.new)


class AccountsKind(Kind):
    name = "accounts"
    columns = [
        Column(
            "credit_code",
            ("Credit code", "credit_code", "统一社会信用代码", "社会信用代码", "信用代码"),
        ),
        Column(
            "name",
            ("Name", "name", "Account name", "客户名称", "名称", "公司名称", "单位名称"),
            required=True,
        ),
        Column("name_en", ("English name", "name_en", "英文名称", "英文名")),
        Column("short_name", ("Short name", "short_name", "简称", "客户简称")),
        Column("parent", ("Parent account", "parent", "上级客户", "上级单位", "所属集团")),
        Column("industry", ("Industry", "industry", "行业", "所属行业")),
        Column("province", ("Province", "province", "省份", "省")),
        Column("city", ("City", "city", "城市", "市")),
        Column("address", ("Address", "address", "地址", "详细地址")),
        Column("website", ("Website", "website", "网址", "网站")),
        Column("status", ("Status", "status", "状态", "客户状态")),
        Column("tier", ("Tier", "tier", "层级", "客户层级")),
        Column("account_type", ("Account type", "account_type", "客户类型")),
        Column("owner", ("Owner", "owner", "负责人", "客户经理")),
        Column("tags", ("Tags", "tags", "标签")),
        Column("notes", ("Notes", "notes", "备注")),
    ]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.refs = AccountRefs()
        self.users = UserRefs()
        self.seen: dict[tuple[str, str], int] = {}
        self.status_table = choice_lookup(AccountStatus)
        self.tier_table = choice_lookup(AccountTier)
        self.type_table = choice_lookup(AccountType)
        # new accounts and moved ones with their old ancestors: the metrics to refresh once
        # the import finishes
        self.affected_accounts: set[int] = set()

    def process(self, batch):
        result = BatchResult()
        keys = {
            normalise_credit_code(v.get("credit_code", "")) or v.get("name", "").strip()
            for _row, v in batch
        }
        keys |= {v.get("parent", "").strip() for _row, v in batch}
        self.refs.prefetch(keys)
        existing = self._existing(batch)
        pending = _Pending()
        for row, values in batch:
            parent_ref = values.get("parent", "").strip()
            if parent_ref and pending.provides(parent_ref) and not result.errors:
                # the parent is a new account a few rows up: write it first
                self._flush(pending, result, batch)
                pending = _Pending()
            try:
                account, fields, parent_ref = self._row(row, values, existing)
            except RowRejected as exc:
                result.errors += exc.errors
                continue
            if account.pk is None:
                pending.new.append((row, account, parent_ref))
            elif fields:
                pending.changed.append((account, fields, parent_ref))
            else:
                result.unchanged += 1
            if "tags" in self.header_names:
                pending.tags[row] = split_list(values.get("tags", ""))
        if not result.errors:
            self._flush(pending, result, batch)
        return result

    def _flush(self, pending: "_Pending", result: BatchResult, batch) -> None:
        created = [a for _row, a, _ref in pending.new]
        if created:
            bulk_create_with_history(created, Account, batch_size=500)
            for _row, account, _ref in pending.new:
                self.refs.remember(account.pk, account.credit_code, account.name)
            self._set_paths(created)
            self.affected_accounts.update(a.pk for a in created)
        changed = pending.changed
        if changed:
            moved = [(a, a.path) for a, f, _ref in changed if "parent_id" in f]
            for account, _fields, _ref in changed:
                account.version += 1
            field_names = sorted(
                {f for _a, fs, _ref in changed for f in fs} | {"version", "search_text"}
            )
            bulk_update_with_history(
                [a for a, _f, _ref in changed], Account, field_names, batch_size=500
            )
            for account, old_path in moved:
                self._set_paths([account])
                _move_subtree(old_path, account.path, account.depth)
                self.affected_accounts.update([account.pk, *_ancestor_ids(old_path)])
        self._apply_tags(pending.tags, pending.new, changed, batch)
        result.created += len(created)
        result.updated += len(changed)

    def _existing(self, batch) -> dict[str, Account]:
        codes = {normalise_credit_code(v.get("credit_code", "")) for _, v in batch} - {""}
        names = {v.get("name", "").strip() for _, v in batch}
        found: dict[str, Account] = {}
        for account in Account.objects.filter(credit_code__in=codes):
            found["code:" + account.credit_code] = account
        for account in Account.objects.filter(name__in=names).order_by("pk"):
            found.setdefault("name:" + account.name, account)
            if not account.credit_code:
                found.setdefault("blankcode:" + account.name, account)
        return found

    def _row(self, row: int, values: dict[str, str], existing: dict[str, Account]):
        parsed, cell_errors = self.parse_cells(
            row,
            values,
            {
                "status": lambda t: parse_choice(t, self.status_table, AccountStatus),
                "tier": lambda t: parse_choice(t, self.tier_table, AccountTier),
                "account_type": lambda t: parse_choice(t, self.type_table, AccountType),
            },
        )
        code = normalise_credit_code(values.get("credit_code", ""))
        name = values.get("name", "").strip()
        key = ("code", code) if code else ("name", name)
        if key in self.seen:
            raise RowRejected(
                [
                    RowError(
                        row,
                        self.header("credit_code" if code else "name"),
                        _("The same account is already in row %(row)d.") % {"row": self.seen[key]},
                    )
                ]
            )
        self.seen[key] = row
        if code:
            # an account entered by hand without its code is matched by name; the code is filled
            account = existing.get(f"code:{code}") or existing.get(f"blankcode:{name}")
        else:
            account = existing.get(f"name:{name}")
        errors: list[RowError] = list(cell_errors)
        parent_ref = values.get("parent", "").strip()
        parent_id = None
        if parent_ref:
            parent_id = self.refs.get(parent_ref)
            if parent_id is None:
                errors.append(
                    RowError(
                        row,
                        self.header("parent"),
                        _(
                            "No account “%(ref)s” (by credit code or name); list parent accounts before "
                            "their branches."
                        )
                        % {"ref": parent_ref},
                    )
                )
            elif account is not None and parent_id == account.pk:
                errors.append(
                    RowError(row, self.header("parent"), _("An account cannot be its own parent."))
                )
        owner_id = None
        owner_ref = values.get("owner", "").strip()
        if owner_ref:
            owner_id = self.users.get(owner_ref)
            if owner_id is None:
                errors.append(
                    RowError(
                        row,
                        self.header("owner"),
                        _("No active user with the username “%(u)s”.") % {"u": owner_ref},
                    )
                )
        if errors:
            raise RowRejected(errors)
        data = {"name": name, "credit_code": code}
        for key_ in (
            "name_en",
            "short_name",
            "industry",
            "province",
            "city",
            "address",
            "website",
            "notes",
        ):
            if key_ in self.header_names:
                data[key_] = values.get(key_, "").strip()
        for key_ in ("status", "tier", "account_type"):
            if key_ in self.header_names and parsed.get(key_) is not None:
                data[key_] = parsed[key_]
        if "owner" in self.header_names:
            data["owner_id"] = owner_id
        if "parent" in self.header_names:
            data["parent_id"] = parent_id
        if account is None:
            account = Account(**data)
            fields = list(data)
        else:
            fields = self.differs(account, data)
        if account.pk is None or fields:
            try:
                account.clean_fields(exclude=["parent", "owner", "search_text", "path"])
            except ValidationError as exc:
                raise self.model_errors(row, exc) from None
            account.search_text = search_text(account.name, account.short_name, account.name_en)
        return account, fields, parent_ref

    def _set_paths(self, accounts: list[Account]) -> None:
        parent_ids = {a.parent_id for a in accounts if a.parent_id}
        paths = dict(Account.objects.filter(pk__in=parent_ids).values_list("pk", "path"))
        by_id = {a.pk: a for a in accounts}
        for account in accounts:  # rows are in file order, parents before branches
            if account.parent_id:
                parent_path = (
                    by_id[account.parent_id].path
                    if account.parent_id in by_id
                    else paths[account.parent_id]
                )
                account.path = f"{parent_path}{account.pk}/"
            else:
                account.path = f"/{account.pk}/"
            account.depth = account.path.count("/") - 2
        Account.objects.bulk_update(accounts, ["path", "depth"], batch_size=500)

    def _apply_tags(self, tags, new, changed, batch) -> None:
        if not tags:
            return
        by_row = {row: a for row, a, _ in new}
        accounts_by_name = {a.name: a for a, _, _ in changed}
        names = sorted({t for ts in tags.values() for t in ts})
        Tag.objects.bulk_create([Tag(name=n[:40]) for n in names], ignore_conflicts=True)
        tag_ids = dict(
            Tag.objects.filter(name__in=[n[:40] for n in names]).values_list("name", "pk")
        )
        for row, values in batch:
            if row not in tags:
                continue
            account = by_row.get(row) or accounts_by_name.get(values.get("name", "").strip())
            if account is None:
                account = Account.objects.filter(
                    pk=self.refs.get(
                        normalise_credit_code(values.get("credit_code", ""))
                        or values.get("name", "").strip()
                    )
                    or 0
                ).first()
            if account is not None:
                wanted = {tag_ids[n[:40]] for n in tags[row]}
                if set(account.tags.values_list("pk", flat=True)) != wanted:
                    account.tags.set(wanted)

    def finish(self):
        account_figures_changed(account_ids=self.affected_accounts)

    def export_rows(self, queryset):
        for a in (
            queryset.select_related("parent", "owner")
            .prefetch_related("tags")
            .iterator(chunk_size=2000)
        ):
            yield [
                a.credit_code,
                a.name,
                a.name_en,
                a.short_name,
                (a.parent.credit_code or a.parent.name) if a.parent else "",
                a.industry,
                a.province,
                a.city,
                a.address,
                a.website,
                a.get_status_display(),
                a.get_tier_display() if a.tier else "",
                a.get_account_type_display() if a.account_type else "",
                a.owner.username if a.owner else "",
                "、".join(t.name for t in a.tags.all()),
                a.notes,
            ]
