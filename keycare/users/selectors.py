"""Reads for users, always scoped to the acting user."""

from django.db.models import QuerySet

from keycare.core.scoping import restrict

from .models import User


def user_list(*, actor: User) -> QuerySet[User]:
    return (
        restrict(User.objects.all(), actor, "view").prefetch_related("groups").order_by("username")
    )


def user_get(*, actor: User, pk: int) -> User:
    return user_list(actor=actor).get(pk=pk)
