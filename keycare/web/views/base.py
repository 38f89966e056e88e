"""Shared view machinery: the full-page-or-fragment pattern, pagination and filtered lists."""

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
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


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: field errors on their fields."""
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            target = field if field in form.fields else None
            for message in messages:
                form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


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


def filter_form(filterset_class, data) -> forms.Form:
    """The FilterSet's form for the filter bar: multi-selects become one-choice selects."""
    form = filterset_class(data=data or None).form
    for name, field in list(form.fields.items()):
        if name == "ordering":
            del form.fields[name]
        elif isinstance(field.widget, forms.SelectMultiple):
            form.fields[name] = forms.ChoiceField(
                label=field.label,
                required=False,
                choices=[("", _("Any")), *list(field.choices)],
            )
        elif isinstance(field, forms.NullBooleanField):
            field.widget = forms.Select(
                choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))]
            )
    return form


class FilteredListView(PageView):
    """A list page with a filter bar, HTMX paging and search, and export links."""

    template_name = "web/list.html"
    fragment_name: str = ""
    selector = None
    filterset_class = None
    title = ""
    pretitle = _("Customers")
    export_kind: str | None = None
    filter_fields: tuple[str, ...] | None = None
    per_page = 25

    def extra_context(self) -> dict:
        return {}

    def get_context(self, **kwargs) -> dict:
        request = self.request
        errors: list[str] = []
        try:
            queryset = type(self).selector(actor=request.user, filters=request.GET)
        except ValidationError as exc:
            errors = filter_errors(exc)
            queryset = type(self).selector(actor=request.user).none()
        form = filter_form(self.filterset_class, request.GET)
        if self.filter_fields is not None:
            for name in list(form.fields):
                if name not in self.filter_fields:
                    del form.fields[name]
        return {
            "page": paginate(request, queryset, per_page=self.per_page),
            "filter_errors": errors,
            "filter_form": form,
            "title": self.title,
            "pretitle": self.pretitle,
            "table_template": self.fragment_name,
            "export_kind": self.export_kind,
            "query": request.GET,
            **self.extra_context(),
        }
