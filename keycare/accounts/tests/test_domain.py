"""Services and selectors of the accounts domain beyond the basics."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from keycare.accounts import selectors, services
from keycare.accounts.choices import OrderLineType
from keycare.accounts.models import (
    Account,
    Contact,
    ImportantDate,
    Order,
    PersonalDataAccess,
    PersonalDetails,
)
from keycare.core.exceptions import ApplicationError, PermissionDeniedError

from .factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
    EquipmentFactory,
    OrderFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db


def test_hierarchy_paths_and_moving_a_subtree(kam):
    group = AccountFactory(owner=kam, name="华鑫集团")
    branch = AccountFactory(owner=kam, name="华鑫苏州", parent=group)
    plant = AccountFactory(owner=kam, name="华鑫苏州一厂", parent=branch)
    other = AccountFactory(owner=kam, name="远东集团")
    assert (group.path, branch.path, plant.path) == (
        f"/{group.pk}/",
        f"/{group.pk}/{branch.pk}/",
        f"/{group.pk}/{branch.pk}/{plant.pk}/",
    )
    assert [a.name for a in selectors.account_subtree(actor=kam, account=group)] == [
        "华鑫苏州",
        "华鑫苏州一厂",
    ]
    services.account_update(actor=kam, account=branch, data={"parent": other})
    plant.refresh_from_db()
    assert plant.path == f"/{other.pk}/{branch.pk}/{plant.pk}/"
    assert plant.depth == 2
    assert selectors.account_subtree(actor=kam, account=group) == []
    assert [a.name for a in selectors.account_ancestors(actor=kam, account=plant)] == [
        "远东集团",
        "华鑫苏州",
    ]
    with pytest.raises(ValidationError, match="circular"):
        services.account_update(actor=kam, account=other, data={"parent": plant})


def test_group_figures_roll_up(kam):
    group = AccountFactory(owner=kam)
    branch = AccountFactory(owner=kam, parent=group)
    product = ProductFactory(list_price=Decimal("100"), standard_cost=Decimal("60"))
    today = timezone.localdate()
    OrderFactory(account=group, order_date=today, lines=[{"product": product, "quantity": 2}])
    OrderFactory(account=branch, order_date=today, lines=[{"product": product, "quantity": 3}])
    summary = selectors.account_revenue_by_month(actor=kam, account=group)
    assert summary.total_revenue == Decimal("500.00")
    assert summary.total_profit == Decimal("200.00")
    assert summary.order_count == 2
    assert selectors.account_revenue_by_month(actor=kam, account=branch).total_revenue == Decimal(
        "300.00"
    )


def test_same_credit_code_is_a_field_error(kam):
    AccountFactory(credit_code="914403001922038216")
    with pytest.raises(ValidationError) as exc:
        services.account_create(actor=kam, name="另一家", credit_code="914403001922038216")
    assert "credit_code" in exc.value.message_dict


def test_wrong_credit_code_is_a_field_error(kam):
    with pytest.raises(ValidationError) as exc:
        services.account_create(actor=kam, name="新公司", credit_code="914403001922038217")
    assert "check character" in exc.value.message_dict["credit_code"][0]
    assert Account.objects.count() == 0


def test_similar_name_needs_confirmation(kam):
    AccountFactory(name="苏州华鑫精密机械有限公司")
    with pytest.raises(ApplicationError) as exc:
        services.account_create(actor=kam, name="苏州华鑫精密机械股份有限公司")
    assert exc.value.extra["code"] == "possible_duplicate"
    assert exc.value.extra["similar"][0]["name"] == "苏州华鑫精密机械有限公司"
    assert Account.objects.count() == 1
    services.account_create(actor=kam, name="苏州华鑫精密机械股份有限公司", confirm_duplicate=True)
    assert Account.objects.count() == 2
    # an unrelated name passes without confirmation
    services.account_create(actor=kam, name="远东钢铁有限公司")


def test_pinyin_search_finds_accounts_and_contacts(kam):
    AccountFactory(owner=kam, name="中国电信股份有限公司", short_name="中国电信")
    AccountFactory(owner=kam, name="远东钢铁有限公司")
    for query in ("zgdx", "zhongguodianxin", "中国电信", "电信"):
        assert [a.name for a in selectors.account_list(actor=kam, filters={"q": query})] == [
            "中国电信股份有限公司"
        ], query
    account = Account.objects.get(name="远东钢铁有限公司")
    ContactFactory(account=account, name="张伟")
    assert [c.name for c in selectors.contact_list(actor=kam, filters={"q": "zw"})] == ["张伟"]


def test_tags_and_tag_filter(kam):
    account = services.account_create(actor=kam, name="标签客户", tags=["汽车", "华东"])
    assert sorted(account.tags.values_list("name", flat=True)) == ["华东", "汽车"]
    services.account_update(actor=kam, account=account, data={}, tags=["汽车"])
    assert list(account.tags.values_list("name", flat=True)) == ["汽车"]
    assert [a.pk for a in selectors.account_list(actor=kam, filters={"tag": "汽车"})] == [
        account.pk
    ]


def test_reports_to_cannot_loop(kam):
    account = AccountFactory(owner=kam)
    boss = ContactFactory(account=account, name="老板")
    staff = ContactFactory(account=account, name="员工", reports_to=boss)
    with pytest.raises(ValidationError, match="circular"):
        services.contact_update(actor=kam, contact=boss, data={"reports_to": staff})
    boss.refresh_from_db()
    assert boss.reports_to is None


def test_invalid_mobile_is_a_field_error(kam):
    account = AccountFactory(owner=kam)
    with pytest.raises(ValidationError) as exc:
        services.contact_create(actor=kam, account=account, name="王五", mobile="12345")
    assert "mobile" in exc.value.message_dict
    assert Contact.objects.count() == 0


def test_personal_details_team_only_audited_and_erasable(kam, executive, engineer, other_kam):
    account = AccountFactory(owner=kam)
    AccountTeamMemberFactory(account=account, user=engineer)
    contact = ContactFactory(account=account)
    services.personal_details_update(actor=kam, contact=contact, data={"hobbies": "钓鱼"})
    services.important_date_add(actor=kam, contact=contact, label="生日", date=dt.date(1975, 5, 1))
    details, dates = services.personal_details_get(actor=engineer, contact=contact)
    assert details.hobbies == "钓鱼"
    assert [d.label for d in dates] == ["生日"]
    for outsider in (executive, other_kam):
        with pytest.raises(PermissionDeniedError):
            services.personal_details_get(actor=outsider, contact=contact)
    log = list(PersonalDataAccess.objects.order_by("id").values_list("user__username", "action"))
    assert log == [("kam1", "change"), ("kam1", "change"), ("eng1", "view")]
    services.personal_details_erase(actor=kam, contact=contact)
    assert not PersonalDetails.objects.filter(contact=contact).exists()
    assert not ImportantDate.objects.filter(contact=contact).exists()
    assert Contact.objects.filter(pk=contact.pk, name=contact.name).exists()
    assert PersonalDataAccess.objects.filter(contact=contact, action="erase", user=kam).exists()


def test_equipment_warranty_defaults_from_the_product(kam):
    product = ProductFactory(warranty_months=18)
    unit = EquipmentFactory(product=product, install_date=dt.date(2025, 8, 31))
    assert unit.warranty_end == dt.date(2027, 2, 28)
    with pytest.raises(ValidationError):
        EquipmentFactory(product=product, serial_number=unit.serial_number)


def test_equipment_parent_must_be_at_the_same_account(kam):
    line = EquipmentFactory()
    with pytest.raises(ValidationError, match="same account"):
        EquipmentFactory(parent=line)


def test_order_totals_with_discount_and_rebate():
    product = ProductFactory(list_price=Decimal("1000"), standard_cost=Decimal("600"))
    order = OrderFactory(lines=[
        {"product": product, "quantity": Decimal("3"), "net_price": Decimal("900")},
        {"line_type": OrderLineType.REBATE, "description": "返利", "quantity": Decimal("1"),
         "list_price": Decimal("0"), "net_price": Decimal("200")},
    ])  # fmt: skip
    order.refresh_from_db()
    # a rebate has no discount: its list price is its price (−200), whatever was given
    assert order.total_list == Decimal("2800.00")
    assert (order.total_discount, order.total_rebate) == (Decimal("300.00"), Decimal("200.00"))
    assert order.total_net == Decimal("2500.00")  # 2700 - 200 rebate
    assert order.total_cost == Decimal("1800.00")
    assert order.gross_profit == Decimal("700.00")
    assert order.line_count == 2
    rebate = order.lines.get(line_number=2)
    assert rebate.net_amount == Decimal("-200.00")


def test_order_product_line_needs_a_product():
    with pytest.raises(ValidationError):
        OrderFactory(
            lines=[
                {"quantity": Decimal("1"), "list_price": Decimal("5"), "net_price": Decimal("5")}
            ]
        )
    assert Order.objects.count() == 0
