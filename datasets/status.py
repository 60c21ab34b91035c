"""The migration status report: one row per dataset, a stable JSON interface that later steps extend."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Prefetch
from django.utils.module_loading import import_string

from datasets.models import LegacyDataset, TeamMember


def status_rows() -> list[dict[str, Any]]:
    """Rows of every dataset; the later steps add their own keys through MIGRATION_STATUS_EXTENSIONS.

    Each extension is `extend(rows: dict[name, row], datasets: list[LegacyDataset]) -> None`; the setting names
    them, so this lower app never imports the apps above it.
    """
    datasets = list(
        LegacyDataset.objects.with_source_counts()
        .prefetch_related(Prefetch("team", queryset=TeamMember.objects.order_by("position", "username")))
        .order_by("name")
    )
    rows = {dataset.name: dataset_status(dataset) for dataset in datasets}
    for path in settings.MIGRATION_STATUS_EXTENSIONS:
        import_string(path)(rows, datasets)
    return list(rows.values())


def dataset_status(dataset: Any) -> dict[str, Any]:
    """`dataset` comes from `with_source_counts()`."""
    return {
        "name": dataset.name,
        "label": dataset.label,
        "private": dataset.private,
        "incomplete": dataset.is_incomplete,
        "incomplete_reasons": list(dataset.incomplete_reasons),
        "model_problems": dataset.model_problem_count,
        "model_blocking_problems": sum(1 for p in dataset.model_problems if p.get("severity") == "error"),
        "sources": dataset.sources_total,
        "sources_fetched": dataset.sources_fetched,
        "sources_unreachable": dataset.sources_unreachable,
        "entries": dataset.entry_count,
        "team": [member.username for member in dataset.team.all()],
        "harvested_at": dataset.harvested_at.isoformat() if dataset.harvested_at else None,
    }
