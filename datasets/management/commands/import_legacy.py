"""python manage.py import_legacy DIR: load a dump folder (ours, or the 2015 migration's) into the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from datasets.dump import DumpError, find_dataset_folders, read_dataset_folder
from datasets.progress import Progress
from datasets.services import ImportResult, dataset_import


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
        counts: dict[str, int] = {}
        try:
            for folder in folders:
                result = self._import_one(folder, force=options["force"])
                counts[result.action] = counts.get(result.action, 0) + 1
                progress.advance(self._line(result))
        finally:
            progress.close()
        self.stdout.write(
            f"Imported {len(folders)} dataset folders: " + ", ".join(f"{n} {a}" for a, n in sorted(counts.items()))
        )

    def _import_one(self, folder: Path, *, force: bool) -> ImportResult:
        try:
            return dataset_import(dumped=read_dataset_folder(folder), force=force)
        except DumpError as error:
            return ImportResult(folder.name, "failed", message=str(error))

    def _line(self, result: ImportResult) -> str:
        text = f"{result.name}: {result.action}"
        if result.changes:
            text += " (" + ", ".join(str(change["field"]) for change in result.changes) + ")"
        if result.message:
            text += f": {result.message}"
        return text
