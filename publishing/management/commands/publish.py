"""python manage.py publish [NAME ...] [--all-ready] [--sync]: publish packages on the `publishing` queue.

Every invocation first withdraws the packages of datasets that may not be public any more.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from datasets.command_args import datasets_named
from datasets.models import LegacyDataset
from datasets.progress import Progress
from publishing.models import PublicationRun
from publishing.services import privacy_enforce, publication_request, ready_datasets

Status = PublicationRun.Status


class Command(BaseCommand):
    help = (
        "Publish converted datasets to the package store and the registry: on the workers, or here with --sync. "
        "Packages of datasets that may not be public any more are withdrawn first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME")
        parser.add_argument(
            "--all-ready", action="store_true",
            help="Every dataset whose latest conversion is publishable and that may be public (not withdrawn ones).",
        )  # fmt: skip
        parser.add_argument("--sync", action="store_true", help="Run here and wait, even when workers exist.")

    def handle(self, *args: Any, **options: Any) -> None:
        datasets = self._datasets(options)
        withdrawals = privacy_enforce(sync=options["sync"])
        progress = Progress(self.stdout.write, label="datasets")
        progress.start(len(withdrawals) + len(datasets))
        outcomes: dict[str, int] = {}
        try:
            for run in withdrawals:
                self._count(outcomes, progress, *describe(run))
            for dataset in datasets:
                self._count(outcomes, progress, *self._publish(dataset, sync=options["sync"]))
        finally:
            progress.close()
        total = sum(outcomes.values())
        self.stdout.write(f"{total} datasets: " + (", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())) or "-"))
        if outcomes.get("failed") and total == outcomes["failed"]:
            raise CommandError("every publication failed")

    def _datasets(self, options: dict[str, Any]) -> list[LegacyDataset]:
        if options["all_ready"]:
            return ready_datasets()
        if not options["names"]:
            raise CommandError("name datasets, or pass --all-ready")
        return datasets_named(options["names"])

    def _publish(self, dataset: LegacyDataset, *, sync: bool) -> tuple[str, str]:
        try:
            run = publication_request(dataset=dataset, sync=sync)
        except ValidationError as error:
            return f"{dataset.name}: not published: {' '.join(error.messages)}", "refused"
        return describe(run)

    @staticmethod
    def _count(outcomes: dict[str, int], progress: Progress, line: str, outcome: str) -> None:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        progress.advance(line)


def describe(run: PublicationRun) -> tuple[str, str]:
    """One line for a run, and the outcome it counts as."""
    label = run.dataset.name if run.dataset else f"{run.owner}/{run.name}"
    where = f"{run.owner}/{run.name}"
    if run.status == Status.FAILED:
        return f"{label}: failed: {run.error}", "failed"
    if run.status in {Status.QUEUED, Status.RUNNING}:
        return f"{label}: {run.action} run {run.pk} {run.status} on the workers", str(run.status)
    if run.action == PublicationRun.Action.WITHDRAW:
        return f"{label}: withdrawn from {where} ({run.reason or 'asked for'})", "withdrawn"
    if run.status == Status.UNCHANGED:
        return f"{label}: unchanged at {where}, nothing uploaded", "unchanged"
    package = getattr(run.dataset, "published_package", None) if run.dataset else None
    size = f"{package.rows} rows, {package.bytes} bytes; " if package else ""
    return f"{label}: published at {where} ({size}{len(run.uploaded)} object(s) written)", "published"
