"""The account scope rule, role by role, through every entry of the scoping layer."""

import pytest

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.models import Account, Contact
from keycare.accounts.selectors import account_list
from keycare.core.scoping import restrict, user_can, user_can_any
from keycare.users.choices import Role

from .factories import AccountFactory, AccountTeamMemberFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(kam, other_kam, engineer, portal_user):
    owned = AccountFactory(name="甲公司", owner=kam)
    on_team = AccountFactory(name="乙公司", owner=other_kam)
    AccountTeamMemberFactory(account=on_team, user=kam, role=AccountTeamRole.SALES)
    managed = AccountFactory(name="丙公司", owner=other_kam)
    AccountTeamMemberFactory(account=managed, user=kam, role=AccountTeamRole.KEY_ACCOUNT_MANAGER)
    served = AccountFactory(name="丁公司", owner=other_kam)
    AccountTeamMemberFactory(account=served, user=engineer, role=AccountTeamRole.SERVICE_LEAD)
    foreign = AccountFactory(name="戊公司", owner=other_kam)
    ContactFactory(account=foreign, user=portal_user)
    ContactFactory(account=owned)
    return {
        "owned": owned,
        "on_team": on_team,
        "managed": managed,
        "served": served,
        "foreign": foreign,
    }


def names(qs):
    return sorted(a.name for a in qs)


ALL = ["丁公司", "丙公司", "乙公司", "戊公司", "甲公司"]


@pytest.mark.parametrize(
    ("fixture", "visible"),
    [
        ("admin_user", ALL),
        ("executive", ALL),
        ("service_manager", ALL),
        ("kam", ["丙公司", "乙公司", "甲公司"]),
        ("other_kam", ["丁公司", "丙公司", "乙公司", "戊公司"]),
        ("engineer", ["丁公司"]),
        ("portal_user", ["戊公司"]),
    ],
)
def test_view_scope_per_role(request, world, fixture, visible):
    user = request.getfixturevalue(fixture)
    assert names(restrict(Account.objects.all(), user, "view")) == visible
    assert names(Account.objects.restrict(user, "view")) == visible
    assert names(account_list(actor=user)) == visible
    for account in Account.objects.all():
        assert user_can(user, "view", account) is (account.name in visible)
        assert user.has_perm("accounts.view_account", account) is (account.name in visible)


def test_anonymous_and_inactive_see_nothing(world, kam):
    from django.contrib.auth.models import AnonymousUser

    assert restrict(Account.objects.all(), AnonymousUser(), "view").count() == 0
    assert restrict(Account.objects.all(), None, "view").count() == 0
    kam.is_active = False
    assert restrict(Account.objects.all(), kam, "view").count() == 0


def test_change_scope(world, kam, engineer, service_manager, admin_user, executive):
    changeable = names(restrict(Account.objects.all(), kam, "change"))
    # a key account manager edits the accounts they own or are on the team of
    assert changeable == ["丙公司", "乙公司", "甲公司"]
    assert restrict(Account.objects.all(), engineer, "change").count() == 0
    assert restrict(Account.objects.all(), service_manager, "change").count() == 0
    assert restrict(Account.objects.all(), executive, "change").count() == 0
    assert restrict(Account.objects.all(), admin_user, "change").count() == 5


@pytest.mark.parametrize(
    ("fixture", "can_add", "can_delete"),
    [
        ("admin_user", True, True),
        ("executive", False, False),
        ("kam", True, False),
        ("service_manager", False, False),
        ("engineer", False, False),
        ("portal_user", False, False),
    ],
)
def test_add_and_delete_per_role(request, world, fixture, can_add, can_delete):
    user = request.getfixturevalue(fixture)
    assert user_can_any(user, "add", Account) is can_add
    assert user.has_perm("accounts.add_account") is can_add
    assert user_can(user, "delete", world["owned"]) is can_delete


def test_contacts_follow_their_account(world, kam, portal_user, engineer):
    assert {c.account.name for c in restrict(Contact.objects.all(), kam, "view")} == {"甲公司"}
    assert {c.account.name for c in restrict(Contact.objects.all(), portal_user, "view")} == {
        "戊公司"
    }
    assert restrict(Contact.objects.all(), engineer, "view").count() == 0
    assert restrict(Contact.objects.all(), portal_user, "change").count() == 0


def test_user_with_two_roles_gets_the_union(make_user, world):
    user = make_user(Role.SERVICE_ENGINEER, Role.CUSTOMER_CONTACT, username="both")
    AccountTeamMemberFactory(account=world["owned"], user=user)
    ContactFactory(account=world["served"], user=user)
    assert names(restrict(Account.objects.all(), user, "view")) == ["丁公司", "甲公司"]


def test_unknown_action_is_an_error(kam):
    with pytest.raises(ValueError, match="Unknown action"):
        restrict(Account.objects.all(), kam, "approve")
