"""The public CSAT page behind the one-time link (no login)."""

from django.template.response import TemplateResponse
from django.views import View

from keycare.core.exceptions import ApplicationError
from keycare.service.ratings import rating_get, rating_submit


class RateView(View):
    template_name = "web/service/rate.html"

    def get(self, request, token: str):
        try:
            rating = rating_get(token=token)
        except ApplicationError as exc:
            return TemplateResponse(request, self.template_name, {"error": exc.message}, status=410)
        return TemplateResponse(
            request, self.template_name, {"rating": rating, "scores": range(1, 6)}
        )

    def post(self, request, token: str):
        try:
            score = int(request.POST.get("score", "0"))
        except ValueError:
            score = 0
        try:
            rating_submit(token=token, score=score, comment=request.POST.get("comment", ""))
        except ApplicationError as exc:
            status = 400 if exc.extra.get("code") == "invalid_score" else 410
            context = {"error": exc.message}
            if status == 400:
                context.update({"rating": rating_get(token=token), "scores": range(1, 6)})
            return TemplateResponse(request, self.template_name, context, status=status)
        return TemplateResponse(request, self.template_name, {"thanks": True})
