"""Benchmark data at scale (`keycare bench-data`): deterministic, realistic rows written
straight into the configured database — PostgreSQL COPY, batched INSERTs on SQLite — because
the services write one row at a time and would take days for five million order lines.

The rows are what the services would have written (paths, search text, order totals equal
to the sums of their lines, ticket numbers from the per-year sequence, SLA due times from the
real calendar arithmetic); history tables and mail are skipped. The small tables (users,
groups, teams, products) go through the ORM and the services. The large ones are generated
as tuples with plain loops from one `random.Random(seed)`, so a seed gives the same data.
"""

import bisect
import datetime as dt
import hashlib
import json
import random
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from keycare.core.search import _SPACE, _doubled
from keycare.core.validators import CREDIT_CODE_CHARSET, credit_code_check_char
from keycare.users.choices import Role

from .generators import SERVICE_REGIONS, SKILLS
from .geography import PROVINCES

BENCH_PASSWORD = "keycare-bench"  # noqa: S105 - printed for the benchmark on purpose
#: The fixed logins the benchmarks use: (username, role, what it is for).
BENCH_LOGINS = [
    ("bench-admin", Role.ADMINISTRATOR, "administrator"),
    ("bench-kam", Role.KEY_ACCOUNT_MANAGER, "key account manager of ~100 accounts"),
    ("bench-svcmgr", Role.SERVICE_MANAGER, "service manager"),
    ("bench-engineer", Role.SERVICE_ENGINEER, "service engineer with many tickets"),
]
SCALES = {"tiny": 0.001, "small": 0.01, "medium": 0.1, "large": 1.0}
#: The large sizes; the other scales are fractions of them.
LARGE = {
    "accounts": 100_000,
    "contacts": 300_000,
    "equipment": 50_000,
    "order_lines": 5_000_000,
    "tickets": 1_000_000,
    "users": 200,
}
YEARS = 5
CHUNK = 20_000
DAY = 86_400


class BenchDataError(Exception):
    """The database is not empty (or another precondition fails): nothing was written."""


@dataclass
class Sizes:
    accounts: int
    contacts: int
    equipment: int
    order_lines: int
    tickets: int
    users: int

    @classmethod
    def for_scale(cls, scale: str) -> "Sizes":
        f = SCALES[scale]
        n = {k: max(1, round(v * f)) for k, v in LARGE.items()}
        n["users"] = max(20, n["users"])
        n["accounts"] = max(10, n["accounts"])
        return cls(**n)


@dataclass
class Report:
    """Rows and seconds per table and per step, for the command's output."""

    tables: list[tuple[str, int, float]] = field(default_factory=list)
    steps: list[tuple[str, float]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(n for _t, n, _s in self.tables)


# --- vocabulary ------------------------------------------------------------------------------

#: Two characters make a brand (字号); pairs are unique per group.
BRAND_CHARS = (
    "华鑫恒力远东宏达金桥瑞丰长城海天中泰德隆盛世安永兴天润凯信明阳宝联创嘉禾正大北辰国银河"
    "晨光鼎九州新锦泰和富康美佳万通利源博裕丰华盈祥顺腾飞众诚信达通合"
)
INDUSTRIES = [
    ("汽车制造", "汽车"), ("钢铁冶金", "钢铁"), ("石油化工", "化工"), ("电力能源", "能源"),
    ("食品饮料", "食品"), ("电子制造", "电子"), ("机械装备", "重工"), ("医药制造", "药业"),
    ("建材水泥", "建材"), ("造纸包装", "纸业"), ("纺织服装", "纺织"), ("新能源", "新能源"),
]  # fmt: skip
PLANT_WORDS = ["一厂", "二厂", "三厂", "四厂", "五厂", "总装厂", "动力厂", "配件厂"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭萧田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌浩宇鹏飞亮婷雪琳晨欣怡佳俊峰辉玲凯博晶"
TITLES = [
    ("总经理", "总经办"), ("副总经理", "总经办"), ("采购经理", "采购部"), ("采购专员", "采购部"),
    ("设备部部长", "设备部"), ("设备工程师", "设备部"), ("生产总监", "生产部"),
    ("技术总工", "技术部"), ("质量经理", "质量部"), ("财务总监", "财务部"),
    ("维修主管", "设备部"), ("厂长", "生产部"),
]  # fmt: skip
BUYING_ROLES = ["influencer", "user", "user", "technical_evaluator", "coach", "gatekeeper",
                "unknown", "unknown"]  # fmt: skip
STYLES = ["leader", "influencer", "checker", "follower", "unknown"]
STYLE_WEIGHTS = [18, 20, 22, 15, 25]
AREA_CODES = ["110105", "310115", "120116", "500112", "320500", "330100", "440300", "370200",
              "130100", "410100", "420100", "430100", "510100", "350100", "340100", "210100",
              "610100", "220100"]  # fmt: skip
#: (line code, line name, unit, [(model, list price in yuan, cost ratio, warranty months)])
CATALOGUE = [
    ("CNC", "数控机床", "台", [("立式加工中心", 680000, 0.62, 24), ("数控车床", 260000, 0.6, 12),
                             ("龙门铣床", 1450000, 0.65, 24), ("卧式加工中心", 920000, 0.63, 24)]),
    ("ROB", "工业机器人", "台", [("六轴焊接机器人", 320000, 0.58, 18), ("码垛机器人", 210000, 0.55, 12),
                               ("喷涂机器人", 380000, 0.6, 18)]),
    ("CMP", "空压机", "台", [("螺杆空压机 75kW", 128000, 0.57, 12),
                           ("离心空压机 250kW", 860000, 0.63, 24)]),
    ("DRV", "变频器与驱动", "台", [("通用变频器 30kW", 16800, 0.48, 12), ("伺服驱动系统", 42000, 0.5, 12)]),
    ("SPR", "备件与耗材", "套", [("主轴轴承套件", 9800, 0.4, 3), ("滤芯组件", 1200, 0.35, 0),
                              ("控制板卡", 15600, 0.45, 6), ("密封件包", 680, 0.3, 0)]),
    ("SVC", "技术服务", "次", [("年度维保服务", 48000, 0.3, 0), ("现场调试服务", 12000, 0.25, 0)]),
]  # fmt: skip
MACHINE_LINES = ("CNC", "ROB", "CMP")
VARIANTS = ["", " Pro", " Plus", " E"]
TICKET_SUBJECTS = [
    ("repair", "主轴异响，加工精度下降"), ("repair", "伺服报警 AL-21，设备停机"),
    ("repair", "空压机排气温度过高"), ("maintenance", "季度预防性维护"),
    ("inspection", "年度安全检查"), ("installation", "新机调试与验收"),
    ("consultation", "工艺参数优化咨询"), ("complaint", "备件到货延误投诉"),
    ("repair", "机器人焊接偏位"), ("return", "控制板卡返修"), ("repair", "液压系统漏油"),
    ("repair", "冷却液泵不出水"),
]  # fmt: skip
RESOLUTIONS = ["现场检修，更换磨损部件，设备恢复正常。", "调整参数并完成试运行，客户确认。",
               "远程指导客户复位，问题解决。", "更换控制板卡，测试合格。"]  # fmt: skip
ROOT_CAUSES = ["wear", "wear", "operation", "quality", "installation", "environment",
               "software", "other"]  # fmt: skip
CHANNELS = ["phone", "phone", "email", "portal", "wechat", "wechat", "on_site", "api"]
RATING_COMMENTS = [
    "",
    "",
    "",
    "响应很快，工程师专业。",
    "问题解决了，但等待时间较长。",
    "服务满意。",
]


# --- helpers ---------------------------------------------------------------------------------


def _money(cents: int) -> str:
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


class Pinyin:
    """`search_text` of names built from a few pieces, with each piece's pinyin computed
    once: the same string `keycare.core.search.search_text` gives for the whole name (the
    vocabulary has no polyphones whose reading changes across piece boundaries; the test
    compares)."""

    def __init__(self):
        from pypinyin import Style, lazy_pinyin

        self._lazy, self._style = lazy_pinyin, Style.FIRST_LETTER
        self._cache: dict[str, tuple[str, str, str]] = {}

    def piece(self, text: str) -> tuple[str, str, str]:
        got = self._cache.get(text)
        if got is None:
            clean = _SPACE.sub("", text.lower())
            full = "".join(self._lazy(clean, errors="default")).lower()
            first = "".join(self._lazy(clean, style=self._style, errors="default")).lower()
            got = self._cache[text] = (_doubled(clean), full, first)
        return got

    def part(self, pieces: Iterable[str]) -> list[str]:
        got = [self.piece(p) for p in pieces]
        text = "".join(g[0] for g in got)
        if not text:
            return []
        tokens = [text]
        if any("\u4e00" <= ch <= "\u9fff" for ch in text):
            tokens.append("".join(g[1] for g in got))
            tokens.append("".join(g[2] for g in got))
        return tokens

    def search_text(self, *parts: Iterable[str]) -> str:
        tokens: list[str] = []
        for pieces in parts:
            tokens.extend(self.part(pieces))
        return "|".join(dict.fromkeys(tokens))


class Clock:
    """Epoch seconds (UTC) to the text both backends read, from cached day strings and one
    list of the 86,400 times of day: formatting millions of timestamps with strftime would
    cost more than generating them."""

    def __init__(self, tz: ZoneInfo, suffix: str):
        self.tz, self.suffix = tz, suffix
        self._days: dict[int, str] = {}
        self._hms = [f"{h:02d}:{m:02d}:{s:02d}{suffix}" for h in range(24) for m in range(60)
                     for s in range(60)]  # fmt: skip
        self._local_dates: dict[int, str] = {}

    def ts(self, seconds: int) -> str:
        day, rest = divmod(seconds, DAY)
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()
        return f"{text} {self._hms[rest]}"

    def local_date(self, seconds: int) -> str:
        hour = seconds // 3600
        text = self._local_dates.get(hour)
        if text is None:
            moment = dt.datetime.fromtimestamp(hour * 3600, self.tz)
            text = self._local_dates[hour] = moment.date().isoformat()
        return text

    def dt(self, seconds: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)


class Writer:
    """Rows (tuples of str/int/None, all columns given) into a model's table: COPY in text
    format on PostgreSQL, chunked executemany elsewhere. Rows per table are recorded."""

    def __init__(self, report: Report, echo: Callable[[str], None]):
        self.report, self.echo = report, echo
        self.postgres = connection.vendor == "postgresql"
        self.true, self.false = ("t", "f") if self.postgres else (1, 0)

    def load(self, model, names: list[str], rows: Iterable[tuple]) -> int:
        meta = model._meta
        quote = connection.ops.quote_name
        columns = ", ".join(quote(meta.get_field(n).column) for n in names)
        table = quote(meta.db_table)
        started = time.perf_counter()
        n = 0
        with connection.cursor() as cursor:
            if self.postgres:
                # the values are generated here (no tabs, newlines or backslashes in them)
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    chunk: list[str] = []
                    for row in rows:
                        chunk.append("\t".join(["\\N" if v is None else str(v) for v in row]))
                        if len(chunk) == CHUNK:
                            copy.write("\n".join(chunk) + "\n")
                            n += CHUNK
                            chunk = []
                    if chunk:
                        copy.write("\n".join(chunk) + "\n")
                        n += len(chunk)
            else:
                marks = ", ".join(["%s"] * len(names))
                sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
                batch: list[tuple] = []
                for row in rows:
                    batch.append(row)
                    if len(batch) == CHUNK:
                        cursor.executemany(sql, batch)
                        n += CHUNK
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)
                    n += len(batch)
        seconds = time.perf_counter() - started
        self.report.tables.append((meta.db_table, n, seconds))
        self.echo(f"  {meta.db_table:<34} {n:>11,} rows {seconds:8.1f} s "
                  f"{n / max(seconds, 1e-9):>11,.0f} rows/s")  # fmt: skip
        return n


# --- the generator ---------------------------------------------------------------------------


def database_is_empty() -> bool:
    from keycare.accounts.models import Account, Order, Product
    from keycare.service.models import Ticket
    from keycare.users.models import User

    return not (
        Account.objects.exists()
        or Ticket.objects.exists()
        or Order.objects.exists()
        or Product.objects.exists()
        or User.objects.filter(username__startswith="bench-").exists()
    )


class Generator:
    """One run. Attributes kept between the tables are compact (arrays, lists of ints)."""

    def __init__(self, sizes: Sizes, seed: int, echo: Callable[[str], None]):
        self.n = sizes
        self.seed = seed
        self.rng = random.Random(seed)  # noqa: S311 - reproducible test data
        self.echo = echo
        self.report = Report()
        self.tz = ZoneInfo(settings.TIME_ZONE)
        # the hour of the load: runs with one seed within the hour give the same rows
        self.now_dt = timezone.now().replace(minute=0, second=0, microsecond=0)
        self.now = int(self.now_dt.timestamp())
        self.start = self.now - YEARS * 365 * DAY
        self.writer = Writer(self.report, echo)
        self.clock = Clock(self.tz, "+00" if self.writer.postgres else "")
        self.pinyin = Pinyin()

    # --- orchestration ----------------------------------------------------------------------

    def step(self, label: str, fn: Callable[[], object]) -> object:
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
        self.report.steps.append((label, seconds))
        self.echo(f"{label}: {seconds:.1f} s")
        return result

    def run(self, *, insights: bool = True) -> Report:
        if not database_is_empty():
            raise BenchDataError(
                "The database already holds accounts, tickets, orders, products or bench "
                "users: bench-data only loads into an empty (freshly migrated) database."
            )
        from keycare.service.defaults import service_defaults_ensure

        with transaction.atomic():
            checked_later = self.writer.postgres and _foreign_key_triggers_off()
            service_defaults_ensure()
            self.step("users, teams, products (ORM)", self.small_tables)
            self.step("accounts", self.accounts)
            self.step("contacts", self.contacts)
            self.step("equipment", self.equipment)
            self.step("orders", self.orders)
            self.step("tickets", self.tickets)
            self.step("sequences", self.sequences)
            if checked_later:
                self.step("foreign keys checked", _foreign_keys_check)
            committing = time.perf_counter()
        seconds = time.perf_counter() - committing
        self.report.steps.append(("commit", seconds))
        self.echo(f"commit: {seconds:.1f} s")
        if self.writer.postgres:
            self.step("ANALYZE", _analyze)
        if insights:
            self.step("insights", self.insights)
            if self.writer.postgres:  # the planner's statistics of the rows just computed
                self.step("ANALYZE (insights)", _analyze)
        return self.report

    # --- users, teams, products --------------------------------------------------------------

    def small_tables(self) -> None:
        from django.contrib.auth.hashers import make_password

        from keycare.accounts.models import Product, ProductLine
        from keycare.service.models import ServiceTeam, ServiceTeamMember
        from keycare.users.services import user_create

        rng = self.rng
        total = self.n.users
        n_exec = max(1, total // 50)
        n_mgr = max(2, total // 20)
        n_kam = max(3, total * 3 // 10)
        n_eng = total - 1 - n_exec - n_mgr - n_kam
        password = make_password(BENCH_PASSWORD)
        plan = [("bench-admin", Role.ADMINISTRATOR)]
        for role, count, first, prefix in (
            (Role.EXECUTIVE, n_exec, "bench-exec", "bench-exec"),
            (Role.SERVICE_MANAGER, n_mgr, "bench-svcmgr", "bench-svcmgr"),
            (Role.KEY_ACCOUNT_MANAGER, n_kam, "bench-kam", "bench-kam"),
            (Role.SERVICE_ENGINEER, n_eng, "bench-engineer", "bench-eng"),
        ):
            plan += [(first if i == 1 else f"{prefix}{i:03d}", role) for i in range(1, count + 1)]
        self.users: dict[str, list] = {}
        self.display: dict[int, str] = {}
        for username, role in plan:
            name = rng.choice(SURNAMES) + "".join(
                rng.choice(GIVEN) for _ in range(rng.randint(1, 2))
            )
            user = user_create(username=username, password=None, password_hash=password,
                               roles=[role], display_name=name,
                               email=f"{username}@keycare.example")  # fmt: skip
            self.users.setdefault(role, []).append(user)
            self.display[user.pk] = name
        self.admin = self.users[Role.ADMINISTRATOR][0]
        engineers = self.users[Role.SERVICE_ENGINEER]
        managers = self.users[Role.SERVICE_MANAGER]
        self.province_team: dict[str, int] = {}
        self.team_engineers: dict[int, list[int]] = {}
        for i, (name, provinces) in enumerate(SERVICE_REGIONS.items()):
            team, _created = ServiceTeam.objects.get_or_create(
                name=name, defaults={"provinces": provinces, "manager": managers[i % len(managers)]}
            )
            for p in provinces:
                self.province_team[p] = team.pk
            self.team_engineers[team.pk] = []
        team_ids = list(self.team_engineers)
        members = []
        for i, engineer in enumerate(engineers):
            team_id = team_ids[i % len(team_ids)]  # bench-engineer: the first team (华东)
            self.team_engineers[team_id].append(engineer.pk)
            members.append(ServiceTeamMember(team_id=team_id, user=engineer,
                                             skills=SKILLS[i % len(SKILLS)]))  # fmt: skip
        ServiceTeamMember.objects.bulk_create(members)
        self.engineer_ids = [e.pk for e in engineers]
        self.bench_engineer = engineers[0].pk

        products = []
        n = 0
        for code, line_name, unit, items in CATALOGUE:
            line, _created = ProductLine.objects.get_or_create(
                code=code, defaults={"name": line_name}
            )
            for item, price, ratio, warranty in items:
                for variant in VARIANTS:
                    n += 1
                    factor = 1 + 0.15 * VARIANTS.index(variant)
                    cents = int(price * factor) * 100
                    products.append(Product(
                        code=f"{code}-{n:03d}", name=f"{item}{variant}", product_line=line,
                        category=line_name, unit=unit, list_price=_money(cents),
                        standard_cost=_money(int(cents * ratio) // 100 * 100),
                        warranty_months=warranty,
                    ))  # fmt: skip
        made = Product.objects.bulk_create(products)
        if made[0].pk is None:  # SQLite before returning ids: read them back
            made = list(Product.objects.order_by("pk"))
        self.products = [
            (p.pk, p.code[:3], round(float(p.list_price) * 100),
             round(float(p.standard_cost) * 100), p.warranty_months, p.name)
            for p in made
        ]  # fmt: skip
        self.machines = [p for p in self.products if p[1] in MACHINE_LINES]

    # --- accounts ----------------------------------------------------------------------------

    def accounts(self) -> None:
        from keycare.accounts.models import Account, AccountTeamMember

        rng = self.rng
        total = self.n.accounts
        n_groups = max(1, total // 5)
        cities = [(p, c) for p, cs in PROVINCES.items() for c in cs]
        pairs = [a + b for a in BRAND_CHARS for b in BRAND_CHARS if a != b]
        combos = [(b, ind) for b in pairs for ind in range(len(INDUSTRIES))]
        rng.shuffle(combos)
        # group: (brand, industry, weight, used cities, branch ids)
        self.parent = array("i", bytes(4 * (total + 1)))
        self.weight = [0.0] * (total + 1)
        self.province = [""] * (total + 1)
        self.group_of = array("i", bytes(4 * (total + 1)))
        self.active = bytearray(total + 1)
        rows = []
        group_weight = [0.0] * (n_groups + 1)
        group_cities: list[set] = [set() for _ in range(n_groups + 1)]
        branches: list[list[int]] = [[] for _ in range(n_groups + 1)]
        members: list[list[int]] = [[] for _ in range(n_groups + 1)]
        names: list[tuple] = [()] * (total + 1)
        for g in range(1, n_groups + 1):
            group_weight[g] = min(rng.paretovariate(1.16), 5000.0)
        # branches go to big groups more often (by the square root of their weight)
        cum, acc = [], 0.0
        for g in range(1, n_groups + 1):
            acc += group_weight[g] ** 0.5
            cum.append(acc)
        for pk in range(1, total + 1):
            if pk <= n_groups:
                g, depth, parent = pk, 0, None
                brand, industry = combos[(pk - 1) % len(combos)]
                if pk > len(combos):
                    brand = f"{brand}{pk // len(combos) + 1}"
                province, city = rng.choice(cities)
                group_cities[g].add(city)
                ind_name, suffix = INDUSTRIES[industry]
                pieces = [brand, suffix, "集团", "有限公司"]
                short = [brand, suffix]
                names[pk] = (brand, industry)
            else:
                g = 1 + bisect.bisect_left(cum, rng.random() * acc)
                g = min(g, n_groups)
                brand, industry = names[g][:2]
                ind_name, suffix = INDUSTRIES[industry]
                free = len(group_cities[g]) < len(cities)
                if branches[g] and (rng.random() < 0.18 or not free):
                    parent = rng.choice(branches[g])
                    depth = 2
                    province, city = self.province[parent], names[parent][2]
                    plant = PLANT_WORDS[len(members[g]) % len(PLANT_WORDS)]
                    pieces = [brand, suffix, "（", city, "）", "有限公司", plant]
                    short = [brand, city, plant]
                else:
                    parent, depth = g, 1
                    while True:
                        province, city = rng.choice(cities)
                        if city not in group_cities[g]:
                            break
                    group_cities[g].add(city)
                    branches[g].append(pk)
                    pieces = [brand, suffix, "（", city, "）", "有限公司"]
                    short = [brand, city]
                names[pk] = (brand, industry, city)
                members[g].append(pk)
            if depth == 0:
                names[pk] = (brand, industry, city)
            self.parent[pk] = parent or 0
            self.group_of[pk] = g
            self.province[pk] = province
            status = rng.choices(("active", "prospect", "dormant", "lost"), (85, 5, 6, 4))[0]
            self.active[pk] = status == "active"
            share = 0.6 if depth == 0 else rng.uniform(0.1, 0.9)
            self.weight[pk] = 0.0 if status == "prospect" else group_weight[g] * share
            rows.append((pk, parent, depth, pieces, short, ind_name, province, city, status))
        # the path needs the parent's path: parents come first (lower ids)
        path = [""] * (total + 1)
        ranked = sorted(range(1, total + 1), key=lambda pk: -self.weight[pk])
        tier = {}
        for i, pk in enumerate(ranked):
            share = i / total
            tier[pk] = ("platinum" if share < 0.02 else "gold" if share < 0.12 else
                        "iron" if share < 0.6 else "lead")  # fmt: skip
        self.tier = tier

        # account teams: bench-kam has ~100 accounts, among them some of the biggest groups
        kams = [u.pk for u in self.users[Role.KEY_ACCOUNT_MANAGER]]
        self.owner = array("i", bytes(4 * (total + 1)))
        groups_ranked = sorted(range(1, n_groups + 1), key=lambda g: -group_weight[g])
        group_rank = {g: rank for rank, g in enumerate(groups_ranked)}
        target = min(100, max(5, total // 10))
        owned = 0
        bench_groups = []
        for rank, g in enumerate(groups_ranked):
            if owned >= target:
                break
            if rank in (0, 3, 8) or (rank > 20 and rank % 7 == 0):
                size = 1 + len(members[g])
                if owned + size > target * 1.3 and owned > 0:
                    continue
                bench_groups.append(g)
                owned += size
        self.bench_kam_groups = bench_groups
        others = kams[1:] or kams
        covered = [g for g in groups_ranked[: max(1, n_groups * 3 // 10)] if g not in bench_groups]
        group_kam = dict.fromkeys(bench_groups, kams[0])
        for i, g in enumerate(covered):
            group_kam[g] = others[i % len(others)]
        executives = [u.pk for u in self.users[Role.EXECUTIVE]]

        def account_rows() -> Iterator[tuple]:
            for pk, parent, depth, pieces, short, ind_name, province, city, status in rows:
                path[pk] = f"{path[parent] if parent else '/'}{pk}/"
                kam = group_kam.get(self.group_of[pk])
                self.owner[pk] = kam or 0
                name = "".join(pieces)
                short_name = "".join(short)
                area = AREA_CODES[pk % len(AREA_CODES)]
                first17 = f"91{area}{pk:08d}{CREDIT_CODE_CHARSET[pk % 31]}"
                created = self.clock.ts(self.start - rng.randint(0, 3 * 365) * DAY)
                yield (pk, name, "", short_name, first17 + credit_code_check_char(first17),
                       parent, path[pk], depth, ind_name, province, city,
                       f"{province}{city}经济技术开发区{pk % 300 + 1}号", "", status, tier[pk],
                       rng.choice(("intrinsic", "intrinsic", "extrinsic", "strategic", "")), kam,
                       "", self.pinyin.search_text(pieces, short), 1, created, created)  # fmt: skip

        self.writer.load(Account, [
            "id", "name", "name_en", "short_name", "credit_code", "parent", "path", "depth",
            "industry", "province", "city", "address", "website", "status", "tier",
            "account_type", "owner", "notes", "search_text", "version", "created_at", "updated_at",
        ], account_rows())  # fmt: skip
        self.path = path

        def team_rows() -> Iterator[tuple]:
            pk = 0
            engineers = self.engineer_ids
            for g, kam in sorted(group_kam.items()):
                for account in [g, *members[g]]:
                    pk += 1
                    yield (pk, account, kam, "key_account_manager")
                    pk += 1
                    lead = engineers[(g + account) % len(engineers)]
                    if g in bench_groups and account == g:
                        lead = self.bench_engineer
                    yield (pk, account, lead, "service_lead")
                if executives and group_rank[g] < 20:
                    pk += 1
                    yield (pk, g, executives[g % len(executives)], "executive_sponsor")

        self.writer.load(AccountTeamMember, ["id", "account", "user", "role"], team_rows())
        # buying power for the orders (cumulative, for bisect) and a milder one for tickets
        self.order_cum = list(_cumulative(self.weight))
        self.ticket_cum = list(_cumulative([w**0.6 for w in self.weight]))

    # --- contacts ----------------------------------------------------------------------------

    def contacts(self) -> None:
        from keycare.accounts.models import Contact, ContactAccount

        rng = self.rng
        total = self.n.accounts
        count = array("i", [0] + [1] * total)
        cum = list(_cumulative([w**0.5 if w else 0.05 for w in self.weight]))
        extra = max(0, self.n.contacts - total)
        while extra:
            pk = 1 + bisect.bisect_left(cum, rng.random() * cum[-1])
            if pk <= total and count[pk] < 60:
                count[pk] += 1
                extra -= 1
        self.contact_first = array("i", bytes(4 * (total + 1)))
        self.contact_count = count

        def rows() -> Iterator[tuple]:
            pk = 0
            styles = rng.choices(STYLES, STYLE_WEIGHTS, k=1000)
            for account in range(1, total + 1):
                self.contact_first[account] = pk + 1
                head = pk + 1
                for i in range(count[account]):
                    pk += 1
                    surname = SURNAMES[int(rng.random() * len(SURNAMES))]
                    given = GIVEN[int(rng.random() * len(GIVEN))]
                    if rng.random() < 0.7:
                        given += GIVEN[int(rng.random() * len(GIVEN))]
                    title, department = TITLES[0] if i == 0 else TITLES[1 + pk % (len(TITLES) - 1)]
                    role = "decision_maker" if i == 0 else BUYING_ROLES[int(rng.random() * 8)]
                    mobile = f"1{3 + pk % 7}{(pk * 7_919 + account) % 1_000_000_000:09d}"
                    created = self.clock.ts(
                        self.start + int(rng.random() * (self.now - self.start))
                    )
                    yield (pk, account, surname + given, title, department, mobile,
                           f"c{pk}@kh{account}.com.cn", f"wx_c{pk}" if pk % 3 else "", role,
                           styles[pk % 1000], 5 if i == 0 else 1 + int(rng.random() * 5),
                           1 + int(rng.random() * 5), head if i else None, None, None, None,
                           self.writer.false,
                           self.writer.true if rng.random() > 0.05 else self.writer.false,
                           self.pinyin.search_text([surname, given]), 1, created, created)  # fmt: skip

        self.writer.load(Contact, [
            "id", "account", "name", "title", "department", "mobile", "email", "wechat_id",
            "buying_role", "decision_style", "influence", "relationship", "reports_to",
            "introduced_by_contact", "introduced_by_user", "user", "portal_sees_branches",
            "is_active", "search_text", "version", "created_at", "updated_at",
        ], rows())  # fmt: skip

        # branch ids of a group are not contiguous: find one child per group first
        first_child = {}
        for pk in range(1, total + 1):
            p = self.parent[pk]
            if p and self.parent[p] == 0 and p not in first_child:
                first_child[p] = pk

        def membership_rows() -> Iterator[tuple]:
            pk = 0
            for group, child in sorted(first_child.items()):
                first = self.contact_first[group]
                for contact in range(first, first + count[group]):
                    if rng.random() < 0.3:
                        pk += 1
                        yield (pk, contact, child, BUYING_ROLES[int(rng.random() * 5)], "")

        self.writer.load(ContactAccount, ["id", "contact", "account", "buying_role", "title"],
                         membership_rows())  # fmt: skip

    # --- equipment ---------------------------------------------------------------------------

    def equipment(self) -> None:
        from keycare.accounts.models import Equipment

        rng = self.rng
        machines = self.machines
        self.units: dict[int, list[int]] = {}
        self.unit_warranty: list[int] = [0]  # warranty end as epoch day
        cum = self.ticket_cum
        sites = ["一厂", "二厂", "总装车间", "动力站房", "机加车间"]

        def rows() -> Iterator[tuple]:
            for pk in range(1, self.n.equipment + 1):
                account = 1 + bisect.bisect_left(cum, rng.random() * cum[-1])
                self.units.setdefault(account, []).append(pk)
                product = machines[int(rng.random() * len(machines))]
                installed = self.now // DAY - 30 - int(rng.random() * (YEARS * 365 + 600))
                warranty_end = installed + product[4] * 30 + 5
                self.unit_warranty.append(warranty_end)
                day = dt.date(1970, 1, 1) + dt.timedelta(days=installed)
                status = rng.choices(("operating", "down", "in_storage", "decommissioned"),
                                     (85, 5, 4, 6))[0]  # fmt: skip
                created = self.clock.ts(installed * DAY + 36_000)
                yield (pk, f"{product[1]}{day:%y%m}{pk:06d}", product[0], account,
                       f"{rng.choice(sites)}", day.isoformat(),
                       (day + dt.timedelta(days=warranty_end - installed)).isoformat(),
                       status, None, f"SC-{account:06d}" if pk % 9 == 0 else "", "", 1, created,
                       created)  # fmt: skip

        self.writer.load(Equipment, [
            "id", "serial_number", "product", "account", "site", "install_date", "warranty_end",
            "status", "parent", "contract_ref", "notes", "version", "created_at", "updated_at",
        ], rows())  # fmt: skip

    # --- orders ------------------------------------------------------------------------------

    def orders(self) -> None:
        from keycare.accounts.models import Order, OrderLine

        rng = self.rng
        products = self.products
        n_products = len(products)
        n_orders = max(1, self.n.order_lines // 4)
        totals = {k: array("q", bytes(8 * (n_orders + 1))) for k in ("list", "net", "disc", "cost",
                                                                       "rebate")}  # fmt: skip
        counts = array("H", bytes(2 * (n_orders + 1)))
        self.order_count = n_orders

        def raw_lines(line_rng: random.Random) -> Iterator[tuple]:
            """The lines as integers (cents), filling in the orders' totals as they go."""
            random_ = line_rng.random
            pk = 0
            t_list, t_net, t_disc, t_cost = (totals[k] for k in ("list", "net", "disc", "cost"))
            for order in range(1, n_orders + 1):
                a = b = c = d = 0
                k = 1 + int(random_() * 7)
                for number in range(1, k + 1):
                    pk += 1
                    p_id, _line, price, cost, _w, name = products[int(random_() * n_products)]
                    quantity = 1 + int(random_() * random_() * 12)
                    net = price - price * int(random_() * 5) * 4 // 100  # 0–16 % off
                    list_amount, net_amount, cost_amount = (price * quantity, net * quantity,
                                                            cost * quantity)  # fmt: skip
                    a += list_amount
                    b += net_amount
                    c += list_amount - net_amount
                    d += cost_amount
                    yield (pk, order, number, "product", p_id, name, quantity, price, net, cost,
                           list_amount, net_amount, cost_amount)  # fmt: skip
                if random_() < 0.03:  # an annual rebate: a negative line
                    pk += 1
                    k += 1
                    rebate = -(1 + int(random_() * 40)) * 50_000
                    a += rebate
                    b += rebate
                    totals["rebate"][order] = -rebate
                    yield (pk, order, k, "rebate", None, "年度返利", 1, rebate, rebate, 0, rebate,
                           rebate, 0)  # fmt: skip
                t_list[order], t_net[order], t_disc[order], t_cost[order] = a, b, c, d
                counts[order] = k

        def lines() -> Iterator[tuple]:
            for pk, order, number, kind, p_id, name, quantity, price, net, cost, la, na, ca in (
                raw_lines(random.Random(line_seed))  # noqa: S311
            ):
                yield (pk, order, number, kind, p_id, name, f"{quantity}.000", _money(price),
                       _money(net), _money(cost), _money(la), _money(na), _money(la - na),
                       _money(ca))  # fmt: skip

        # The orders go in before their lines, so that PostgreSQL can check each line's
        # foreign key as it arrives (see `run`): a first pass over the lines' own random
        # stream adds up the totals, the second writes the same lines.
        line_seed = f"{self.seed}:order-lines"
        started = time.perf_counter()
        for _line in raw_lines(random.Random(line_seed)):  # noqa: S311
            pass
        self.echo(
            f"  order totals (first pass over the lines) {time.perf_counter() - started:.1f} s"
        )
        cum = self.order_cum
        span = self.now - self.start

        def orders() -> Iterator[tuple]:
            for order in range(1, n_orders + 1):
                account = min(1 + bisect.bisect_left(cum, rng.random() * cum[-1]), self.n.accounts)
                # more business in later years: density grows towards now
                moment = self.start + int(span * rng.random() ** 0.8)
                day = self.clock.local_date(moment)
                stamp = self.clock.ts(moment)
                yield (order, f"SO{day[:4]}{day[5:7]}{order:08d}", account, day, "CNY", "",
                       _money(totals["list"][order]), _money(totals["net"][order]),
                       _money(totals["disc"][order]), _money(totals["cost"][order]),
                       _money(totals["rebate"][order]), counts[order], stamp, stamp)  # fmt: skip

        self.writer.load(Order, [
            "id", "number", "account", "order_date", "currency", "notes", "total_list",
            "total_net", "total_discount", "total_cost", "total_rebate", "line_count",
            "created_at", "updated_at",
        ], orders())  # fmt: skip
        self.writer.load(OrderLine, [
            "id", "order", "line_number", "line_type", "product", "description", "quantity",
            "list_price", "net_price", "unit_cost", "list_amount", "net_amount",
            "discount_amount", "cost_amount",
        ], lines())  # fmt: skip

    # --- tickets -----------------------------------------------------------------------------

    def tickets(self) -> None:
        from keycare.core.rates import labour_rate
        from keycare.service import calculations as calc
        from keycare.service.models import (
            BusinessCalendar,
            FieldVisit,
            SlaPolicy,
            SlaTarget,
            Ticket,
            TicketEvent,
            TicketPause,
            TicketRating,
        )
        from keycare.service.services import working_calendar

        rng = self.rng
        clock = self.clock
        calendar = working_calendar(BusinessCalendar.objects.get(is_default=True))
        policies = {p.tier if not p.is_floor else "": p for p in SlaPolicy.objects.filter(is_active=True, account_type="")}  # fmt: skip
        floor = SlaPolicy.objects.get(is_floor=True)
        policy_of = {
            tier: policies.get(tier, floor) for tier in ("platinum", "gold", "iron", "lead", "")
        }
        targets = {(t.policy_id, t.priority): (t.first_response_minutes, t.resolution_minutes)
                   for t in SlaTarget.objects.all()}  # fmt: skip
        ratios = {p.pk: float(p.at_risk_ratio) for p in SlaPolicy.objects.all()}
        # read before the COPY starts: the connection takes no other query during one
        first = dt.date.fromisoformat(self.clock.local_date(self.start))
        rate_cache = {
            (first + dt.timedelta(days=i)).isoformat(): int(
                labour_rate(first + dt.timedelta(days=i)) * 100
            )
            for i in range(YEARS * 366 + 60)
        }
        now, now_dt = self.now, self.now_dt
        n = self.n.tickets
        span = now - self.start
        cum = self.ticket_cum
        total_accounts = self.n.accounts
        engineers = self.engineer_ids
        team_engineers = self.team_engineers
        names = {pk: json.dumps(name, ensure_ascii=False) for pk, name in self.display.items()}
        events: list[tuple] = []
        visits: list[tuple] = []
        visit_engineers: list[tuple] = []
        pauses: list[tuple] = []
        ratings: list[tuple] = []
        sequences: dict[int, int] = {}
        self.sequences_used = sequences
        warning_cache: dict[int, str] = {}
        from django.utils.translation import gettext as _

        def uncovered_warning(opened: dt.datetime, horizon: dt.datetime) -> str:
            days = calc.uncovered_days(calendar, opened, horizon)
            if not days:
                return ""
            year = days[0].year
            if year not in warning_cache:
                warning_cache[year] = _(
                    "Holidays of %(year)d are not in the calendar; the due time assumes ordinary weeks."
                ) % {"year": year}
            return warning_cache[year]

        years = getattr(calendar, "covered_years", None)
        covered = (min(years), max(years)) if years else None
        counters = {"event": 0, "visit": 0, "pause": 0, "rating": 0, "ve": 0}

        def event(ticket: int, kind: str, actor, at: int, data: str) -> None:
            counters["event"] += 1
            events.append((counters["event"], ticket, kind, actor, clock.ts(at), data))

        def rows() -> Iterator[tuple]:
            random_ = rng.random
            for pk in range(1, n + 1):
                # opened over five years, more towards now, in order (numbers follow time)
                opened = self.start + int(span * ((pk - random_()) / n) ** 0.85)
                opened = min(opened, now - 60)
                account = min(1 + bisect.bisect_left(cum, random_() * cum[-1]), total_accounts)
                opened_dt = clock.dt(opened)
                local = opened_dt.astimezone(self.tz)
                year = local.year
                sequences[year] = sequences.get(year, 0) + 1
                number = f"SR-{year}-{sequences[year]:06d}"
                kind, subject = TICKET_SUBJECTS[int(random_() * len(TICKET_SUBJECTS))]
                priority = ("P1", "P2", "P2", "P3", "P3", "P3", "P3", "P4")[int(random_() * 8)]
                channel = CHANNELS[int(random_() * len(CHANNELS))]
                contact = self.contact_first[account] + int(random_() * self.contact_count[account])
                units = self.units.get(account)
                unit = units[int(random_() * len(units))] if units and random_() < 0.75 else None
                if unit is None:
                    coverage = "unknown"
                elif self.unit_warranty[unit] >= opened // DAY:
                    coverage = "warranty"
                else:
                    coverage = "contract" if unit % 9 == 0 else "billable"
                team = self.province_team.get(self.province[account])
                policy = policy_of[self.tier.get(account, "")]
                response_min, resolution_min = targets[(policy.pk, priority)]
                response_due_dt = calc.add_working_time(
                    calendar, opened_dt, dt.timedelta(minutes=response_min)
                )
                resolution_due_dt = calc.add_working_time(
                    calendar, opened_dt, dt.timedelta(minutes=resolution_min)
                )
                response_due = int(response_due_dt.timestamp())
                resolution_due = int(resolution_due_dt.timestamp())
                age = now - opened
                p_open = (0.9 if age < DAY // 2 else 0.5 if age < 3 * DAY else 0.2 if age < 14 * DAY
                          else 0.01 if age < 90 * DAY else 0.001)  # fmt: skip
                if random_() < 0.02:
                    assignee = self.bench_engineer
                else:
                    pool = team_engineers.get(team) or engineers
                    assignee = pool[int(random_() * len(pool))]
                # response and resolution as a share of the allowed time: most in time
                responded = opened + int((response_due - opened) * (0.05 + random_() * 1.15))
                resolved = opened + int((resolution_due - opened) * (0.1 + random_() * 1.1))
                resolved = max(resolved, responded + 600)
                closed = resolved + int(DAY * (0.5 + random_() * 5))
                status = "closed"
                if random_() < p_open or resolved >= now:
                    status = ("new", "assigned", "in_progress", "in_progress",
                              "waiting_on_customer")[int(random_() * 5)]  # fmt: skip
                elif closed >= now or (age < 30 * DAY and random_() < 0.5) or random_() < 0.03:
                    status = "resolved"
                open_ = status not in ("resolved", "closed")
                if status == "new":
                    assignee = None
                assigned_at = opened + 60 + int(random_() * 1800)
                if assignee is not None and assigned_at >= now:
                    assigned_at = now - 1
                first_responded = responded if responded < now else None
                if status in ("new", "assigned") or first_responded is None:
                    first_responded = None
                    if status == "in_progress" or status == "waiting_on_customer":
                        status = "assigned" if assignee else "new"
                paused_since = None
                pause_list = ()
                if status == "waiting_on_customer":
                    paused_since = first_responded + int((now - first_responded) * random_())
                    pause_list = ((clock.dt(paused_since), None),)
                    counters["pause"] += 1
                    pauses.append((counters["pause"], pk, clock.ts(paused_since), None))
                    resolution_due_dt = calc.add_working_time(
                        calendar, opened_dt, dt.timedelta(minutes=resolution_min), pause_list
                    )
                    resolution_due = (
                        int(resolution_due_dt.timestamp()) if resolution_due_dt else None
                    )
                ratio = ratios[policy.pk]
                if open_:
                    response_sla = calc.sla_status(
                        now=now_dt,
                        started=opened_dt,
                        due=response_due_dt,
                        done=clock.dt(first_responded) if first_responded else None,
                        calendar=calendar,
                        target=dt.timedelta(minutes=response_min),
                        at_risk_ratio=ratio,
                    )
                    resolution_sla = calc.sla_status(
                        now=now_dt, started=opened_dt, due=resolution_due_dt, done=None,
                        calendar=calendar, target=dt.timedelta(minutes=resolution_min),
                        pauses=pause_list, at_risk_ratio=ratio)  # fmt: skip
                    resolved_at = closed_at = None
                else:
                    response_sla = "met" if first_responded <= response_due else "breached"
                    resolution_sla = "met" if resolved <= resolution_due else "breached"
                    resolved_at = resolved
                    closed_at = closed if status == "closed" else None
                # as the last recompute left it: at closing, or the sweep's now
                last_seen = clock.dt(closed_at or resolved_at) if resolved_at else now_dt
                horizon = max(resolution_due_dt or last_seen, last_seen)
                warning = ""
                if covered is not None and not (
                    covered[0] <= year and horizon.astimezone(self.tz).year <= covered[1]
                ):
                    warning = uncovered_warning(opened_dt, horizon)

                # the timeline
                event(
                    pk,
                    "created",
                    None,
                    opened,
                    f'{{"channel": "{channel}", "priority": "{priority}"}}',
                )
                if assignee is not None:
                    event(
                        pk,
                        "assigned",
                        None,
                        assigned_at,
                        f'{{"assignee": {assignee}, "name": {names[assignee]}}}',
                    )
                last = "assigned"
                if first_responded is not None:
                    event(
                        pk,
                        "status",
                        assignee,
                        first_responded,
                        '{"from": "assigned", "to": "in_progress"}',
                    )
                    last = "in_progress"
                if paused_since is not None:
                    event(pk, "sla_paused", assignee, paused_since, "{}")
                    event(
                        pk,
                        "status",
                        assignee,
                        paused_since,
                        '{"from": "in_progress", "to": "waiting_on_customer"}',
                    )
                if response_sla == "breached":
                    event(pk, "sla_breached", None, response_due, '{"target": "response"}')
                if resolution_sla == "breached":
                    event(pk, "sla_breached", None, resolution_due, '{"target": "resolution"}')
                labour = travel = 0
                # a fifth of the tickets had an engineer on site
                if assignee is not None and random_() < 0.2 and (not open_ or first_responded):
                    counters["visit"] += 1
                    visit = counters["visit"]
                    planned = (first_responded or opened) + 3600 * (1 + int(random_() * 20))
                    day = clock.local_date(planned)
                    rate = rate_cache[day]
                    hours = (2, 3, 4, 4, 6, 8, 12)[int(random_() * 7)]
                    done = not open_ and planned < (resolved_at or now)
                    if done:
                        labour = hours * rate
                        travel = (0, 12_000, 30_000, 65_000, 120_000)[int(random_() * 5)]
                        check_in = planned + int(random_() * 3600)
                        check_out = min(check_in + hours * 3600, resolved_at)
                        check_in = min(check_in, check_out)
                        visits.append((visit, pk, clock.ts(planned), "done", clock.ts(check_in),
                                       clock.ts(check_out), "现场检修，更换磨损部件。",
                                       f"{hours}.00", _money(rate), _money(travel), "0.00",
                                       "设备部", clock.ts(check_out), 1))  # fmt: skip
                    else:  # still to come, or called off when the ticket was solved first
                        state = "planned" if open_ else "cancelled"
                        visits.append((visit, pk, clock.ts(planned), state, None, None, "",
                                       "0.00", _money(rate), "0.00", "0.00", "", None, 1))  # fmt: skip
                    counters["ve"] += 1
                    visit_engineers.append((counters["ve"], visit, assignee))
                    event(
                        pk,
                        "edited",
                        None,
                        first_responded or opened,
                        f'{{"visit": {visit}, "planned": "{clock.dt(planned).astimezone(self.tz).isoformat()}"}}',
                    )
                if resolved_at is not None:
                    event(
                        pk,
                        "status",
                        assignee,
                        resolved_at,
                        f'{{"from": "{last}", "to": "resolved"}}',
                    )
                    if random_() < 0.55:  # the CSAT link went out; most answered
                        counters["rating"] += 1
                        rated = random_() < 0.7
                        rated_at = min(resolved_at + 3600 * (1 + int(random_() * 72)), now)
                        score = (
                            (5, 5, 5, 5, 5, 4, 4, 4, 3, 2, 1)[int(random_() * 11)]
                            if rated
                            else None
                        )
                        token = hashlib.sha256(f"bench:{self.seed}:{pk}".encode()).hexdigest()
                        ratings.append((counters["rating"], pk, token,
                                        f"c{contact}@kh{account}.com.cn", clock.ts(resolved_at),
                                        clock.ts(resolved_at + 14 * DAY),
                                        clock.ts(rated_at) if rated else None, score,
                                        RATING_COMMENTS[int(random_() * 6)] if rated else ""))  # fmt: skip
                if closed_at is not None:
                    event(pk, "status", assignee, closed_at, '{"from": "resolved", "to": "closed"}')
                updated = closed_at or resolved_at or first_responded or opened
                yield (pk, number, account, contact, unit, kind, priority, channel, subject,
                       "客户来电反映：" + subject, status, assignee, team, coverage, None,
                       "" if open_ else RESOLUTIONS[pk % len(RESOLUTIONS)],
                       "" if open_ else ROOT_CAUSES[int(random_() * len(ROOT_CAUSES))], policy.pk,
                       clock.ts(opened), clock.ts(response_due),
                       clock.ts(resolution_due) if resolution_due else None,
                       clock.ts(first_responded) if first_responded else None,
                       clock.ts(resolved_at) if resolved_at else None,
                       clock.ts(closed_at) if closed_at else None,
                       clock.ts(paused_since) if paused_since else None, response_sla,
                       resolution_sla, warning, _money(labour), "0.00", _money(travel), None,
                       1, clock.ts(updated))  # fmt: skip

        self.writer.load(Ticket, [
            "id", "number", "account", "contact", "equipment", "ticket_type", "priority",
            "channel", "subject", "description", "status", "assignee", "team", "coverage",
            "contract", "resolution", "root_cause", "sla_policy", "opened_at",
            "first_response_due_at", "resolution_due_at", "first_responded_at", "resolved_at",
            "closed_at", "paused_since", "response_sla", "resolution_sla", "sla_warning",
            "labour_cost", "parts_cost", "travel_cost", "created_by", "version", "updated_at",
        ], rows())  # fmt: skip
        self.writer.load(TicketEvent, ["id", "ticket", "kind", "actor", "at", "data"], events)
        del events[:]
        self.writer.load(TicketPause, ["id", "ticket", "started_at", "ended_at"], pauses)
        self.writer.load(FieldVisit, [
            "id", "ticket", "planned_start", "status", "checked_in_at", "checked_out_at",
            "work_done", "labour_hours", "labour_rate", "travel_cost", "parts_cost",
            "signed_off_by", "signed_off_at", "version",
        ], visits)  # fmt: skip
        self.writer.load(FieldVisit.engineers.through, ["id", "fieldvisit", "user"],
                         visit_engineers)  # fmt: skip
        self.writer.load(TicketRating, ["id", "ticket", "token_hash", "email", "sent_at",
                                        "expires_at", "rated_at", "score", "comment"], ratings)  # fmt: skip

    # --- after the COPY ----------------------------------------------------------------------

    def sequences(self) -> None:
        """Sequences past the explicit ids; the ticket counter past the numbers used, so the
        next ticket the services open gets a fresh number."""
        from django.core.management.color import no_style

        from keycare.service.models import TicketSequence

        models = _loaded_models()
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
        for year, last in self.sequences_used.items():
            TicketSequence.objects.update_or_create(year=year, defaults={"last": last})

    def insights(self) -> None:
        """The derived figures the Pareto, pyramid and scorecard pages read, through the
        project's own services: judgements on most active groups, the trailing year's
        metrics, value scores, tiers, the top proposals confirmed as key accounts, and their
        relationship coverage."""
        from keycare.accounts.models import Account
        from keycare.core.bulk import bulk_insert_values
        from keycare.engagement.coverage_ticks import coverage_refresh
        from keycare.insights.metrics import metrics_recompute, trailing_twelve_months
        from keycare.insights.models import QualitativeCriterion, QualitativeScore
        from keycare.insights.scorecard import (
            key_account_designate,
            scorecard_active,
            scores_compute,
        )
        from keycare.insights.scorecard_selectors import key_account_overview
        from keycare.insights.tiers import tiers_apply

        rng = random.Random(self.seed + 1)  # noqa: S311
        criteria = list(QualitativeCriterion.objects.values_list("pk", flat=True))
        kams = {u.pk for u in self.users[Role.KEY_ACCOUNT_MANAGER]}

        def judgements() -> Iterator[tuple]:
            for pk in range(1, self.n.accounts + 1):
                if self.active[pk] and self.owner[pk] in kams and rng.random() < 0.8:
                    for criterion in criteria:
                        yield (pk, criterion, rng.randint(3, 10), "", self.owner[pk], self.now_dt)

        self.step("  judgements", lambda: bulk_insert_values(
            QualitativeScore, ["account_id", "criterion_id", "score", "note", "scored_by_id",
                               "scored_at"],
            judgements()))  # fmt: skip
        start, end = trailing_twelve_months()
        self.step("  metrics_recompute", lambda: metrics_recompute(start=start, end=end))
        scorecard = scorecard_active()
        self.step("  scores_compute",
                  lambda: scores_compute(scorecard=scorecard, start=start, end=end))  # fmt: skip
        self.step("  tiers_apply", lambda: tiers_apply(actor=None, start=start, end=end))

        def designate() -> None:
            overview = key_account_overview(actor=self.admin)
            reasons = ["利润贡献高，合作稳定", "行业标杆，战略匹配", "增长快，新产线投产",
                       "服务依赖度高"]  # fmt: skip
            chosen = [
                p["account"] for p in overview["proposals"][: max(1, scorecard.proposals // 2)]
            ]
            chosen += [g for g in self.bench_kam_groups[:5] if g not in chosen]
            for pk in chosen:
                key_account_designate(actor=self.admin, account=Account(pk=pk),
                                      reason=rng.choice(reasons))  # fmt: skip

        self.step("  key accounts", designate)
        self.step("  coverage_refresh", coverage_refresh)


def _loaded_models() -> list:
    from keycare.accounts.models import (
        Account,
        AccountTeamMember,
        Contact,
        ContactAccount,
        Equipment,
        Order,
        OrderLine,
    )
    from keycare.service.models import (
        FieldVisit,
        Ticket,
        TicketEvent,
        TicketPause,
        TicketRating,
    )

    return [Account, AccountTeamMember, Contact, ContactAccount, Equipment, Order, OrderLine,
            Ticket, TicketEvent, TicketPause, FieldVisit, FieldVisit.engineers.through,
            TicketRating]  # fmt: skip


def _foreign_key_triggers_off() -> bool:
    """PostgreSQL checks a foreign key row by row, queued to the end of the statement or
    the commit: for 14 million rows that queue costs more than a third of the load. A
    superuser may switch the checks off for this transaction (`session_replication_role`,
    reset at its end); `_foreign_keys_check` then checks every key set-based before the
    commit. Without the privilege the ordinary checks run. Whether they were switched off."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:  # not a superuser: keep the ordinary checks
        return False
    return True


def _foreign_keys_check() -> None:
    """Every foreign key of the loaded tables, one anti-join each; a dangling key fails the
    load (and the transaction with it)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in _loaded_models():
            for f in model._meta.concrete_fields:
                if not f.is_relation or not f.db_constraint:
                    continue
                parent = f.related_model._meta
                target = f.target_field.column
                sql = (
                    f"SELECT c.{quote(f.column)} FROM {quote(model._meta.db_table)} c "  # noqa: S608
                    f"WHERE c.{quote(f.column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                    f"{quote(parent.db_table)} p WHERE p.{quote(target)} = c.{quote(f.column)}) "
                    "LIMIT 1"
                )
                cursor.execute(sql)
                row = cursor.fetchone()
                if row is not None:
                    raise BenchDataError(
                        f"{model._meta.db_table}.{f.column} = {row[0]} has no "
                        f"{parent.db_table} row: nothing was loaded."
                    )


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _cumulative(weights: Iterable[float]) -> Iterator[float]:
    """Running sums of the weights from id 1 on (index 0 is no account)."""
    total = 0.0
    for i, w in enumerate(weights):
        if i == 0:
            continue
        total += w
        yield total


def bench_data_generate(
    *, scale: str, seed: int = 2026, insights: bool = True, echo: Callable[[str], None] = print
) -> Report:
    sizes = Sizes.for_scale(scale)
    started = time.perf_counter()
    report = Generator(sizes, seed, echo).run(insights=insights)
    report.steps.append(("total", time.perf_counter() - started))
    return report
