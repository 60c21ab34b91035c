"""The first rows of a dataset converted under a mapping, for the curator's live preview. Pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conversion.packaging import number_formats, vocabulary
from conversion.packaging.legacy_values import ValueProblem, convert_value
from conversion.review import mapping_rules

PREVIEW_ROWS = 20


@dataclass(frozen=True)
class Column:
    path: str
    field: str
    column_type: str
    source: Mapping[str, Any]


@dataclass(frozen=True)
class Cell:
    text: str
    problem: str = ""
    filled: bool = False  # an empty cell the default filled
    reformatted: bool = False  # a value the curator's number format rewrote


@dataclass(frozen=True)
class Preview:
    columns: list[Column]
    rows: list[list[Cell]]

    @property
    def problem_count(self) -> int:
        return sum(1 for row in self.rows for cell in row if cell.problem)

    @property
    def has_changes(self) -> bool:
        return any(filled or reformatted for filled, reformatted in self.changes)

    @property
    def changes(self) -> list[tuple[int, int]]:
        """Per column, how many of the previewed cells the default filled and the number format rewrote."""
        counts = [(0, 0)] * len(self.columns)
        for row in self.rows:
            counts = [(f + cell.filled, r + cell.reformatted) for (f, r), cell in zip(counts, row, strict=True)]
        return counts


def build_preview(
    rows: Sequence[Mapping[str, str]], columns: Sequence[Column], *, limit: int = PREVIEW_ROWS
) -> Preview:
    """Convert each cell the way the legacy loader read it, then check it against the chosen column type."""
    converted = [[_cell(row, column) for column in columns] for row in rows[:limit]]
    return Preview(columns=list(columns), rows=converted)


def _cell(row: Mapping[str, str], column: Column) -> Cell:
    source = column.source
    source_column = source.get("column")
    raw = row.get(source_column) if isinstance(source_column, str) else None
    empty = not raw or raw.isspace()
    filled = empty and source.get("default_value") is not None and source.get("constant") is None
    chosen = number_formats.of_target(source.get("number_format"))
    reformatted = False
    if raw and chosen:
        rewritten = number_formats.rewrite(raw, *chosen)
        raw, reformatted = rewritten, rewritten != raw
    try:
        text = convert_value(
            raw,
            datatype=str(source.get("datatype") or "string"),
            default_value=source.get("default_value"),
            constant=source.get("constant"),
            date_format=source.get("format"),
        )
    except ValueProblem as problem:
        return Cell(raw or "", problem.message, reformatted=reformatted)
    if vocabulary.is_known(column.column_type):
        problems = mapping_rules.sample_problems(vocabulary.column_type(column.column_type), [text])
        if problems:
            return Cell(text, problems[0], filled, reformatted)
    return Cell(text, "", filled, reformatted)
