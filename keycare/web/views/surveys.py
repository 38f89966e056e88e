"""NPS surveys in the browser: the public answer page behind the one-time link (no login)
and the button on the account page that surveys the account's contacts."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from keycare.accounts.models import Account
from keycare.accounts.selectors import account_get
from keycare.core.exceptions import ApplicationError, PermissionDeniedError
from keycare.service.surveys import (
    nps_survey_answer,
    nps_survey_get_open,
    nps_surveys_send_for_account,
)

SCALE = range(11)


class NpsAnswerView(View):
    template_name = "web/service/nps.html"

    def _form(self, request, survey, error: str = "", status: int = 200):
        context = {"survey": survey, "scale": SCALE, "error": error,
                   "comment": request.POST.get("comment", "")}  # fmt: skip
        return TemplateResponse(request, self.template_name, context, status=status)

    def get(self, request, token: str):
        try:
            survey = nps_survey_get_open(token=token)
        except ApplicationError as exc:
            return TemplateResponse(request, self.template_name, {"error": exc.message}, status=410)
        return self._form(request, survey)

    def post(self, request, token: str):
        try:
            score = int(request.POST.get("score", ""))
        except ValueError:
            score = -1
        try:
            nps_survey_answer(token=token, score=score, comment=request.POST.get("comment", ""))
        except ApplicationError as exc:
            if exc.extra.get("code") == "invalid_score":
                return self._form(request, nps_survey_get_open(token=token), exc.message, 400)
            return TemplateResponse(request, self.template_name, {"error": exc.message}, status=410)
        return TemplateResponse(request, self.template_name, {"thanks": True})


class AccountNpsSendView(LoginRequiredMixin, View):
    """POST: survey every eligible contact of the account, then back to the account page."""

    def post(self, request, pk: int):
        try:
            account = account_get(actor=request.user, pk=pk)
        except Account.DoesNotExist:
            raise Http404 from None
        try:
            sent = nps_surveys_send_for_account(actor=request.user, account=account)
        except PermissionDeniedError:
            raise PermissionDenied from None
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            if sent:
                messages.success(request, ngettext(
                    "%(count)d NPS survey sent.", "%(count)d NPS surveys sent.", sent
                ) % {"count": sent})  # fmt: skip
            else:
                messages.info(request, _(
                    "No NPS survey sent: every contact of this account was surveyed recently, "
                    "has left or has no email address."
                ))  # fmt: skip
        return redirect("web:account_detail", pk=account.pk)
