"""What the legacy platform had: datasets, their sources, import runs and team, and the legacy model."""

from __future__ import annotations

from django.db import models
from django.db.models import Count, Q, QuerySet

from datasets import state


class LegacyDatasetQuerySet(QuerySet["LegacyDataset"]):
    def incomplete(self) -> LegacyDatasetQuerySet:
        return self.filter(is_incomplete=True)

    def with_source_counts(self) -> LegacyDatasetQuerySet:
        return self.annotate(
            sources_total=Count("sources", distinct=True),
            sources_fetched=Count(
                "sources", filter=Q(sources__archive_status=Source.ArchiveStatus.FETCHED), distinct=True
            ),
            sources_unreachable=Count(
                "sources", filter=Q(sources__archive_status=Source.ArchiveStatus.UNREACHABLE), distinct=True
            ),
        )


class LegacyDataset(models.Model):
    """One dataset of the legacy instance, as last harvested (over HTTP or from a dump folder)."""

    name = models.CharField(max_length=255, unique=True, help_text="The legacy dataset name (its URL slug).")
    legacy_id = models.BigIntegerField(null=True, blank=True, help_text="Database id on the legacy platform, if known.")
    label = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    currency = models.CharField(max_length=16, blank=True)
    category = models.CharField(max_length=32, blank=True)
    territories = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)
    # "|GB|DE|": territories as text, because SQLite cannot filter inside a JSON list.
    territory_index = models.CharField(max_length=500, blank=True, editable=False)
    default_time = models.CharField(max_length=64, blank=True)
    schema_version = models.CharField(max_length=32, blank=True)
    private = models.BooleanField(default=False)
    legacy_created_at = models.DateTimeField(null=True, blank=True)
    legacy_updated_at = models.DateTimeField(null=True, blank=True)
    legacy_url = models.URLField(max_length=1000, blank=True)
    extra = models.JSONField(
        default=dict, blank=True, help_text="Other legacy fields kept as they were (serp texts, badges, views, ...)."
    )

    raw_model = models.JSONField(null=True, blank=True, help_text="The legacy model exactly as fetched.")
    normalised_model = models.JSONField(null=True, blank=True)
    model_fetch_error = models.TextField(blank=True, help_text="Why the model could not be read, if it could not.")
    model_migrations = models.JSONField(default=list, blank=True)
    model_problems = models.JSONField(default=list, blank=True)
    model_problem_count = models.PositiveIntegerField("model problems", default=0)

    runs_known = models.BooleanField(default=False, help_text="Whether the harvest could see the import runs.")
    entry_count = models.BigIntegerField(null=True, blank=True, help_text="Rows in the legacy cube, when known.")
    entries_complete = models.BooleanField(null=True, blank=True)
    entries_file = models.FileField(max_length=500, blank=True)
    entries_sha256 = models.CharField(max_length=64, blank=True)
    aggregates = models.JSONField(null=True, blank=True, help_text="Totals per measure from the legacy cube.")
    harvest_problems = models.JSONField(default=list, blank=True)

    is_incomplete = models.BooleanField(default=False)
    incomplete_reasons = models.JSONField(default=list, blank=True)

    origin = models.CharField(max_length=1000, blank=True, help_text="Legacy instance URL or dump folder.")
    harvested_at = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LegacyDatasetQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "legacy dataset"

    def __str__(self) -> str:
        return self.name

    @property
    def team_usernames(self) -> list[str]:
        return [member.username for member in self.team.all()]

    def refresh_state(self, *, successful_import: bool | None) -> None:
        """Recompute the derived incomplete flag and its reasons from the harvested facts."""
        reasons = state.incomplete_reasons(
            has_model=state.has_mapping(self.normalised_model),
            model_unreadable=bool(self.model_fetch_error),
            successful_import=successful_import if self.runs_known else None,
            entry_count=self.entry_count,
            blocking_problems=[p for p in self.model_problems if p.get("severity") == "error"],
        )
        self.incomplete_reasons = reasons
        self.is_incomplete = bool(reasons)

    def incomplete_reason_texts(self) -> list[str]:
        return [state.REASON_TEXTS.get(code, code) for code in self.incomplete_reasons]


class Source(models.Model):
    """A source file registered on the legacy platform, and what happened when we tried to archive it."""

    class ArchiveStatus(models.TextChoices):
        FETCHED = "fetched", "fetched"
        UNREACHABLE = "unreachable", "unreachable"
        NOT_TRIED = "not_tried", "not tried"

    dataset = models.ForeignKey(LegacyDataset, on_delete=models.CASCADE, related_name="sources")
    legacy_id = models.BigIntegerField()
    url = models.TextField()
    legacy_created_at = models.DateTimeField(null=True, blank=True)
    legacy_updated_at = models.DateTimeField(null=True, blank=True)
    analysis = models.JSONField(null=True, blank=True)
    legacy_loaded = models.BooleanField(
        null=True, blank=True, help_text='The legacy editor showed "Successfully loaded" (an import completed).'
    )
    archived_file = models.FileField(max_length=500, blank=True)
    archive_status = models.CharField(max_length=16, choices=ArchiveStatus.choices, default=ArchiveStatus.NOT_TRIED)
    archive_http_status = models.PositiveIntegerField(null=True, blank=True)
    archive_error = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=255, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dataset", "legacy_id"]
        constraints = [models.UniqueConstraint(fields=["dataset", "legacy_id"], name="unique_source_per_dataset")]

    def __str__(self) -> str:
        return f"{self.dataset.name}#{self.legacy_id}"

    @property
    def analysis_error(self) -> str:
        if isinstance(self.analysis, dict) and self.analysis.get("error"):
            return str(self.analysis["error"])
        return ""


class SourceRun(models.Model):
    """An import or sample run of a source on the legacy platform."""

    dataset = models.ForeignKey(LegacyDataset, on_delete=models.CASCADE, related_name="runs")
    source = models.ForeignKey(Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs")
    legacy_id = models.BigIntegerField()
    operation = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, blank=True)
    time_start = models.DateTimeField(null=True, blank=True)
    time_end = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dataset", "-time_start", "-legacy_id"]
        constraints = [models.UniqueConstraint(fields=["dataset", "legacy_id"], name="unique_run_per_dataset")]

    def __str__(self) -> str:
        return f"run {self.legacy_id} ({self.operation} {self.status})"

    @property
    def is_successful_import(self) -> bool:
        return state.is_successful_import(self.operation, self.status)


class TeamMember(models.Model):
    """An account that managed the dataset on the legacy platform."""

    dataset = models.ForeignKey(LegacyDataset, on_delete=models.CASCADE, related_name="team")
    username = models.CharField(max_length=255)
    fullname = models.CharField(max_length=500, blank=True)
    legacy_admin = models.BooleanField(null=True, blank=True, help_text="Site administrator on the legacy platform.")
    position = models.PositiveIntegerField(default=0, help_text="Order in which the legacy platform listed the team.")

    class Meta:
        ordering = ["dataset", "position", "username"]
        constraints = [models.UniqueConstraint(fields=["dataset", "username"], name="unique_member_per_dataset")]

    def __str__(self) -> str:
        return self.username


class HarvestRecord(models.Model):
    """One import that created or changed a dataset: where it came from and what changed."""

    dataset = models.ForeignKey(LegacyDataset, on_delete=models.CASCADE, related_name="harvests")
    origin = models.CharField(max_length=1000)
    created = models.BooleanField(default=False)
    changes = models.JSONField(default=list, help_text="[{field, before, after}] for every changed field.")
    content_hash = models.CharField(max_length=64)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.dataset.name} at {self.imported_at:%Y-%m-%d %H:%M}"

    def summary(self) -> str:
        if self.created:
            return "first import"
        return ", ".join(str(change.get("field")) for change in self.changes[:12]) or "no change"
