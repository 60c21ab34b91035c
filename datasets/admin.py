"""Admin for the legacy dataset registry: read-only, since every value comes from a harvest."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from datasets import state
from datasets.links import link_or_text
from datasets.models import HarvestRecord, LegacyDataset, Source, SourceRun, TeamMember
from migration_site.lib.admin import ReadOnlyAdminMixin, pretty_json


class IncompleteFilter(admin.SimpleListFilter):
    title = "incomplete"
    parameter_name = "incomplete"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("any", "Incomplete (any reason)"), ("no", "Complete")] + [
            (code, text.split(":")[0].capitalize()) for code, text in state.REASON_TEXTS.items()
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "any":
            return queryset.filter(is_incomplete=True)
        if value == "no":
            return queryset.filter(is_incomplete=False)
        if value in state.REASON_TEXTS:
            # JSON-list containment is not portable to SQLite; the codes are distinct words, so text search is exact.
            return queryset.filter(is_incomplete=True, incomplete_reasons__icontains=f'"{value}"')
        return queryset


class TerritoryFilter(admin.SimpleListFilter):
    title = "territory"
    parameter_name = "territory"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        codes: set[str] = set()
        for index in LegacyDataset.objects.exclude(territory_index="").values_list("territory_index", flat=True):
            codes.update(code for code in index.split("|") if code)
        return [(code, code) for code in sorted(codes)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value():
            return queryset.filter(territory_index__contains=f"|{self.value()}|")
        return queryset


class ProblemsFilter(admin.SimpleListFilter):
    title = "model problems"
    parameter_name = "problems"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("blocking", "Blocking conversion"), ("any", "Any problem"), ("none", "No problem")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "blocking":
            return queryset.filter(incomplete_reasons__icontains=f'"{state.MODEL_PROBLEMS}"')
        if self.value() == "any":
            return queryset.filter(model_problem_count__gt=0)
        if self.value() == "none":
            return queryset.filter(model_problem_count=0)
        return queryset


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    show_change_link = False


class SourceInline(ReadOnlyInline):
    model = Source
    readonly_fields = (
        "legacy_id",
        "source_url",
        "legacy_loaded",
        "archive_status",
        "archived",
        "problem",
        "size",
        "sha256",
        "fetched_at",
    )
    fields = readonly_fields

    @admin.display(description="URL")
    def source_url(self, source: Source) -> SafeString:
        return link_or_text(source.url)

    @admin.display(description="archived file")
    def archived(self, source: Source) -> SafeString | str:
        if not source.archived_file:
            return "-"
        url = reverse("admin:datasets_source_file", args=[source.dataset_id, source.pk])
        return format_html('<a href="{}">download</a>', url)

    @admin.display(description="problem")
    def problem(self, source: Source) -> str:
        parts = []
        if source.archive_http_status and source.archive_status != Source.ArchiveStatus.FETCHED:
            parts.append(f"HTTP {source.archive_http_status}")
        if source.archive_error:
            parts.append(source.archive_error)
        if source.analysis_error:
            parts.append(f"legacy analysis: {source.analysis_error[:200]}")
        return "; ".join(parts) or "-"


class SourceRunInline(ReadOnlyInline):
    model = SourceRun
    readonly_fields = (
        "legacy_id",
        "source",
        "operation",
        "status",
        "time_start",
        "time_end",
    )
    fields = readonly_fields


class TeamMemberInline(ReadOnlyInline):
    model = TeamMember
    readonly_fields = (
        "username",
        "fullname",
        "legacy_admin",
        "position",
    )
    fields = readonly_fields


class HarvestRecordInline(ReadOnlyInline):
    model = HarvestRecord
    readonly_fields = (
        "imported_at",
        "origin",
        "what_changed",
    )
    fields = readonly_fields
    verbose_name_plural = "import history"

    @admin.display(description="what changed")
    def what_changed(self, record: HarvestRecord) -> SafeString | str:
        if record.created:
            return "first import"
        changes = ((c["field"], c["before"], c["after"]) for c in record.changes)
        return format_html_join("", "<div><strong>{}</strong>: {} &rarr; {}</div>", changes)


@admin.register(LegacyDataset)
class LegacyDatasetAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Harvested data: a new export and import changes it, never a hand edit (admins may still delete a dataset)."""

    allow_delete = True
    list_display = [
        "dataset",
        "private",
        "state_summary",
        "model_problem_count",
        "sources_ok",
        "team_list",
        "territory_list",
        "harvested_at",
    ]
    list_display_links = ["dataset"]
    list_filter = ["private", IncompleteFilter, ProblemsFilter, "category", TerritoryFilter, "runs_known"]
    search_fields = ["name", "label", "description", "team__username", "team__fullname"]
    ordering = ["-is_incomplete", "name"]
    list_per_page = 50
    inlines = [SourceInline, SourceRunInline, TeamMemberInline, HarvestRecordInline]
    fieldsets = [
        (None, {"fields": ["name", "label", "legacy_link", "private", "state"]}),
        (
            "Legacy metadata",
            {
                "fields": [
                    "description",
                    "currency",
                    "category",
                    "territories",
                    "languages",
                    "default_time",
                    "legacy_created_at",
                    "legacy_updated_at",
                    "extra_pretty",
                ]
            },
        ),
        (
            "Model",
            {
                "fields": [
                    "schema_version",
                    "model_migrations",
                    "problems_table",
                    "raw_model_pretty",
                    "normalised_model_pretty",
                ]
            },
        ),
        ("Legacy cube", {"fields": ["entry_count", "entries_complete", "entries_sha256", "aggregates_pretty"]}),
        ("Harvest", {"fields": ["origin", "harvested_at", "harvest_problems_list", "content_hash"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[LegacyDataset]:
        return LegacyDataset.objects.with_source_counts().prefetch_related("team")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [str(field) for _, options in self.fieldsets for field in options["fields"]]

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "<int:dataset_id>/sources/<int:source_id>/file/",
                self.admin_site.admin_view(self.source_file_view),
                name="datasets_source_file",
            )
        ]
        return extra + super().get_urls()

    def source_file_view(self, request: HttpRequest, dataset_id: int, source_id: int) -> HttpResponseBase:
        if not self.has_view_permission(request):
            raise Http404
        source = get_object_or_404(Source, pk=source_id, dataset_id=dataset_id)
        if not source.archived_file or not default_storage.exists(source.archived_file.name):
            raise Http404("The archived file is missing from storage.")
        filename = f"{source.dataset.name}-{source.legacy_id}{_suffix(source.archived_file.name)}"
        return FileResponse(default_storage.open(source.archived_file.name), as_attachment=True, filename=filename)

    # -- list columns ---------------------------------------------------------------------------------------------

    @admin.display(description="dataset", ordering="name")
    def dataset(self, dataset: LegacyDataset) -> SafeString:
        return format_html("<strong>{}</strong><br><small>{}</small>", dataset.name, dataset.label)

    @admin.display(description="state", ordering="is_incomplete")
    def state_summary(self, dataset: LegacyDataset) -> SafeString:
        if not dataset.is_incomplete:
            return format_html("{}", "complete")
        reasons = ", ".join(code.replace("_", " ") for code in dataset.incomplete_reasons)
        return format_html('<strong class="incomplete">incomplete</strong>: {}', reasons)

    @admin.display(description="sources (fetched / unreachable / all)")
    def sources_ok(self, dataset: Any) -> str:
        return f"{dataset.sources_fetched} / {dataset.sources_unreachable} / {dataset.sources_total}"

    @admin.display(description="team")
    def team_list(self, dataset: LegacyDataset) -> str:
        return ", ".join(member.username for member in dataset.team.all()) or "-"

    @admin.display(description="territories")
    def territory_list(self, dataset: LegacyDataset) -> str:
        return ", ".join(dataset.territories) or "-"

    # -- change page ----------------------------------------------------------------------------------------------

    @admin.display(description="legacy page")
    def legacy_link(self, dataset: LegacyDataset) -> SafeString:
        return link_or_text(dataset.legacy_url)

    @admin.display(description="state")
    def state(self, dataset: LegacyDataset) -> SafeString:
        if not dataset.is_incomplete:
            return format_html("<strong>{}</strong>", "complete")
        return format_html(
            "<strong>incomplete</strong><ul>{}</ul>",
            format_html_join("", "<li>{}</li>", ((text,) for text in dataset.incomplete_reason_texts())),
        )

    @admin.display(description="model problems")
    def problems_table(self, dataset: LegacyDataset) -> SafeString | str:
        if not dataset.model_problems:
            return "none"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            (
                (p.get("severity", ""), p.get("path", ""), p.get("problem", ""))
                for p in sorted(dataset.model_problems, key=lambda p: p.get("severity") != "error")
            ),
        )
        return format_html("<table><tr><th>severity</th><th>where</th><th>problem</th></tr>{}</table>", rows)

    @admin.display(description="harvest problems")
    def harvest_problems_list(self, dataset: LegacyDataset) -> SafeString | str:
        if not dataset.harvest_problems:
            return "none"
        items = ((p.get("step", ""), p.get("problem", "")) for p in dataset.harvest_problems)
        return format_html("<ul>{}</ul>", format_html_join("", "<li><strong>{}</strong>: {}</li>", items))

    @admin.display(description="raw model (as fetched)")
    def raw_model_pretty(self, dataset: LegacyDataset) -> SafeString:
        return pretty_json(dataset.raw_model)

    @admin.display(description="normalised model")
    def normalised_model_pretty(self, dataset: LegacyDataset) -> SafeString:
        return pretty_json(dataset.normalised_model)

    @admin.display(description="totals from the legacy cube")
    def aggregates_pretty(self, dataset: LegacyDataset) -> SafeString:
        return pretty_json(dataset.aggregates)

    @admin.display(description="other legacy fields")
    def extra_pretty(self, dataset: LegacyDataset) -> SafeString:
        return pretty_json(dataset.extra)


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:] if dot > name.rfind("/") else ""
