from django import forms
from django.utils.translation import gettext_lazy as _

from keycare.users.models import User


class ServiceTeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    provinces = forms.CharField(
        label=_("Provinces covered"),
        required=False,
        help_text=_("Separated by commas, as written on the accounts, e.g. 江苏省, 上海市."),
    )
    manager = forms.ModelChoiceField(
        label=_("Team leader"), queryset=User.objects.none(), required=False
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, managers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = managers

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class TeamMemberForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Engineer"), queryset=User.objects.none())
    skills = forms.CharField(
        label=_("Skills"),
        required=False,
        help_text=_("Product categories or ticket types, separated by commas."),
    )

    def __init__(self, *args, engineers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = engineers
