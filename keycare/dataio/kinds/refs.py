"""Look-ups of referenced rows by their natural keys, cached for the length of one import."""

from keycare.accounts.models import Account, Product
from keycare.core.validators import normalise_credit_code
from keycare.users.models import User


class AccountRefs:
    """Find an account by credit code or exact name (what an ERP export carries)."""

    def __init__(self):
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, int] = {}
        self.missing: set[str] = set()

    def remember(self, account_id: int, code: str, name: str) -> None:
        if code:
            self.by_code[code] = account_id
        if name:
            self.by_name[name] = account_id
        self.missing.discard(code)
        self.missing.discard(name)

    def prefetch(self, refs: set[str]) -> None:
        wanted = {r for r in refs if r and r not in self.by_code and r not in self.by_name}
        wanted -= self.missing
        if not wanted:
            return
        codes = {normalise_credit_code(r) for r in wanted if len(normalise_credit_code(r)) == 18}
        rows = Account.objects.filter(credit_code__in=codes).values_list(
            "pk", "credit_code", "name"
        )
        for pk, code, _name in rows:
            self.by_code[code] = pk
        names = [r for r in wanted if normalise_credit_code(r) not in self.by_code]
        for start in range(0, len(names), 500):
            for pk, _code, name in Account.objects.filter(
                name__in=names[start : start + 500]
            ).values_list("pk", "credit_code", "name"):
                self.by_name.setdefault(name, pk)
        for ref in wanted:
            if self.get(ref) is None:
                self.missing.add(ref)

    def get(self, ref: str) -> int | None:
        ref = ref.strip()
        code = normalise_credit_code(ref)
        return self.by_code.get(code) or self.by_name.get(ref)


class ProductRefs:
    def __init__(self):
        self.by_code: dict[str, tuple[int, object, object, str]] = {}
        self.missing: set[str] = set()

    def prefetch(self, codes: set[str]) -> None:
        wanted = {c for c in codes if c and c not in self.by_code} - self.missing
        if not wanted:
            return
        for row in Product.objects.filter(code__in=wanted).values_list(
            "pk", "code", "list_price", "standard_cost", "name"
        ):
            self.by_code[row[1]] = (row[0], row[2], row[3], row[4])
        self.missing |= {c for c in wanted if c not in self.by_code}

    def get(self, code: str):
        return self.by_code.get(code.strip())


class UserRefs:
    def __init__(self):
        self.cache: dict[str, int | None] = {}

    def get(self, username: str) -> int | None:
        username = username.strip()
        if username not in self.cache:
            self.cache[username] = (
                User.objects.filter(username=username, is_active=True)
                .values_list("pk", flat=True)
                .first()
            )
        return self.cache[username]
