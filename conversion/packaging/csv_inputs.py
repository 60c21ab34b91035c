"""The CSV files a build reads (the sources, or the cube's rows), read the way the legacy loader read them: the
encoding checked over the whole file, the header, rows with too few or too many cells evened out, columns found by
name; a file that cannot be used is a problem of the build report, not an error."""

from __future__ import annotations

import _csv
import codecs
import csv
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import TextIO

from conversion.packaging.package_spec import BuildReport, ColumnSpec, RowProblem

PROBLEM_CAP = 1000
WHOLE_FILE = "<file>"  # RowProblem.field of a file that could not be used at all
ENCODINGS = ("utf-8-sig", "cp1252")
CHUNK = 1 << 20  # bytes read at a time


@dataclass(frozen=True)
class CsvInput:
    """A usable CSV file: a source (index into plan.sources) or the cube's rows (index -1, no source id)."""

    source_id: int | None
    index: int
    path: Path
    encoding: str
    header: list[str]


def rows_text(count: int, singular: str = "has", plural: str = "have") -> str:
    return f"{count} row {singular}" if count == 1 else f"{count} rows {plural}"


def inspect_input(path: Path, source_id: int | None, index: int, report: BuildReport) -> CsvInput | None:
    """The file's encoding and header, or None (with a problem saying why) when it cannot be used."""
    what = input_name(source_id)
    try:
        encoding = _encoding(path, source_id, report)
        if encoding is None:
            return None
        with open(path, encoding=encoding, newline="") as handle:
            header = next((row for row in csv.reader(handle, strict=True) if row), None)
    except (OSError, csv.Error) as error:
        # strerror, not the OSError itself: its text names a path on this machine, no business of the package's.
        _unusable(report, source_id, f"{what}: cannot be read: {getattr(error, 'strerror', None) or error}")
        return None
    if header is None:
        _unusable(report, source_id, f"{what}: the file is empty")
        return None
    return CsvInput(source_id, index, path, encoding, header)


def input_name(source_id: int | None) -> str:
    return f"source {source_id}" if source_id is not None else "the cube's rows"


def _encoding(path: Path, source_id: int | None, report: BuildReport) -> str | None:
    """UTF-8 (with or without a BOM) when every byte decodes, else cp1252, else None: checked over the whole file."""
    failures = []
    for encoding in ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        offset = 0
        try:
            with open(path, "rb") as handle:
                while chunk := handle.read(CHUNK):
                    decoder.decode(chunk)
                    offset += len(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            byte = f"{error.object[error.start]:#04x}" if error.start < len(error.object) else "end of file"
            failures.append(f"not {encoding.removesuffix('-sig')} ({byte} at byte {offset + error.start})")
            continue
        if failures:
            report.notes.append(f"{input_name(source_id).capitalize()} is {failures[0]}: read as {encoding}.")
        return encoding
    _unusable(report, source_id, f"{input_name(source_id)}: {' and '.join(failures)}")
    return None


def _unusable(report: BuildReport, source_id: int | None, message: str) -> None:
    report.notes.append(f"Skipped {message}.")
    add_problem(report, RowProblem(source_id, 0, WHOLE_FILE, "", message))


def after_header(handle: TextIO) -> _csv.Reader:
    reader = csv.reader(handle, strict=True)
    for row in reader:
        if row:
            break
    return reader


class Widths:
    """Rows with fewer or more cells than the header: evened out the legacy way, and counted for a note."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.short = [0, 0]  # [count, first row number]
        self.long = [0, 0]

    def even_out(self, rows: list[list[str]], first: int) -> dict[int, int]:
        """Pad short rows with empty cells; the cell count each short row had, by its offset in the batch."""
        if set(map(len, rows)) == {self.width}:
            return {}
        short: dict[int, int] = {}
        for offset, row in enumerate(rows):
            present = len(row)
            if present != self.width:
                seen = self.short if present < self.width else self.long
                seen[:] = [seen[0] + 1, seen[1] or first + offset]
            if present < self.width:
                short[offset] = present
                row.extend(repeat("", self.width - present))
        return short

    def notes(self, what: str) -> list[str]:
        notes = []
        if self.short[0]:
            notes.append(
                f"{what}: {rows_text(self.short[0])} fewer than {self.width} cells (first: row {self.short[1]}); the "
                "missing cells count as empty, as the legacy loader read them."
            )
        if self.long[0]:
            notes.append(
                f"{what}: {rows_text(self.long[0])} more than {self.width} cells (first: row {self.long[1]}); the "
                "extra cells were ignored, as the legacy loader ignored them."
            )
        return notes


def positions_of(header: Sequence[str]) -> dict[str, int]:
    """Column name -> index; a repeated name means its last column, as csv.DictReader made it."""
    positions = {name: index for index, name in enumerate(header)}
    for index, name in enumerate(header):
        positions.setdefault(name.strip().lower(), index)
    return positions


def position_in(positions: dict[str, int], name: str | None) -> int | None:
    # An exact match first; headers differing only in case or surrounding blanks are the same column to a person.
    if name is None:
        return None
    found = positions.get(name)
    return found if found is not None else positions.get(name.strip().lower())


def cube_names(column: ColumnSpec) -> list[str]:
    """Where a column's values are in the cube: the entries export first, then the 2015 dump's `<dim>_<attr>`."""
    if column.kind == "extra" or column.path.startswith("extra:"):
        return []
    if column.kind == "date":
        return [f"{column.path}.name", column.path, f"{column.path}_name"]
    return [column.path, column.path.replace(".", "_", 1)]


def add_problem(report: BuildReport, problem: RowProblem) -> None:
    report.problem_counts[problem.field] = report.problem_counts.get(problem.field, 0) + 1
    if len(report.problems) < PROBLEM_CAP:
        report.problems.append(problem)
