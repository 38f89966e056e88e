"""Writes for users and roles."""

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .choices import Role
from .models import User


def role_groups_ensure() -> dict[str, Group]:
    """Create the six role groups if missing (idempotent)."""
    return {role.value: Group.objects.get_or_create(name=role.value)[0] for role in Role}


@transaction.atomic
def user_set_roles(*, user: User, roles: Iterable[str]) -> User:
    roles = set(roles)
    unknown = roles - set(Role.values)
    if unknown:
        raise ValidationError(
            {"roles": _("Unknown role(s): %(roles)s") % {"roles": ", ".join(sorted(unknown))}}
        )
    groups = role_groups_ensure()
    user.groups.set([groups[r] for r in sorted(roles)])
    # Administrators use the Django admin: it needs is_staff, and superuser spares them
    # per-model permission rows for third-party models (tokens, groups, axes records).
    is_admin = Role.ADMINISTRATOR in roles
    if user.is_staff != is_admin or user.is_superuser != is_admin:
        user.is_staff = user.is_superuser = is_admin
        user.save(update_fields=["is_staff", "is_superuser"])
    user.__dict__.pop("roles", None)
    return user


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    password_hash: str | None = None,
    roles: Iterable[str] = (),
    email: str = "",
    display_name: str = "",
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    language: str = "",
) -> User:
    user = User(
        username=username,
        email=email,
        display_name=display_name,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        language=language,
    )
    if password_hash:
        user.password = password_hash  # an already hashed password (bulk demo users)
    elif password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    user_set_roles(user=user, roles=roles)
    return user


@transaction.atomic
def user_language_set(*, user: User, language: str) -> None:
    """Remember the language a user chose (the switcher), so what KeyCare sends them on its
    own — reminder emails, their calendar feed — is in it too."""
    choices = {code for code, _name in User._meta.get_field("language").choices}
    if language not in choices:
        raise ValidationError({"language": [_("Choose English or Chinese.")]})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
