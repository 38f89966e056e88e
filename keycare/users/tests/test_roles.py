import pytest
from django.core.exceptions import ValidationError

from keycare.users.choices import Role
from keycare.users.models import User
from keycare.users.selectors import user_list
from keycare.users.services import user_create, user_set_roles

pytestmark = pytest.mark.django_db


def test_role_groups_exist_after_migrate():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)


def test_user_create_with_roles():
    user = user_create(username="li", password="pw-very-long-1", roles=[Role.KEY_ACCOUNT_MANAGER])
    assert user.roles == {Role.KEY_ACCOUNT_MANAGER}
    assert user.check_password("pw-very-long-1")
    assert not user.is_staff


def test_administrator_role_grants_admin_site_and_removing_it_revokes():
    user = user_create(username="wang", password="pw-very-long-1", roles=[Role.ADMINISTRATOR])
    assert (user.is_staff, user.is_superuser) == (True, True)
    user_set_roles(user=user, roles=[Role.EXECUTIVE])
    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser) == (False, False)
    assert User.objects.get(pk=user.pk).roles == {Role.EXECUTIVE}


def test_unknown_role_is_rejected_and_nothing_changes():
    user = user_create(username="zhao", password=None, roles=[Role.SERVICE_ENGINEER])
    with pytest.raises(ValidationError) as exc:
        user_set_roles(user=user, roles=["boss"])
    assert "boss" in str(exc.value)
    assert User.objects.get(pk=user.pk).roles == {Role.SERVICE_ENGINEER}


def test_duplicate_username_is_a_field_error():
    user_create(username="dup", password=None)
    with pytest.raises(ValidationError) as exc:
        user_create(username="dup", password=None)
    assert "username" in exc.value.message_dict


def test_user_scope(admin_user, kam, engineer, portal_user):
    assert set(user_list(actor=admin_user)) == {admin_user, kam, engineer, portal_user}
    # staff see active staff (to assign work), not portal users
    assert set(user_list(actor=kam)) == {admin_user, kam, engineer}
    assert list(user_list(actor=portal_user)) == [portal_user]
    assert kam.has_perm("users.view_user", engineer)
    assert not kam.has_perm("users.change_user", engineer)
    assert admin_user.has_perm("users.change_user", engineer)
    assert not portal_user.has_perm("users.use_staff_area")
