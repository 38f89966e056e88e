"""Forms of the business events, gifts and VIP club pages: they shape input; the services
(keycare.engagement.services.events, .gifts, .vip) validate and say what is wrong, field by
field."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from keycare.accounts.choices import AccountTier
from keycare.engagement.choices import EventKind, InvitationStatus
from keycare.engagement.models import VipLevel
from keycare.engagement.services.events import ANSWERS, EVENT_FIELDS

DATETIME = {"type": "datetime-local"}
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
#: The longest note of a decision or an answer (the models hold 300).
NOTE_MAX = 300


def _datetime(label) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, widget=forms.DateTimeInput(attrs=DATETIME, format=DATETIME_FORMAT),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )  # fmt: skip


def _money(label, required=False, help_text=None) -> forms.DecimalField:
    return forms.DecimalField(label=label, required=required, min_value=0, max_digits=12,
                              decimal_places=2, help_text=help_text)  # fmt: skip


VERSION_MISSING = _("The form does not say which version you edited: reload the page and "
                    "make the change again.")  # fmt: skip


def _version(name: str = "version") -> forms.IntegerField:
    """The version a form was read at: without it the stale check could not be made."""
    return forms.IntegerField(widget=forms.HiddenInput, min_value=0,
                              error_messages={"required": VERSION_MISSING})  # fmt: skip


class EventForm(forms.Form):
    """An event: what, when, where, the places, budget and cost, the VIP level of a member
    event and the organiser. An edit carries the version it was read at."""

    name = forms.CharField(label=pgettext_lazy("event", "Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=EventKind.choices)
    starts_at = _datetime(_("Starts at"))
    ends_at = _datetime(_("Ends at"))
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    capacity = forms.IntegerField(label=_("Places"), required=False, min_value=0,
                                  max_value=1_000_000, help_text=_("Empty: no limit."))  # fmt: skip
    budget = _money(_("Budget"))
    cost = _money(
        _("Actual cost"), help_text=_("Shared among those who came once the event is held.")
    )
    vip_level = forms.ModelChoiceField(label=_("For VIP members of level"), required=False,
                                       queryset=VipLevel.objects.order_by("rank"),
                                       help_text=_("A VIP club event: open to members of this level and above."))  # fmt: skip
    organiser = forms.ModelChoiceField(label=_("Organiser"), queryset=None)
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    version = _version()

    def __init__(self, *args, organisers, editing: bool = False, costs: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organiser"].queryset = organisers
        self.fields["vip_level"].label_from_instance = lambda level: level.name_text
        if not editing:
            del self.fields["version"]
        if not costs:  # budget and cost are commercial figures (may_see_costs)
            del self.fields["budget"], self.fields["cost"]

    def service_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in EVENT_FIELDS if name in self.fields}
        data["location"] = data["location"] or ""
        data["description"] = data["description"] or ""
        return data


class InviteForm(forms.Form):
    contacts = forms.ModelMultipleChoiceField(label=_("People to invite"), queryset=None,
                                              widget=forms.CheckboxSelectMultiple)  # fmt: skip
    notes = forms.CharField(label=_("Note"), max_length=NOTE_MAX, required=False)

    def __init__(self, *args, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = contacts
        self.fields["contacts"].label_from_instance = lambda c: f"{c.name} · {c.account.name}"
        self.fields["contacts"].error_messages["required"] = _("Choose the people to invite.")


class RespondForm(forms.Form):
    invitation = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    status = forms.ChoiceField(choices=[(s, InvitationStatus(s).label) for s in ANSWERS])
    version = _version()


class HoldForm(forms.Form):
    cost = _money(_("Actual cost"), required=True)
    version = _version()


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why"), max_length=NOTE_MAX, required=False)
    version = _version()


class AttendanceForm(forms.Form):
    """Who came, one choice per invitation the user may record (left empty: unchanged)."""

    def __init__(self, *args, invitations, **kwargs):
        super().__init__(*args, **kwargs)
        self.invitations = list(invitations)
        choices = [("", _("Not recorded")), (InvitationStatus.ATTENDED, _("Came")),
                   (InvitationStatus.NO_SHOW, _("Did not come"))]  # fmt: skip
        for invitation in self.invitations:
            self.fields[f"status_{invitation.pk}"] = forms.ChoiceField(
                label=invitation.contact.name, choices=choices, required=False,
                initial=invitation.status if invitation.status in (InvitationStatus.ATTENDED,
                                                                   InvitationStatus.NO_SHOW) else "",
            )  # fmt: skip
            self.fields[f"version_{invitation.pk}"] = forms.IntegerField(
                widget=forms.HiddenInput, initial=invitation.version, required=False, min_value=0
            )

    def clean(self):
        cleaned = super().clean()
        for invitation in self.invitations:  # a row recorded says which version it was read at
            if (
                cleaned.get(f"status_{invitation.pk}")
                and cleaned.get(f"version_{invitation.pk}") is None
            ):
                raise forms.ValidationError(VERSION_MISSING)
        return cleaned

    def rows(self):
        for invitation in self.invitations:
            yield invitation, self[f"status_{invitation.pk}"], self[f"version_{invitation.pk}"]

    def records(self) -> list[tuple[int, str, int | None]]:
        return [
            (i.pk, self.cleaned_data[f"status_{i.pk}"], self.cleaned_data.get(f"version_{i.pk}"))
            for i in self.invitations
            if self.cleaned_data.get(f"status_{i.pk}")
        ]


class GiftForm(forms.Form):
    """A gift: to whom, what, its value, the occasion and the date (at an event, optional).
    `action=check` shows the person's yearly limit and total before saving."""

    contact = forms.ModelChoiceField(label=_("Recipient"), queryset=None)
    description = forms.CharField(label=_("Gift"), max_length=200)
    occasion = forms.CharField(label=_("Occasion"), max_length=200)
    value = forms.DecimalField(
        label=pgettext_lazy("gift", "Value"), min_value=0, max_digits=12, decimal_places=2
    )
    given_on = forms.DateField(label=_("Given on"), widget=forms.DateInput(attrs={"type": "date"}))
    event = forms.ModelChoiceField(label=_("At event (optional)"), queryset=None, required=False)

    def __init__(self, *args, contacts, events, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts
        self.fields["contact"].label_from_instance = lambda c: (
            f"{c.name} · {c.title}" if c.title else c.name
        )
        self.fields["event"].queryset = events
        # the day in the user's time zone (an event at 07:00 in Shanghai is the day before in UTC)
        self.fields["event"].label_from_instance = lambda e: (
            f"{e.name} ({timezone.localtime(e.starts_at):%Y-%m-%d})"
        )


class GiftDecisionForm(forms.Form):
    action = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject"),
                                        ("cancel", "cancel")])  # fmt: skip
    note = forms.CharField(required=False, max_length=NOTE_MAX)
    version = forms.IntegerField(min_value=0)


class VipMemberForm(forms.Form):
    """A membership: the person (when added), the account (default: their main one), the
    level set by hand with its reason, the joining date, notes; an edit also whether it is
    active, with the version it was read at."""

    contact = forms.ModelChoiceField(label=_("Contact"), queryset=None)
    level_override = forms.ModelChoiceField(
        label=_("Level set by hand"), queryset=VipLevel.objects.order_by("rank"), required=False,
        help_text=_("Empty: the level of the account's tier."),
    )  # fmt: skip
    override_reason = forms.CharField(label=_("Why set by hand"), max_length=200, required=False)
    joined_on = forms.DateField(label=_("Joined on"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip
    is_active = forms.BooleanField(label=_("Active"), required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = _version()

    def __init__(self, *args, contacts=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["level_override"].label_from_instance = lambda level: level.name_text
        if editing:
            del self.fields["contact"]
        else:
            self.fields["contact"].queryset = contacts
            self.fields["contact"].label_from_instance = lambda c: f"{c.name} · {c.account.name}"
            del self.fields["version"], self.fields["is_active"]

    def service_data(self) -> dict:
        names = ("level_override", "override_reason", "joined_on", "notes", "is_active")
        return {n: self.cleaned_data.get(n) for n in names if n in self.fields}


class VipLevelForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=30)
    name = forms.CharField(label=_("Name (English)"), max_length=60)
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=60)
    rank = forms.IntegerField(label=_("Rank"), min_value=1, max_value=1000,
                              help_text=_("1 is the highest level."))  # fmt: skip
    tier = forms.ChoiceField(label=_("For accounts of tier"), required=False,
                             choices=[("", _("None (set by hand only)")),
                                      *[(t, label) for t, label in AccountTier.choices
                                        if t != AccountTier.LEAD]])  # fmt: skip
    benefits = forms.CharField(label=_("Benefits (English, one per line)"), required=False,
                               widget=forms.Textarea(attrs={"rows": 4}))  # fmt: skip
    benefits_zh = forms.CharField(label=_("Benefits (Chinese, one per line)"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 4}))  # fmt: skip
    lock_version = _version("lock_version")

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not editing:
            del self.fields["lock_version"]

    def service_data(self) -> dict:
        names = ("code", "name", "name_zh", "rank", "tier", "benefits", "benefits_zh")
        return {n: self.cleaned_data.get(n) or ("" if n != "rank" else None) for n in names}
