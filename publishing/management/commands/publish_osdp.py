"""python manage.py publish_osdp PATH --owner USER [--name NAME]: validate any package and publish it.

Needs no legacy dataset: any Fiscal Data Package folder or zip goes to `<owner>/<name>/` and into the registry.
An invalid package is refused with its readable problems and exit status 1. The published descriptor's id, name,
owner and homepage are the store's (`<owner>/<name>`), whatever the uploaded one said.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from conversion.packaging.validation import PackageError
from publishing.models import PublicationRun
from publishing.runs import InvalidPackage, package_upload
from publishing.store import StoreError


class Command(BaseCommand):
    help = "Validate a package folder or zip (as validate_osdp does) and publish it at <owner>/<name>/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", metavar="PATH", help="Package folder, its datapackage.json, or a .zip of it.")
        parser.add_argument("--owner", required=True, help="Username the package is stored under.")
        parser.add_argument("--name", default="", help="Package name in the store (default: the descriptor's).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run, result = package_upload(path=Path(options["path"]), owner=options["owner"], name=options["name"])
        except InvalidPackage as invalid:
            self.stdout.write(invalid.result.text())
            raise CommandError(f"not published: {invalid.result.summary()}") from invalid
        except (PackageError, StoreError) as error:
            raise CommandError(f"not published: {error}") from error
        where = f"{run.owner}/{run.name}"
        if run.status == PublicationRun.Status.FAILED:
            raise CommandError(f"{where}: failed: {run.error}")
        if run.status == PublicationRun.Status.UNCHANGED:
            self.stdout.write(f"{where}: unchanged, nothing uploaded ({result.summary()})")
        else:
            self.stdout.write(f"{where}: published ({result.summary()}; {len(run.uploaded)} object(s) written)")
