from django.core.exceptions import ValidationError
from django.http import Http404

from keycare.accounts.choices import AccountStatus
from keycare.accounts.models import Account
from keycare.accounts.selectors import account_contacts, account_get, account_list
from keycare.core.scoping import user_can, user_can_any

from .base import PageView, filter_errors, paginate


class AccountListView(PageView):
    template_name = "web/accounts/list.html"
    fragment_name = "web/accounts/_table.html"

    def get_context(self, **kwargs) -> dict:
        request = self.request
        errors: list[str] = []
        try:
            queryset = account_list(actor=request.user, filters=request.GET)
        except ValidationError as exc:
            errors = filter_errors(exc)
            queryset = account_list(actor=request.user).none()
        return {
            "page": paginate(request, queryset),
            "filter_errors": errors,
            "status_choices": AccountStatus.choices,
            "query": request.GET,
            "can_add": user_can_any(request.user, "add", Account),
        }


class AccountDetailView(PageView):
    template_name = "web/accounts/detail.html"

    def get_context(self, *, pk: int, **kwargs) -> dict:
        actor = self.request.user
        try:
            account = account_get(actor=actor, pk=pk)
        except Account.DoesNotExist:
            raise Http404 from None
        return {
            "account": account,
            "contacts": account_contacts(actor=actor, account=account).select_related("user"),
            "can_change": user_can(actor, "change", account),
        }
