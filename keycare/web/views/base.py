"""Shared view machinery: the full-page-or-fragment pattern and pagination."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers
from django.views import View


def render_page(request, *, template: str, fragment: str | None = None, context: dict):
    """Render the full page, or only `fragment` when the request comes from HTMX (and is not
    a boosted navigation, which wants the whole page)."""
    htmx = getattr(request, "htmx", None)
    if fragment and htmx and not htmx.boosted:
        response = TemplateResponse(request, fragment, context)
    else:
        response = TemplateResponse(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def paginate(request, queryset, *, per_page: int = 25):
    paginator = Paginator(queryset, per_page)
    return paginator.get_page(request.GET.get("page"))


def filter_errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{field}: {msg}" for field, msgs in exc.message_dict.items() for msg in msgs]
    return list(exc.messages)


class PageView(LoginRequiredMixin, View):
    """A GET page: subclasses build the context; the full page or the HTMX fragment is
    rendered by `render_page`."""

    template_name: str = ""
    fragment_name: str | None = None

    def get_context(self, **kwargs) -> dict:
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        return render_page(
            request,
            template=self.template_name,
            fragment=self.fragment_name,
            context=self.get_context(**kwargs),
        )
