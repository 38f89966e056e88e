"""Forms of the engagement programme pages (playbooks and their items): they shape input;
the playbook services validate and say what is wrong, field by field, and refuse a stale
`lock_version`."""

from django import forms
from django.utils.translation import gettext_lazy as _

from keycare.accounts.choices import AccountTeamRole, AccountTier, AccountType, BuyingRole
from keycare.engagement.choices import ActivityKind
from keycare.engagement.playbooks import ITEM_FIELDS, PLAYBOOK_FIELDS


def _any(choices) -> list[tuple[str, str]]:
    return [("", _("Any")), *choices]


def _require_version(form: forms.Form) -> None:
    """The version read is required (a hidden field: its absence is said above the form)."""
    if form.cleaned_data.get("lock_version") is None and "lock_version" not in form.errors:
        form.add_error(None, VERSION_MISSING)


VERSION_MISSING = _(
    "The form does not say which version you edited: reload the page and make the change again."
)


class PlaybookForm(forms.Form):
    account_type = forms.ChoiceField(label=_("Account type"), choices=_any(AccountType.choices),
                                     required=False)  # fmt: skip
    tier = forms.ChoiceField(label=_("Tier"), choices=_any(AccountTier.choices), required=False)
    name = forms.CharField(label=_("Name (English)"), max_length=100)
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=100)
    notes = forms.CharField(label=_("Service measures (English, one per line)"), required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    notes_zh = forms.CharField(label=_("Service measures (Chinese, one per line)"),
                               required=False, widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    #: the edit version read (required to change a playbook: `editing`)
    lock_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing

    def clean(self):
        cleaned = super().clean()
        if self.editing:
            _require_version(self)
        return cleaned

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in PLAYBOOK_FIELDS}


class PlaybookItemForm(forms.Form):
    kind = forms.ChoiceField(label=_("Activity kind"), choices=ActivityKind.choices)
    our_role = forms.ChoiceField(label=_("Who of ours"), choices=AccountTeamRole.choices,
                                 initial=AccountTeamRole.KEY_ACCOUNT_MANAGER)  # fmt: skip
    their_role = forms.ChoiceField(
        label=_("Whom of theirs"), required=False,
        choices=[("", _("Any key person")),
                 *[c for c in BuyingRole.choices if c[0] != BuyingRole.UNKNOWN]],
    )  # fmt: skip
    every_days = forms.IntegerField(label=_("Every (days)"), min_value=1, max_value=3660)
    title = forms.CharField(label=_("Title (English)"), max_length=200)
    title_zh = forms.CharField(label=_("Title (Chinese)"), max_length=200)
    how = forms.CharField(label=_("How (English)"), required=False,
                          widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
    how_zh = forms.CharField(label=_("How (Chinese)"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=32767,
                                  required=False)  # fmt: skip
    #: the playbook's edit version the form was read at (required)
    lock_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def clean(self):
        cleaned = super().clean()
        _require_version(self)
        return cleaned

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in ITEM_FIELDS}
        if data["position"] is None:
            data.pop("position")
        return data
