from django.db.models import QuerySet

from .models import Account


def account_qs_select_for_update() -> QuerySet[Account]:
    return Account.objects.select_for_update(of=("self",))
