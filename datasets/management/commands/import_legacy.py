"""python manage.py import_legacy DIR: load a dump folder (ours, or the 2015 migration's) into the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from datasets.dump import DumpError, find_dataset_folders, read_dataset_folder
from datasets.services import ImportResult, dataset_import
from migration_site.lib.commands import FAILED, Outcome, each_dataset


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
        failed: list[str] = []

        def act(folder: Path) -> Outcome:
            result = self._import_one(folder, force=options["force"])
            if result.action == FAILED:
                failed.append(result.name)
            return self._line(result), result.action

        tally = each_dataset(self.stdout.write, folders, act, noun="dataset folder")
        summary = f"Imported {tally.summary()}" + ("\nFailed: " + ", ".join(failed) if failed else "")
        tally.finish(self.stdout.write, summary)

    def _import_one(self, folder: Path, *, force: bool) -> ImportResult:
        """One dataset; whatever goes wrong with it is its own outcome, and the run goes on with the next."""
        try:
            return dataset_import(dumped=read_dataset_folder(folder), force=force)
        except DumpError as error:
            return ImportResult(_printable(folder.name), FAILED, message=str(error))
        except Exception as error:  # a hostile dump must not end the run; the type keeps a real bug visible
            return ImportResult(_printable(folder.name), FAILED, message=f"{type(error).__name__}: {error}")

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
