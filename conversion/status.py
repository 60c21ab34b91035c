"""`migration_status` columns: mapping status and counts, the admin decision, the owner and the latest conversion."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from conversion.models import ConversionRun, DatasetDecision, DimensionMapping, dataset_owner
from conversion.runs import not_convertible_reason
from datasets.models import LegacyDataset

Status = DimensionMapping.Status


def extend_status(rows: dict[str, dict[str, Any]], datasets: list[LegacyDataset]) -> None:
    counts = {
        row["dataset__name"]: row
        for row in DimensionMapping.objects.values("dataset__name").annotate(
            total=Count("id"),
            proposed=Count("id", filter=Q(status=Status.PROPOSED)),
            ambiguous=Count("id", filter=Q(ambiguous=True) & ~Q(status__in=DimensionMapping.DECIDED)),
            approved=Count("id", filter=Q(status=Status.APPROVED)),
            edited=Count("id", filter=Q(status=Status.EDITED)),
            dropped=Count("id", filter=Q(status=Status.DROPPED)),
            sent_back=Count("id", filter=Q(status=Status.SENT_BACK)),
        )
    }
    decisions = {decision.dataset_id: decision for decision in DatasetDecision.objects.all()}
    for dataset in datasets:
        count = counts.get(dataset.name, {})
        decision = decisions.get(dataset.pk)
        rows[dataset.name].update(
            {
                "mapping_status": mapping_status(count),
                "mappings": {
                    key: count.get(key, 0)
                    for key in ("proposed", "ambiguous", "approved", "edited", "dropped", "sent_back")
                },
                "decision": decision.decision if decision and decision.decision else None,
                "owner": dataset_owner(dataset, decision),
            }
        )


def mapping_status(count: dict[str, Any]) -> str:
    """none: nothing proposed; approved: every mapping approved or dropped; needs_review otherwise."""
    total = count.get("total", 0)
    if not total:
        return "none"
    if count.get("approved", 0) + count.get("dropped", 0) == total:
        return "approved"
    return "needs_review"


def extend_conversion_status(rows: dict[str, dict[str, Any]], datasets: list[LegacyDataset]) -> None:
    """The latest run of each dataset: its status, rows, reconciliation and package path. A run that found nothing
    to convert (no data) is "not_convertible", with the reason in `conversion_problem`."""
    latest = {run.dataset_id: run for run in ConversionRun.objects.latest_per_dataset()}
    for dataset in datasets:
        latest_run = latest.get(dataset.pk)
        problem = not_convertible_reason(latest_run) if latest_run else ""
        rows[dataset.name].update(
            {
                "conversion_status": latest_run.status if latest_run else "none",
                "conversion_problem": problem or None,
                "rows": latest_run.rows_written if latest_run else None,
                "built_from": (latest_run.built_from or None) if latest_run else None,
                "reconciliation": (latest_run.reconciliation_status or None) if latest_run else None,
                "package_path": (latest_run.package_path or None) if latest_run else None,
            }
        )
