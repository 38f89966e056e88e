"""Deterministic demo data. Everything is written through the domain services."""

import random
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from faker import Faker

from keycare.accounts.choices import AccountStatus, AccountTeamRole
from keycare.accounts.models import Account
from keycare.accounts.services import account_create, account_team_member_add, contact_create
from keycare.users.choices import Role
from keycare.users.models import User
from keycare.users.services import user_create

from .geography import BRAND_WORDS, INDUSTRIES, PROVINCES, TITLES

DEMO_PASSWORD = "keycare-demo"  # noqa: S105 - printed for the demo on purpose

#: One login per role, printed by `make demo`.
DEMO_USERS: list[tuple[str, str, str]] = [
    ("admin", Role.ADMINISTRATOR, "王静"),
    ("exec", Role.EXECUTIVE, "陈志强"),
    ("kam", Role.KEY_ACCOUNT_MANAGER, "李明"),
    ("svcmgr", Role.SERVICE_MANAGER, "张伟"),
    ("engineer", Role.SERVICE_ENGINEER, "刘洋"),
    ("customer", Role.CUSTOMER_CONTACT, "赵磊"),
]


@dataclass
class DemoSummary:
    users: list[tuple[str, str, str]] = field(default_factory=list)
    accounts: int = 0
    groups: int = 0
    contacts: int = 0


def _demo_password_hash() -> str:
    # Hash once: a strong hasher takes a noticeable moment per call.
    global _HASH
    if _HASH is None:
        _HASH = make_password(DEMO_PASSWORD)
    return _HASH


_HASH: str | None = None


def demo_users_ensure() -> list[tuple[str, str, str]]:
    """Create the per-role demo users if missing; return (username, password, role)."""
    logins = []
    for username, role, display in DEMO_USERS:
        if not User.objects.filter(username=username).exists():
            user_create(
                username=username,
                password=None,
                password_hash=_demo_password_hash(),
                roles=[role],
                display_name=display,
                email=f"{username}@keycare.example",
            )
        logins.append((username, DEMO_PASSWORD, role))
    return logins


@transaction.atomic
def demo_data_generate(*, accounts: int = 60, seed: int = 2026) -> DemoSummary:
    """Generate about `accounts` accounts as company groups with branches in several
    provinces, contacts, and a staff of key account managers and engineers."""
    rng = random.Random(seed)  # noqa: S311 - deterministic demo data, not security
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    summary = DemoSummary(users=demo_users_ensure())
    users = {u.username: u for u in User.objects.filter(username__in=[u[0] for u in DEMO_USERS])}

    kams = [users["kam"]]
    engineers = [users["engineer"]]
    for i in range(1, max(2, accounts // 15) + 1):
        kams.append(_staff(f"kam{i:02d}", Role.KEY_ACCOUNT_MANAGER, fake))
    for i in range(1, max(2, accounts // 12) + 1):
        engineers.append(_staff(f"eng{i:02d}", Role.SERVICE_ENGINEER, fake))

    provinces = list(PROVINCES)
    portal_contact_done = False
    made = 0
    group_no = 0
    used_names: set[str] = set(Account.objects.values_list("name", flat=True))
    while made < accounts:
        group_no += 1
        industry, suffix = rng.choice(INDUSTRIES)
        brand = _unique_brand(rng, suffix, used_names)
        home = rng.choice(provinces)
        home_city = rng.choice(PROVINCES[home])
        kam = kams[(group_no - 1) % len(kams)] if group_no > 1 else users["kam"]
        engineer = engineers[(group_no - 1) % len(engineers)] if group_no > 1 else users["engineer"]
        branches = min(rng.choice([0, 1, 2, 2, 3, 4]), accounts - made - 1)
        hq = account_create(
            actor=None,
            name=f"{brand}{suffix}集团有限公司"
            if branches
            else f"{home_city}{brand}{suffix}有限公司",
            short_name=f"{brand}{suffix}",
            industry=industry,
            province=home,
            city=home_city,
            address=f"{home}{home_city}{fake.street_address()}",
            status=_status(rng),
            owner=kam,
        )
        _team(hq, kam, engineer, users, group_no)
        summary.contacts += _contacts(hq, fake, rng, users if not portal_contact_done else None)
        portal_contact_done = True
        made += 1
        summary.groups += 1
        other_provinces = [p for p in provinces if p != home]
        for province in rng.sample(other_provinces, branches):
            city = rng.choice(PROVINCES[province])
            branch = account_create(
                actor=None,
                name=f"{brand}{suffix}（{city}）有限公司",
                short_name=f"{brand}{city}",
                parent=hq,
                industry=industry,
                province=province,
                city=city,
                address=f"{province}{city}{fake.street_address()}",
                status=_status(rng),
                owner=kam,
            )
            _team(branch, kam, rng.choice(engineers), users, group_no)
            summary.contacts += _contacts(branch, fake, rng, None)
            made += 1
    summary.accounts = made
    return summary


def _staff(username: str, role: str, fake: Faker) -> User:
    existing = User.objects.filter(username=username).first()
    if existing:
        return existing
    return user_create(
        username=username,
        password=None,
        password_hash=_demo_password_hash(),
        roles=[role],
        display_name=fake.name(),
        email=f"{username}@keycare.example",
    )


def _unique_brand(rng: random.Random, suffix: str, used: set[str]) -> str:
    for _attempt in range(200):
        brand = rng.choice(BRAND_WORDS)
        if not any(name.startswith(brand + suffix) or brand + suffix in name for name in used):
            used.add(f"{brand}{suffix}")
            return brand
    brand = f"{rng.choice(BRAND_WORDS)}{rng.randint(2, 99)}"
    used.add(f"{brand}{suffix}")
    return brand


def _status(rng: random.Random) -> str:
    return rng.choices(
        [AccountStatus.ACTIVE, AccountStatus.PROSPECT, AccountStatus.DORMANT, AccountStatus.LOST],
        weights=[80, 8, 8, 4],
    )[0]


def _team(account: Account, kam: User, engineer: User, users: dict[str, User], group_no: int):
    account_team_member_add(
        actor=None, account=account, user=kam, role=AccountTeamRole.KEY_ACCOUNT_MANAGER
    )
    account_team_member_add(
        actor=None, account=account, user=engineer, role=AccountTeamRole.SERVICE_LEAD
    )
    if group_no % 4 == 1 and account.parent_id is None:
        account_team_member_add(
            actor=None, account=account, user=users["exec"], role=AccountTeamRole.EXECUTIVE_SPONSOR
        )


def _contacts(
    account: Account, fake: Faker, rng: random.Random, users: dict[str, User] | None
) -> int:
    count = rng.randint(2, 5)
    titles = rng.sample(TITLES, count)
    for i, (title, department) in enumerate(titles):
        contact_create(
            actor=None,
            account=account,
            name=fake.name(),
            title=title,
            department=department,
            mobile=fake.phone_number(),
            email=fake.email(),
            # the demo portal login belongs to the first group's first contact
            user=users["customer"] if users and i == 0 else None,
        )
    return count
