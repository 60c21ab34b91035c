"""python manage.py migration_status [--wide | --json]: where every legacy dataset stands.

The table fits the terminal: a value is never cut; the least important columns are left out (or, for lists, wrapped)
until the rest fits, and the last line says which. `--wide` shows every column in full; `--json` is the stable
interface, every key of every row.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from datasets.status import status_rows

GAP = "  "
FALLBACK_WIDTH = 120  # output to a file or a pipe


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "-"
    return str(value)


def _shown(column: Column, rows: list[dict[str, Any]]) -> bool:
    if column.when_set:
        return any(row.get(column.key) for row in rows)
    return any(column.key in row for row in rows)


@dataclass(frozen=True)
class Column:
    title: str
    key: str
    rank: int  # kept longer when the terminal is narrow; 0: always shown
    wraps: bool = False  # a list, wrapped over lines rather than left out
    when_set: bool = False  # shown only when some row has a value (an exception, like why one is not convertible)
    render: Callable[[Any], str] = _text

    def cell(self, row: dict[str, Any]) -> str:
        return self.render(row.get(self.key))


# In the order they are shown; `rank` says what a narrow terminal keeps: the dataset, then how far it has got.
# Keys of the later steps' extensions (MIGRATION_STATUS_EXTENSIONS); a column whose key no row has is left out.
COLUMNS = [
    Column("dataset", "name", 0),
    Column("private", "private", 8),
    Column("mapping", "mapping_status", 1),
    Column("decision", "decision", 6),
    Column("owner", "owner", 7),
    Column("conversion", "conversion_status", 2),
    Column("rows", "rows", 4),
    Column("built from", "built_from", 4),
    Column("reconciliation", "reconciliation", 3),
    Column("package", "publication_status", 5),
    Column("incomplete because", "incomplete_reasons", 9, wraps=True),
    Column("not convertible because", "conversion_problem", 9, wraps=True, when_set=True),
    Column("problems", "model_problems", 10),
    Column("fetched", "sources_fetched", 11),
    Column("unreachable", "sources_unreachable", 11),
    Column("team", "team", 12, wraps=True),
    Column("package path", "package_path", 13),
    Column("package url", "package_url", 14),
]


class Command(BaseCommand):
    help = (
        "One row per legacy dataset: mapping, decision, owner, conversion, rows, reconciliation, package, private, "
        "incomplete reasons, model problems, sources, team."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        shown = parser.add_mutually_exclusive_group()
        shown.add_argument("--wide", action="store_true", help="Every column in full, however wide.")
        shown.add_argument("--json", action="store_true", help="A JSON list of objects (a stable interface).")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = status_rows()
        if options["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        columns = [column for column in COLUMNS if column.rank == 0 or _shown(column, rows)]
        width = None if options["wide"] else shutil.get_terminal_size((FALLBACK_WIDTH, 24)).columns
        widths, left_out = fit(columns, rows, width)
        for line in table(widths, rows):
            self.stdout.write(line)
        incomplete = sum(1 for row in rows if row.get("incomplete"))
        private = sum(1 for row in rows if row.get("private"))
        self.stdout.write(f"{len(rows)} datasets: {private} private, {incomplete} incomplete.")
        if left_out:
            self.stdout.write(
                f"Not shown, to fit {width} characters: {', '.join(column.title for column in left_out)} "
                "(--wide shows them)."
            )


def fit(columns: list[Column], rows: list[dict[str, Any]], width: int | None) -> tuple[dict[Column, int], list[Column]]:
    """Each shown column's width, in display order, and the columns left out to fit `width` (None: show them all).

    Columns are taken by rank while they fit in full (a list column may wrap in the room left, if its longest item
    fits there); from the first that does not, the rest are left out, so what is shown is always the most important
    part. The dataset's name is always shown in full, even on a terminal narrower than it."""
    natural = {column: max([len(column.title)] + [len(column.cell(row)) for row in rows]) for column in columns}
    chosen: dict[Column, int] = {}
    ranked = sorted(columns, key=lambda column: column.rank)
    for index, column in enumerate(ranked):
        room = None if width is None else width - sum(chosen.values()) - len(GAP) * len(chosen)
        if room is None or column.rank == 0 or natural[column] <= room:
            chosen[column] = natural[column]
        elif column.wraps and room >= _longest_item(column, rows):
            chosen[column] = room
        else:
            return {column: chosen[column] for column in columns if column in chosen}, ranked[index:]
    return {column: chosen[column] for column in columns if column in chosen}, []


def _longest_item(column: Column, rows: list[dict[str, Any]]) -> int:
    """The narrowest the column can wrap to: its title, or an item with the comma that follows it."""
    items = [item for row in rows for item in column.cell(row).split(", ")]
    return max([len(column.title), *(len(item) + 1 for item in items)])


def table(widths: dict[Column, int], rows: list[dict[str, Any]]) -> list[str]:
    """The header and one line per dataset, or more where a list wraps; no trailing spaces."""
    lines = [GAP.join(column.title.ljust(size) for column, size in widths.items()).rstrip()]
    for row in rows:
        cells = [
            _wrapped(column.cell(row), size) if column.wraps else [column.cell(row)] for column, size in widths.items()
        ]
        for index in range(max(len(cell) for cell in cells)):
            parts = [
                (cell[index] if index < len(cell) else "").ljust(size)
                for cell, size in zip(cells, widths.values(), strict=True)
            ]
            lines.append(GAP.join(parts).rstrip())
    return lines


def _wrapped(text: str, size: int) -> list[str]:
    return textwrap.wrap(text, size, break_long_words=False, break_on_hyphens=False) or [""]
