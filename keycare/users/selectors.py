"""Reads for users, always scoped to the acting user."""

from django.db.models import QuerySet

from keycare.core.scoping import restrict

from .models import User


def user_list(*, actor: User) -> QuerySet[User]:
    return (
        restrict(User.objects.all(), actor, "view").prefetch_related("groups").order_by("username")
    )


def user_list_with_role(*, actor: User, role: str) -> QuerySet[User]:
    """Active users holding a role, within what the actor may see (e.g. engineers to assign)."""
    return user_list(actor=actor).filter(is_active=True, groups__name=role)


def user_get(*, actor: User, pk: int) -> User:
    return user_list(actor=actor).get(pk=pk)
