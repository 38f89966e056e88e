"""The value scorecard pages (客户价值计分卡): the ranking with every score explained, one
account's explanation and the account team's judgements, the single-metric and big-order
comparisons, key account designation, and the versions with their criteria."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from keycare.accounts.models import Account
from keycare.accounts.selectors import account_get
from keycare.core.exceptions import ApplicationError
from keycare.core.scoping import user_can
from keycare.insights import scorecard as services
from keycare.insights.models import KeyAccount, QualitativeCriterion, Scorecard
from keycare.insights.scorecard import METRICS
from keycare.insights.scorecard_selectors import (
    account_score_get,
    big_order_analysis,
    criterion_rows,
    key_account_overview,
    scorecard_ranking,
    single_metric_analysis,
)
from keycare.insights.selectors import insights_period
from keycare.users.choices import Role

from ..exports import Sheet
from ..forms.insights import (
    CriterionFormSet,
    JudgementsForm,
    QualitativeCriterionForm,
    ReasonForm,
    ScorecardForm,
    criterion_choices,
    parameters_text,
)
from .base import PageView, apply_errors
from .insights import TABLE_ROWS, _AnalysisView, _query_with, require_insights

GRADES = ("A", "B", "C")


def _may_designate(actor) -> bool:
    return actor.has_role(Role.ADMINISTRATOR, Role.EXECUTIVE)


def _account_or_404(actor, pk: int) -> Account:
    try:
        return account_get(actor=actor, pk=pk)
    except Account.DoesNotExist:
        raise Http404 from None


def _explanation_sheet(rows: list[dict]) -> list:
    return [[p["label"], p["weight"], p["value"], p["points"], p["weighted"]] for p in rows]


class _ScorecardAnalysis(_AnalysisView):
    """An analysis of the scorecard; without a version in use (all removed in the admin)
    the page says so instead of failing."""

    def get_context(self, **kwargs) -> dict:
        try:
            return self.scorecard_context(super().get_context(**kwargs))
        except ApplicationError as error:
            return {"figures": None, "unavailable": error.message, "errors": {},
                    "query": self.request.GET}  # fmt: skip

    def scorecard_context(self, context: dict) -> dict:
        return context


class ScorecardView(_ScorecardAnalysis):
    """The ranking; `?grade=A` narrows it to one grade (a bar of the chart does the same)."""

    template_name = "web/insights/scorecard.html"
    analysis = staticmethod(scorecard_ranking)
    export_name = "scorecard"

    def analysis_options(self) -> dict:
        # the page shows the best rows; the export holds every row
        return {} if self.request.GET.get("export") else {"limit": TABLE_ROWS}

    def scorecard_context(self, context: dict) -> dict:
        figures = context["figures"]
        links = {g: _query_with(self.request, grade=g) for g in GRADES}
        grade = self.request.GET.get("grade") if not context["errors"] else None
        context.update(
            total=figures["grades"].get(grade, 0) if grade else figures["accounts"],
            table_rows=TABLE_ROWS,
            grade=grade,
            grade_links=links,
            versions=Scorecard.objects.exclude(status=Scorecard.Status.DRAFT),
            chart={
                "labels": [_("Grade %(grade)s") % {"grade": g} for g in GRADES],
                "values": [figures["grades"][g] for g in GRADES],
                "links": [links[g] for g in GRADES],
            },
        )
        return context

    def export_sheets(self, context: dict) -> list[Sheet]:
        figures = context["figures"]
        criteria = figures["criteria"]
        headers = [pgettext("rank", "#"), _("Account"), _("Score"), _("Grade"), _("Key account"),
                   *[c["label"] for c in criteria]]  # fmt: skip
        rows = [
            [r["rank"], r["name"], r["score"], r["grade"], _("Yes") if r["key_account"] else "",
             *[p["weighted"] for p in r["breakdown"]]]
            for r in figures["rows"]
        ]  # fmt: skip
        weights = [[c["label"], c["weight"], c["normalisation_label"],
                    _("Yes") if c["higher_is_better"] else _("No")] for c in criteria]  # fmt: skip
        return [
            Sheet(_("Scores"), headers, rows),
            Sheet(_("Criteria"), [_("Criterion"), _("Weight"), _("Normalisation"),
                                  _("Higher is better")], weights),
        ]  # fmt: skip


class _ComparisonView(_ScorecardAnalysis):
    template_name = "web/insights/single_metric.html"
    big_orders = False

    def scorecard_context(self, context: dict) -> dict:
        figures = context["figures"]
        context.update(
            table_rows=TABLE_ROWS,
            big_orders=self.big_orders,
            metrics=[(k, str(label)) for k, (label, _higher) in METRICS.items()],
            chart={
                "x_label": _("Rank by %(metric)s") % {"metric": figures["metric_label"]},
                "y_label": _("Rank by value score"),
                "points": [[r["metric_rank"], r["score_rank"], r["name"]] for r in figures["rows"]
                           if r["metric_rank"] is not None],
                "flagged": [[r["metric_rank"], r["score_rank"], r["name"]]
                            for r in figures["overrated"] + figures["overlooked"]
                            if r["metric_rank"] is not None],
            },
        )  # fmt: skip
        return context

    def export_sheets(self, context: dict) -> list[Sheet]:
        figures = context["figures"]
        headers = [_("Account"), figures["metric_label"], _("Rank by the metric"), _("Score"),
                   _("Grade"), _("Rank by value")]  # fmt: skip

        def rows(items):
            return [[r["name"], r["value"], r["metric_rank"], r["score"], r["grade"],
                     r["score_rank"]] for r in items]  # fmt: skip

        return [
            Sheet(_("Ranking"), headers, rows(figures["rows"])),
            Sheet(_("Overrated"), headers, rows(figures["overrated"])),
            Sheet(_("Overlooked"), headers, rows(figures["overlooked"])),
        ]


class SingleMetricView(_ComparisonView):
    """Ranking by one metric (单一指标), with the warning and the comparison with value."""

    analysis = staticmethod(single_metric_analysis)
    export_name = "single-metric"


class BigOrderView(_ComparisonView):
    """ "A big order is not a big account" (误区3)."""

    analysis = staticmethod(big_order_analysis)
    export_name = "big-orders"
    big_orders = True


class KeyAccountsView(_ScorecardAnalysis):
    """The key accounts (大客户) with their current score, the scorecard's proposals to
    confirm, and the record of decisions."""

    template_name = "web/insights/key_accounts.html"
    analysis = staticmethod(key_account_overview)
    export_name = "key-accounts"

    def scorecard_context(self, context: dict) -> dict:
        context["may_designate"] = _may_designate(self.request.user)
        context["reason_form"] = ReasonForm()
        return context

    def export_sheets(self, context: dict) -> list[Sheet]:
        figures = context["figures"]
        return [
            Sheet(_("Key accounts"), [_("Account"), _("Score"), _("Grade"), _("Rank"),
                                      _("Reason"), _("Added by hand"), _("Confirmed by"),
                                      _("Confirmed at")],
                  [[k["name"], k["score"], k["grade"], k["rank"], k["reason"],
                    _("Yes") if k["by_hand"] else "", k["confirmed_by"], k["confirmed_at"]]
                   for k in figures["key_accounts"]]),
            Sheet(_("Proposals"), [_("Account"), _("Score"), _("Grade"), _("Rank")],
                  [[p["name"], p["score"], p["grade"], p["rank"]] for p in figures["proposals"]]),
        ]  # fmt: skip


class KeyAccountActionView(PageView):
    """POST only: confirm a proposal or add an account by hand (`designate`), or remove a
    key account (`remove`), each with a reason."""

    http_method_names = ["post"]

    def post(self, request, pk: int):
        actor = request.user
        require_insights(actor)
        account = _account_or_404(actor, pk)
        form = ReasonForm(request.POST)
        back = request.POST.get("next") or ""
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = reverse("web:insights_key_accounts")
        if not form.is_valid():
            messages.error(request, _("Give the reason for the decision."))
            return redirect(back)
        try:
            if request.POST.get("action") == "remove":
                services.key_account_remove(actor=actor, account=account,
                                            reason=form.cleaned_data["reason"])  # fmt: skip
                messages.success(request, _("%(account)s is no longer a key account.")
                                 % {"account": account.name})  # fmt: skip
            else:
                try:
                    start, end = insights_period(request.POST)
                except ValidationError:
                    start, end = insights_period(None)
                services.key_account_designate(actor=actor, account=account,
                                               reason=form.cleaned_data["reason"],
                                               start=start, end=end)  # fmt: skip
                messages.success(request, _("%(account)s is a key account.")
                                 % {"account": account.name})  # fmt: skip
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect(back)


class AccountScoreView(PageView):
    """One account's score explained criterion by criterion, its judgements, and whether it
    is a key account (with the forms for those who decide)."""

    template_name = "web/insights/account_score.html"

    def _period(self) -> dict:
        try:
            start, end = insights_period(self.request.GET)
        except ValidationError:
            start, end = insights_period(None)
        return {"from": start.isoformat(), "to": end.isoformat()}

    def get_context(self, *, pk: int, **kwargs) -> dict:
        actor = self.request.user
        require_insights(actor)
        account = _account_or_404(actor, pk)
        errors, unavailable = {}, None
        try:
            try:
                explained = account_score_get(
                    actor=actor, account=account, filters=self.request.GET
                )
            except ValidationError as error:
                errors = error.message_dict
                explained = account_score_get(actor=actor, account=account)
        except ApplicationError as error:
            explained, unavailable = None, error.message
        judgements = list(account.qualitative_scores.select_related("criterion", "scored_by"))
        key = KeyAccount.objects.filter(account=account).select_related("confirmed_by").first()
        return {
            "account": account,
            "explained": explained,
            "unavailable": unavailable,
            "errors": errors,
            "query": self.request.GET,
            "figures": explained or {"period": self._period()},
            "judgements": judgements,
            "may_judge": user_can(actor, "change", account),
            "key_account": key,
            "may_designate": _may_designate(actor),
            "reason_form": ReasonForm(),
            "chart": {
                "labels": [p["label"] for p in (explained or {}).get("breakdown", [])],
                "values": [p["weighted"] for p in (explained or {}).get("breakdown", [])],
            },
        }


class JudgementsView(PageView):
    """The account team scores the qualitative criteria of an account (1–10)."""

    template_name = "web/insights/judgements.html"

    def _setup(self, request, pk: int):
        require_insights(request.user)
        account = _account_or_404(request.user, pk)
        if not user_can(request.user, "change", account):
            raise Http404
        criteria = list(QualitativeCriterion.objects.all())
        current = {s.criterion_id: s for s in account.qualitative_scores.all()}
        return account, criteria, current

    def get(self, request, pk: int):
        account, criteria, current = self._setup(request, pk)
        form = JudgementsForm(criteria=criteria, current=current)
        return TemplateResponse(request, self.template_name, {"account": account, "form": form})

    def post(self, request, pk: int):
        account, criteria, current = self._setup(request, pk)
        form = JudgementsForm(request.POST, criteria=criteria, current=current)
        if form.is_valid():
            scores, notes = form.scores()
            try:
                services.qualitative_scores_set(actor=request.user, account=account,
                                                scores=scores, notes=notes)  # fmt: skip
                messages.success(request, _("Judgements saved."))
                return redirect("web:insights_account_score", pk=account.pk)
            except ValidationError as exc:
                apply_errors(form, exc)
        return TemplateResponse(
            request, self.template_name, {"account": account, "form": form}, status=400
        )


class ScorecardVersionsView(PageView):
    """Every version with its criteria; administrators start and edit a draft and add
    qualitative criteria."""

    template_name = "web/insights/scorecard_versions.html"

    def _context(self, request, criterion_form=None) -> dict:
        require_insights(request.user)
        versions = list(
            Scorecard.objects.prefetch_related("criteria__qualitative").select_related("created_by")
        )
        for version in versions:
            version.rows = criterion_rows(version)
        return {
            "versions": versions,
            "is_admin": request.user.has_role(Role.ADMINISTRATOR),
            "qualitative": QualitativeCriterion.objects.all(),
            "criterion_form": criterion_form or QualitativeCriterionForm(),
        }

    def get(self, request):
        return TemplateResponse(request, self.template_name, self._context(request))

    def post(self, request):
        """`action=draft` starts (or opens) the draft; `action=criterion` adds a qualitative
        criterion."""
        require_insights(request.user)
        if not request.user.has_role(Role.ADMINISTRATOR):
            raise Http404
        if request.POST.get("action") == "draft":
            services.scorecard_draft(actor=request.user)
            return redirect("web:insights_scorecard_draft")
        form = QualitativeCriterionForm(request.POST)
        if form.is_valid():
            try:
                services.qualitative_criterion_create(actor=request.user, **form.cleaned_data)
                messages.success(request, _("Criterion added. Use it in the next draft."))
                return redirect("web:insights_scorecard_versions")
            except ValidationError as exc:
                apply_errors(form, exc)
        return TemplateResponse(
            request, self.template_name, self._context(request, form), status=400
        )


class ScorecardDraftView(PageView):
    """Administrators edit the draft (name, grade bands, proposals, criteria with weights
    that sum to 100) and publish it."""

    template_name = "web/insights/scorecard_draft.html"

    def _draft(self, request) -> Scorecard:
        require_insights(request.user)
        if not request.user.has_role(Role.ADMINISTRATOR):
            raise Http404
        draft = Scorecard.objects.filter(status=Scorecard.Status.DRAFT).first()
        if draft is None:
            raise Http404
        return draft

    def _forms(self, draft, data=None):
        choices = criterion_choices()
        initial = {"name": draft.name, "grade_a": draft.grade_a, "grade_b": draft.grade_b,
                   "proposals": draft.proposals, "notes": draft.notes,
                   "lock_version": draft.lock_version}  # fmt: skip
        rows = [{"key": c.key, "weight": c.weight, "normalisation": c.normalisation,
                 "higher_is_better": "1" if c.higher_is_better else "0",
                 "parameters": parameters_text(c)}
                for c in draft.criteria.select_related("qualitative")]  # fmt: skip
        return (
            ScorecardForm(data, initial=initial),
            CriterionFormSet(data, initial=rows, prefix="c", form_kwargs={"choices": choices}),
        )

    def _render(self, request, draft, form, formset, status=200):
        total = sum((f.cleaned_data.get("weight") or 0) for f in formset.forms
                    if getattr(f, "cleaned_data", None) and f.cleaned_data.get("key")) \
            if formset.is_bound else sum(c.weight for c in draft.criteria.all())  # fmt: skip
        return TemplateResponse(
            request, self.template_name,
            {"draft": draft, "form": form, "formset": formset, "total": total}, status=status,
        )  # fmt: skip

    def get(self, request):
        draft = self._draft(request)
        form, formset = self._forms(draft)
        return self._render(request, draft, form, formset)

    def post(self, request):
        draft = self._draft(request)
        form, formset = self._forms(draft, request.POST)
        if form.is_valid() and formset.is_valid():
            data = dict(form.cleaned_data)
            lock_version = data.pop("lock_version")
            criteria = [c for c in (f.as_criterion() for f in formset.forms) if c]
            try:
                publish = request.POST.get("action") == "publish"
                draft = services.scorecard_update(
                    actor=request.user, scorecard=draft, data=data, criteria=criteria,
                    lock_version=lock_version, publish=publish,
                )  # fmt: skip
                if publish:
                    messages.success(request, _("Version %(version)s is published and in use.")
                                     % {"version": draft.version})  # fmt: skip
                    return redirect("web:insights_scorecard_versions")
                messages.success(request, _("Draft saved."))
                return redirect("web:insights_scorecard_draft")
            except ValidationError as exc:
                for message in exc.message_dict.get("criteria", []):
                    form.add_error(None, message)
                apply_errors(form, ValidationError({k: v for k, v in exc.message_dict.items()
                                                    if k != "criteria"}))  # fmt: skip
            except ApplicationError as exc:
                form.add_error(None, exc.message)
        return self._render(request, draft, form, formset, status=400)
