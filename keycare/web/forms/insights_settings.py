"""Forms of the insights settings and the tier pages: they shape input; the services
(keycare.insights.settings, keycare.insights.tiers) validate."""

from django import forms
from django.utils.translation import gettext_lazy as _

from keycare.accounts.choices import AccountTier
from keycare.insights.models import InsightsSettings


def _percent(label, help_text=None) -> forms.DecimalField:
    return forms.DecimalField(label=label, help_text=help_text, min_value=0, max_value=100,
                              max_digits=5, decimal_places=2)  # fmt: skip


class InsightsSettingsForm(forms.Form):
    tier_source = forms.ChoiceField(
        label=_("Tiers come from"), choices=InsightsSettings.TierSource.choices
    )
    cutoff_a = _percent(_("Pareto class A up to %"))
    cutoff_b = _percent(_("Pareto class B up to %"))
    platinum = _percent(_("Platinum: top % of profitable accounts"))
    gold = _percent(_("Platinum and gold: top %"))
    neglect_days = forms.IntegerField(
        label=_("Neglected after days without contact"), min_value=1, max_value=3650
    )
    alert_top_1 = _percent(_("Alert when the largest account's share exceeds %"))
    alert_top_5 = _percent(_("Alert when the top five's share exceeds %"))
    alert_hhi = forms.IntegerField(
        label=_("Alert when the HHI exceeds"), min_value=0, max_value=10000,
        help_text=_("Above 1,500 is moderately, above 2,500 highly concentrated."),
    )  # fmt: skip
    lock_version = forms.IntegerField(widget=forms.HiddenInput)


class TiersApplyForm(forms.Form):
    period_from = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    period_to = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))


class TierOverrideForm(forms.Form):
    tier = forms.ChoiceField(label=_("Tier"), choices=AccountTier.choices)
    reason = forms.CharField(label=_("Reason"), max_length=300)
