"""Forms of the value scorecard pages: they shape input; the scorecard services validate."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from keycare.insights.models import QualitativeCriterion, ScorecardCriterion
from keycare.insights.scorecard import METRICS


def criterion_choices() -> list[tuple[str, str]]:
    metrics = [(key, str(label)) for key, (label, _higher) in METRICS.items()]
    judged = [(f"q:{q.key}", q.label) for q in QualitativeCriterion.objects.all()]
    return [("", "—"), (str(_("Figures")), metrics), (str(_("Judged 1–10")), judged)]


RANGE = re.compile(r"^\s*(-?[\d.]+)\s*(?:[;；~–]|-|\s)\s*(-?[\d.]+)\s*$")


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("_", "").replace("，", "").strip())


def _parse_parameters(text: str) -> list:
    """ "100000:40; 500000:70" → [[100000, 40], [500000, 70]]; "1;10" (or "1-10", "1 10")
    → [1, 10]. Raises ValueError on anything else."""
    text = (text or "").strip()
    if not text:
        return []
    if ":" in text or "：" in text:
        pairs = []
        for part in re.split(r"[;；\n]", text.replace("：", ":")):
            if part.strip():
                bound, points = part.split(":", 1)
                pairs.append([_number(bound), _number(points)])
        return pairs
    match = RANGE.match(text.replace(",", "").replace("_", ""))
    if match is None:
        raise ValueError(text)
    return [float(match.group(1)), float(match.group(2))]


def parameters_text(criterion: ScorecardCriterion) -> str:
    """The criterion's parameters as the form shows them."""
    if criterion.normalisation == "thresholds":
        return "; ".join(f"{b:g}:{p:g}" for b, p in criterion.parameters)
    if criterion.normalisation == "range" and criterion.parameters:
        return f"{criterion.parameters[0]:g};{criterion.parameters[1]:g}"
    return ""


class CriterionForm(forms.Form):
    key = forms.ChoiceField(label=_("Criterion"), required=False)
    weight = forms.DecimalField(label=_("Weight"), required=False, max_digits=5, decimal_places=2)
    normalisation = forms.ChoiceField(
        label=_("Normalisation"), choices=ScorecardCriterion.Normalisation.choices
    )
    higher_is_better = forms.ChoiceField(
        label=_("Better when"), required=False,
        choices=[("", _("As the metric says")), ("1", _("Higher")), ("0", _("Lower"))],
    )  # fmt: skip
    parameters = forms.CharField(
        label=_("Thresholds or range"), required=False, max_length=300,
        help_text=_("Thresholds: bound:points; … (e.g. 100000:40; 500000:70). Range: low;high (e.g. 1;10)."),
    )  # fmt: skip

    def __init__(self, *args, choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].choices = choices or criterion_choices()

    def clean_parameters(self):
        try:
            return _parse_parameters(self.cleaned_data.get("parameters") or "")
        except ValueError:
            raise forms.ValidationError(
                _("Write thresholds as bound:points; … and a range as low;high.")
            ) from None

    def as_criterion(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("key"):
            return None
        return {"key": data["key"], "weight": data.get("weight"),
                "normalisation": data["normalisation"],
                "higher_is_better": {"1": True, "0": False}.get(data.get("higher_is_better") or ""),
                "parameters": data.get("parameters") or []}  # fmt: skip


CriterionFormSet = forms.formset_factory(CriterionForm, extra=3, max_num=40, absolute_max=40)


class ScorecardForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    grade_a = forms.DecimalField(label=_("Grade A from score"), min_value=0, max_value=100)
    grade_b = forms.DecimalField(label=_("Grade B from score"), min_value=0, max_value=100)
    proposals = forms.IntegerField(
        label=_("Key accounts proposed"), min_value=1, max_value=1000,
        help_text=_("How many of the top-scoring accounts are proposed as key accounts."),
    )  # fmt: skip
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    lock_version = forms.IntegerField(widget=forms.HiddenInput)


class JudgementsForm(forms.Form):
    """One 1–10 choice and a note per qualitative criterion."""

    def __init__(self, *args, criteria, current, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        scale = [("", _("Not scored")), *[(str(i), str(i)) for i in range(1, 11)]]
        for c in self.criteria:
            score = current.get(c.pk)
            self.fields[f"score_{c.key}"] = forms.ChoiceField(
                label=c.label, choices=scale, required=False, help_text=c.guidance_text,
                initial=str(score.score) if score else "",
            )  # fmt: skip
            self.fields[f"note_{c.key}"] = forms.CharField(
                label=_("Note"), required=False, max_length=300,
                initial=score.note if score else "",
            )  # fmt: skip

    def scores(self) -> tuple[dict, dict]:
        data = self.cleaned_data
        scores = {c.key: int(data[f"score_{c.key}"]) if data.get(f"score_{c.key}") else None
                  for c in self.criteria}  # fmt: skip
        notes = {c.key: data.get(f"note_{c.key}") or "" for c in self.criteria}
        return scores, notes


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class QualitativeCriterionForm(forms.Form):
    key = forms.SlugField(label=_("Key"), max_length=40,
                          help_text=_("Letters, digits and underscores, e.g. innovation_partner."))  # fmt: skip
    name = forms.CharField(label=_("Name (English)"), max_length=80)
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=80)
    guidance = forms.CharField(label=_("How to score (English)"), max_length=300, required=False)
    guidance_zh = forms.CharField(label=_("How to score (Chinese)"), max_length=300, required=False)
