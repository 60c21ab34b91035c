"""Admin for conversion runs: status, errors, the reconciliation table, re-run and accept-a-mismatch; each run links
to its dataset's admin page, where the pipeline buttons are (publishing/dataset_admin.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST

from conversion import runs
from conversion.models import ConversionRun
from migration_site.lib import roles
from migration_site.lib.admin import ReadOnlyAdminMixin, pretty_json


def reconciliation_table(run: ConversionRun) -> SafeString | str:
    """The differences between the package and the legacy cube, row count first."""
    data = run.reconciliation or {}
    if not data:
        return "-"
    rows = data.get("rows") or {}
    header = format_html(
        "<p><strong>{}</strong> (legacy side: {}). Rows: package {}, legacy cube {}.</p>",
        run.get_reconciliation_status_display() or data.get("status", ""),
        data.get("source") or "unknown",
        rows.get("ours", "?"),
        rows.get("legacy", "?"),
    )
    differences = data.get("differences") or []
    if not differences:
        return format_html("{}<p>No differences.</p>", header)
    body = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (d.get("measure"), d.get("year") or "all years", d.get("ours"), d.get("legacy"), d.get("diff"))
            for d in differences[:200]
        ),
    )
    return format_html(
        "{}<table><tr><th>measure</th><th>year</th><th>package</th><th>legacy cube</th><th>difference</th></tr>{}"
        "</table>",
        header,
        body,
    )


@admin.register(ConversionRun)
class ConversionRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "id",
        "dataset_link",
        "status_shown",
        "built_from",
        "rows_written",
        "rows_rejected",
        "valid",
        "reconciliation_status",
        "queued_at",
        "finished_at",
    ]
    list_filter = ["status", "reconciliation_status", "valid", "built_from"]
    list_select_related = ["dataset"]
    search_fields = ["dataset__name", "error"]
    date_hierarchy = "queued_at"
    actions = ["rerun"]
    readonly_fields = (
        "dataset_link",
        "status",
        "not_convertible_shown",
        "requested_by",
        "job_id",
        "worker",
        "attempts",
        "queued_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "built_from",
        "rows_read",
        "rows_written",
        "rows_rejected",
        "rows_overwritten",
        "valid",
        "reconciliation_shown",
        "reconciliation_status",
        "accepted_by",
        "accepted_reason",
        "accepted_at",
        "package_path",
        "error",
        "log",
        "report_shown",
        "validation_shown",
    )
    fields = readonly_fields
    allow_delete = True

    def has_rerun_permission(self, request: HttpRequest) -> bool:
        return roles.may(request.user, roles.REVIEW)  # re-running follows from reviewing the mappings

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/accept/", view(require_POST(self.accept_view)), name="conversion_run_accept"),
            *super().get_urls(),
        ]

    @admin.action(permissions=["rerun"], description="Convert the selected runs' datasets again")
    def rerun(self, request: HttpRequest, queryset: QuerySet[ConversionRun]) -> None:
        started = 0
        for dataset in {run.dataset for run in queryset.select_related("dataset")}:
            try:
                runs.conversion_request(dataset=dataset, user=request.user)
                started += 1
            except ValidationError as error:
                self.message_user(request, f"{dataset.name}: {' '.join(error.messages)}", messages.WARNING)
        self.message_user(request, f"Started {started} conversion(s).", messages.SUCCESS)

    def accept_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = get_object_or_404(ConversionRun.objects.select_related("dataset"), pk=pk)
        try:
            runs.reconciliation_accept(run=run, admin=request.user, reason=request.POST.get("reason", ""))
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, "The mismatch is accepted; the package may be published.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:conversion_conversionrun_change", args=[run.pk]))

    @admin.display(description="dataset", ordering="dataset__name")
    def dataset_link(self, run: ConversionRun) -> SafeString:
        url = reverse("admin:datasets_legacydataset_change", args=[run.dataset_id])
        return format_html('<a href="{}">{}</a>', url, run.dataset.name)

    @admin.display(description="status", ordering="status")
    def status_shown(self, run: ConversionRun) -> str:
        return run.get_status_display()

    @admin.display(description="not convertible because")
    def not_convertible_shown(self, run: ConversionRun) -> str:
        return runs.not_convertible_reason(run) or "-"

    @admin.display(description="reconciliation with the legacy cube")
    def reconciliation_shown(self, run: ConversionRun) -> SafeString | str:
        return reconciliation_table(run)

    @admin.display(description="build report")
    def report_shown(self, run: ConversionRun) -> SafeString:
        return pretty_json(run.report)

    @admin.display(description="validation")
    def validation_shown(self, run: ConversionRun) -> SafeString:
        return pretty_json(run.validation)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        extra = {**(extra_context or {}), "can_accept": roles.may(request.user, roles.ACCEPT)}
        return super().change_view(request, object_id, form_url, extra)
