import factory

from keycare.accounts.choices import AccountStatus, AccountTeamRole
from keycare.accounts.models import Account, AccountTeamMember, Contact
from keycare.users.tests.factories import UserFactory


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"测试客户{n}有限公司")
    short_name = factory.Sequence(lambda n: f"客户{n}")
    province = "江苏省"
    city = "苏州"
    industry = "汽车制造"
    status = AccountStatus.ACTIVE
    owner = None


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
