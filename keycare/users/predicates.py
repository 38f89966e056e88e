"""Role predicates for `rules`. Object-level rules live in each app's scope rule."""

import rules

from .choices import ALL_ACCOUNTS_ROLES, STAFF_ROLES, Role


@rules.predicate
def is_administrator(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(Role.ADMINISTRATOR)


@rules.predicate
def is_executive(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(Role.EXECUTIVE)


@rules.predicate
def is_staff_member(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(*STAFF_ROLES)


@rules.predicate
def sees_all_accounts(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(*ALL_ACCOUNTS_ROLES)


def has_role(*roles: str) -> rules.Predicate:
    name = "has_role:" + ",".join(roles)

    @rules.predicate(name=name)
    def predicate(user) -> bool:
        return bool(getattr(user, "is_authenticated", False)) and user.has_role(*roles)

    return predicate
