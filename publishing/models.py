"""What is published: one package per public dataset, its storage keys and metadata, and the runs that put it there."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from conversion.models import ConversionRun, DatasetDecision, dataset_licence
from datasets.models import LegacyDataset
from migration_site.lib.jsondata import as_dict, dicts_in
from migration_site.lib.runs import Run, RunQuerySet
from migration_site.lib.web_links import http_url

Choice = DatasetDecision.Choice


def may_be_public(prefix: str = "") -> Q:
    """Datasets whose package may be public: decided `migrate_public`, or undecided, not private and not incomplete.

    `prefix` reaches the dataset from another model ("dataset__"). `public_refusal` says the same in words.
    """
    undecided = Q(**{f"{prefix}decision__isnull": True}) | Q(**{f"{prefix}decision__decision": ""})
    plain = Q(**{f"{prefix}private": False, f"{prefix}is_incomplete": False})
    return Q(**{f"{prefix}decision__decision": Choice.MIGRATE_PUBLIC}) | (undecided & plain)


def public_refusal(dataset: LegacyDataset, decision: DatasetDecision | None) -> str:
    """Why the dataset's package may not be public; empty when it may. The rule of `may_be_public`, for people."""
    chosen = decision.decision if decision is not None else ""
    if chosen == Choice.MIGRATE_PUBLIC:
        return ""
    if chosen == Choice.MIGRATE_PRIVATE:
        return "a migration admin decided to keep it private"
    if chosen == Choice.EXCLUDE:
        return "a migration admin excluded it from the migration"
    if dataset.private:
        return "it is private on the legacy platform and no migration admin decided to publish it"
    if dataset.is_incomplete:
        return "it is incomplete and no migration admin decided to publish it"
    return ""


@dataclass(frozen=True)
class StatedLicence:
    title: str
    url: str | None  # None: the descriptor gave no http(s) address, so the page shows no link


class PublishedPackageQuerySet(QuerySet["PublishedPackage"]):
    def published(self) -> PublishedPackageQuerySet:
        """The one filter every public page, document and file goes through: public, not withdrawn, and (for a
        legacy dataset) still allowed to be public, so a decision made a minute ago hides it before the withdrawal
        job has even run. Packages uploaded with `publish_osdp` have no dataset."""
        allowed = Q(dataset__isnull=True) | may_be_public("dataset__")
        return self.filter(allowed, public=True, withdrawn_at=None)


class PublishedPackage(models.Model):
    """The current published version of a package, stored at `<owner>/<name>/` in the package store: a legacy
    dataset's converted package, or one uploaded with `publish_osdp` (no dataset, no run)."""

    dataset = models.OneToOneField(
        LegacyDataset, on_delete=models.CASCADE, related_name="published_package", null=True, blank=True
    )
    run = models.ForeignKey(ConversionRun, on_delete=models.PROTECT, related_name="publications", null=True, blank=True)
    owner = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    title = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    country = models.CharField(max_length=8, blank=True)
    currency = models.CharField(max_length=8, blank=True)
    category = models.CharField(max_length=32, blank=True)
    years = models.JSONField(default=list, blank=True)
    rows = models.BigIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)
    data_sha256 = models.CharField(max_length=64)
    descriptor_sha256 = models.CharField(max_length=64)
    descriptor = models.JSONField(help_text="The published datapackage.json, as stored.")
    data_keys = models.JSONField(default=list, help_text="Storage keys of the data files.")
    legacy_name = models.CharField(max_length=255, blank=True)
    legacy_url = models.URLField(max_length=1000, blank=True)
    public = models.BooleanField(default=True)
    published_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(
        null=True, blank=True, help_text="When a withdrawal deleted its objects from the store."
    )

    objects = PublishedPackageQuerySet.as_manager()

    class Meta:
        ordering = ["owner", "name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="unique_package_path")]

    def __str__(self) -> str:
        return self.package_id

    @property
    def package_id(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def descriptor_key(self) -> str:
        return f"{self.owner}/{self.name}/datapackage.json"

    @property
    def licences(self) -> list[StatedLicence]:
        """What the descriptor's `licenses` state; a descriptor that states none (published before packages stated
        one, or uploaded without) is under the site's default, PACKAGE_LICENSE, as data.json says too."""
        stated = [
            StatedLicence(str(item.get("title") or item.get("name") or item.get("path")), http_url(item.get("path")))
            for item in dicts_in(as_dict(self.descriptor).get("licenses"))
            if item.get("title") or item.get("name") or item.get("path")
        ]
        default = dataset_licence(None)
        return stated or [StatedLicence(default.title, default.path)]

    @property
    def stated_publisher(self) -> str:
        """The descriptor's contributor with the role "publisher" (the owner's organisation), else the owner."""
        people = dicts_in(as_dict(self.descriptor).get("contributors"))
        found = [item for item in people if item.get("role") == "publisher"]
        return str(found[0].get("title") or found[0].get("name") or self.owner) if found else self.owner

    def withdraw(self) -> None:
        self.withdrawn_at = timezone.now()
        self.save(update_fields=["withdrawn_at"])

    def mark_purged(self) -> None:
        self.purged_at = timezone.now()
        self.save(update_fields=["purged_at"])


class CatalogState(models.Model):
    """One row whose `version` database triggers raise whenever what `published()` returns may have changed: any
    write to a published package, a decision, a dataset's `private` / `is_incomplete`, or a conversion run's review
    (reconciliation status, acceptance), which package pages show (migration 0003).

    The public site reads it (one primary-key lookup, at most once a second per process) and works out the
    catalogue's validators only when it moved: over 10,000 packages that aggregate costs 16 ms on SQLite, which would
    cap a worker at about 60 requests a second. Triggers, not signals, because queryset.update() and raw SQL send
    no signal.
    """

    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"catalogue version {self.version}"


def package_page_url(owner: str, name: str) -> str:
    """The public page of `<owner>/<name>`: the `homepage` of the published descriptor, the status's package_url."""
    return f"{settings.PUBLIC_BASE_URL}/packages/{owner}/{name}/"


class PublicationRunQuerySet(RunQuerySet["PublicationRun"]):
    pass


class PublicationRun(Run):
    """One attempt to publish a package (or to withdraw it); created before its job is enqueued."""

    class Action(models.TextChoices):
        PUBLISH = "publish", "publish"
        WITHDRAW = "withdraw", "withdraw"

    class Status(models.TextChoices):  # a run's statuses (migration_site/lib/runs.py), and one of its own
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        UNCHANGED = "unchanged", "unchanged: nothing to upload"
        FAILED = "failed", "failed"

    action = models.CharField(max_length=16, choices=Action.choices, default=Action.PUBLISH)
    dataset = models.ForeignKey(
        LegacyDataset, on_delete=models.CASCADE, related_name="publication_runs", null=True, blank=True
    )
    conversion_run = models.ForeignKey(ConversionRun, on_delete=models.SET_NULL, null=True, blank=True)
    owner = models.CharField(max_length=255, blank=True, help_text="Where it goes: `<owner>/<name>/`.")
    name = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=1000, blank=True, help_text="The uploaded folder or zip (publish_osdp).")
    reason = models.TextField(blank=True, help_text="Why a withdrawal was asked for.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    uploaded = models.JSONField(default=list, blank=True, help_text="Keys written, in order.")

    objects = PublicationRunQuerySet.as_manager()

    progress_fields = ("log", "owner", "name", "uploaded")

    class Meta(Run.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.owner}/{self.name} {self.action} {self.pk} ({self.status})"
