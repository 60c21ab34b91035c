"""The publishing app's admin: publication runs and published packages, read-only (only the services write them),
so a failed publication is seen with its log and error without a command line; and the pipeline buttons on the
dataset page (publishing/dataset_admin.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from migration_site.lib.admin import ReadOnlyAdminMixin, pretty_json
from publishing import dataset_admin
from publishing.models import PublicationRun, PublishedPackage, package_page_url

dataset_admin.register(admin.site)


def _link(view: str, pk: Any, text: Any) -> SafeString | str:
    """A link to another admin page, or "-" when there is nothing to link to."""
    if pk is None:
        return "-"
    return format_html('<a href="{}">{}</a>', reverse(f"admin:{view}", args=[pk]), text)


def _listing(request: HttpRequest) -> bool:
    """Whether this is a changelist, which never shows the bulky fields (a run's log, a package's descriptor)."""
    match = request.resolver_match
    return match is not None and str(match.url_name).endswith("_changelist")


class PackageStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("out", "Published"), ("withdrawn", "Withdrawn")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "out":
            return queryset.filter(withdrawn_at=None)
        if self.value() == "withdrawn":
            return queryset.exclude(withdrawn_at=None)
        return queryset


def _dataset(obj: PublicationRun | PublishedPackage) -> SafeString | str:
    dataset = obj.dataset
    return _link("datasets_legacydataset_change", obj.dataset_id, dataset.name if dataset else "")


def _public_page(package: PublishedPackage) -> SafeString | str:
    if package.withdrawn_at is not None:
        return "-"
    url = package_page_url(package.owner, package.name)
    return format_html('<a href="{}">{}</a>', url, url)


@admin.register(PublicationRun)
class PublicationRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "id",
        "target",
        "action",
        "status_shown",
        "dataset_link",
        "conversion_link",
        "queued_at",
        "error_short",
    ]
    list_display_links = ["id", "target"]
    list_filter = ["status", "action"]
    list_select_related = ["dataset", "conversion_run", "requested_by"]
    search_fields = ["owner", "name", "dataset__name", "error"]
    date_hierarchy = "queued_at"
    readonly_fields = (
        "target",
        "action",
        "status_shown",
        "error",
        "dataset_link",
        "conversion_link",
        "package_link",
        "public_link",
        "reason",
        "source",
        "log",
        "uploaded_shown",
        "requested_by",
        "queued_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "job_id",
        "worker",
        "attempts",
    )
    fields = readonly_fields

    class Media:
        css = {"all": ["publishing/admin.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[PublicationRun]:
        queryset = super().get_queryset(request)
        return queryset.defer("log", "uploaded") if _listing(request) else queryset

    @admin.display(description="package", ordering="name")
    def target(self, run: PublicationRun) -> str:
        return f"{run.owner}/{run.name}" if run.name else "-"

    @admin.display(description="status", ordering="status")
    def status_shown(self, run: PublicationRun) -> SafeString:
        css = "failed" if run.status == PublicationRun.Status.FAILED else "ok"
        return format_html('<span class="run-status {}">{}</span>', css, run.get_status_display())

    @admin.display(description="dataset", ordering="dataset__name")
    def dataset_link(self, run: PublicationRun) -> SafeString | str:
        return _dataset(run)

    @admin.display(description="conversion run")
    def conversion_link(self, run: PublicationRun) -> SafeString | str:
        return _link("conversion_conversionrun_change", run.conversion_run_id, f"run {run.conversion_run_id}")

    @admin.display(description="published package")
    def package_link(self, run: PublicationRun) -> SafeString | str:
        package = PublishedPackage.objects.filter(owner=run.owner, name=run.name).only("pk", "withdrawn_at").first()
        return _link("publishing_publishedpackage_change", package.pk if package else None, f"{run.owner}/{run.name}")

    @admin.display(description="public page")
    def public_link(self, run: PublicationRun) -> SafeString | str:
        package = PublishedPackage.objects.filter(owner=run.owner, name=run.name).only("pk", "withdrawn_at").first()
        return _public_page(package) if package is not None else "-"

    @admin.display(description="error")
    def error_short(self, run: PublicationRun) -> str:
        lines = run.error.strip().splitlines()
        return lines[-1][:200] if lines else ""

    @admin.display(description="objects written")
    def uploaded_shown(self, run: PublicationRun) -> SafeString:
        return pretty_json(run.uploaded)


@admin.register(PublishedPackage)
class PublishedPackageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "package_id",
        "title",
        "dataset_link",
        "conversion_link",
        "state",
        "rows",
        "published_at",
        "public_link",
    ]
    list_filter = [PackageStateFilter, "public", "category", "country"]
    list_select_related = ["dataset"]
    search_fields = ["owner", "name", "title", "legacy_name"]
    date_hierarchy = "published_at"
    readonly_fields = (
        "package_id",
        "title",
        "state",
        "public_link",
        "dataset_link",
        "conversion_link",
        "runs_link",
        "description",
        "country",
        "currency",
        "category",
        "years",
        "rows",
        "bytes",
        "data_sha256",
        "descriptor_sha256",
        "data_keys",
        "legacy_url",
        "published_at",
        "modified_at",
        "withdrawn_at",
        "purged_at",
        "descriptor_shown",
    )
    fields = readonly_fields

    class Media:
        css = {"all": ["publishing/admin.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[PublishedPackage]:
        queryset = super().get_queryset(request)
        return queryset.defer("descriptor", "data_keys") if _listing(request) else queryset

    @admin.display(description="package", ordering="owner")
    def package_id(self, package: PublishedPackage) -> str:
        return package.package_id

    @admin.display(description="state")
    def state(self, package: PublishedPackage) -> str:
        if package.withdrawn_at is None:
            return "public" if package.public else "not public"
        return "withdrawn" if package.purged_at else "withdrawn, files not yet deleted"

    @admin.display(description="public page")
    def public_link(self, package: PublishedPackage) -> SafeString | str:
        return _public_page(package)

    @admin.display(description="dataset", ordering="dataset__name")
    def dataset_link(self, package: PublishedPackage) -> SafeString | str:
        return _dataset(package)

    @admin.display(description="conversion run")
    def conversion_link(self, package: PublishedPackage) -> SafeString | str:
        return _link("conversion_conversionrun_change", package.run_id, f"run {package.run_id}")

    @admin.display(description="publication runs")
    def runs_link(self, package: PublishedPackage) -> SafeString:
        url = reverse("admin:publishing_publicationrun_changelist")
        return format_html(
            '<a href="{}?owner={}&amp;name={}">runs at {}</a>', url, package.owner, package.name, package.package_id
        )

    @admin.display(description="published datapackage.json")
    def descriptor_shown(self, package: PublishedPackage) -> SafeString:
        return pretty_json(package.descriptor)
