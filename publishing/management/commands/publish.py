"""python manage.py publish [NAME ...] [--all-ready] [--sync]: publish packages on the `publishing` queue.

Every invocation first withdraws the packages of datasets that may not be public any more. `--all-ready` then lists
every dataset it left out, and why.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from conversion.models import ConversionRun
from datasets.models import LegacyDataset
from migration_site.lib.commands import FAILED, Outcome, Tally, datasets_named, each_dataset
from publishing.models import PublicationRun, PublishedPackage, public_refusal
from publishing.runs import conversion_problem, privacy_enforce, publication_request, ready_datasets

Status = PublicationRun.Status


class Command(BaseCommand):
    help = (
        "Publish converted datasets to the package store and the registry: on the workers, or here with --sync. "
        "Packages of datasets that may not be public any more are withdrawn first. Exit status 2 when any failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME")
        parser.add_argument(
            "--all-ready",
            action="store_true",
            help="Every dataset whose latest conversion is publishable and that may be public (not withdrawn ones).",
        )
        parser.add_argument("--sync", action="store_true", help="Run here and wait, even when workers exist.")

    def handle(self, *args: Any, **options: Any) -> None:
        datasets = self._datasets(options)
        withdrawals = privacy_enforce(sync=options["sync"])
        skipped = not_ready(datasets) if options["all_ready"] else []
        if not datasets and not withdrawals:
            self.stdout.write("nothing to publish: no converted dataset is ready, and nothing to withdraw")
            self._skipped(skipped)
            return
        # The withdrawals have run (or are queued) already; the loop reports them with the publications.
        items: list[PublicationRun | LegacyDataset] = [*withdrawals, *datasets]
        tally = each_dataset(self.stdout.write, items, lambda item: self._act(item, sync=options["sync"]))
        self._skipped(skipped)
        tally.finish(self.stdout.write, f"{tally.summary()}; {len(skipped)} skipped" if skipped else None)

    def _skipped(self, skipped: list[tuple[str, str]]) -> None:
        if skipped:
            self.stdout.write(f"skipped {Tally().plural(len(skipped))} (not ready):")
        for name, reason in skipped:
            self.stdout.write(f"  {name}: {reason}")

    def _datasets(self, options: dict[str, Any]) -> list[LegacyDataset]:
        if options["all_ready"]:
            return ready_datasets()
        if not options["names"]:
            raise CommandError("name datasets, or pass --all-ready")
        return datasets_named(options["names"], LegacyDataset.objects.all())

    def _act(self, item: PublicationRun | LegacyDataset, *, sync: bool) -> Outcome:
        if isinstance(item, PublicationRun):
            return describe(item)
        try:
            run = publication_request(dataset=item, sync=sync)
        except ValidationError as error:
            return f"{item.name}: not published: {' '.join(error.messages)}", "refused"
        return describe(run)


def describe(run: PublicationRun) -> Outcome:
    """One line for a run, and the outcome it counts as."""
    label = run.dataset.name if run.dataset else f"{run.owner}/{run.name}"
    where = f"{run.owner}/{run.name}"
    if run.status == Status.FAILED:
        return f"{label}: failed: {run.error}", FAILED
    if run.status in {Status.QUEUED, Status.RUNNING}:
        return f"{label}: {run.action} run {run.pk} {run.status} on the workers", str(run.status)
    if run.action == PublicationRun.Action.WITHDRAW:
        return f"{label}: withdrawn from {where} ({run.reason or 'asked for'})", "withdrawn"
    if run.status == Status.UNCHANGED:
        return f"{label}: unchanged at {where}, nothing uploaded", "unchanged"
    package = getattr(run.dataset, "published_package", None) if run.dataset else None
    size = f"{package.rows} rows, {package.bytes} bytes; " if package else ""
    return f"{label}: published at {where} ({size}{len(run.uploaded)} object(s) written)", "published"


def not_ready(ready: list[LegacyDataset]) -> list[tuple[str, str]]:
    """Every other dataset, by name, with why `ready_datasets` left it out: its rules, in words (first reason)."""
    chosen = {dataset.pk for dataset in ready}
    latest = {run.dataset_id: run for run in ConversionRun.objects.succeeded().latest_per_dataset()}
    withdrawn = set(PublishedPackage.objects.exclude(withdrawn_at=None).values_list("dataset_id", flat=True))
    others = LegacyDataset.objects.select_related("decision").only(
        "name", "private", "is_incomplete", "decision__decision"
    )
    return [
        (dataset.name, _why_not(dataset, latest.get(dataset.pk), withdrawn=dataset.pk in withdrawn))
        for dataset in others.order_by("name")
        if dataset.pk not in chosen
    ]


def _why_not(dataset: LegacyDataset, conversion: ConversionRun | None, *, withdrawn: bool) -> str:
    refusal = public_refusal(dataset, getattr(dataset, "decision", None))
    if refusal:
        return f"may not be public: {refusal}"
    if withdrawn:
        return "its package was withdrawn; `publish NAME` publishes it again"
    return conversion_problem(conversion) or "not ready"
