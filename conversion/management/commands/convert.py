"""python manage.py convert [NAME ...] [--all-approved [--force]] [--sync]: build packages on the `conversion` queue."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from conversion.models import ConversionRun, DimensionMapping, ReviewEvent
from conversion.runs import approved_datasets, conversion_request, not_convertible_reason
from datasets.models import LegacyDataset
from migration_site.lib.commands import FAILED, Outcome, datasets_named, each_dataset

# Accepting a run's reconciliation mismatch is recorded as a review event of the dataset, but changes nothing the
# package is built from; converting again would drop the acceptance.
RUN_EVENT_PREFIX = "conversion run "
NOT_CONVERTIBLE = "not convertible"  # an outcome, not a failure: converting again cannot help
# A latest run with one of these outcomes stands until something it was built from changes.
CURRENT = (ConversionRun.Status.SUCCEEDED, ConversionRun.Status.NOT_CONVERTIBLE)


class Command(BaseCommand):
    help = (
        "Convert reviewed datasets to data packages: on the workers, or here with --sync. Exit status 2 when any "
        "conversion failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME", help="These datasets, converted even if up to date.")
        parser.add_argument(
            "--all-approved",
            action="store_true",
            help="Every dataset whose mappings are reviewed, except those converted since their last change.",
        )
        parser.add_argument("--force", action="store_true", help="With --all-approved: up-to-date datasets too.")
        parser.add_argument("--sync", action="store_true", help="Run here and wait, even when workers exist.")

    def handle(self, *args: Any, **options: Any) -> None:
        datasets = self._datasets(options)
        if not datasets:
            self.stdout.write("nothing to convert: no dataset has every mapping reviewed (and one approved)")
            return
        skip_current = options["all_approved"] and not options["force"]
        tally = each_dataset(
            self.stdout.write, datasets, lambda dataset: self._convert(dataset, options["sync"], skip_current)
        )
        tally.finish(self.stdout.write)

    def _datasets(self, options: dict[str, Any]) -> list[LegacyDataset]:
        if options["all_approved"]:
            return approved_datasets()
        if not options["names"]:
            raise CommandError("name datasets, or pass --all-approved")
        return datasets_named(options["names"], LegacyDataset.objects.all())

    def _convert(self, dataset: LegacyDataset, sync: bool, skip_current: bool) -> Outcome:
        current = current_conversion(dataset) if skip_current else None
        if current is not None and current.status == ConversionRun.Status.NOT_CONVERTIBLE:
            text = f"{dataset.name}: not convertible: {current.error} (unchanged since run {current.pk})"
            return text, NOT_CONVERTIBLE
        if current is not None:
            return f"{dataset.name}: unchanged since conversion run {current.pk}, not converted again", "unchanged"
        try:
            run = conversion_request(dataset=dataset, sync=sync)
        except ValidationError as error:
            return f"{dataset.name}: not convertible: {' '.join(error.messages)}", NOT_CONVERTIBLE
        run.refresh_from_db()
        if run.status == ConversionRun.Status.SUCCEEDED:
            text = (
                f"{dataset.name}: built from {run.built_from}, {run.rows_written} rows"
                f" ({run.rows_rejected or 0} rejected, {run.rows_overwritten or 0} overwritten),"
                f" {'valid' if run.valid else 'INVALID'}, reconciliation {run.reconciliation_status}"
            )
            return text, "converted"
        if problem := not_convertible_reason(run):
            return f"{dataset.name}: not convertible: {problem}", NOT_CONVERTIBLE  # found by the run, same outcome
        if run.status == ConversionRun.Status.FAILED:
            return f"{dataset.name}: failed: {run.error}", FAILED
        return f"{dataset.name}: run {run.pk} {run.status} on the workers", run.status


def current_conversion(dataset: LegacyDataset) -> ConversionRun | None:
    """The dataset's latest run when it succeeded (or found no data) and nothing its package is built from changed
    since it was queued: the legacy data (a re-import saves the dataset), a mapping, the decision or the owner. A
    failed latest run is not current: converting again is the retry."""
    run = ConversionRun.objects.filter(dataset=dataset).only("pk", "status", "queued_at", "error").first()
    if run is None or run.status not in CURRENT or dataset.updated_at > run.queued_at:
        return None
    since = run.queued_at
    mappings = DimensionMapping.objects.filter(Q(reviewed_at__gt=since) | Q(proposed_at__gt=since), dataset=dataset)
    events = ReviewEvent.objects.filter(dataset=dataset, at__gt=since).exclude(subject__startswith=RUN_EVENT_PREFIX)
    return None if mappings.exists() or events.exists() else run
