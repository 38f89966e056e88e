"""One FilterSet per listable entity of the insights app, used by the web list and the API
list alike."""

import django_filters
from django.utils.translation import gettext_lazy as _

from .models import TierChange


class TierChangeFilterSet(django_filters.FilterSet):
    """The tier history: when the change was made, up or down the pyramid, from which source,
    for one account. `direction` reads the annotation of tier_change_list."""

    changed_from = django_filters.DateFilter(
        label=_("Changed from"), field_name="at", lookup_expr="date__gte"
    )
    changed_to = django_filters.DateFilter(
        label=_("Changed to"), field_name="at", lookup_expr="date__lte"
    )
    direction = django_filters.ChoiceFilter(
        label=_("Direction"), field_name="direction",
        choices=[("up", _("Moved up")), ("down", _("Moved down"))],
    )  # fmt: skip
    source = django_filters.ChoiceFilter(label=_("Source"), choices=TierChange.Source.choices)
    account = django_filters.NumberFilter(
        label=_("Account"), field_name="account_id",
        min_value=1, max_value=2**63 - 1, decimal_places=0,
    )  # fmt: skip

    class Meta:
        model = TierChange
        fields = []
