"""Factories that build through the services, so derived fields (hierarchy path, search text,
warranty end, order totals) are what the application would store."""

import datetime as dt
from decimal import Decimal

import factory

from keycare.accounts.choices import AccountStatus, AccountTeamRole
from keycare.accounts.models import Account, AccountTeamMember, Contact, Equipment, Order, Product
from keycare.accounts.services import (
    account_create,
    contact_create,
    equipment_create,
    order_create,
    product_create,
)
from keycare.users.tests.factories import UserFactory


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"测试客户{n}号有限公司")
    short_name = factory.Sequence(lambda n: f"客户{n}")
    province = "江苏省"
    city = "苏州"
    industry = "汽车制造"
    status = AccountStatus.ACTIVE
    owner = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return account_create(actor=None, confirm_duplicate=True, **kwargs)


class AccountTeamMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountTeamMember

    account = factory.SubFactory(AccountFactory)
    user = factory.SubFactory(UserFactory)
    role = AccountTeamRole.SERVICE_LEAD


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"联系人{n}")
    title = "设备部部长"
    mobile = "13800138000"

    @classmethod
    def _create(cls, model_class, *args, account, **kwargs):
        return contact_create(actor=None, account=account, **kwargs)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"P-{n:04d}")
    name = factory.Sequence(lambda n: f"数控机床{n}型")
    list_price = Decimal("10000.00")
    standard_cost = Decimal("6000.00")
    warranty_months = 12

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return product_create(actor=None, **kwargs)


class EquipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Equipment

    serial_number = factory.Sequence(lambda n: f"SN{n:06d}")
    product = factory.SubFactory(ProductFactory)
    account = factory.SubFactory(AccountFactory)
    install_date = dt.date(2025, 3, 1)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return equipment_create(actor=None, **kwargs)


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"SO-{n:06d}")
    account = factory.SubFactory(AccountFactory)
    order_date = dt.date(2026, 3, 15)

    @classmethod
    def _create(cls, model_class, *args, lines=None, **kwargs):
        if lines is None:
            lines = [{"product": ProductFactory(), "quantity": Decimal("2")}]
        return order_create(actor=None, lines=lines, **kwargs)
