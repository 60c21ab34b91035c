"""Publication columns for `migration_status`: where each dataset's package stands, and its public page."""

from __future__ import annotations

from typing import Any

from conversion.models import DatasetDecision
from datasets.models import LegacyDataset
from publishing.models import PublicationRun, PublishedPackage, package_page_url, public_refusal

Status = PublicationRun.Status


def extend_status(rows: dict[str, dict[str, Any]], datasets: list[LegacyDataset]) -> None:
    """`publication_status`: queued / running (a run is under way), failed (the latest run failed; an older version
    may still be out, see package_url), published, to_withdraw (still in the store but may not be public any more:
    hidden already, the next `publish` deletes it), withdrawn, not_public (private, excluded, or incomplete and
    undecided: never published), none.
    `package_url`: the public page, only while the package is published."""
    published = {package.dataset_id: package for package in PublishedPackage.objects.published()}
    packages = {package.dataset_id: package for package in PublishedPackage.objects.filter(dataset__isnull=False)}
    latest = {run.dataset_id: run for run in PublicationRun.objects.latest_per_dataset()}
    decisions = {decision.dataset_id: decision for decision in DatasetDecision.objects.all()}
    for dataset in datasets:
        package = published.get(dataset.pk)
        rows[dataset.name].update(
            {
                "publication_status": publication_status(
                    latest.get(dataset.pk),
                    package,
                    packages.get(dataset.pk),
                    may_be_public=not public_refusal(dataset, decisions.get(dataset.pk)),
                ),
                "package_url": package_page_url(package.owner, package.name) if package else None,
            }
        )


def publication_status(
    run: PublicationRun | None,
    published: PublishedPackage | None,
    package: PublishedPackage | None,
    *,
    may_be_public: bool,
) -> str:
    if run is not None and run.status in {Status.QUEUED, Status.RUNNING, Status.FAILED}:
        return str(run.status)
    if published is not None:
        return "published"
    if package is not None and package.purged_at is None:
        return "to_withdraw"
    if package is not None:
        return "withdrawn"
    return "none" if may_be_public else "not_public"
