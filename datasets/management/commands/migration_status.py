"""python manage.py migration_status [--json]: where every legacy dataset stands."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from datasets.status import status_rows

COLUMNS = [
    ("name", "dataset", 30),
    ("private", "private", 7),
    ("model_problems", "problems", 8),
    ("sources_fetched", "fetched", 7),
    ("sources_unreachable", "unreach.", 8),
    ("team", "team", 24),
    ("incomplete_reasons", "incomplete because", 40),
]


class Command(BaseCommand):
    help = "One row per legacy dataset: private, incomplete and why, model problems, sources, team."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="A JSON list of objects (a stable interface).")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = status_rows()
        if options["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        self.stdout.write("  ".join(title.ljust(width) for _, title, width in COLUMNS).rstrip())
        for row in rows:
            self.stdout.write("  ".join(_cell(row[key], width) for key, _, width in COLUMNS).rstrip())
        incomplete = sum(1 for row in rows if row["incomplete"])
        private = sum(1 for row in rows if row["private"])
        self.stdout.write(f"{len(rows)} datasets: {private} private, {incomplete} incomplete.")


def _cell(value: Any, width: int) -> str:
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, list):
        text = ", ".join(str(item) for item in value) or "-"
    else:
        text = str(value)
    return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)
