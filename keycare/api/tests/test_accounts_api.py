"""Permission matrix of the accounts API: accounts, contacts, personal details, equipment,
orders and products, for every role on its own, its team's and other people's accounts.

A denied write also asserts that nothing changed in the database."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from keycare.accounts.choices import AccountTeamRole, BuyingRole, EquipmentStatus
from keycare.accounts.models import (
    Account,
    Contact,
    Equipment,
    ImportantDate,
    Order,
    PersonalDataAccess,
    PersonalDetails,
    Product,
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

pytestmark = pytest.mark.django_db

ROLES = ["admin_user", "executive", "service_manager", "kam", "engineer", "portal_user"]
PERSONAL_FIELDS = {"birthday", "preferences", "family", "hobbies", "important_dates"}
CONTACT_FIELDS = [
    "id",
    "account",
    "account_name",
    "name",
    "title",
    "department",
    "mobile",
    "email",
    "wechat_id",
    "buying_role",
    "decision_style",
    "influence",
    "relationship",
    "reports_to",
    "introduced_by_contact",
    "introduced_by_user",
    "portal_sees_branches",
    "is_active",
    "version",
    "created_at",
    "updated_at",
]


@dataclass
class World:
    accounts: dict[str, Account]
    contacts: dict[str, Contact]
    equipment: dict[str, Equipment] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)

    def keys(self, kind: str, ids) -> list[str]:
        """The world keys ("own", "team", ...) of the rows with these ids, sorted."""
        by_id = {obj.pk: key for key, obj in getattr(self, kind).items()}
        return sorted(by_id[i] for i in ids)


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
    """One unit at each account of the world."""
    world.equipment = {
        key: EquipmentFactory(account=account, product=product, serial_number=f"SN-{key}")
        for key, account in world.accounts.items()
    }


@pytest.fixture
def with_orders(world, product):
    """One order at each account of the world."""
    world.orders = {
        key: OrderFactory(
            account=account,
            number=f"SO-{key}",
            lines=[{"product": product, "quantity": Decimal("1")}],
        )
        for key, account in world.accounts.items()
    }


@pytest.fixture
def api(request):
    """`api("kam")`: an API client authenticated as the role fixture of that name."""

    def make(role: str | None = None):
        client = APIClient()
        if role is not None:
            client.force_authenticate(request.getfixturevalue(role))
        return client

    return make


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


# --- anonymous -------------------------------------------------------------------------------


@pytest.mark.usefixtures("with_personal")
def test_anonymous_is_refused_in_the_error_format(api, world):
    contact, account = world.contacts["own"].pk, world.accounts["own"].pk
    requests = [
        ("get", "/api/v1/accounts/"),
        ("get", "/api/v1/contacts/"),
        ("get", "/api/v1/products/"),
        ("get", "/api/v1/equipment/"),
        ("get", "/api/v1/orders/"),
        ("get", f"/api/v1/contacts/{contact}/personal-details/"),
        ("patch", f"/api/v1/contacts/{contact}/personal-details/"),
        ("post", f"/api/v1/contacts/{contact}/erase-personal-details/"),
        ("post", "/api/v1/accounts/"),
        ("patch", f"/api/v1/accounts/{account}/"),
        ("delete", f"/api/v1/accounts/{account}/"),
        ("post", "/api/v1/contacts/"),
        ("delete", f"/api/v1/contacts/{contact}/"),
    ]
    before = (audit(), personal_snapshot(), list(Account.objects.values_list("id", "notes")))
    client = api()
    for method, url in requests:
        response = getattr(client, method)(
            url, {"name": "匿名", "notes": "匿名", "hobbies": "匿名"}, format="json"
        )
        assert (method, url, response.status_code, response.json()) == (
            method,
            url,
            403,
            {
                "message": "Authentication credentials were not provided.",
                "extra": {"code": "not_authenticated"},
            },
        )
    after = (audit(), personal_snapshot(), list(Account.objects.values_list("id", "notes")))
    assert after == before
    assert Contact.objects.count() == 5


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


def test_account_list_and_detail_per_role(api, world):
    listed, details = {}, {}
    for role in ROLES:
        client = api(role)
        body = client.get("/api/v1/accounts/").json()
        listed[role] = world.keys("accounts", [a["id"] for a in body["results"]])
        assert body["count"] == len(listed[role])
        details[role] = {
            key: client.get(f"/api/v1/accounts/{account.pk}/").status_code
            for key, account in world.accounts.items()
        }
    assert listed == ACCOUNTS_SEEN
    assert details == expected_statuses(ACCOUNTS_SEEN, world.accounts)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin_user", {"own": 200, "team": 200, "other": 200}),
        ("executive", {"own": 403, "team": 403, "other": 403}),
        ("service_manager", {"own": 403, "team": 403, "other": 403}),
        ("kam", {"own": 200, "team": 200, "other": 404}),
        ("engineer", {"own": 404, "team": 403, "other": 404}),
        ("portal_user", {"own": 403, "team": 404, "other": 404}),
    ],
)
def test_account_change_matrix(api, world, role, expected):
    client = api(role)
    statuses = {
        key: client.patch(
            f"/api/v1/accounts/{account.pk}/", {"notes": f"由{role}修改"}, format="json"
        ).status_code
        for key, account in world.accounts.items()
    }
    assert statuses == expected
    for key, account in world.accounts.items():
        account.refresh_from_db()
        if expected[key] == 200:
            assert (account.notes, account.version) == (f"由{role}修改", 2)
        else:
            assert (account.notes, account.version) == ("", 1)


def test_account_create_per_role(api, world):
    statuses = {}
    for role in ROLES:
        response = api(role).post(
            "/api/v1/accounts/",
            {"name": f"新客户-{role}", "confirm_duplicate": True},
            format="json",
        )
        statuses[role] = response.status_code
        if response.status_code == 403:
            assert response.json()["extra"] == {"code": "permission_denied"}
    assert statuses == {
        "admin_user": 201,
        "executive": 403,
        "service_manager": 403,
        "kam": 201,
        "engineer": 403,
        "portal_user": 403,
    }
    created = Account.objects.filter(name__startswith="新客户-").order_by("name")
    assert list(created.values_list("name", flat=True)) == ["新客户-admin_user", "新客户-kam"]
    assert Account.objects.count() == 5


def test_account_delete_is_for_administrators_only(api, kam, engineer):
    # no equipment, orders or branches, so only the permission can stop the delete
    account = AccountFactory(owner=kam, name="待删除客户有限公司")
    AccountTeamMemberFactory(account=account, user=engineer)
    statuses = {}
    for role in [*ROLES[1:], "admin_user"]:  # the administrator last: the account is gone then
        statuses[role] = api(role).delete(f"/api/v1/accounts/{account.pk}/").status_code
        assert Account.objects.filter(pk=account.pk).exists() is (role != "admin_user")
    assert statuses == {
        "executive": 403,
        "service_manager": 403,
        "kam": 403,  # even the owner
        "engineer": 403,
        "portal_user": 404,
        "admin_user": 204,
    }


# --- contacts --------------------------------------------------------------------------------

CONTACTS_SEEN = {
    "admin_user": ["member", "other", "own", "portal", "team"],
    "executive": ["member", "other", "own", "portal", "team"],
    "service_manager": ["member", "other", "own", "portal", "team"],
    "kam": ["member", "own", "portal", "team"],
    "engineer": ["team"],
    "portal_user": ["member", "own", "portal"],
}


def test_contacts_follow_their_accounts(api, world):
    listed, details = {}, {}
    for role in ROLES:
        client = api(role)
        body = client.get("/api/v1/contacts/").json()
        listed[role] = world.keys("contacts", [c["id"] for c in body["results"]])
        assert body["count"] == len(listed[role])
        details[role] = {
            key: client.get(f"/api/v1/contacts/{contact.pk}/").status_code
            for key, contact in world.contacts.items()
        }
    assert listed == CONTACTS_SEEN
    assert details == expected_statuses(CONTACTS_SEEN, world.contacts)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin_user", {"own": 200, "team": 200, "other": 200, "member": 200}),
        ("executive", {"own": 403, "team": 403, "other": 403, "member": 403}),
        ("service_manager", {"own": 403, "team": 403, "other": 403, "member": 403}),
        ("kam", {"own": 200, "team": 200, "other": 404, "member": 200}),
        ("engineer", {"own": 404, "team": 403, "other": 404, "member": 404}),
        ("portal_user", {"own": 403, "team": 404, "other": 404, "member": 403}),
    ],
)
def test_contact_change_matrix(api, world, role, expected):
    client = api(role)
    targets = {key: world.contacts[key] for key in expected}
    statuses = {
        key: client.patch(
            f"/api/v1/contacts/{contact.pk}/", {"title": "总经理"}, format="json"
        ).status_code
        for key, contact in targets.items()
    }
    assert statuses == expected
    for key, contact in targets.items():
        contact.refresh_from_db()
        if expected[key] == 200:
            assert (contact.title, contact.version) == ("总经理", 2)
        else:
            assert (contact.title, contact.version) == ("设备部部长", 1)


def test_contact_create_per_role(api, world):
    expected = {
        ("admin_user", "other"): 201,
        ("kam", "own"): 201,
        ("kam", "team"): 201,
        ("kam", "other"): 400,  # not a visible account: a field error
        ("executive", "own"): 403,
        ("service_manager", "own"): 403,
        ("engineer", "team"): 403,
        ("portal_user", "own"): 403,
    }
    statuses = {}
    for role, account_key in expected:
        response = api(role).post(
            "/api/v1/contacts/",
            {"account": world.accounts[account_key].pk, "name": f"新人-{role}-{account_key}"},
            format="json",
        )
        statuses[role, account_key] = response.status_code
        if response.status_code == 400:
            assert list(response.json()["extra"]["fields"]) == ["account"]
    assert statuses == expected
    created = Contact.objects.filter(name__startswith="新人-").order_by("name")
    assert [(c.name, c.account) for c in created] == [
        ("新人-admin_user-other", world.accounts["other"]),
        ("新人-kam-own", world.accounts["own"]),
        ("新人-kam-team", world.accounts["team"]),
    ]


@pytest.mark.usefixtures("with_personal")
def test_contact_output_never_contains_personal_fields(api, world):
    client = api("admin_user")
    listed = client.get("/api/v1/contacts/").json()["results"]
    assert len(listed) == 5
    for row in listed:
        assert list(row) == CONTACT_FIELDS
    detail = client.get(f"/api/v1/contacts/{world.contacts['own'].pk}/").json()
    assert list(detail) == CONTACT_FIELDS
    assert not PERSONAL_FIELDS & set(detail)
    # reading contacts is not reading personal data: nothing is recorded
    assert PersonalDataAccess.objects.filter(action="view").count() == 0


# --- personal details ------------------------------------------------------------------------


@pytest.mark.usefixtures("with_personal")
@pytest.mark.parametrize(
    ("role", "contact_key", "expected"),
    [
        ("admin_user", "own", 200),
        ("admin_user", "other", 200),
        ("kam", "own", 200),  # owner of the main account
        ("kam", "team", 200),  # team member of the main account
        ("kam", "member", 200),  # owner of another account the person belongs to
        ("kam", "other", 404),  # not even the contact is visible
        ("engineer", "team", 200),  # on the account team
        ("engineer", "own", 404),
        ("executive", "own", 403),  # sees every contact, but not personal data as such
        ("executive", "team", 403),
        ("service_manager", "own", 403),
        ("service_manager", "member", 403),
        ("portal_user", "own", 403),  # a customer never sees personal data
        ("portal_user", "portal", 403),
        ("portal_user", "team", 404),
    ],
)
def test_personal_details_read_matrix(api, world, request, role, contact_key, expected):
    contact = world.contacts[contact_key]
    before = audit()
    response = api(role).get(f"/api/v1/contacts/{contact.pk}/personal-details/")
    assert response.status_code == expected
    if expected == 200:
        body = response.json()
        date = ImportantDate.objects.get(contact=contact)
        assert {k: v for k, v in body.items() if k != "updated_at"} == {
            "birthday": "1970-05-04",
            "preferences": "喜欢龙井茶",
            "family": "女儿在读大学",
            "hobbies": "钓鱼",
            "important_dates": [
                {
                    "id": date.pk,
                    "label": "结婚纪念日",
                    "date": "2000-10-01",
                    "yearly": True,
                    "remind_days_before": 7,
                }
            ],
        }
        user = request.getfixturevalue(role)
        assert audit() == [*before, (contact.pk, user.pk, "view", "api")]
    else:
        assert set(response.json()) == {"message", "extra"}
        if expected == 403:
            assert response.json() == {
                "message": "Only the account team and administrators may see personal details.",
                "extra": {"code": "personal_data_denied"},
            }
        assert audit() == before


@pytest.mark.usefixtures("with_personal")
def test_oversight_role_on_the_account_team_sees_personal_details(api, world, executive):
    contact = world.contacts["other"]
    url = f"/api/v1/contacts/{contact.pk}/personal-details/"
    assert api("executive").get(url).status_code == 403
    AccountTeamMemberFactory(
        account=world.accounts["other"], user=executive, role=AccountTeamRole.EXECUTIVE_SPONSOR
    )
    before = audit()
    response = api("executive").get(url)
    assert response.status_code == 200
    assert response.json()["hobbies"] == "钓鱼"
    assert audit() == [*before, (contact.pk, executive.pk, "view", "api")]


@pytest.mark.usefixtures("with_personal")
def test_personal_details_change_by_the_team_is_audited(api, world, kam):
    contact = world.contacts["team"]
    before = audit()
    response = api("kam").patch(
        f"/api/v1/contacts/{contact.pk}/personal-details/", {"hobbies": "高尔夫"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["hobbies"] == "高尔夫"
    assert PersonalDetails.objects.get(contact=contact).hobbies == "高尔夫"
    assert audit() == [
        *before,
        (contact.pk, kam.pk, "change", "api"),
        (contact.pk, kam.pk, "view", "api"),
    ]


@pytest.mark.usefixtures("with_personal")
@pytest.mark.parametrize(
    ("role", "contact_key", "expected"),
    [
        ("executive", "own", 403),
        ("service_manager", "team", 403),
        ("portal_user", "portal", 403),
        ("engineer", "own", 404),
        ("kam", "other", 404),
    ],
)
def test_personal_details_change_denied_changes_nothing(api, world, role, contact_key, expected):
    contact = world.contacts[contact_key]
    before = (audit(), personal_snapshot())
    response = api(role).patch(
        f"/api/v1/contacts/{contact.pk}/personal-details/", {"hobbies": "高尔夫"}, format="json"
    )
    assert response.status_code == expected
    assert (audit(), personal_snapshot()) == before


@pytest.mark.usefixtures("with_personal")
@pytest.mark.parametrize(
    ("role", "contact_key", "expected"),
    [
        ("admin_user", "other", 204),
        ("kam", "own", 204),
        ("kam", "member", 204),
        ("kam", "other", 404),
        ("engineer", "team", 403),  # on the team, so may read, but may not change the contact
        ("executive", "own", 403),
        ("service_manager", "own", 403),
        ("portal_user", "portal", 403),
    ],
)
def test_erase_personal_details_matrix(api, world, request, role, contact_key, expected):
    contact = world.contacts[contact_key]
    before_audit = audit()
    before_details, before_dates = personal_snapshot()
    response = api(role).post(f"/api/v1/contacts/{contact.pk}/erase-personal-details/")
    assert response.status_code == expected
    after_details, after_dates = personal_snapshot()
    if expected == 204:
        user = request.getfixturevalue(role)
        assert Contact.objects.filter(pk=contact.pk, name=contact.name).exists()
        assert not PersonalDetails.objects.filter(contact=contact).exists()
        assert not ImportantDate.objects.filter(contact=contact).exists()
        # only this person's details go
        assert after_details == [row for row in before_details if row[0] != contact.pk]
        assert after_dates == [row for row in before_dates if row[0] != contact.pk]
        assert audit() == [*before_audit, (contact.pk, user.pk, "erase", "api")]
    else:
        assert (after_details, after_dates) == (before_details, before_dates)
        assert audit() == before_audit


@pytest.mark.usefixtures("with_personal")
def test_erased_details_read_back_empty(api, world, kam):
    contact = world.contacts["own"]
    client = api("kam")
    assert client.post(f"/api/v1/contacts/{contact.pk}/erase-personal-details/").status_code == 204
    body = client.get(f"/api/v1/contacts/{contact.pk}/personal-details/").json()
    assert {k: v for k, v in body.items() if k != "updated_at"} == {
        "birthday": None,
        "preferences": "",
        "family": "",
        "hobbies": "",
        "important_dates": [],
    }
    assert not PersonalDetails.objects.filter(contact=contact).exists()  # reading creates none


# --- equipment -------------------------------------------------------------------------------


@pytest.mark.usefixtures("with_equipment")
def test_equipment_follows_its_account(api, world):
    listed, details = {}, {}
    for role in ROLES:
        client = api(role)
        body = client.get("/api/v1/equipment/").json()
        listed[role] = world.keys("equipment", [e["id"] for e in body["results"]])
        details[role] = {
            key: client.get(f"/api/v1/equipment/{unit.pk}/").status_code
            for key, unit in world.equipment.items()
        }
    assert listed == ACCOUNTS_SEEN
    assert details == expected_statuses(ACCOUNTS_SEEN, world.equipment)


@pytest.mark.usefixtures("with_equipment")
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin_user", {"own": 200, "team": 200, "other": 200}),
        ("executive", {"own": 403, "team": 403, "other": 403}),
        ("service_manager", {"own": 403, "team": 403, "other": 403}),
        ("kam", {"own": 200, "team": 200, "other": 404}),
        ("engineer", {"own": 404, "team": 403, "other": 404}),
        ("portal_user", {"own": 403, "team": 404, "other": 404}),
    ],
)
def test_equipment_change_matrix(api, world, role, expected):
    client = api(role)
    statuses = {
        key: client.patch(
            f"/api/v1/equipment/{unit.pk}/", {"site": "二号车间"}, format="json"
        ).status_code
        for key, unit in world.equipment.items()
    }
    assert statuses == expected
    for key, unit in world.equipment.items():
        unit.refresh_from_db()
        if expected[key] == 200:
            assert (unit.site, unit.version) == ("二号车间", 2)
        else:
            assert (unit.site, unit.version) == ("", 1)


def test_equipment_create_per_role(api, world, product):
    expected = {
        ("admin_user", "other"): 201,
        ("kam", "own"): 201,
        ("kam", "team"): 201,
        ("kam", "other"): 400,  # not a visible account: a field error
        ("executive", "own"): 403,
        ("service_manager", "own"): 403,
        ("engineer", "team"): 403,
        ("portal_user", "own"): 403,
    }
    statuses = {}
    for role, account_key in expected:
        response = api(role).post(
            "/api/v1/equipment/",
            {
                "serial_number": f"SN-{role}-{account_key}",
                "product": product.pk,
                "account": world.accounts[account_key].pk,
            },
            format="json",
        )
        statuses[role, account_key] = response.status_code
        if response.status_code == 400:
            assert list(response.json()["extra"]["fields"]) == ["account"]
    assert statuses == expected
    created = Equipment.objects.order_by("serial_number")
    assert [(e.serial_number, e.account) for e in created] == [
        ("SN-admin_user-other", world.accounts["other"]),
        ("SN-kam-own", world.accounts["own"]),
        ("SN-kam-team", world.accounts["team"]),
    ]


@pytest.mark.usefixtures("with_equipment")
def test_equipment_is_never_deleted(api, world):
    statuses = {}
    for role in ROLES:
        unit = world.equipment["team" if role == "engineer" else "own"]
        response = api(role).delete(f"/api/v1/equipment/{unit.pk}/")
        statuses[role] = response.status_code
        if role == "admin_user":
            # by design: equipment is decommissioned, never deleted
            assert response.json() == {
                "message": "The request is not valid. See the field errors.",
                "extra": {
                    "code": "invalid",
                    "fields": {
                        "non_field_errors": [
                            "Equipment is not deleted; set its status to decommissioned."
                        ]
                    },
                },
            }
    assert statuses == {
        "admin_user": 400,
        "executive": 403,
        "service_manager": 403,
        "kam": 403,  # even on the account the KAM owns
        "engineer": 403,
        "portal_user": 403,
    }
    units = Equipment.objects.order_by("serial_number")
    assert [(u.serial_number, u.status, u.version) for u in units] == [
        ("SN-other", EquipmentStatus.OPERATING, 1),
        ("SN-own", EquipmentStatus.OPERATING, 1),
        ("SN-team", EquipmentStatus.OPERATING, 1),
    ]


# --- orders ----------------------------------------------------------------------------------

ORDERS_SEEN = {
    "admin_user": ["other", "own", "team"],
    "executive": ["other", "own", "team"],
    "service_manager": ["other", "own", "team"],
    "kam": ["own", "team"],
}


@pytest.mark.usefixtures("with_orders")
def test_orders_are_for_commercial_staff_only(api, world):
    listed, details = {}, {}
    for role in ROLES:
        client = api(role)
        response = client.get("/api/v1/orders/")
        if response.status_code == 200:
            listed[role] = world.keys("orders", [o["id"] for o in response.json()["results"]])
        else:
            listed[role] = (response.status_code, response.json())
        details[role] = {
            key: client.get(f"/api/v1/orders/{order.pk}/").status_code
            for key, order in world.orders.items()
        }
    denied = (
        403,
        {
            "message": "You do not have permission to perform this action.",
            "extra": {"code": "permission_denied"},
        },
    )
    assert listed == {**ORDERS_SEEN, "engineer": denied, "portal_user": denied}
    assert details == {
        **expected_statuses(ORDERS_SEEN, world.orders),
        "engineer": {"own": 403, "team": 403, "other": 403},
        "portal_user": {"own": 403, "team": 403, "other": 403},
    }


@pytest.mark.usefixtures("with_orders")
def test_order_detail_has_the_lines(api, world):
    order = world.orders["own"]
    body = api("kam").get(f"/api/v1/orders/{order.pk}/").json()
    assert body["number"] == "SO-own"
    assert [(line["line_number"], line["product_code"]) for line in body["lines"]] == [
        (1, "P-COST")
    ]


@pytest.mark.usefixtures("with_orders")
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin_user", {"post": 405, "patch": 405, "delete": 405}),
        # may not add orders at all: the permission check answers before the method check
        ("kam", {"post": 403, "patch": 405, "delete": 405}),
    ],
)
def test_orders_are_read_only(api, world, role, expected):
    client = api(role)
    order = world.orders["own"]
    before = list(Order.objects.order_by("id").values_list("id", "number", "notes", "total_net"))
    data = {"number": "SO-NEW", "account": order.account_id, "order_date": "2026-04-01"}
    statuses = {
        "post": client.post("/api/v1/orders/", data, format="json").status_code,
        "patch": client.patch(
            f"/api/v1/orders/{order.pk}/", {"notes": "改"}, format="json"
        ).status_code,
        "delete": client.delete(f"/api/v1/orders/{order.pk}/").status_code,
    }
    assert statuses == expected
    after = list(Order.objects.order_by("id").values_list("id", "number", "notes", "total_net"))
    assert after == before


# --- products --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "sees_cost"),
    [
        ("admin_user", True),
        ("executive", True),
        ("service_manager", True),
        ("kam", True),
        ("engineer", False),
        ("portal_user", False),
    ],
)
def test_everyone_reads_products_but_cost_needs_order_access(api, product, role, sees_cost):
    client = api(role)
    listed = client.get("/api/v1/products/").json()["results"]
    detail = client.get(f"/api/v1/products/{product.pk}/").json()
    assert [p["code"] for p in listed] == ["P-COST"]
    for row in (listed[0], detail):
        assert row["list_price"] == "10000.00"
        if sees_cost:
            assert row["standard_cost"] == "7654.32"
        else:
            assert "standard_cost" not in row


def test_only_administrators_write_products(api, product):
    statuses = {}
    for role in ROLES:
        client = api(role)
        statuses[role] = (
            client.post(
                "/api/v1/products/",
                {"code": f"P-{role}", "name": "新型加工中心", "list_price": "5000.00"},
                format="json",
            ).status_code,
            client.patch(
                f"/api/v1/products/{product.pk}/",
                {"list_price": "12000.00" if role == "admin_user" else "1.00"},
                format="json",
            ).status_code,
            # nobody deletes products: administrators are told to deactivate them instead
            client.delete(f"/api/v1/products/{product.pk}/").status_code,
        )
    assert statuses == {
        "admin_user": (201, 200, 400),
        "executive": (403, 403, 403),
        "service_manager": (403, 403, 403),
        "kam": (403, 403, 403),
        "engineer": (403, 403, 403),
        "portal_user": (403, 403, 403),
    }
    assert list(Product.objects.order_by("code").values_list("code", flat=True)) == [
        "P-COST",
        "P-admin_user",
    ]
    product.refresh_from_db()
    # the administrator's price (the first write); nobody else's
    assert (product.list_price, product.is_active) == (Decimal("12000.00"), True)


# --- query counts ----------------------------------------------------------------------------


def test_contact_list_query_count_is_fixed(kam, django_assert_num_queries):
    account = AccountFactory(owner=kam)
    team_account = AccountFactory()
    AccountTeamMemberFactory(account=team_account, user=kam)

    def add(n):
        boss = ContactFactory(account=account)
        for i in range(n - 1):
            ContactFactory(account=team_account if i % 2 else account, reports_to=boss)

    add(3)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=kam).key}")
    # token + user, roles, count, page
    with django_assert_num_queries(4) as small:
        assert client.get("/api/v1/contacts/").json()["count"] == 3
    add(22)
    with django_assert_num_queries(len(small.captured_queries)):
        body = client.get("/api/v1/contacts/").json()
    assert (body["count"], len(body["results"])) == (25, 25)
