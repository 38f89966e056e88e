"""Forms of the engagement activity pages (activities, pains, reference customers, the style
guidance and the settings). They shape input only: the engagement services validate and
say what is wrong, field by field, in the user's language."""

from django import forms
from django.utils.translation import gettext_lazy as _

from keycare.accounts.choices import Level
from keycare.engagement.choices import ActivityKind, PainStatus, VisitDestination
from keycare.engagement.models import EngagementSettings, ReferenceCustomer
from keycare.engagement.services.programme import SETTINGS_FIELDS

DATETIME = {"type": "datetime-local"}
DATE = {"type": "date"}


VERSION_MISSING = _(
    "The form does not say which version you edited: reload the page and make the change again."
)


def version_field() -> forms.IntegerField:
    """The version a form was read at: without it the stale check could not be made."""
    return forms.IntegerField(widget=forms.HiddenInput, min_value=0, error_messages={
        "required": _("The form does not say which version you edited: reload the page and "
                      "make the change again."),
    })  # fmt: skip


def _dt_field(label, help_text=None) -> forms.DateTimeField:
    return forms.DateTimeField(label=label, required=False, help_text=help_text,
                               widget=forms.DateTimeInput(attrs=DATETIME, format="%Y-%m-%dT%H:%M"))  # fmt: skip


class ActivityForm(forms.Form):
    """An activity of a chosen account: its people (theirs: the account's contacts; ours:
    staff), when, why, and for a site or reference visit, where to. Logging one already
    done: fill in "done on" (and the outcome) instead of "planned for"."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=ActivityKind.choices, initial=ActivityKind.MEETING
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    planned_at = _dt_field(_("Planned for"))
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=1,
                                          initial=60, required=False)  # fmt: skip
    done_at = _dt_field(_("Done on"), _("Only to log an activity that has already taken place."))
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    contacts = forms.ModelMultipleChoiceField(label=_("Their people"), queryset=None,
                                              required=False,
                                              widget=forms.CheckboxSelectMultiple(
                                                  attrs={"class": "form-check-input"}))  # fmt: skip
    target_contact = forms.ModelChoiceField(
        label=_("Person to reach"), queryset=None, required=False,
        help_text=_("For an introduction: the decision maker the coach is to introduce us to."),
    )  # fmt: skip
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None)
    participants = forms.ModelMultipleChoiceField(
        label=_("Our people"), queryset=None, required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )  # fmt: skip
    objective = forms.CharField(label=_("Objective"), required=False,
                                widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    destination = forms.ChoiceField(label=_("Visit destination"), required=False,
                                    choices=[("", "—"), *VisitDestination.choices])  # fmt: skip
    reference_account = forms.ModelChoiceField(label=_("Reference customer visited"),
                                               queryset=None, required=False)  # fmt: skip
    host = forms.ModelChoiceField(label=_("Host"), queryset=None, required=False)
    itinerary = forms.CharField(label=_("Itinerary"), required=False,
                                widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    outcome = forms.CharField(label=_("Outcome"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    next_step = forms.CharField(label=_("Next step"), max_length=300, required=False)
    next_step_due = forms.DateField(label=_("Next step due"), required=False,
                                    widget=forms.DateInput(attrs=DATE))  # fmt: skip
    cost = forms.DecimalField(label=_("Cost"), required=False, min_value=0, max_digits=12,
                              decimal_places=2)  # fmt: skip
    playbook_item = forms.ModelChoiceField(queryset=None, required=False,
                                           widget=forms.HiddenInput)  # fmt: skip

    #: What the form hands the services (the playbook item only when creating).
    SERVICE_FIELDS = ("kind", "subject", "planned_at", "duration_minutes", "done_at", "location",
                      "contacts", "target_contact", "owner", "participants", "objective",
                      "destination", "reference_account", "host", "itinerary", "outcome",
                      "next_step", "next_step_due", "cost", "playbook_item")  # fmt: skip

    def __init__(self, *args, contacts, staff, references, playbook_items, editing=None,
                 may_see_costs=False, **kwargs):  # fmt: skip
        super().__init__(*args, **kwargs)
        if not may_see_costs:  # a commercial figure: neither shown nor set
            del self.fields["cost"]
        self.fields["contacts"].queryset = contacts
        self.fields["target_contact"].queryset = contacts
        self.fields["owner"].queryset = staff
        self.fields["participants"].queryset = staff
        self.fields["host"].queryset = staff
        self.fields["reference_account"].queryset = references
        self.fields["playbook_item"].queryset = playbook_items
        self.fields["contacts"].label_from_instance = _contact_label
        self.fields["target_contact"].label_from_instance = _contact_label
        if editing is not None:
            self.fields["version"] = version_field()
            del self.fields["playbook_item"]
            if editing.status != "done":
                del self.fields["done_at"]

    def service_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in self.SERVICE_FIELDS
                if name in self.fields}  # fmt: skip
        data["contacts"] = list(data.get("contacts") or [])
        data["participants"] = list(data.get("participants") or [])
        return data


def _contact_label(contact) -> str:
    role = contact.get_buying_role_display()
    return (
        f"{contact.name} · {contact.title} · {role}"
        if contact.title
        else f"{contact.name} · {role}"
    )


class CompleteForm(forms.Form):
    done_at = forms.DateTimeField(label=_("Done on"),
                                  widget=forms.DateTimeInput(attrs=DATETIME, format="%Y-%m-%dT%H:%M"))  # fmt: skip
    outcome = forms.CharField(label=_("Outcome"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    next_step = forms.CharField(label=_("Next step"), max_length=300, required=False)
    next_step_due = forms.DateField(label=_("Next step due"), required=False,
                                    widget=forms.DateInput(attrs=DATE))  # fmt: skip
    cost = forms.DecimalField(label=_("Cost"), required=False, min_value=0, max_digits=12,
                              decimal_places=2, help_text=_("Empty: kept as it was."))  # fmt: skip
    version = version_field()

    def __init__(self, *args, may_see_costs=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_see_costs:  # a commercial figure: neither shown nor set
            del self.fields["cost"]


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why is it cancelled?"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
    version = version_field()


class VersionForm(forms.Form):
    version = version_field()


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))
    version = version_field()


class PainForm(forms.Form):
    title = forms.CharField(label=_("What hurts"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    raised_by = forms.ModelChoiceField(label=_("Who said it"), queryset=None, required=False)
    impact = forms.TypedChoiceField(label=_("Impact"), choices=Level.choices, coerce=int,
                                    initial=Level.MEDIUM)  # fmt: skip
    impact_value = forms.DecimalField(label=_("Impact a year (¥)"), required=False, min_value=0,
                                      max_digits=12, decimal_places=2)  # fmt: skip
    solution = forms.CharField(label=_("Our proposed solution"), required=False,
                               widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    status = forms.ChoiceField(label=_("Status"), choices=PainStatus.choices,
                               initial=PainStatus.OPEN)  # fmt: skip
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False)
    raised_on = forms.DateField(label=_("Raised on"), required=False,
                                widget=forms.DateInput(attrs=DATE))  # fmt: skip

    SERVICE_FIELDS = ("title", "description", "raised_by", "impact", "impact_value", "solution",
                      "status", "owner", "raised_on")  # fmt: skip

    def __init__(self, *args, contacts, staff, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["raised_by"].queryset = contacts
        self.fields["owner"].queryset = staff
        if editing:
            self.fields["version"] = version_field()

    def service_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.SERVICE_FIELDS}


class PainLinkForm(forms.Form):
    what = forms.ChoiceField(choices=[("activities", "activities"), ("tickets", "tickets"),
                                      ("concessions", "concessions")])  # fmt: skip
    pk = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    action = forms.ChoiceField(choices=[("add", "add"), ("remove", "remove")])
    version = version_field()


class PainStatusForm(forms.Form):
    status = forms.ChoiceField(choices=PainStatus.choices)
    version = version_field()


class ReferenceForm(forms.Form):
    consent = forms.BooleanField(label=_("Consent given"), required=False)
    consent_on = forms.DateField(label=_("Consent given on"), required=False,
                                 widget=forms.DateInput(attrs=DATE),
                                 help_text=_("Empty: today, when the consent is given."))  # fmt: skip
    consent_by = forms.ModelChoiceField(label=_("Consent given by"), queryset=None,
                                        required=False)  # fmt: skip
    available = forms.BooleanField(label=_("Available for visits"), required=False,
                                   initial=True)  # fmt: skip
    availability = forms.CharField(label=_("Availability"), max_length=200, required=False)
    showcase = forms.CharField(label=_("What visitors see"), required=False,
                               widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    max_visits_per_year = forms.IntegerField(
        label=_("Visits a year at most"), required=False, min_value=1,
        help_text=ReferenceCustomer._meta.get_field("max_visits_per_year").help_text,
    )  # fmt: skip
    #: the version read (required to change an existing reference: `editing`)
    lock_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    SERVICE_FIELDS = ("consent", "consent_on", "consent_by", "available", "availability",
                      "showcase", "max_visits_per_year")  # fmt: skip

    def __init__(self, *args, contacts, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consent_by"].queryset = contacts
        self.editing = editing

    def clean(self):
        cleaned = super().clean()
        if (
            self.editing
            and cleaned.get("lock_version") is None
            and ("lock_version" not in self.errors)
        ):
            self.add_error(None, VERSION_MISSING)
        return cleaned

    def service_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.SERVICE_FIELDS}


class StyleGuidanceForm(forms.Form):
    style = forms.CharField(widget=forms.HiddenInput)
    summary = forms.CharField(label=_("Summary (English)"), max_length=200, required=False)
    summary_zh = forms.CharField(label=_("Summary (Chinese)"), max_length=200, required=False)
    tips = forms.CharField(label=_("Tips (English, one per line)"), required=False,
                           widget=forms.Textarea(attrs={"rows": 4}))  # fmt: skip
    tips_zh = forms.CharField(label=_("Tips (Chinese, one per line)"), required=False,
                              widget=forms.Textarea(attrs={"rows": 4}))  # fmt: skip
    lock_version = version_field()

    def service_data(self) -> dict:
        return {name: self.cleaned_data.get(name) or ""
                for name in ("summary", "summary_zh", "tips", "tips_zh")}  # fmt: skip


class EngagementSettingsForm(forms.Form):
    lock_version = version_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = forms.fields_for_model(EngagementSettings, fields=SETTINGS_FIELDS)
        for name in SETTINGS_FIELDS:
            self.fields[name] = fields[name]
        self.fields["lock_version"] = self.fields.pop("lock_version")

    def service_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in SETTINGS_FIELDS}
