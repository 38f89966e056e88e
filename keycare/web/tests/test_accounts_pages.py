"""Permission matrix of the accounts pages: accounts, contacts and personal details,
equipment, orders, products, import and export, for every role on its own, its team's and
other people's accounts.

A denied write also asserts that nothing changed in the database."""

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from keycare.accounts.choices import AccountTeamRole, BuyingRole
from keycare.accounts.models import (
    Account,
    Contact,
    Equipment,
    ImportantDate,
    Order,
    PersonalDataAccess,
    PersonalDetails,
)
from keycare.accounts.services import (
    contact_membership_set,
    important_date_add,
    personal_details_update,
)
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
    EquipmentFactory,
    OrderFactory,
    ProductFactory,
)
from keycare.dataio.models import ImportJob

pytestmark = pytest.mark.django_db

ROLES = ["admin_user", "executive", "service_manager", "kam", "engineer", "portal_user"]
RESTRICTED = 'data-testid="personal-restricted"'


@dataclass
class World:
    accounts: dict[str, Account]
    contacts: dict[str, Contact]
    equipment: dict[str, Equipment] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)

    def keys(self, kind: str, objects) -> list[str]:
        """The world keys ("own", "team", ...) of these rows, sorted."""
        by_id = {obj.pk: key for key, obj in getattr(self, kind).items()}
        return sorted(by_id[obj.pk] for obj in objects)


@pytest.fixture
def world(kam, other_kam, engineer, portal_user):
    """Three accounts: `own` (the KAM owns it; the portal user is a contact there), `team`
    (another KAM's, with the KAM and the engineer on its team) and `other` (another KAM's,
    nobody else on it). Contact `member` works at `other` and also belongs to `own`."""
    own = AccountFactory(owner=kam, name="自有精密机械有限公司")
    team = AccountFactory(owner=other_kam, name="团队汽车零部件有限公司")
    other = AccountFactory(owner=other_kam, name="他人钢铁集团有限公司")
    AccountTeamMemberFactory(account=team, user=kam, role=AccountTeamRole.KEY_ACCOUNT_MANAGER)
    AccountTeamMemberFactory(account=team, user=engineer, role=AccountTeamRole.SERVICE_ENGINEER)
    contacts = {
        "own": ContactFactory(account=own, name="张自有"),
        "team": ContactFactory(account=team, name="李团队"),
        "other": ContactFactory(account=other, name="王他人"),
        "member": ContactFactory(account=other, name="赵兼任"),
        "portal": ContactFactory(account=own, name="钱门户", user=portal_user),
    }
    contact_membership_set(
        actor=None, contact=contacts["member"], account=own, buying_role=BuyingRole.INFLUENCER
    )
    return World(accounts={"own": own, "team": team, "other": other}, contacts=contacts)


@pytest.fixture
def with_personal(world):
    """Every contact of the world gets personal details and an important date."""
    for contact in world.contacts.values():
        personal_details_update(
            actor=None,
            contact=contact,
            data={
                "birthday": dt.date(1970, 5, 4),
                "preferences": "喜欢龙井茶",
                "family": "女儿在读大学",
                "hobbies": "钓鱼",
            },
        )
        important_date_add(
            actor=None, contact=contact, label="结婚纪念日", date=dt.date(2000, 10, 1)
        )


@pytest.fixture
def product(db):
    return ProductFactory(code="P-COST", standard_cost=Decimal("7654.32"))


@pytest.fixture
def with_equipment(world, product):
    world.equipment = {
        key: EquipmentFactory(account=account, product=product, serial_number=f"SN-{key}")
        for key, account in world.accounts.items()
    }


@pytest.fixture
def with_orders(world, product):
    world.orders = {
        key: OrderFactory(
            account=account,
            number=f"SO-{key}",
            order_date=timezone.localdate(),  # inside the account page's revenue window
            lines=[{"product": product, "quantity": Decimal("1")}],
        )
        for key, account in world.accounts.items()
    }


@pytest.fixture
def browse(client, request):
    """`browse("kam")`: the test client logged in as the role fixture of that name."""

    def login(role: str):
        client.force_login(request.getfixturevalue(role))
        return client

    return login


def audit() -> list[tuple]:
    return list(
        PersonalDataAccess.objects.order_by("id").values_list(
            "contact_id", "user_id", "action", "channel"
        )
    )


def personal_snapshot() -> tuple[list, list]:
    details = list(
        PersonalDetails.objects.order_by("contact_id").values_list(
            "contact_id", "birthday", "preferences", "family", "hobbies"
        )
    )
    dates = list(ImportantDate.objects.order_by("id").values_list("contact_id", "label", "date"))
    return details, dates


def account_form(account: Account, **changes) -> dict:
    data = {
        "name": account.name,
        "short_name": account.short_name,
        "province": account.province,
        "city": account.city,
        "industry": account.industry,
        "status": account.status,
        "owner": account.owner_id or "",
        "notes": account.notes,
        "version": account.version,
    }
    return {**data, **changes}


def contact_form(contact: Contact, **changes) -> dict:
    data = {
        "name": contact.name,
        "title": contact.title,
        "mobile": contact.mobile,
        "buying_role": contact.buying_role,
        "decision_style": contact.decision_style,
        "influence": contact.influence,
        "relationship": contact.relationship,
        "is_active": "on",
        "version": contact.version,
    }
    return {**data, **changes}


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


# --- anonymous -------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, world):
    account, contact = world.accounts["own"].pk, world.contacts["own"].pk
    urls = [
        reverse("web:account_list"),
        reverse("web:account_create"),
        reverse("web:account_detail", args=[account]),
        reverse("web:account_edit", args=[account]),
        reverse("web:contact_create", args=[account]),
        reverse("web:contact_list"),
        reverse("web:contact_detail", args=[contact]),
        reverse("web:contact_edit", args=[contact]),
        reverse("web:contact_personal", args=[contact]),
        reverse("web:equipment_list"),
        reverse("web:order_list"),
        reverse("web:order_detail", args=[1]),
        reverse("web:product_list"),
        reverse("web:import"),
        reverse("web:import_job", args=[1]),
        reverse("web:export", args=["accounts", "csv"]),
    ]
    data = {"name": "匿名", "notes": "匿名", "action": "erase"}
    for url in urls:
        for response in (client.get(url), client.post(url, data)):
            assert (response.status_code, response["Location"]) == (
                302,
                f"{reverse('web:login')}?next={url}",
            )
    assert Account.objects.filter(notes="匿名").count() == 0
    assert Contact.objects.count() == 5
    assert (PersonalDataAccess.objects.count(), ImportJob.objects.count()) == (0, 0)


# --- accounts --------------------------------------------------------------------------------

ACCOUNTS_SEEN = {
    "admin_user": ["other", "own", "team"],
    "executive": ["other", "own", "team"],
    "service_manager": ["other", "own", "team"],
    "kam": ["own", "team"],
    "engineer": ["team"],
    "portal_user": ["own"],
}


def expected_statuses(seen: dict[str, list[str]], keys) -> dict[str, dict[str, int]]:
    """Detail pages: 200 for what the role sees, 404 for the rest."""
    return {role: {key: 200 if key in rows else 404 for key in keys} for role, rows in seen.items()}


def test_account_list_and_detail_per_role(browse, world):
    listed, details = {}, {}
    for role in ROLES:
        client = browse(role)
        page = client.get(reverse("web:account_list")).context["page"]
        listed[role] = world.keys("accounts", page.object_list)
        details[role] = {
            key: client.get(reverse("web:account_detail", args=[account.pk])).status_code
            for key, account in world.accounts.items()
        }
    assert listed == ACCOUNTS_SEEN
    assert details == expected_statuses(ACCOUNTS_SEEN, world.accounts)


ACCOUNTS_CHANGED = {
    "admin_user": ["other", "own", "team"],
    "executive": [],
    "service_manager": [],
    "kam": ["own", "team"],
    "engineer": [],
    "portal_user": [],
}


@pytest.mark.parametrize("role", ROLES)
def test_account_edit_matrix(browse, world, role):
    client = browse(role)
    allowed = ACCOUNTS_CHANGED[role]
    for key, account in world.accounts.items():
        url = reverse("web:account_edit", args=[account.pk])
        form = client.get(url)
        saved = client.post(url, account_form(account, notes=f"由{role}修改"))
        if key in allowed:
            assert (form.status_code, saved.status_code) == (200, 302)
            assert saved["Location"] == reverse("web:account_detail", args=[account.pk])
        else:
            assert (form.status_code, saved.status_code) == (404, 404)
        account.refresh_from_db()
        if key in allowed:
            assert (account.notes, account.version) == (f"由{role}修改", 2)
        else:
            assert (account.notes, account.version) == ("", 1)


def test_account_create_page_per_role(browse, world):
    statuses = {}
    for role in ROLES:
        client = browse(role)
        url = reverse("web:account_create")
        statuses[role] = (
            client.get(url).status_code,
            client.post(url, {"name": f"新客户-{role}", "status": "active"}).status_code,
        )
    created = Account.objects.filter(name__startswith="新客户-").order_by("name")
    assert [(a.name, a.owner.username) for a in created] == [
        ("新客户-admin_user", "admin1"),
        ("新客户-kam", "kam1"),
    ]
    assert Account.objects.count() == 5
    # refused the same way whether the form is asked for or sent
    assert statuses == {
        "admin_user": (200, 302),
        "executive": (404, 404),
        "service_manager": (404, 404),
        "kam": (200, 302),
        "engineer": (404, 404),
        "portal_user": (404, 404),
    }


def test_list_offers_new_account_only_to_those_who_may_add(browse, world):
    assert browse("kam").get(reverse("web:account_list")).context["can_add"] is True
    assert browse("executive").get(reverse("web:account_list")).context["can_add"] is False


# --- contacts --------------------------------------------------------------------------------

CONTACTS_SEEN = {
    "admin_user": ["member", "other", "own", "portal", "team"],
    "executive": ["member", "other", "own", "portal", "team"],
    "service_manager": ["member", "other", "own", "portal", "team"],
    "kam": ["member", "own", "portal", "team"],
    "engineer": ["team"],
    "portal_user": ["member", "own", "portal"],
}


def test_contacts_follow_their_accounts(browse, world):
    listed, details = {}, {}
    for role in ROLES:
        client = browse(role)
        page = client.get(reverse("web:contact_list")).context["page"]
        listed[role] = world.keys("contacts", page.object_list)
        details[role] = {
            key: client.get(reverse("web:contact_detail", args=[contact.pk])).status_code
            for key, contact in world.contacts.items()
        }
    assert listed == CONTACTS_SEEN
    assert details == expected_statuses(CONTACTS_SEEN, world.contacts)


CONTACTS_CHANGED = {
    "admin_user": ["member", "other", "own", "team"],
    "executive": [],
    "service_manager": [],
    "kam": ["member", "own", "team"],
    "engineer": [],
    "portal_user": [],
}


@pytest.mark.parametrize("role", ROLES)
def test_contact_edit_matrix(browse, world, role):
    client = browse(role)
    allowed = CONTACTS_CHANGED[role]
    for key in ("own", "team", "other", "member"):
        contact = world.contacts[key]
        url = reverse("web:contact_edit", args=[contact.pk])
        form = client.get(url)
        saved = client.post(url, contact_form(contact, title="总经理"))
        if key in allowed:
            assert (form.status_code, saved.status_code) == (200, 302)
        else:
            assert (form.status_code, saved.status_code) == (404, 404)
        contact.refresh_from_db()
        if key in allowed:
            assert (contact.title, contact.version) == ("总经理", 2)
        else:
            assert (contact.title, contact.version) == ("设备部部长", 1)


def test_contact_create_page_per_role(browse, world):
    expected = {
        ("admin_user", "other"): (200, 302),
        ("kam", "own"): (200, 302),
        ("kam", "team"): (200, 302),
        ("kam", "other"): (404, 404),
        ("executive", "own"): (404, 404),
        ("service_manager", "own"): (404, 404),
        ("engineer", "team"): (404, 404),
        ("portal_user", "own"): (404, 404),
    }
    statuses = {}
    for role, account_key in expected:
        client = browse(role)
        url = reverse("web:contact_create", args=[world.accounts[account_key].pk])
        data = {
            "name": f"新人-{role}-{account_key}",
            "buying_role": "user",
            "decision_style": "unknown",
            "influence": 3,
            "relationship": 2,
            "is_active": "on",
        }
        statuses[role, account_key] = (
            client.get(url).status_code,
            client.post(url, data).status_code,
        )
    assert statuses == expected
    created = Contact.objects.filter(name__startswith="新人-").order_by("name")
    assert [(c.name, c.account) for c in created] == [
        ("新人-admin_user-other", world.accounts["other"]),
        ("新人-kam-own", world.accounts["own"]),
        ("新人-kam-team", world.accounts["team"]),
    ]


# --- personal details ------------------------------------------------------------------------


@pytest.mark.usefixtures("with_personal")
@pytest.mark.parametrize(
    ("role", "contact_key", "expected"),
    [
        ("admin_user", "other", "shown"),
        ("kam", "own", "shown"),  # owner of the main account
        ("kam", "team", "shown"),  # team member of the main account
        ("kam", "member", "shown"),  # owner of another account the person belongs to
        ("kam", "other", 404),
        ("engineer", "team", "shown"),
        ("executive", "own", "restricted"),  # sees every contact, not personal data as such
        ("executive", "other", "restricted"),
        ("service_manager", "team", "restricted"),
        ("portal_user", "own", "restricted"),  # a customer never sees personal data
        ("portal_user", "portal", "restricted"),
    ],
)
def test_contact_page_shows_personal_details_to_the_team_only(
    browse, world, request, role, contact_key, expected
):
    contact = world.contacts[contact_key]
    before = audit()
    response = browse(role).get(reverse("web:contact_detail", args=[contact.pk]))
    if expected == 404:
        assert response.status_code == 404
        assert audit() == before
        return
    assert response.status_code == 200
    body = response.content.decode()
    assert contact.name in body
    if expected == "shown":
        for value in ("1970-05-04", "喜欢龙井茶", "女儿在读大学", "钓鱼", "结婚纪念日: 2000-10-01"):
            assert value in body
        assert RESTRICTED not in body
        user = request.getfixturevalue(role)
        assert audit() == [*before, (contact.pk, user.pk, "view", "web")]
    else:
        assert RESTRICTED in body
        for value in ("1970-05-04", "喜欢龙井茶", "女儿在读大学", "钓鱼", "结婚纪念日"):
            assert value not in body
        assert response.context["personal"] is None
        assert audit() == before


@pytest.mark.usefixtures("with_personal")
def test_oversight_role_on_the_account_team_sees_personal_details(browse, world, executive):
    contact = world.contacts["other"]
    url = reverse("web:contact_detail", args=[contact.pk])
    assert RESTRICTED in browse("executive").get(url).content.decode()
    AccountTeamMemberFactory(
        account=world.accounts["other"], user=executive, role=AccountTeamRole.EXECUTIVE_SPONSOR
    )
    before = audit()
    body = browse("executive").get(url).content.decode()
    assert "钓鱼" in body
    assert RESTRICTED not in body
    assert audit() == [*before, (contact.pk, executive.pk, "view", "web")]


@pytest.mark.usefixtures("with_personal")
def test_personal_details_form_per_role(browse, world, request):
    """The personal details page: the team and administrators read it (and the read is
    recorded); everyone else gets a 404 and nothing is recorded."""
    cases = {
        ("admin_user", "own"): 200,
        ("kam", "member"): 200,
        ("engineer", "team"): 200,
        ("executive", "own"): 404,
        ("service_manager", "own"): 404,
        ("portal_user", "portal"): 404,
        ("kam", "other"): 404,
    }
    results = {}
    for role, contact_key in cases:
        contact = world.contacts[contact_key]
        before = audit()
        response = browse(role).get(reverse("web:contact_personal", args=[contact.pk]))
        if response.status_code == 200:
            assert response.context["form"].initial["hobbies"] == "钓鱼"
        results[role, contact_key] = (response.status_code, audit()[len(before) :])
    assert results == {
        (role, key): (
            status,
            [(world.contacts[key].pk, request.getfixturevalue(role).pk, "view", "web")]
            if status == 200
            else [],
        )
        for (role, key), status in cases.items()
    }


@pytest.mark.usefixtures("with_personal")
def test_personal_details_saved_by_the_team_are_audited(browse, world, kam):
    contact = world.contacts["team"]
    before = audit()
    response = browse("kam").post(
        reverse("web:contact_personal", args=[contact.pk]),
        {"birthday": "1970-05-04", "preferences": "喜欢普洱茶", "family": "", "hobbies": "高尔夫"},
    )
    assert response.status_code == 302
    details = PersonalDetails.objects.get(contact=contact)
    assert (details.preferences, details.family, details.hobbies) == ("喜欢普洱茶", "", "高尔夫")
    assert audit() == [*before, (contact.pk, kam.pk, "change", "web")]


@pytest.mark.usefixtures("with_personal")
@pytest.mark.parametrize(
    ("role", "contact_key"),
    [
        ("executive", "own"),
        ("service_manager", "team"),
        ("portal_user", "portal"),
        ("kam", "other"),
    ],
)
def test_personal_details_writes_denied_change_nothing(browse, world, role, contact_key):
    client = browse(role)
    contact = world.contacts[contact_key]
    before = (audit(), personal_snapshot())
    for action in ("save", "add_date", "erase"):
        response = client.post(
            reverse("web:contact_personal", args=[contact.pk]),
            {"action": action, "hobbies": "高尔夫", "label": "生日", "date": "1970-05-04"},
        )
        assert (action, response.status_code) == (action, 404)
    assert (audit(), personal_snapshot()) == before


@pytest.mark.usefixtures("with_personal")
@pytest.mark.parametrize(
    ("role", "contact_key", "expected"),
    [
        ("admin_user", "other", 302),
        ("kam", "own", 302),
        ("kam", "team", 302),
        ("engineer", "team", 404),  # on the team, so may read, but may not change the contact
    ],
)
def test_erase_personal_details_from_the_page(browse, world, request, role, contact_key, expected):
    contact = world.contacts[contact_key]
    before_audit = audit()
    before_details, before_dates = personal_snapshot()
    response = browse(role).post(
        reverse("web:contact_personal", args=[contact.pk]), {"action": "erase"}
    )
    assert response.status_code == expected
    after_details, after_dates = personal_snapshot()
    if expected == 302:
        assert response["Location"] == reverse("web:contact_detail", args=[contact.pk])
        user = request.getfixturevalue(role)
        assert Contact.objects.filter(pk=contact.pk, name=contact.name).exists()
        assert after_details == [row for row in before_details if row[0] != contact.pk]
        assert after_dates == [row for row in before_dates if row[0] != contact.pk]
        assert audit() == [*before_audit, (contact.pk, user.pk, "erase", "web")]
    else:
        assert (after_details, after_dates) == (before_details, before_dates)
        assert audit() == before_audit


@pytest.mark.usefixtures("with_personal")
def test_access_log_is_shown_to_administrators_only(browse, world, kam):
    contact = world.contacts["own"]
    url = reverse("web:contact_detail", args=[contact.pk])
    assert browse("kam").get(url).context["access_log"] is None
    log = browse("admin_user").get(url).context["access_log"]
    # newest first: the administrator's own view, then the KAM's
    assert [(e.user.username, e.action, e.channel) for e in log[:2]] == [
        ("admin1", "view", "web"),
        ("kam1", "view", "web"),
    ]


# --- equipment, orders, products -------------------------------------------------------------


@pytest.mark.usefixtures("with_equipment")
def test_equipment_list_follows_the_accounts(browse, world):
    listed = {}
    for role in ROLES:
        page = browse(role).get(reverse("web:equipment_list")).context["page"]
        listed[role] = world.keys("equipment", page.object_list)
    assert listed == ACCOUNTS_SEEN


ORDERS_SEEN = {
    "admin_user": ["other", "own", "team"],
    "executive": ["other", "own", "team"],
    "service_manager": ["other", "own", "team"],
    "kam": ["own", "team"],
}


@pytest.mark.usefixtures("with_orders")
def test_orders_are_for_commercial_staff_only(browse, world):
    listed, details = {}, {}
    for role in ROLES:
        client = browse(role)
        response = client.get(reverse("web:order_list"))
        listed[role] = (
            world.keys("orders", response.context["page"].object_list)
            if response.status_code == 200
            else response.status_code
        )
        details[role] = {
            key: client.get(reverse("web:order_detail", args=[order.pk])).status_code
            for key, order in world.orders.items()
        }
    assert listed == {**ORDERS_SEEN, "engineer": 404, "portal_user": 404}
    assert details == {
        **expected_statuses(ORDERS_SEEN, world.orders),
        "engineer": {"own": 404, "team": 404, "other": 404},
        "portal_user": {"own": 404, "team": 404, "other": 404},
    }


@pytest.mark.usefixtures("with_orders")
def test_account_page_shows_orders_only_to_those_who_may_see_them(browse, world):
    shown = {}
    for role, account_key in [("kam", "own"), ("engineer", "team"), ("portal_user", "own")]:
        url = reverse("web:account_detail", args=[world.accounts[account_key].pk])
        context = browse(role).get(url).context
        revenue = context["revenue"]
        shown[role] = (
            [o.number for o in context["orders"]] if context["orders"] is not None else None,
            revenue.order_count if revenue is not None else None,
        )
    assert shown == {
        "kam": (["SO-own"], 1),
        "engineer": (None, None),
        "portal_user": (None, None),
    }


COST_SEEN = {
    "admin_user": True,
    "executive": True,
    "service_manager": True,
    "kam": True,
    "engineer": False,
    "portal_user": False,
}


def test_product_list_shows_cost_only_to_those_who_may_see_orders(browse, product):
    shown = {}
    for role in ROLES:
        response = browse(role).get(reverse("web:product_list"))
        assert [p.code for p in response.context["page"].object_list] == ["P-COST"]
        body = response.content.decode()
        assert "10,000.00" in body
        assert ("Standard cost" in body) is ("7,654.32" in body)
        shown[role] = "7,654.32" in body
    assert shown == COST_SEEN


# --- import and export -----------------------------------------------------------------------


@pytest.fixture
def import_job(settings, tmp_path, browse):
    """An import job made through the import page by the administrator."""
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("客户.csv", "Name,Province\n新客户有限公司,浙江省\n".encode())
    response = browse("admin_user").post(
        reverse("web:import"), {"kind": "accounts", "file": upload, "dry_run": "on"}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:import_job", args=[job.pk])
    return job


def test_import_is_for_administrators_only(browse, import_job, tmp_path):
    statuses = {}
    for role in [*ROLES[1:], "admin_user"]:
        client = browse(role)
        upload = SimpleUploadedFile("客户.csv", "Name\n另一客户有限公司\n".encode())
        statuses[role] = (
            client.get(reverse("web:import")).status_code,
            client.get(reverse("web:import_job", args=[import_job.pk])).status_code,
            client.post(reverse("web:import"), {"kind": "accounts", "file": upload}).status_code,
        )
        # a refused upload makes no job and stores no file
        assert ImportJob.objects.count() == (2 if role == "admin_user" else 1)
        assert len(list(tmp_path.rglob("*.csv"))) == ImportJob.objects.count()
    assert statuses == {
        "executive": (404, 404, 404),
        "service_manager": (404, 404, 404),
        "kam": (404, 404, 404),
        "engineer": (404, 404, 404),
        "portal_user": (404, 404, 404),
        "admin_user": (200, 200, 302),
    }


def test_account_export_holds_only_what_the_user_may_see(browse, world):
    exported = {}
    for role in ROLES:
        response = browse(role).get(reverse("web:export", args=["accounts", "csv"]))
        assert (response.status_code, response["Content-Type"]) == (
            200,
            "text/csv; charset=utf-8",
        )
        header, *rows = read_csv(response)
        exported[role] = world.keys(
            "accounts",
            Account.objects.filter(name__in=[row[header.index("Name")] for row in rows]),
        )
        assert len(rows) == len(exported[role])
    assert exported == ACCOUNTS_SEEN


def test_contact_export_holds_only_what_the_user_may_see(browse, world):
    header, *rows = read_csv(browse("kam").get(reverse("web:export", args=["contacts", "csv"])))
    assert sorted(row[header.index("Name")] for row in rows) == [
        "张自有",
        "李团队",
        "赵兼任",
        "钱门户",
    ]


@pytest.mark.usefixtures("with_orders")
def test_order_export_is_for_commercial_staff_only(browse, world):
    exported = {}
    for role in ROLES:
        response = browse(role).get(reverse("web:export", args=["orders", "csv"]))
        if response.status_code == 200:
            header, *rows = read_csv(response)
            exported[role] = sorted({row[header.index("Order number")] for row in rows})
        else:
            exported[role] = response.status_code
    assert exported == {
        "admin_user": ["SO-other", "SO-own", "SO-team"],
        "executive": ["SO-other", "SO-own", "SO-team"],
        "service_manager": ["SO-other", "SO-own", "SO-team"],
        "kam": ["SO-own", "SO-team"],
        "engineer": 404,
        "portal_user": 404,
    }


def test_product_export_hides_cost_from_those_who_may_not_see_orders(browse, product):
    shown = {}
    for role in ROLES:
        response = browse(role).get(reverse("web:export", args=["products", "csv"]))
        assert response.status_code == 200
        header, *rows = read_csv(response)
        assert [row[0] for row in rows] == ["P-COST"]
        shown[role] = ("Standard cost" in header, "7654.32" in rows[0])
    assert shown == {role: (sees, sees) for role, sees in COST_SEEN.items()}


# --- query counts ----------------------------------------------------------------------------


def test_contact_list_query_count_is_fixed(client, kam, django_assert_num_queries):
    account = AccountFactory(owner=kam)
    team_account = AccountFactory()
    AccountTeamMemberFactory(account=team_account, user=kam)

    def add(n):
        boss = ContactFactory(account=account)
        for i in range(n - 1):
            ContactFactory(account=team_account if i % 2 else account, reports_to=boss)

    add(3)
    client.force_login(kam)
    url = reverse("web:contact_list")
    # session, user, roles, count, 2 × Django's own permission rows (menu), page
    with django_assert_num_queries(7) as small:
        assert len(client.get(url).context["page"].object_list) == 3
    add(22)
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(client.get(url).context["page"].object_list) == 25
