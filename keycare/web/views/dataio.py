"""Import (administrators, background job with progress) and export (anyone, of what they
may see) of accounts, contacts, products, equipment and orders."""

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import get_language

from keycare.accounts.models import Order
from keycare.core.exceptions import PermissionDeniedError
from keycare.core.scoping import scope_filter, user_can_any
from keycare.dataio import selectors, services
from keycare.dataio.exports import export_to_file
from keycare.dataio.kinds import KINDS
from keycare.dataio.models import ImportJob, ImportKind

from ..forms.accounts import ImportForm
from .base import PageView, apply_errors, render_page


class ImportView(PageView):
    template_name = "web/dataio/import.html"

    def _check(self, request):
        if not user_can_any(request.user, "add", ImportJob):
            raise Http404

    def get(self, request):
        self._check(request)
        form = ImportForm(initial={"kind": request.GET.get("kind", "accounts")})
        return TemplateResponse(request, self.template_name, self._context(request, form))

    def post(self, request):
        self._check(request)
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = services.import_job_create(
                    actor=request.user,
                    kind=form.cleaned_data["kind"],
                    upload=form.cleaned_data["file"],
                    dry_run=form.cleaned_data["dry_run"],
                )
                return redirect("web:import_job", pk=job.pk)
            except ValidationError as exc:
                apply_errors(form, exc)
            except PermissionDeniedError as exc:
                form.add_error(None, exc.message)
        return TemplateResponse(
            request, self.template_name, self._context(request, form), status=400
        )

    def _context(self, request, form):
        labels = dict(ImportKind.choices)
        columns = {
            labels[name]: [
                (
                    c.headers[0],
                    next((h for h in c.headers if any("\u4e00" <= ch <= "\u9fff" for ch in h)), ""),
                    c.required,
                )
                for c in kind.columns
            ]
            for name, kind in KINDS.items()
        }
        return {
            "form": form,
            "jobs": selectors.import_job_list(actor=request.user)[:10],
            "columns": columns,
        }


class ImportJobView(PageView):
    """The job page; while it runs, HTMX polls the status fragment every second."""

    template_name = "web/dataio/job.html"
    fragment_name = "web/dataio/_job_status.html"

    def get_context(self, *, pk: int, **kwargs) -> dict:
        try:
            job = selectors.import_job_get(actor=self.request.user, pk=pk)
        except ImportJob.DoesNotExist:
            raise Http404 from None
        return {"job": job, "progress": selectors.import_job_progress(job=job)}

    def get(self, request, *args, **kwargs):
        response = render_page(
            request,
            template=self.template_name,
            fragment=self.fragment_name,
            context=self.get_context(**kwargs),
        )
        if request.htmx and response.context_data["job"].is_finished:
            response["HX-Refresh"] = "true"  # show the full report once
        return response


class ExportView(PageView):
    """Download what the user may see of one kind, filtered like the list page."""

    def get(self, request, kind: str, fmt: str):
        if kind not in KINDS or fmt not in ("csv", "xlsx"):
            raise Http404
        if kind == "orders" and scope_filter(Order, request.user, "view") is False:
            raise Http404
        filters = request.GET.copy()
        filters.pop("page", None)
        try:
            handle, _count = export_to_file(
                kind=kind,
                fmt=fmt,
                actor=request.user,
                filters=filters,
                language=get_language() or "en",
            )
        except ValidationError:
            raise Http404 from None
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        filename = f"keycare-{kind}-{stamp}.{fmt}"
        content_type = (
            "text/csv; charset=utf-8"
            if fmt == "csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        return FileResponse(
            handle, as_attachment=True, filename=filename, content_type=content_type
        )
