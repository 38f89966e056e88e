"""Forms of the account type pages: they shape input; the account type services validate
(every question answered 1–5, a reason for another type than suggested, a fresh edit)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from keycare.accounts.choices import AccountType
from keycare.insights.account_types import QUESTIONS, SCALE, SCALE_LABELS


class QuestionnaireForm(forms.Form):
    """One 1–5 answer per question (the service reports a missing or wrong one)."""

    def __init__(self, *args, initial_answers=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *[(n, SCALE_LABELS[n]) for n in SCALE]]
        for question in QUESTIONS:
            self.fields[question.key] = forms.TypedChoiceField(
                label=question.text, choices=choices, coerce=int, required=False,
                empty_value=None, initial=(initial_answers or {}).get(question.key),
            )  # fmt: skip

    def answers(self) -> dict:
        return {q.key: self.cleaned_data.get(q.key) for q in QUESTIONS}


class ConfirmForm(forms.Form):
    assessment = forms.IntegerField(widget=forms.HiddenInput)
    account_type = forms.ChoiceField(label=_("Account type"), choices=AccountType.choices)
    reason = forms.CharField(
        label=_("Reason"), required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 300}),
        help_text=_("Required when you choose another type than the suggested one."),
    )  # fmt: skip


class StrategyForm(forms.Form):
    lock_version = forms.IntegerField(widget=forms.HiddenInput)
    summary = forms.CharField(label=_("Summary (English)"), required=False,
                              widget=forms.TextInput(attrs={"maxlength": 200}))  # fmt: skip
    summary_zh = forms.CharField(label=_("Summary (Chinese)"), required=False,
                                 widget=forms.TextInput(attrs={"maxlength": 200}))  # fmt: skip
    practices = forms.CharField(
        label=_("Practices (English, one per line)"), required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )  # fmt: skip
    practices_zh = forms.CharField(
        label=_("Practices (Chinese, one per line)"), required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )  # fmt: skip

    def data_for_service(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("summary", "summary_zh", "practices",
                                                   "practices_zh")}  # fmt: skip
