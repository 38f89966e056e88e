import pytest
from django.core.exceptions import ValidationError

from keycare.accounts.models import Account
from keycare.accounts.services import account_create, account_delete, account_update
from keycare.core.exceptions import ConflictError, PermissionDeniedError

from .factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_create_sets_the_acting_kam_as_owner(kam):
    account = account_create(actor=kam, name="华鑫汽车有限公司", province="江苏省")
    assert account.owner == kam
    assert account.version == 1
    assert account.history.count() == 1


def test_create_is_refused_for_an_engineer(engineer):
    with pytest.raises(PermissionDeniedError):
        account_create(actor=engineer, name="华鑫汽车有限公司")
    assert Account.objects.count() == 0


def test_create_validates(kam):
    with pytest.raises(ValidationError) as exc:
        account_create(actor=kam, name="", status="bogus")
    assert set(exc.value.message_dict) == {"name", "status"}
    assert Account.objects.count() == 0


def test_update_bumps_version_and_rejects_stale_edits(kam):
    account = AccountFactory(owner=kam, name="旧名")
    updated = account_update(actor=kam, account=account, data={"name": "新名"}, expected_version=1)
    assert (updated.name, updated.version) == ("新名", 2)
    with pytest.raises(ConflictError) as exc:
        account_update(actor=kam, account=account, data={"name": "过期"}, expected_version=1)
    assert exc.value.extra == {"code": "stale_version", "current_version": 2}
    account.refresh_from_db()
    assert account.name == "新名"


def test_update_refuses_a_circular_hierarchy(kam):
    group = AccountFactory(owner=kam)
    branch = AccountFactory(owner=kam, parent=group)
    plant = AccountFactory(owner=kam, parent=branch)
    with pytest.raises(ValidationError, match="circular"):
        account_update(actor=kam, account=group, data={"parent": plant})
    group.refresh_from_db()
    assert group.parent is None


def test_update_by_someone_without_change_right(kam, other_kam):
    account = AccountFactory(owner=other_kam, name="原名")
    with pytest.raises(PermissionDeniedError):
        account_update(actor=kam, account=account, data={"name": "改名"})
    account.refresh_from_db()
    assert account.name == "原名"


def test_delete_refuses_an_account_with_branches(admin_user):
    group = AccountFactory()
    AccountFactory(parent=group)
    with pytest.raises(ValidationError, match="branches"):
        account_delete(actor=admin_user, account=group)
    assert Account.objects.count() == 2


def test_delete_only_by_administrator(kam, admin_user):
    account = AccountFactory(owner=kam)
    with pytest.raises(PermissionDeniedError):
        account_delete(actor=kam, account=account)
    account_delete(actor=admin_user, account=account)
    assert Account.objects.count() == 0
