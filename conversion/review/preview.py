"""The first rows of a dataset converted under a mapping, for the curator's live preview. Pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conversion.packaging import vocabulary
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


@dataclass(frozen=True)
class Preview:
    columns: list[Column]
    rows: list[list[Cell]]

    @property
    def problem_count(self) -> int:
        return sum(1 for row in self.rows for cell in row if cell.problem)


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
    try:
        text = convert_value(
            raw,
            datatype=str(source.get("datatype") or "string"),
            default_value=source.get("default_value"),
            constant=source.get("constant"),
            date_format=source.get("format"),
        )
    except ValueProblem as problem:
        return Cell(raw or "", problem.message)
    if vocabulary.is_known(column.column_type):
        problems = mapping_rules.sample_problems(vocabulary.column_type(column.column_type), [text])
        if problems:
            return Cell(text, problems[0])
    return Cell(text)
