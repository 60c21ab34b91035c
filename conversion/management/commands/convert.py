"""python manage.py convert [NAME ...] [--all-approved] [--sync]: build packages on the `conversion` queue."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from conversion.models import ConversionRun
from conversion.runs import approved_datasets, conversion_request
from datasets.command_args import datasets_named
from datasets.models import LegacyDataset
from datasets.progress import Progress


class Command(BaseCommand):
    help = "Convert reviewed datasets to data packages: on the workers, or here with --sync."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME")
        parser.add_argument("--all-approved", action="store_true", help="Every dataset whose mappings are reviewed.")
        parser.add_argument("--sync", action="store_true", help="Run here and wait, even when workers exist.")

    def handle(self, *args: Any, **options: Any) -> None:
        datasets = self._datasets(options)
        progress = Progress(self.stdout.write, label="datasets")
        progress.start(len(datasets))
        outcomes: dict[str, int] = {}
        try:
            for dataset in datasets:
                line, outcome = self._convert(dataset, sync=options["sync"])
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                progress.advance(line)
        finally:
            progress.close()
        self.stdout.write(f"{len(datasets)} datasets: " + ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())))
        if outcomes.get("failed") and len(datasets) == outcomes["failed"]:
            raise CommandError("every conversion failed")

    def _datasets(self, options: dict[str, Any]) -> list[LegacyDataset]:
        if options["all_approved"]:
            return approved_datasets()
        if not options["names"]:
            raise CommandError("name datasets, or pass --all-approved")
        return datasets_named(options["names"])

    def _convert(self, dataset: LegacyDataset, *, sync: bool) -> tuple[str, str]:
        try:
            run = conversion_request(dataset=dataset, sync=sync)
        except ValidationError as error:
            return f"{dataset.name}: not convertible: {' '.join(error.messages)}", "not convertible"
        run.refresh_from_db()
        if run.status == ConversionRun.Status.SUCCEEDED:
            text = (
                f"{dataset.name}: built from {run.built_from}, {run.rows_written} rows"
                f" ({run.rows_rejected or 0} rejected, {run.rows_overwritten or 0} overwritten),"
                f" {'valid' if run.valid else 'INVALID'}, reconciliation {run.reconciliation_status}"
            )
            return text, "converted"
        if run.status == ConversionRun.Status.FAILED:
            return f"{dataset.name}: failed: {run.error}", "failed"
        return f"{dataset.name}: run {run.pk} {run.status} on the workers", run.status
