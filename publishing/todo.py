"""Where the datasets stand and what the migration admins have to do: the stages the admin dashboard counts (each a
filter of the legacy dataset list) and the to-do that `migrate_legacy` prints.

A stage is a condition on a legacy dataset (a `Q` of subqueries, never a join), so the dashboard counts every stage
in one query with the very condition its link's list filters on: the count and the list cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse

from conversion.models import ConversionRun, DimensionMapping
from datasets.models import LegacyDataset, Source
from publishing.models import PublicationRun, PublishedPackage

Run = ConversionRun.Status
Reconciliation = ConversionRun.Reconciliation


@dataclass(frozen=True)
class Stage:
    key: str  # the value of the dataset list's `stage` filter
    title: str
    meaning: str  # what it means, and what to do about it


STAGES = [
    Stage("harvested", "Harvested", "Imported from the legacy platform."),
    Stage("needs_review", "Needs review", "Mappings wait for a curator in the review queue."),
    Stage(
        "waiting_decision",
        "Waiting for a decision",
        "Private or incomplete, and no migration admin decided yet: open the review page and choose to migrate "
        "publicly, migrate but keep private, or exclude it.",
    ),
    Stage("converted", "Converted", "The latest conversion built a package."),
    Stage(
        "mismatch",
        "Reconciliation mismatch",
        "The package's totals differ from the legacy cube's: check the conversion run, then accept or fix the mapping.",
    ),
    Stage("published", "Published", "On the public site."),
    Stage("failed", "Failed", "The latest conversion or publication failed: its run says why."),
    Stage("not_convertible", "Not convertible", "Nothing to convert (no data): nobody can act until its data changes."),
]
STAGE_BY_KEY = {stage.key: stage for stage in STAGES}


def _latest_conversion(**conditions: object) -> Q:
    return Q(pk__in=ConversionRun.objects.latest_per_dataset().filter(**conditions).values("dataset"))


def _no_data() -> Q:
    """The rule of conversion.plan.no_data_problem as a condition: no archived source holding a byte, and no cube
    rows (not exported, or none counted; an unknown count is not held against a dataset)."""
    data = Source.objects.filter(dataset=OuterRef("pk"), archive_status=Source.ArchiveStatus.FETCHED).exclude(
        archived_file=""
    )
    return ~Exists(data.exclude(size=0)) & (Q(entries_file="") | Q(entry_count=0))


def _not_convertible() -> Q:
    return _no_data() | _latest_conversion(status=Run.NOT_CONVERTIBLE)


def _undecided() -> Q:
    return Q(decision__isnull=True) | Q(decision__decision="")


CONDITIONS: dict[str, Callable[[], Q]] = {
    "harvested": lambda: Q(harvested_at__isnull=False),
    "needs_review": lambda: Q(pk__in=DimensionMapping.objects.needs_review().values("dataset")) & ~_not_convertible(),
    "waiting_decision": lambda: (Q(private=True) | Q(is_incomplete=True)) & _undecided() & ~_not_convertible(),
    "converted": lambda: _latest_conversion(status=Run.SUCCEEDED),
    "mismatch": lambda: _latest_conversion(status=Run.SUCCEEDED, reconciliation_status=Reconciliation.MISMATCH),
    "published": lambda: Q(pk__in=PublishedPackage.objects.published().values("dataset")),
    "failed": lambda: (
        _latest_conversion(status=Run.FAILED)
        | Q(
            pk__in=PublicationRun.objects.latest_per_dataset()
            .filter(status=PublicationRun.Status.FAILED)
            .values("dataset")
        )
    ),
    "not_convertible": _not_convertible,
}


def stage_condition(key: str) -> Q:
    return CONDITIONS[key]()


def stage_counts() -> dict[str, int]:
    """How many datasets are at each stage, in one query."""
    counts = LegacyDataset.objects.aggregate(
        **{stage.key: Count("pk", filter=stage_condition(stage.key)) for stage in STAGES}
    )
    return {stage.key: int(counts[stage.key] or 0) for stage in STAGES}


def stage_list_url(key: str) -> str:
    """The legacy dataset list filtered on the stage (its `stage` filter, publishing.dashboard.StageFilter)."""
    return f"{reverse('admin:datasets_legacydataset_changelist')}?stage={key}"


FACTS = ("name", "private", "incomplete_reasons", "entries_file")  # what a to-do reads (not the bulky models)


@dataclass(frozen=True)
class Todo:
    stage: str  # waiting_decision, mismatch or not_convertible
    dataset: str
    task: str  # what the admin must do
    why: str
    path: str  # the admin page to do it on, from the site's root

    @property
    def url(self) -> str:
        return f"{settings.PUBLIC_BASE_URL}{self.path}"


def admin_todo() -> list[Todo]:
    """What waits for the migration admins, in four queries: decisions, mismatches to accept, datasets that cannot
    be converted (nothing to do there but to know it)."""
    return [*_decisions(), *_mismatches(), *_not_convertible_items()]


def _decisions() -> list[Todo]:
    datasets = LegacyDataset.objects.filter(stage_condition("waiting_decision")).order_by("name").only(*FACTS)
    return [
        Todo(
            "waiting_decision",
            dataset.name,
            "decide: migrate publicly, keep private or exclude",
            "; ".join(_decision_reasons(dataset)),
            reverse("admin:conversion_dataset_review", args=[dataset.pk]),
        )
        for dataset in datasets
    ]


def _decision_reasons(dataset: LegacyDataset) -> list[str]:
    private = ["private on the legacy platform"] if dataset.private else []
    texts = dataset.incomplete_reason_texts()
    return private + ([f"incomplete ({'; '.join(texts)})"] if texts else [])


def _mismatches() -> list[Todo]:
    runs = (
        ConversionRun.objects.latest_per_dataset()
        .filter(status=Run.SUCCEEDED, reconciliation_status=Reconciliation.MISMATCH)
        .select_related("dataset")
        .order_by("dataset__name")
    )
    return [
        Todo(
            "mismatch",
            run.dataset.name,
            "accept the reconciliation mismatch, or fix the mapping and convert again",
            f"conversion run {run.pk}: the package's totals differ from the legacy cube's",
            reverse("admin:conversion_conversionrun_change", args=[run.pk]),
        )
        for run in runs
    ]


def _not_convertible_items() -> list[Todo]:
    datasets = LegacyDataset.objects.filter(stage_condition("not_convertible")).order_by("name").only(*FACTS)
    problems = dict(
        ConversionRun.objects.latest_per_dataset()
        .filter(status=Run.NOT_CONVERTIBLE, dataset__in=datasets)
        .values_list("dataset", "error")
    )
    return [
        Todo(
            "not_convertible",
            dataset.name,
            "nothing: it cannot be converted",
            problems.get(dataset.pk) or _no_data_text(dataset),
            reverse("admin:datasets_legacydataset_change", args=[dataset.pk]),
        )
        for dataset in datasets
    ]


def _no_data_text(dataset: LegacyDataset) -> str:
    cube = "the legacy cube has no rows" if dataset.entries_file else "the legacy cube's rows were not exported"
    return f"no data: no archived source file holds any and {cube}"
