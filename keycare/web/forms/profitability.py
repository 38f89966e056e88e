"""Forms of the profitability pages: they shape input; the services (keycare.profitability
.concessions, .policies, .rates) validate and say what is wrong, field by field."""

from django import forms
from django.utils.translation import gettext_lazy as _

from keycare.profitability.choices import ConcessionKind, CostDriver
from keycare.profitability.models import ConcessionPolicy, ProfitabilitySettings
from keycare.profitability.policies import POLICY_FIELDS, SETTINGS_FIELDS

#: Which fields each kind of concession asks for (the ticket is optional for every kind).
KIND_FIELDS = {
    ConcessionKind.DISCOUNT: ("order_reference", "list_amount", "discount_pct", "cost_amount"),
    ConcessionKind.FREE_SERVICE: ("hours", "visits"),
    ConcessionKind.GOODWILL_PARTS: ("amount",),
    ConcessionKind.EXTENDED_WARRANTY: ("months", "amount", "equipment"),
    ConcessionKind.SLA_PENALTY_WAIVER: ("amount",),
    ConcessionKind.GIFT: ("amount", "contact"),
}
KIND_INPUTS = sorted({name for names in KIND_FIELDS.values() for name in names})
#: The kind fields that are optional where they are asked (the free service asks for hours,
#: visits or both; the service says which is missing).
OPTIONAL_INPUTS = ("order_reference", "hours", "visits")


def _money(label, help_text=None) -> forms.DecimalField:
    return forms.DecimalField(label=label, help_text=help_text, required=False, min_value=0,
                              max_digits=16, decimal_places=2)  # fmt: skip


class ConcessionForm(forms.Form):
    """A concession request: the kind, what is given (the kind's fields), why and from
    when. The account is chosen before (its contacts, tickets and equipment fill the
    selects)."""

    kind = forms.ChoiceField(label=_("Kind"), choices=ConcessionKind.choices,
                             initial=ConcessionKind.DISCOUNT)  # fmt: skip
    order_reference = forms.CharField(label=_("Quote or order number"), max_length=40,
                                      required=False)  # fmt: skip
    list_amount = _money(_("List value"))
    discount_pct = forms.DecimalField(label=_("Discount (%)"), required=False, min_value=0,
                                      max_value=100, max_digits=5, decimal_places=2)  # fmt: skip
    cost_amount = _money(_("Standard cost"), _("To check the line's gross margin."))
    hours = forms.DecimalField(label=_("Free service hours"), required=False, min_value=0,
                               max_digits=8, decimal_places=2)  # fmt: skip
    visits = forms.IntegerField(label=_("Free visits"), required=False, min_value=0)
    months = forms.IntegerField(label=_("Months of extended warranty"), required=False,
                                min_value=0, max_value=120)  # fmt: skip
    amount = _money(_("Amount"))
    equipment = forms.ModelChoiceField(label=_("Equipment"), queryset=None, required=False)
    contact = forms.ModelChoiceField(label=_("Recipient"), queryset=None, required=False)
    ticket = forms.ModelChoiceField(label=_("Ticket (optional)"), queryset=None, required=False)
    reason = forms.CharField(label=_("Reason"), required=False,
                             widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    effective_date = forms.DateField(
        label=_("Effective date"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: today."),
    )  # fmt: skip

    def __init__(self, *args, contacts, equipment, tickets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts
        self.fields["equipment"].queryset = equipment
        self.fields["ticket"].queryset = tickets
        self.fields["ticket"].label_from_instance = lambda t: f"{t.number} {t.subject}"
        if self.is_bound:
            # only the chosen kind's inputs are read: what is left in the others (hidden on
            # the page) is neither validated nor kept
            asked = KIND_FIELDS.get(self.data.get("kind"), ())
            self.data = self.data.copy()
            for name in KIND_INPUTS:
                if name not in asked:
                    self.data.pop(name, None)

    def kind_data(self) -> dict:
        """What the chosen kind asks for (the other kinds' inputs are left out)."""
        kind = self.cleaned_data["kind"]
        names = (*KIND_FIELDS.get(kind, ()), "ticket")
        return {name: self.cleaned_data.get(name) for name in names}


#: The longest decision comment (the API holds the same limit).
COMMENT_MAX = 2000


class DecisionForm(forms.Form):
    """Approve, reject or withdraw: the service checks the comment (a rejection needs one)
    and the version the decider saw."""

    action = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject"),
                                        ("withdraw", "withdraw")])  # fmt: skip
    comment = forms.CharField(required=False, max_length=COMMENT_MAX)
    version = forms.IntegerField(min_value=0)


def _version_field() -> forms.IntegerField:
    """The edit version a form was read at: without it the stale check could not be made."""
    return forms.IntegerField(widget=forms.HiddenInput, min_value=0, error_messages={
        "required": _("The form does not say which version you edited: reload the page and "
                      "make the change again."),
    })  # fmt: skip


def _model_fields(model, names) -> dict:
    return forms.fields_for_model(model, fields=names)


class PolicyForm(forms.Form):
    """A concession policy: its tier and type (empty: any) and its limits (empty: none). A
    change carries the version it was read at (a new policy has none)."""

    lock_version = _version_field()

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        fields = _model_fields(ConcessionPolicy, POLICY_FIELDS)
        for name in POLICY_FIELDS:
            self.fields[name] = fields[name]
        lock_version = self.fields.pop("lock_version")
        if editing:
            self.fields["lock_version"] = lock_version
        for name in ("tier", "account_type"):
            self.fields[name].choices = [("", _("Any")), *list(self.fields[name].choices)[1:]]

    def service_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in POLICY_FIELDS}


class ThresholdsForm(forms.Form):
    """The approval chain's thresholds, with the version they were read at."""

    lock_version = _version_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = _model_fields(ProfitabilitySettings, SETTINGS_FIELDS)
        for name in SETTINGS_FIELDS:
            self.fields[name] = fields[name]
        self.fields["lock_version"] = self.fields.pop("lock_version")

    def service_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in SETTINGS_FIELDS}


class CostRateForm(forms.Form):
    driver = forms.ChoiceField(label=_("Cost driver"), choices=CostDriver.choices)
    valid_from = forms.DateField(label=_("Valid from"),
                                 widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip
    pool_cost = _money(_("Cost of the resource pool"),
                       _("With the capacity: the rate is the pool's cost ÷ its capacity."))  # fmt: skip
    capacity = forms.DecimalField(label=_("Practical capacity (hours, visits or tickets)"),
                                  required=False, min_value=0, max_digits=14, decimal_places=2)  # fmt: skip
    rate = forms.DecimalField(label=_("Rate"), required=False, min_value=0, max_digits=12,
                              decimal_places=2, help_text=_("Or enter the rate directly."))  # fmt: skip
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
