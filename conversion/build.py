"""Building a package: the data file read the way the legacy loader read the sources, then its descriptor.

Legacy semantics kept (conversion/legacy_values.py, research legacy-openspending.md §3.3): sources in load order and
rows in file order; every cell converted with the legacy rules; a row with any failing cell refused whole; rows with
equal legacy keys upserted, the later row replacing the earlier one.

Memory stays flat whatever the row count: rows stream through in batches into a scratch CSV, the legacy keys go to
files on disk, and the rows that a later row replaced are cut out of the scratch by byte range at the end. Speed comes
from converting a batch column by column, so that most cells only meet C code (a column of plain text is checked as a
whole, identifiers and dates hit a cache, amounts are made canonical by regex over the joined column); a batch with a
failing cell is done again row by row, to say which cells failed.

The column converters are in conversion/cells.py, the scratch output, the upserts and the final cut in
conversion/scratch.py.
"""

from __future__ import annotations

import _csv
import codecs
import csv
import hashlib
import json
import os
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, Inexact, Rounded, localcontext
from functools import lru_cache
from itertools import compress, islice, repeat
from operator import itemgetter, not_
from pathlib import Path
from typing import Any, TextIO

from conversion.cells import Cell, Column, constant, converter, cube_cell, fixed, missing
from conversion.descriptor import descriptor, type_of
from conversion.key_files import parts_for
from conversion.legacy_values import ValueProblem, format_number, parse_float
from conversion.package_spec import BuildPlan, BuildReport, ColumnSpec, RowProblem
from conversion.scratch import KeyStore, Output, csv_lines, cut

PROBLEM_CAP = 1000
EXAMPLE_CAP = 5
BATCH = 10_000  # rows converted, written and upserted together
WHOLE_ROW = "<row>"  # RowProblem.field of a row the CSV parser could not read
WHOLE_FILE = "<file>"  # ... of a file that could not be used at all
ENCODINGS = ("utf-8-sig", "cp1252")
_CHUNK = 1 << 20
_YEAR = itemgetter(slice(0, 4))  # the year of an ISO date: its first four characters
# Amounts are summed exactly: no rounding, and a trap would say if anything were ever rounded.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[Inexact, Rounded])
_SHAPES = (
    ("year", re.compile(r"\d{4}")),
    ("month", re.compile(r"\d{4}-\d\d")),
    ("day", re.compile(r"\d{4}-\d\d-\d\d")),
    ("integer", re.compile(r"-?\d+")),
    ("number", re.compile(r"-?\d*\.?\d+")),
)


@dataclass(frozen=True)
class _Input:
    """A usable CSV file: a source (index into plan.sources) or the cube's rows (index -1, no source id)."""

    source_id: int | None
    index: int
    path: Path
    encoding: str
    header: list[str]


def build_package(plan: BuildPlan, out_dir: Path) -> BuildReport:
    """Write out_dir/data/<name>.csv, then out_dir/datapackage.json; the report says what became of every row."""
    fields = [column.field for column in plan.columns]
    if not fields or len(set(fields)) != len(fields):
        raise ValueError(f"the plan needs columns with distinct field names: {fields}")
    target = out_dir / "data" / f"{plan.meta.name}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".build-") as scratch:
        build = _Build(plan, Path(scratch))
        build.run(target)
    report = build.report
    report.files.append(_file_entry(out_dir, target, report.rows_written))
    package = descriptor(replace(plan, columns=build.columns), report, build.tally.shapes_seen())
    path = out_dir / "datapackage.json"
    path.write_text(json.dumps(package, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    report.files.append(_file_entry(out_dir, path, None))
    return report


class _Build:
    def __init__(self, plan: BuildPlan, scratch: Path) -> None:
        self.plan, self.scratch = plan, scratch
        self.report = BuildReport(built_from="sources")
        self.columns: list[ColumnSpec] = list(plan.columns)
        self.commas: dict[str, list[Any]] = {}  # field -> [count, first example] of decimal commas

    def run(self, target: Path) -> None:
        inputs = [
            found
            for index, source in enumerate(self.plan.sources)
            if (found := _inspect(source.path, source.source_id, index, self.report)) is not None
        ]
        cube = None if inputs else self._cube_input()
        if cube is not None:
            self._load_cube(cube)
        else:
            if not inputs:
                self.report.notes.append("No usable source file and no cube rows: the package has no rows.")
            self._start(sum(found.path.stat().st_size for found in inputs))
            for found in inputs:
                self._load(found, self._source_cells(found))
        self._finish(target)

    def _start(self, size: int) -> None:
        """Open the scratch output, the tallies and the key store for the columns built from `size` bytes of CSV."""
        key_slots = [slot for slot, column in enumerate(self.columns) if column.legacy_key]
        self.output = Output(self.scratch, [column.field for column in self.columns], track=bool(key_slots))
        self.tally = _Tally(self.columns)
        self.keys = KeyStore(self.scratch, key_slots, parts_for(size)) if key_slots else None

    def _source_cells(self, found: _Input) -> list[Cell]:
        positions = _positions(found.header)
        cells: list[Cell] = []
        for column in self.columns:
            if column.constant is not None:
                cells.append(fixed(constant(column.constant), column))
            elif (index := _position(positions, column.source_column)) is not None:
                cells.append(converter(index, column, self.commas))
            else:
                self.report.notes.append(
                    f"Source {found.source_id} has no column {column.source_column!r} ({column.field}): "
                    "its cells count as empty, as the legacy loader read them."
                )
                cells.append(fixed(missing(column), column))
        return cells

    def _cube_input(self) -> _Input | None:
        entries = self.plan.entries_file
        found = _inspect(entries, None, -1, self.report) if entries is not None else None
        if found is not None:
            self.report.built_from = "cube"
            reason = "the plan has no sources" if not self.plan.sources else "no source file could be used"
            self.report.notes.append(
                f"Built from the cube's rows ({found.path.name}) because {reason}: values are as the legacy platform "
                "stored them (dates widened to a day, labels as first loaded), not read again from the sources."
            )
        return found

    def _load_cube(self, found: _Input) -> None:
        positions = _positions(found.header)
        cells: list[Cell] = []
        kept: list[ColumnSpec] = []
        for column in self.columns:
            index = next((i for name in _cube_names(column) if (i := _position(positions, name)) is not None), None)
            if index is not None:
                cells.append(cube_cell(index, column))
            elif column.constant is not None:
                cells.append(fixed(constant(column.constant), column))
            else:
                self.report.notes.append(f"Left out {column.field} ({column.path}): not a column of the cube's rows.")
                continue
            kept.append(column)
        self.columns = kept
        self._start(found.path.stat().st_size)
        self._load(found, cells)

    def _load(self, found: _Input, cells: list[Cell]) -> None:
        widths = _Widths(len(found.header))
        self.output.begin(found.index)
        with open(found.path, encoding=found.encoding, newline="", buffering=_CHUNK) as handle:
            reader = _after_header(handle)
            for first, rows in _batches(reader, lambda number, error: self._unreadable(found, number, reader, error)):
                self.report.rows_read += len(rows)
                short = widths.even_out(rows, first)
                columns, numbers = self._convert(found, cells, rows, first, short)
                if numbers:
                    self._accept(columns, numbers)
        self.report.notes.extend(widths.notes(_what(found.source_id).capitalize()))

    def _convert(
        self, found: _Input, cells: list[Cell], rows: list[list[str]], first: int, short: dict[int, int]
    ) -> tuple[list[Column], Sequence[int]]:
        """The batch converted column by column, with the row numbers kept; one failing cell: row by row."""
        try:
            columns = [
                cell.column(list(map(itemgetter(cell.index), rows)))
                if cell.index >= 0
                else [cell.convert("")] * len(rows)
                for cell in cells
            ]
        except ValueProblem:
            return self._convert_rows(found, cells, rows, first, short)
        return columns, range(first, first + len(rows))

    def _convert_rows(
        self, found: _Input, cells: list[Cell], rows: list[list[str]], first: int, short: dict[int, int]
    ) -> tuple[list[Column], list[int]]:
        kept: list[list[str]] = []
        numbers: list[int] = []
        for offset, row in enumerate(rows):
            try:
                kept.append([cell.convert(row[cell.index]) for cell in cells])
            except ValueProblem:
                self._reject(found, cells, row, first + offset, short.get(offset, len(row)))
            else:
                numbers.append(first + offset)
        return [list(column) for column in zip(*kept, strict=True)], numbers

    def _accept(self, columns: list[Column], numbers: Sequence[int]) -> None:
        rownum = self.output.add(csv_lines(columns), numbers)
        self.tally.add(columns)
        if self.keys is not None:
            self.keys.add(columns, rownum)

    def _reject(self, found: _Input, cells: list[Cell], row: list[str], number: int, present: int) -> None:
        self.report.rows_rejected += 1
        for cell, column in zip(cells, self.columns, strict=True):
            try:
                cell.convert(row[cell.index])
            except ValueProblem as problem:
                message = problem.message
                if cell.index >= present:
                    message += f" (the row has only {present} of {len(found.header)} cells)"
                raw = row[cell.index] if 0 <= cell.index < present else ""
                _problem(self.report, RowProblem(found.source_id, number, column.field, raw, message))

    def _unreadable(self, found: _Input, number: int, reader: _csv.Reader, error: csv.Error) -> None:
        self.report.rows_read += 1
        self.report.rows_rejected += 1
        message = (
            f"Unreadable CSV up to line {reader.line_num}: {error}; the lines since the previous row were not read"
        )
        _problem(self.report, RowProblem(found.source_id, number, WHOLE_ROW, "", message))

    def _finish(self, target: Path) -> None:
        report, output = self.report, self.output
        output.close()
        report.overwritten = self.keys.close() if self.keys is not None else 0
        if self.keys is not None and report.overwritten:
            cut(output, target, self.keys.replaced(), self._dropped, batch=BATCH)
            report.notes.append(
                f"{_rows(report.overwritten, 'was', 'were')} replaced by a later row with the same key."
            )
        else:
            os.replace(output.path, target)
        report.rows_written = output.rows - report.overwritten
        report.totals, report.totals_by_year = self.tally.totals()
        for name, (count, example) in self.commas.items():
            report.notes.append(
                f"{name}: {_rows(count, 'has', 'have')} a decimal comma, such as {example!r}; the legacy loader read "
                f"it as a thousands separator ({example} -> {format_number(parse_float(example))}), and so does this "
                "build, to match the legacy database."
            )

    def _dropped(self, rows: list[list[str]], replaced: list[tuple[int, int]]) -> None:
        """Rows cut out because a later row replaced each: out of the totals, the first few as examples."""
        self.tally.add([list(column) for column in zip(*rows, strict=True)], sign=-1)
        for row, (rownum, by_rownum) in zip(rows, replaced, strict=True):
            if len(self.report.overwritten_examples) >= EXAMPLE_CAP:
                break
            key = {column.field: row[slot] for slot, column in enumerate(self.columns) if column.legacy_key}
            self.report.overwritten_examples.append(
                {"key": key, "replaced": self._origin(rownum), "by": self._origin(by_rownum)}
            )

    def _origin(self, rownum: int) -> dict[str, Any]:
        source, number = self.output.origin(rownum)
        return {"source_id": self.plan.sources[source].source_id if source >= 0 else None, "row": number}


def _rows(count: int, singular: str = "has", plural: str = "have") -> str:
    return f"{count} row {singular}" if count == 1 else f"{count} rows {plural}"


# -- reading CSV files ----------------------------------------------------------------------------------------------


def _inspect(path: Path, source_id: int | None, index: int, report: BuildReport) -> _Input | None:
    """The file's encoding and header, or None (with a problem saying why) when it cannot be used."""
    what = _what(source_id)
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
    return _Input(source_id, index, path, encoding, header)


def _what(source_id: int | None) -> str:
    return f"source {source_id}" if source_id is not None else "the cube's rows"


def _encoding(path: Path, source_id: int | None, report: BuildReport) -> str | None:
    """UTF-8 (with or without a BOM) when every byte decodes, else cp1252, else None: checked over the whole file."""
    failures = []
    for encoding in ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        offset = 0
        try:
            with open(path, "rb") as handle:
                while chunk := handle.read(_CHUNK):
                    decoder.decode(chunk)
                    offset += len(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            byte = f"{error.object[error.start]:#04x}" if error.start < len(error.object) else "end of file"
            failures.append(f"not {encoding.removesuffix('-sig')} ({byte} at byte {offset + error.start})")
            continue
        if failures:
            report.notes.append(f"{_what(source_id).capitalize()} is {failures[0]}: read as {encoding}.")
        return encoding
    _unusable(report, source_id, f"{_what(source_id)}: {' and '.join(failures)}")
    return None


def _unusable(report: BuildReport, source_id: int | None, message: str) -> None:
    report.notes.append(f"Skipped {message}.")
    _problem(report, RowProblem(source_id, 0, WHOLE_FILE, "", message))


def _after_header(handle: TextIO) -> _csv.Reader:
    reader = csv.reader(handle, strict=True)
    for row in reader:
        if row:
            break
    return reader


def _batches(reader: _csv.Reader, on_error: Callable[[int, csv.Error], None]) -> Iterator[tuple[int, list[list[str]]]]:
    """The non-blank rows (csv.DictReader skipped blank lines too) in batches, each with the 1-based number of its
    first row; a row the parser cannot read takes a number and goes to on_error."""
    number = 1
    while True:
        rows: list[list[str]] = []
        try:
            rows.extend(islice(filter(None, reader), BATCH))  # extend keeps the rows read before an error
        except csv.Error as error:
            if rows:
                yield number, rows
                number += len(rows)
            on_error(number, error)
            number += 1
            continue
        if not rows:
            return
        yield number, rows
        number += len(rows)


class _Widths:
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
                f"{what}: {_rows(self.short[0])} fewer than {self.width} cells (first: row {self.short[1]}); the "
                "missing cells count as empty, as the legacy loader read them."
            )
        if self.long[0]:
            notes.append(
                f"{what}: {_rows(self.long[0])} more than {self.width} cells (first: row {self.long[1]}); the extra "
                "cells were ignored, as the legacy loader ignored them."
            )
        return notes


def _positions(header: Sequence[str]) -> dict[str, int]:
    """Column name -> index; a repeated name means its last column, as csv.DictReader made it."""
    positions = {name: index for index, name in enumerate(header)}
    for index, name in enumerate(header):
        positions.setdefault(name.strip().lower(), index)
    return positions


def _position(positions: dict[str, int], name: str | None) -> int | None:
    # An exact match first; headers differing only in case or surrounding blanks are the same column to a person.
    if name is None:
        return None
    found = positions.get(name)
    return found if found is not None else positions.get(name.strip().lower())


def _cube_names(column: ColumnSpec) -> list[str]:
    """Where a column's values are in the cube: the entries export first, then the 2015 dump's `<dim>_<attr>`."""
    if column.kind == "extra" or column.path.startswith("extra:"):
        return []
    if column.kind == "date":
        return [f"{column.path}.name", column.path, f"{column.path}_name"]
    return [column.path, column.path.replace(".", "_", 1)]


# -- tallies --------------------------------------------------------------------------------------------------------


class _Tally:
    """Exact measure totals and the shapes of typed values, over the rows written."""

    def __init__(self, columns: Sequence[ColumnSpec]) -> None:
        types = [type_of(column) for column in columns]
        self.fields = [column.field for column in columns]
        self.year = next((slot for slot, column in enumerate(columns) if column.column_type.startswith("date:")), None)
        # Per measure and year: the integers summed as an int, the decimals as an exact Decimal.
        self.measures: list[tuple[int, dict[str, int], dict[str, Decimal]]] = [
            (slot, {}, {}) for slot, kind in enumerate(types) if kind.is_measure
        ]
        # Per typed field: how many values of each shape; counts, so a row cut out later can be taken back.
        self.shapes: list[tuple[int, Counter[str]]] = [
            (slot, Counter()) for slot, kind in enumerate(types) if kind.data_type != "string" and not kind.is_measure
        ]

    def add(self, columns: list[Column], sign: int = 1) -> None:
        years = list(map(_YEAR, columns[self.year])) if self.year is not None else None
        for slot, whole, fractional in self.measures:
            for year, texts in _by_year(columns[slot], years):
                dotted = list(map(str.__contains__, texts, repeat(".")))
                integers = sum(map(int, filter(None, compress(texts, map(not_, dotted)))))
                with localcontext(_EXACT):
                    decimals = sum(map(Decimal, compress(texts, dotted)), Decimal(0))
                whole[year] = whole.get(year, 0) + sign * integers
                fractional[year] = fractional.get(year, Decimal(0)) + (decimals if sign > 0 else -decimals)
        for slot, shapes in self.shapes:
            counts = Counter(map(_shape, columns[slot]))
            if sign > 0:
                shapes.update(counts)
            else:
                shapes.subtract(counts)

    def totals(self) -> tuple[dict[str, Decimal], dict[str, dict[str, Decimal]]]:
        totals: dict[str, Decimal] = {}
        by_year: dict[str, dict[str, Decimal]] = {}
        with localcontext(_EXACT):
            for slot, whole, fractional in self.measures:
                name = self.fields[slot]
                sums = {year: whole[year] + fractional[year] for year in sorted(whole)}
                totals[name] = sum(sums.values(), Decimal(0))
                if any(sums):
                    by_year[name] = {year: total for year, total in sums.items() if year}
        return totals, by_year

    def shapes_seen(self) -> dict[str, set[str]]:
        return {self.fields[slot]: {shape for shape, n in shapes.items() if n > 0} for slot, shapes in self.shapes}


def _by_year(texts: Column, years: list[str] | None) -> Iterator[tuple[str, Column]]:
    """A batch's amounts grouped by year ("" without a date column)."""
    if years is None or len(set(years)) == 1:
        yield (years[0] if years else ""), texts
        return
    groups: defaultdict[str, Column] = defaultdict(list)
    for year, text in zip(years, texts, strict=True):
        groups[year].append(text)
    yield from sorted(groups.items())


@lru_cache(maxsize=4096)
def _shape(text: str) -> str:
    if not text:
        return ""
    return next((name for name, pattern in _SHAPES if pattern.fullmatch(text)), "text")


def _problem(report: BuildReport, problem: RowProblem) -> None:
    report.problem_counts[problem.field] = report.problem_counts.get(problem.field, 0) + 1
    if len(report.problems) < PROBLEM_CAP:
        report.problems.append(problem)


def _file_entry(out_dir: Path, path: Path, rows: int | None) -> dict[str, Any]:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return {"path": path.relative_to(out_dir).as_posix(), "bytes": path.stat().st_size, "sha256": digest.hexdigest(),
            "rows": rows}  # fmt: skip
