"""python manage.py validate_osdp PATH [--json] [--frictionless-rows N]: validate a package folder or zip.

Exit status 1 when invalid. A datapackage.json too big (PACKAGE_DESCRIPTOR_MAX_BYTES), too deep or too large in
parts is one problem, found before it is parsed or validated (conversion/packaging/package_descriptor.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from conversion.packaging.validation import PackageError, validate_package


class Command(BaseCommand):
    help = (
        "Validate a Fiscal Data Package (a folder with datapackage.json, or a zip of one) offline: our FDP schema, "
        "the model and column-type rules, file hashes, unique keys and the data itself."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", metavar="PATH", help="Package folder, its datapackage.json, or a .zip of it.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON instead of text.")
        parser.add_argument(
            "--frictionless-rows",
            type=int,
            default=None,
            metavar="N",
            help="Let frictionless read only the first N rows of each CSV (every row is still checked for header, "
            "types, required cells and unique keys); much faster on big packages. Default: all rows.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = validate_package(
                Path(options["path"]),
                frictionless_rows=options["frictionless_rows"],
                descriptor_max_bytes=settings.PACKAGE_DESCRIPTOR_MAX_BYTES,
            )
        except PackageError as error:
            raise CommandError(str(error)) from error
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
        else:
            self.stdout.write(result.text())
        if not result.valid:
            # call_command raises this to the caller; manage.py prints it and exits with status 1.
            raise CommandError(result.summary())
