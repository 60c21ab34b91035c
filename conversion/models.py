"""The review side of the migration: proposed dimension mappings, curator decisions and their trail."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from conversion.organisations import Organisation, OrganisationOwner
from datasets.models import LegacyDataset
from migration_site.lib.licences import LICENCES, Licence
from migration_site.lib.runs import Run, RunQuerySet

__all__ = ["Organisation", "OrganisationOwner"]  # models of their own module, registered with this app's


class DimensionMappingQuerySet(QuerySet["DimensionMapping"]):
    def needs_review(self) -> DimensionMappingQuerySet:
        """What waits for a curator: proposals, edits, and mappings sent back (those first in the queue)."""
        return self.exclude(status__in=DimensionMapping.DECIDED)

    def open(self) -> DimensionMappingQuerySet:
        return self.exclude(status__in=DimensionMapping.DECIDED)

    def confident(self) -> DimensionMappingQuerySet:
        return self.filter(ambiguous=False)

    def in_order(self) -> DimensionMappingQuerySet:
        return self.order_by("dataset__name", "position", "legacy_path")


class DimensionMapping(models.Model):
    """How one legacy measure, dimension attribute, constant or unused source column becomes a package column."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "proposed"
        EDITED = "edited", "edited"
        APPROVED = "approved", "approved"
        DROPPED = "dropped", "dropped from the package"  # a decision: the column is left out, and the page says so
        SENT_BACK = "sent_back", "sent back"  # the proposal is wrong: another curator or a migration admin decides

    class Kind(models.TextChoices):
        MEASURE = "measure", "measure"
        DATE = "date", "date"
        ATTRIBUTE = "attribute", "attribute dimension"
        COMPOUND_ATTRIBUTE = "compound", "attribute of a compound dimension"
        EXTRA = "extra", "column the legacy model never used"

    dataset = models.ForeignKey(LegacyDataset, on_delete=models.CASCADE, related_name="mappings")
    legacy_path = models.CharField(max_length=300, help_text="e.g. 'amount', 'to.label', 'extra:Notes'")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    position = models.PositiveIntegerField(default=0)
    source = models.JSONField(default=dict, help_text="Where the values come from: column or constant, datatype, ...")
    proposed_target = models.JSONField(default=dict)
    current_target = models.JSONField(default=dict)
    confidence = models.FloatField(default=0.0)
    reasons = models.JSONField(default=list)
    samples = models.JSONField(default=list)
    ambiguous = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True, help_text="Why it was dropped from the package or sent back.")
    proposed_at = models.DateTimeField(default=timezone.now)

    objects = DimensionMappingQuerySet.as_manager()
    DECIDED = (Status.APPROVED, Status.DROPPED)  # a curator's last word; a mapping sent back still waits

    class Meta:
        ordering = ["dataset__name", "position", "legacy_path"]
        constraints = [models.UniqueConstraint(fields=["dataset", "legacy_path"], name="unique_mapping_per_path")]
        permissions = [
            ("review_dimensionmapping", "Can approve and reject dimension mappings"),
            ("override_dimensionmapping", "Can reopen reviewed mappings and override the one-measure-one-date rule"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset.name}: {self.legacy_path}"

    @property
    def column_type(self) -> str:
        return str(self.current_target.get("column_type", ""))

    @property
    def field_name(self) -> str:
        return str(self.current_target.get("field", ""))

    @property
    def is_reviewed(self) -> bool:
        """Decided: approved, or dropped from the package. Only a migration admin reopens it."""
        return self.status in self.DECIDED

    def approve(self, *, reviewer: Any) -> None:
        self.status = self.Status.APPROVED
        self.reviewer = reviewer
        self.reviewed_at = timezone.now()
        self.rejection_reason = ""
        self.save(update_fields=["status", "reviewer", "reviewed_at", "rejection_reason"])

    def drop(self, *, reviewer: Any, reason: str) -> None:
        self._review(self.Status.DROPPED, reviewer, reason)

    def send_back(self, *, reviewer: Any, reason: str) -> None:
        self._review(self.Status.SENT_BACK, reviewer, reason)

    def _review(self, status: str, reviewer: Any, reason: str) -> None:
        self.status = status
        self.reviewer = reviewer
        self.reviewed_at = timezone.now()
        self.rejection_reason = reason
        self.save(update_fields=["status", "reviewer", "reviewed_at", "rejection_reason"])

    def edit(self, *, target: dict[str, Any], editor: Any) -> None:
        self.current_target = target
        self.status = self.Status.EDITED
        self.reviewer = editor
        self.reviewed_at = timezone.now()
        self.save(update_fields=["current_target", "status", "reviewer", "reviewed_at"])

    def reopen(self) -> None:
        self.status = self.Status.EDITED if self.current_target != self.proposed_target else self.Status.PROPOSED
        self.reviewer = None
        self.reviewed_at = None
        self.rejection_reason = ""
        self.save(update_fields=["status", "reviewer", "reviewed_at", "rejection_reason"])


class DatasetDecision(models.Model):
    """A migration admin's decision on a dataset: whether and how it is migrated, who owns it, under which licence."""

    class Choice(models.TextChoices):
        MIGRATE_PUBLIC = "migrate_public", "migrate publicly"
        MIGRATE_PRIVATE = "migrate_private", "migrate but keep private"
        EXCLUDE = "exclude", "exclude from the migration"

    dataset = models.OneToOneField(LegacyDataset, on_delete=models.CASCADE, related_name="decision")
    decision = models.CharField(max_length=32, choices=Choice.choices, blank=True)
    reason = models.TextField(blank=True)
    owner = models.CharField(max_length=255, blank=True, help_text="Username of the owner; empty: the default.")
    # No choices here: the known licences live in code (migration_site/lib/licences.py); the service checks the id.
    licence = models.CharField(max_length=32, blank=True, help_text="A licence id; empty: PACKAGE_LICENSE.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("decide_dataset", "Can decide on private and incomplete datasets and their owner")]

    def __str__(self) -> str:
        return f"{self.dataset.name}: {self.get_decision_display() or 'undecided'}"


def dataset_owner(dataset: LegacyDataset, decision: DatasetDecision | None) -> str:
    """Who owns the dataset's package (`<owner>/<name>/` in the store): the owner a migration admin chose, else the
    first manager the legacy platform listed, else DEFAULT_DATASET_OWNER.

    `decision` is the dataset's decision row, None when it has none: the caller has it (or knows there is none),
    so a listing of many datasets costs no query per dataset."""
    if decision is not None and decision.owner:
        return str(decision.owner)
    team = dataset.team_usernames
    return team[0] if team else str(settings.DEFAULT_DATASET_OWNER)


def dataset_licence(decision: DatasetDecision | None) -> Licence:
    """The licence the dataset's package is published under: a migration admin's choice, else PACKAGE_LICENSE. A
    choice no longer in the table of known licences falls back to the default rather than failing the build."""
    chosen = decision.licence if decision is not None else ""
    return LICENCES.get(chosen) or LICENCES[settings.PACKAGE_LICENSE]


class ReviewEvent(models.Model):
    """One change made by a person: what it touched, before and after, who, when and why."""

    class Action(models.TextChoices):
        PROPOSED = "proposed", "proposed"
        EDITED = "edited", "edited"
        APPROVED = "approved", "approved"
        REJECTED = "rejected", "rejected (before dropping and sending back were told apart)"
        DROPPED = "dropped", "dropped from the package"
        SENT_BACK = "sent_back", "sent back"
        REOPENED = "reopened", "reopened"
        DECIDED = "decided", "decided"
        OWNER_SET = "owner_set", "owner set"
        LICENCE_SET = "licence_set", "licence set"

    dataset = models.ForeignKey(LegacyDataset, on_delete=models.CASCADE, related_name="review_events")
    mapping = models.ForeignKey(
        DimensionMapping, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    subject = models.CharField(
        max_length=300, help_text="The mapping's legacy path, or 'decision' / 'owner' / 'licence'."
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.dataset.name} {self.subject}: {self.action}"


class ConversionRunQuerySet(RunQuerySet["ConversionRun"]):
    def succeeded(self) -> ConversionRunQuerySet:
        return self.filter(status=ConversionRun.Status.SUCCEEDED)


class ConversionRun(Run):
    """One attempt to build a dataset's package; created before its job is enqueued, so every job has a record."""

    class Status(models.TextChoices):  # a run's statuses (migration_site/lib/runs.py), and one of its own
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"
        # The dataset has nothing to convert (no readable source, an empty cube): an outcome, not a fault, and never
        # a package; `error` says why. Converting again cannot help until its data changes.
        NOT_CONVERTIBLE = "not_convertible", "not convertible"

    class Reconciliation(models.TextChoices):
        MATCH = "match", "match"
        MISMATCH = "mismatch", "mismatch"
        ACCEPTED = "accepted", "mismatch accepted"
        UNAVAILABLE = "unavailable", "no legacy totals to compare"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    dataset = models.ForeignKey(LegacyDataset, on_delete=models.CASCADE, related_name="conversion_runs")
    built_from = models.CharField(max_length=16, blank=True)
    rows_read = models.BigIntegerField(null=True, blank=True)
    rows_written = models.BigIntegerField(null=True, blank=True)
    rows_rejected = models.BigIntegerField(null=True, blank=True)
    rows_overwritten = models.BigIntegerField(null=True, blank=True)
    report = models.JSONField(null=True, blank=True, help_text="The build report: problems, totals, notes.")
    valid = models.BooleanField(null=True, blank=True)
    validation = models.JSONField(null=True, blank=True)
    reconciliation = models.JSONField(null=True, blank=True)
    reconciliation_status = models.CharField(max_length=16, choices=Reconciliation.choices, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    accepted_reason = models.TextField(blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    package_path = models.CharField(max_length=500, blank=True, help_text="Storage folder of the built package.")
    descriptor_sha256 = models.CharField(max_length=64, blank=True)

    objects = ConversionRunQuerySet.as_manager()

    progress_fields = ("log", "attempts")
    outcome_fields = (
        "built_from",
        "rows_read",
        "rows_written",
        "rows_rejected",
        "rows_overwritten",
        "report",
        "valid",
        "validation",
        "reconciliation",
        "reconciliation_status",
        "package_path",
    )
    bulky_fields = ("log", "report", "validation", "reconciliation")

    class Meta(Run.Meta):
        permissions = [("accept_reconciliation", "Can accept a reconciliation mismatch")]

    def __str__(self) -> str:
        return f"{self.dataset.name} run {self.pk} ({self.status})"

    @property
    def publishable(self) -> bool:
        """Built, valid, and its numbers match the legacy cube (or an admin accepted why they do not)."""
        return (
            self.status == self.Status.SUCCEEDED
            and bool(self.valid)
            and self.reconciliation_status in {self.Reconciliation.MATCH, self.Reconciliation.ACCEPTED}
        )
