"""The insights settings page: the analyses' defaults, the alert thresholds of the risk
views and where tiers come from; administrators only (others: 404)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from keycare.core.exceptions import ApplicationError
from keycare.insights.settings import (
    FIELDS,
    insights_settings_get,
    insights_settings_may_change,
    insights_settings_update,
)

from ..forms.insights_settings import InsightsSettingsForm
from .base import PageView, apply_errors


class InsightsSettingsView(PageView):
    template_name = "web/insights/settings.html"

    def _allowed(self, request) -> None:
        if not insights_settings_may_change(request.user):
            raise Http404

    def _render(self, request, form, status=200):
        return TemplateResponse(request, self.template_name, {"form": form}, status=status)

    def get(self, request):
        self._allowed(request)
        settings = insights_settings_get()
        initial = {f: getattr(settings, f) for f in FIELDS}
        initial["lock_version"] = settings.lock_version
        return self._render(request, InsightsSettingsForm(initial=initial))

    def post(self, request):
        self._allowed(request)
        form = InsightsSettingsForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            lock_version = data.pop("lock_version")
            try:
                insights_settings_update(actor=request.user, data=data, lock_version=lock_version)
            except ValidationError as exc:
                apply_errors(form, exc)
            except ApplicationError as exc:  # a stale edit: say so, keep the input
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Insights settings saved."))
                return redirect("web:insights_settings")
        return self._render(request, form, status=400)
