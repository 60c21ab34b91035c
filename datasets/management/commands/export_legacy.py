"""python manage.py export_legacy --url URL --to DIR [--api-key KEY] [--include-private] [--dataset NAME ...]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from datasets.client import ClientSettings, LegacyClient
from datasets.export import DatasetOutcome, export_instance, iter_dataset_names
from datasets.export_discovery import ExportFailed, ExportOptions
from datasets.names import dataset_name_problem
from datasets.safety import UnsafeURLError
from migration_site.lib.commands import some_datasets_failed
from migration_site.lib.progress import Progress


class Command(BaseCommand):
    help = "Export every dataset of a legacy OpenSpending instance over HTTP into a dump folder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url", required=True, help="Base URL of the legacy instance, e.g. https://openspending.org"
        )
        parser.add_argument("--to", required=True, type=Path, help="Dump folder (one sub-folder per dataset).")
        parser.add_argument(
            "--api-key",
            default="",
            help="An account's API key: private datasets, team, runs (default: LEGACY_API_KEY, which keeps the key"
            " out of the process list).",
        )
        parser.add_argument(
            "--include-private", action="store_true", help="Also export private datasets (needs a key)."
        )
        parser.add_argument("--dataset", action="append", default=[], metavar="NAME", help="Only this dataset.")
        parser.add_argument("--no-entries", action="store_true", help="Skip the cube's rows (entries.csv).")
        parser.add_argument(
            "--allow-private-addresses",
            action="store_true",
            help="Allow loopback and private addresses (a legacy instance on the local network).",
        )
        parser.add_argument("--workers", type=int, default=4, help="Datasets exported at once (default 4).")

    def handle(self, *args: Any, **options: Any) -> None:
        # The setting is read here rather than as the argument's default, so no help or parser output can show it.
        api_key = options["api_key"] or settings.LEGACY_API_KEY or None
        workers = max(1, options["workers"])
        try:
            client = LegacyClient(options["url"], api_key=api_key, config=self._client_settings(options, workers))
        except UnsafeURLError as error:
            raise CommandError(f"refused --url: {error}") from error
        export_options = ExportOptions(
            include_private=options["include_private"],
            names=_checked_names(options["dataset"]),
            entries=not options["no_entries"],
            workers=workers,
            max_source_bytes=settings.SOURCE_MAX_BYTES,
        )
        progress = Progress(self.stdout.write, label="datasets")

        def on_dataset(outcome: DatasetOutcome) -> None:
            progress.advance(self._line(outcome))

        try:
            summary = export_instance(
                client, options["to"], export_options, on_dataset=on_dataset, on_start=progress.start
            )
        except ExportFailed as error:
            raise CommandError(client.redact(str(error))) from error
        finally:
            progress.close()
        totals = summary.totals()
        self.stdout.write(
            f"Exported {totals['datasets']} datasets ({totals['private']} private, {totals['failed']} failed) "
            f"to {options['to']}: sources fetched {totals['sources_fetched']}, "
            f"unreachable {totals['sources_unreachable']}, {_size(totals['bytes'])}, {totals['entries']} cube rows."
        )
        if summary.failed:
            self.stdout.write("Failed: " + ", ".join(outcome.name for outcome in summary.failed))
            raise some_datasets_failed(
                f"{len(summary.failed)} of {totals['datasets']} datasets failed (see above and export-report.json)"
            )

    def _client_settings(self, options: dict[str, Any], workers: int) -> ClientSettings:
        if options["allow_private_addresses"]:
            return ClientSettings.from_django(max_concurrency=workers, allow_private=True)
        return ClientSettings.from_django(max_concurrency=workers)

    def _line(self, outcome: DatasetOutcome) -> str:
        state = "ok" if outcome.ok else "FAILED"
        text = (
            f"{outcome.name}: {state}, sources {outcome.sources_fetched} fetched / "
            f"{outcome.sources_unreachable} unreachable"
        )
        if outcome.problems:
            text += f", {len(outcome.problems)} problem(s): " + "; ".join(outcome.problems[:3])
        return text


def _checked_names(values: list[str]) -> tuple[str, ...]:
    names = iter_dataset_names(values)
    problems = [problem for problem in map(dataset_name_problem, names) if problem is not None]
    if problems:
        raise CommandError("refused --dataset: " + "; ".join(problems))
    return names


def _size(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} bytes"
