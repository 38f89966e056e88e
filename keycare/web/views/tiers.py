"""The tier pages: the history of tier changes (who moved up or down the pyramid, why and by
whom), applying the tiers now, and setting or lifting a tier by hand on an account."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from keycare.accounts.models import Account
from keycare.accounts.selectors import account_get
from keycare.core.exceptions import ApplicationError
from keycare.insights.filters import TierChangeFilterSet
from keycare.insights.metrics import trailing_twelve_months
from keycare.insights.selectors import insights_period
from keycare.insights.settings import insights_settings_get
from keycare.insights.tier_selectors import tier_change_list
from keycare.insights.tiers import tier_override_clear, tier_override_set, tiers_apply
from keycare.users.choices import Role

from ..forms.insights_settings import TierOverrideForm, TiersApplyForm
from .base import FilteredListView, PageView
from .insights import require_insights


def _is_admin(actor) -> bool:
    return actor.has_role(Role.ADMINISTRATOR)


class TierChangeListView(FilteredListView):
    """Every tier change the user may see, filtered by when, up or down, and source; with
    the "apply the tiers now" form for administrators."""

    template_name = "web/insights/tiers.html"
    fragment_name = "web/insights/_tier_changes.html"
    selector = staticmethod(tier_change_list)
    filterset_class = TierChangeFilterSet
    filter_fields = ("changed_from", "changed_to", "direction", "source")
    title = gettext_lazy("Tier history")
    pretitle = gettext_lazy("Insights")

    def get_context(self, **kwargs) -> dict:
        actor = self.request.user
        require_insights(actor)
        context = super().get_context(**kwargs)
        for name in ("changed_from", "changed_to"):
            context["filter_form"].fields[name].widget.input_type = "date"
        start, end = trailing_twelve_months()
        context.update(
            may_apply=_is_admin(actor),
            apply_form=TiersApplyForm(initial={"period_from": start, "period_to": end}),
            tier_source=insights_settings_get().get_tier_source_display(),
        )
        return context


class TiersApplyView(PageView):
    """POST only, administrators: write the period's tiers to the accounts now."""

    http_method_names = ["post"]

    def post(self, request):
        require_insights(request.user)
        if not _is_admin(request.user):
            raise Http404
        form = TiersApplyForm(request.POST)
        try:
            if not form.is_valid():
                raise ValidationError(_("Choose the period the tiers are computed for."))
            start, end = insights_period(form.cleaned_data)
            counts = tiers_apply(actor=request.user, start=start, end=end)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("%(changed)d tiers changed, %(kept)d unchanged, %(overridden)d set by hand.")
                % counts,
            )
        return redirect("web:insights_tiers")


class AccountTierOverrideView(PageView):
    """POST only, administrators: set the account's tier by hand with a reason
    (`action=set`) or hand it back to the tier source (`action=clear`)."""

    http_method_names = ["post"]

    def post(self, request, pk: int):
        actor = request.user
        require_insights(actor)
        if not _is_admin(actor):
            raise Http404
        try:
            account = account_get(actor=actor, pk=pk)
        except Account.DoesNotExist:
            raise Http404 from None
        back = reverse("web:account_detail", args=[account.pk]) + "#account-tier"
        if request.POST.get("action") == "clear":
            tier_override_clear(actor=actor, account=account)
            messages.success(request, _("The tier is no longer set by hand; the next application "
                                        "of the tiers sets it."))  # fmt: skip
            return redirect(back)
        form = TierOverrideForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a tier and say why it is set by hand."))
            return redirect(back)
        try:
            tier_override_set(actor=actor, account=account, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The tier is set by hand."))
        return redirect(back)
