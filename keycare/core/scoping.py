"""The one scoping layer: which rows a user may see or act on.

Each domain app declares one rule per model with ``@scope_rule(Model)``. A rule takes the
acting user and an action ("view", "add", "change", "delete") and returns ``True`` (all
rows), ``False`` (none) or a ``Q`` filter. Rules must not multiply rows (use ``Exists`` or
``__in`` subqueries, not joins across to-many relations), so no ``distinct()`` is needed.

Every selector starts from ``restrict(queryset, user, action)``; object checks
(``user_can``) and the ``rules`` permissions built with ``scoped_predicate`` go through the
same rule, so the list, the detail page, the API and ``user.has_perm`` always agree.
A model without a rule is an error, never silently visible.
"""

from collections.abc import Callable
from typing import Any

import rules
from django.core.exceptions import ImproperlyConfigured
from django.db import models

ACTIONS = ("view", "add", "change", "delete")
ScopeRule = Callable[[Any, str], "models.Q | bool"]
_RULES: dict[type[models.Model], ScopeRule] = {}


def scope_rule(model: type[models.Model]) -> Callable[[ScopeRule], ScopeRule]:
    def register(func: ScopeRule) -> ScopeRule:
        _RULES[model] = func
        return func

    return register


def has_scope_rule(model: type[models.Model]) -> bool:
    return model in _RULES


def scope_filter(model: type[models.Model], user: Any, action: str = "view") -> models.Q | bool:
    """The rule's verdict for this user and action: True, False or a Q."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}")
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    try:
        rule = _RULES[model]
    except KeyError:
        raise ImproperlyConfigured(f"No scope rule registered for {model.__name__}") from None
    return rule(user, action)


def restrict(queryset: models.QuerySet, user: Any, action: str = "view") -> models.QuerySet:
    verdict = scope_filter(queryset.model, user, action)
    if verdict is True:
        return queryset
    if verdict is False:
        return queryset.none()
    return queryset.filter(verdict)


def user_can(user: Any, action: str, obj: models.Model) -> bool:
    """Object-level check through the same rule (one query unless the verdict is constant)."""
    verdict = scope_filter(type(obj), user, action)
    if isinstance(verdict, bool):
        return verdict
    return type(obj)._default_manager.filter(verdict, pk=obj.pk).exists()


def user_can_any(user: Any, action: str, model: type[models.Model]) -> bool:
    """Whether the user may do `action` on at least some rows (model-level check, no query)."""
    return scope_filter(model, user, action) is not False


def scoped_predicate(model: type[models.Model], action: str) -> rules.Predicate:
    """A `rules` predicate for `<app>.<action>_<model>` backed by the scope rule."""

    @rules.predicate(name=f"{action}_{model._meta.model_name}_in_scope")
    def predicate(user: Any, obj: models.Model | None = None) -> bool:
        if obj is None:
            return user_can_any(user, action, model)
        return user_can(user, action, obj)

    return predicate


def register_model_perms(model: type[models.Model]) -> None:
    """Register `<app_label>.<action>_<model_name>` for every action with `rules`."""
    for action in ACTIONS:
        name = f"{model._meta.app_label}.{action}_{model._meta.model_name}"
        rules.set_perm(name, scoped_predicate(model, action))


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user: Any, action: str = "view") -> "RestrictedQuerySet":
        return restrict(self, user, action)
