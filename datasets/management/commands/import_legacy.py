"""python manage.py import_legacy DIR: load a dump folder (ours, or the 2015 migration's) into the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from datasets.command_args import some_datasets_failed
from datasets.dump import DumpError, find_dataset_folders, read_dataset_folder
from datasets.progress import Progress
from datasets.services import ImportResult, dataset_import

FAILED = "failed"


class Command(BaseCommand):
    help = "Import a dump folder into the legacy dataset registry. Safe to repeat: unchanged datasets are skipped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="A dump folder, or one dataset's folder.")
        parser.add_argument("--force", action="store_true", help="Import even a dump older than the data in place.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            folders = find_dataset_folders(options["folder"])
        except DumpError as error:
            raise CommandError(str(error)) from error
        if not folders:
            raise CommandError(f"no dataset.json found in {options['folder']} or its sub-folders")
        progress = Progress(self.stdout.write, label="datasets")
        progress.start(len(folders))
        results = []
        try:
            for folder in folders:
                results.append(self._import_one(folder, force=options["force"]))
                progress.advance(self._line(results[-1]))
        finally:
            progress.close()
        self._summary(results)

    def _import_one(self, folder: Path, *, force: bool) -> ImportResult:
        """One dataset; whatever goes wrong with it is its own outcome, and the run goes on with the next."""
        try:
            return dataset_import(dumped=read_dataset_folder(folder), force=force)
        except DumpError as error:
            return ImportResult(_printable(folder.name), FAILED, message=str(error))
        except Exception as error:  # a hostile dump must not end the run; the type keeps a real bug visible
            return ImportResult(_printable(folder.name), FAILED, message=f"{type(error).__name__}: {error}")

    def _summary(self, results: list[ImportResult]) -> None:
        counts: dict[str, int] = {}
        for result in results:
            counts[result.action] = counts.get(result.action, 0) + 1
        self.stdout.write(
            f"Imported {len(results)} dataset folders: " + ", ".join(f"{n} {a}" for a, n in sorted(counts.items()))
        )
        failed = [result.name for result in results if result.action == FAILED]
        if failed:
            self.stdout.write("Failed: " + ", ".join(failed))
            raise some_datasets_failed(f"{len(failed)} of {len(results)} dataset folders failed (see above)")

    def _line(self, result: ImportResult) -> str:
        text = f"{result.name}: {result.action}"
        if result.changes:
            text += " (" + ", ".join(str(change["field"]) for change in result.changes) + ")"
        if result.message:
            text += f": {_printable(result.message)}"
        return text


def _printable(text: str) -> str:
    """A folder name that was not UTF-8 holds lone surrogates, which no terminal or log can take: show them escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
