import difflib
import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from keycare.core.exceptions import ApplicationError
from keycare.core.figures import account_figures_changed
from keycare.core.search import search_text
from keycare.core.services import apply_changes, check_version, require_permission
from keycare.core.validators import normalise_credit_code
from keycare.users.models import User

from ..lock_objects import account_qs_select_for_update
from ..models import Account, AccountTeamMember, Tag

ACCOUNT_EDITABLE_FIELDS = {
    "name",
    "name_en",
    "short_name",
    "credit_code",
    "parent",
    "industry",
    "province",
    "city",
    "address",
    "website",
    "status",
    "tier",
    "account_type",
    "owner",
    "notes",
}

_LEGAL_SUFFIXES = re.compile(
    r"(股份有限公司|有限责任公司|有限公司|集团|分公司|公司|总部|厂|co\.?,?\s*ltd\.?|ltd\.?|"
    r"inc\.?|corp\.?|corporation|company|limited|group|gmbh)",
    re.IGNORECASE,
)
_PUNCT = re.compile(r"[\s()（）\[\]【】,，.。·\-_/&]+")


def _core_name(name: str) -> str:
    return _PUNCT.sub("", _LEGAL_SUFFIXES.sub("", name or "")).lower()


def accounts_similar(
    *, name: str, credit_code: str = "", exclude_pk: int | None = None, limit: int = 5
) -> list[Account]:
    """Existing accounts that may be the same company: the same credit code, or a very similar
    name once legal suffixes (有限公司, Co., Ltd., …) are ignored."""
    found: dict[int, Account] = {}
    code = normalise_credit_code(credit_code)
    qs = Account.objects.all()
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if code:
        for account in qs.filter(credit_code=code)[:limit]:
            found[account.pk] = account
    core = _core_name(name)
    if len(core) >= 2:
        # Narrow with SQL on a fragment, then compare whole names in Python (a handful of rows).
        candidates = qs.filter(name__icontains=core[: max(2, len(core) // 2)])[:200]
        for account in candidates:
            ratio = difflib.SequenceMatcher(None, core, _core_name(account.name)).ratio()
            if ratio >= 0.85:
                found.setdefault(account.pk, account)
    return list(found.values())[:limit]


def _set_path(account: Account) -> None:
    parent = account.parent
    account.path = f"{parent.path if parent else '/'}{account.pk}/"
    account.depth = (parent.depth + 1) if parent else 0


def _ancestor_ids(path: str) -> list[int]:
    """The ids above the account in its materialised path ("/1/5/9/" → 1, 5)."""
    return [int(x) for x in path.strip("/").split("/")[:-1] if x]


def _refresh_search(account: Account) -> None:
    account.search_text = search_text(account.name, account.short_name, account.name_en)


def _validate_parent(account: Account) -> None:
    """The hierarchy must stay a tree: the new parent may not be the account or below it."""
    parent = account.parent
    if parent is None or account.pk is None:
        return
    if parent.pk == account.pk or (account.path and parent.path.startswith(account.path)):
        raise ValidationError(
            {"parent": _("This parent would make the account hierarchy circular.")}
        )


@transaction.atomic
def account_create(
    *,
    actor: User | None,
    tags: Iterable[str] = (),
    confirm_duplicate: bool = False,
    **fields: Any,
) -> Account:
    """Create an account. A similar existing account is an error (code "possible_duplicate")
    unless the caller confirms; the same credit code is always an error."""
    if actor is not None:
        require_permission(actor=actor, action="add", model=Account)
    unknown = set(fields) - ACCOUNT_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Unknown account fields: {sorted(unknown)}")
    if actor is not None and fields.get("owner") is None:
        fields["owner"] = actor
    account = Account(**fields)
    account.credit_code = normalise_credit_code(account.credit_code)
    # clean() reports a taken credit code on its field; the constraint is the database's guard
    account.full_clean(validate_constraints=False)
    if not confirm_duplicate:
        similar = accounts_similar(name=account.name, credit_code=account.credit_code)
        if similar:
            raise ApplicationError(
                _("An account with a very similar name already exists: %(names)s.")
                % {"names": "、".join(a.name for a in similar)},
                extra={
                    "code": "possible_duplicate",
                    "similar": [{"id": a.pk, "name": a.name} for a in similar],
                },
            )
    _refresh_search(account)
    account.save()
    _set_path(account)
    # path needs the new id; a queryset update adds no second history row
    Account.objects.filter(pk=account.pk).update(path=account.path, depth=account.depth)
    if tags:
        _set_tags(account, tags)
    account_figures_changed(account_ids=[account.pk])  # its (empty) metrics rows
    return account


@transaction.atomic
def account_update(
    *,
    actor: User | None,
    account: Account,
    data: dict[str, Any],
    expected_version: int | None = None,
    tags: Iterable[str] | None = None,
) -> Account:
    account = account_qs_select_for_update().get(pk=account.pk)
    if actor is not None:
        require_permission(actor=actor, action="change", obj=account)
    check_version(instance=account, expected=expected_version)
    if "credit_code" in data:
        data = {**data, "credit_code": normalise_credit_code(data["credit_code"])}
    old_path = account.path
    changed = apply_changes(instance=account, data=data, allowed=ACCOUNT_EDITABLE_FIELDS)
    tags_changed = tags is not None and sorted(set(tags)) != sorted(
        account.tags.values_list("name", flat=True)
    )
    if not changed and not tags_changed:
        return account
    account.full_clean(validate_constraints=False)
    if "parent" in changed:
        _validate_parent(account)
        _set_path(account)
    _refresh_search(account)
    # The row is locked, so a plain increment is safe (and history records the value).
    account.version += 1
    account.save()
    if "parent" in changed and old_path != account.path:
        _move_subtree(old_path, account.path, account.depth)
        # the group figures of the old ancestors lose the subtree, the new ones (found
        # from the account's new path) gain it
        account_figures_changed(account_ids=[account.pk, *_ancestor_ids(old_path)])
    if tags_changed:
        _set_tags(account, tags)
    return account


TIER_BATCH = 2000


@transaction.atomic
def accounts_tier_set(*, account_ids: Iterable[int], tier: str) -> int:
    """Set one tier on many accounts at once (the tier source's application): one UPDATE per
    batch, the version bumped so open edit forms notice. The tier is not part of the search
    text and moves no account, so nothing else of `account_update` applies. The caller
    checks who may do it and records why. Returns the number of accounts updated."""
    from django.db.models import F
    from django.utils import timezone

    ids, now, updated = list(account_ids), timezone.now(), 0
    for i in range(0, len(ids), TIER_BATCH):
        updated += Account.objects.filter(pk__in=ids[i : i + TIER_BATCH]).update(
            tier=tier, version=F("version") + 1, updated_at=now
        )
    return updated


def _move_subtree(old_path: str, new_path: str, new_depth: int) -> None:
    """Re-root every descendant in one UPDATE (set-based, whatever the subtree size)."""
    old_depth = old_path.count("/") - 2
    Account.objects.filter(path__startswith=old_path).exclude(path=new_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + (new_depth - old_depth),
    )


def _set_tags(account: Account, names: Iterable[str]) -> None:
    clean = sorted({n.strip() for n in names if n and n.strip()})
    for name in clean:
        if len(name) > 40:
            raise ValidationError({"tags": _("A tag has at most 40 characters.")})
    existing = {t.name: t for t in Tag.objects.filter(name__in=clean)}
    missing = [Tag(name=n) for n in clean if n not in existing]
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    account.tags.set(Tag.objects.filter(name__in=clean))


@transaction.atomic
def account_set_tags(*, actor: User | None, account: Account, names: Iterable[str]) -> Account:
    if actor is not None:
        require_permission(actor=actor, action="change", obj=account)
    _set_tags(account, names)
    return account


@transaction.atomic
def account_delete(*, actor: User, account: Account) -> None:
    require_permission(actor=actor, action="delete", obj=account)
    if account.children.exists():
        raise ValidationError(
            _("This account has branches. Move or delete them before deleting the account.")
        )
    if account.orders.exists() or account.equipment.exists():
        raise ValidationError(
            _(
                "This account has orders or equipment; set its status to lost instead of deleting it."
            )
        )
    ancestors = _ancestor_ids(account.path)
    account.delete()
    # its tickets and NPS answers leave its groups' figures with it
    account_figures_changed(account_ids=ancestors)


@transaction.atomic
def account_team_member_add(
    *, actor: User | None, account: Account, user: User, role: str
) -> AccountTeamMember:
    if actor is not None:
        require_permission(actor=actor, action="change", obj=account)
    member = AccountTeamMember(account=account, user=user, role=role)
    member.full_clean(validate_unique=False, validate_constraints=False)
    member, _created = AccountTeamMember.objects.get_or_create(
        account=account, user=user, role=role
    )
    return member


@transaction.atomic
def account_team_member_remove(*, actor: User | None, member: AccountTeamMember) -> None:
    if actor is not None:
        require_permission(actor=actor, action="change", obj=member.account)
    member.delete()
