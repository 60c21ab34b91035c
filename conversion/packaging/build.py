"""Building a package: the data file read the way the legacy loader read the sources, then its descriptor.

Legacy semantics kept (packaging/legacy_values.py, research legacy-openspending.md §3.3): sources in load order and
rows in file order; every cell converted with the legacy rules; a row with any failing cell refused whole; rows with
equal legacy keys upserted, the later row replacing the earlier one.

Memory stays flat whatever the row count: rows stream through in batches into a scratch CSV, the legacy keys go to
files on disk, and the rows that a later row replaced are cut out of the scratch by byte range at the end. Speed comes
from converting a batch column by column, so that most cells only meet C code (a column of plain text is checked as a
whole, identifiers and dates hit a cache, amounts are made canonical by regex over the joined column); a batch with a
failing cell is done again row by row, to say which cells failed.

The column converters are in conversion/packaging/cells.py, the scratch output, the upserts and the final cut in
conversion/packaging/scratch.py, the reading of the CSV files (encoding, header, uneven rows) in
conversion/packaging/csv_inputs.py, the totals and value shapes in conversion/packaging/tally.py.
"""

from __future__ import annotations

import _csv
import csv
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any

from conversion.packaging.build_notes import partial_note, period_note, reformatted_note, widened_note
from conversion.packaging.cells import (
    Cell,
    Column,
    constant,
    converter,
    cube_cell,
    fills_empty_cells,
    fixed,
    missing,
    widen_dates,
)
from conversion.packaging.csv_inputs import (
    CHUNK,
    CsvInput,
    Widths,
    add_problem,
    after_header,
    cube_names,
    input_name,
    inspect_input,
    position_in,
    positions_of,
    rows_text,
)
from conversion.packaging.descriptor import descriptor, type_of
from conversion.packaging.key_files import parts_for
from conversion.packaging.legacy_values import ValueProblem, format_number, parse_float
from conversion.packaging.number_formats import rewrite
from conversion.packaging.package_spec import BuildPlan, BuildReport, ColumnSpec, RowProblem
from conversion.packaging.scratch import KeyStore, Output, csv_lines, cut
from conversion.packaging.tally import Tally
from migration_site.lib.hashing import file_size_and_sha256

EXAMPLE_CAP = 5
BATCH = 10_000  # rows converted, written and upserted together
WHOLE_ROW = "<row>"  # RowProblem.field of a row the CSV parser could not read


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
        self.empty_cells: Counter[str] = Counter()  # field -> empty cells read, of the columns a default fills
        self.reformatted: Counter[str] = Counter()  # field -> values a curator's number format rewrote

    def run(self, target: Path) -> None:
        inputs = [
            found
            for index, source in enumerate(self.plan.sources)
            if (found := inspect_input(source.path, source.source_id, index, self.report)) is not None
            and self._fits(found)
        ]
        self.report.sources_gone = self._gone(inputs)
        cube = self._cube_input() if self.report.sources_gone or not inputs else None
        if cube is not None:
            self._load_cube(cube)
        else:
            if self.report.sources_gone:
                self.report.notes.append(partial_note(self.report.sources_gone))
            if not inputs:
                self.report.notes.append("No usable source file and no cube rows: the package has no rows.")
            self._start(sum(found.path.stat().st_size for found in inputs))
            for found in inputs:
                self._load(found, self._source_cells(found))
        self._finish(target)

    def _fits(self, found: CsvInput) -> bool:
        """Whether the file has any column the plan reads: a page of HTML archived in place of a CSV has none."""
        wanted = [column.source_column for column in self.columns if column.constant is None and column.source_column]
        positions = positions_of(found.header)
        if not wanted or any(position_in(positions, name) is not None for name in wanted):
            return True
        self.report.notes.append(
            f"Source {found.source_id} has none of the columns the mapping reads (its header starts "
            f"{', '.join(found.header[:3])!r}): it is not the file the legacy platform loaded."
        )
        return False

    def _gone(self, inputs: list[CsvInput]) -> list[dict[str, Any]]:
        """The sources the legacy platform loaded whose rows this build cannot read: never archived, or unusable."""
        usable = {found.source_id for found in inputs}
        gone = [{"id": g.source_id, "url": g.url, "why": g.why} for g in self.plan.gone_sources]
        gone += [
            {"id": source.source_id, "url": source.url, "why": "its archived file cannot be used"}
            for source in self.plan.sources
            if source.loaded and source.source_id not in usable
        ]
        return gone

    def _start(self, size: int) -> None:
        """Open the scratch output, the tallies and the key store for the columns built from `size` bytes of CSV."""
        key_slots = [slot for slot, column in enumerate(self.columns) if column.legacy_key]
        self.output = Output(self.scratch, [column.field for column in self.columns], track=bool(key_slots))
        self.tally = Tally(self.columns)
        self.filling = [fills_empty_cells(column) for column in self.columns]
        self.date_slots = [slot for slot, column in enumerate(self.columns) if type_of(column).data_type == "date"]
        self.widened: Counter[str] = Counter()
        self.keys = KeyStore(self.scratch, key_slots, parts_for(size)) if key_slots else None

    def _source_cells(self, found: CsvInput) -> list[Cell]:
        positions = positions_of(found.header)
        cells: list[Cell] = []
        for column in self.columns:
            if column.constant is not None:
                cells.append(fixed(constant(column.constant), column))
            elif (index := position_in(positions, column.source_column)) is not None:
                cells.append(converter(index, column, self.commas))
            else:
                self.report.notes.append(
                    f"Source {found.source_id} has no column {column.source_column!r} ({column.field}): "
                    "its cells count as empty, as the legacy loader read them."
                )
                cells.append(fixed(missing(column), column))
        return cells

    def _cube_input(self) -> CsvInput | None:
        entries = self.plan.entries_file
        found = inspect_input(entries, None, -1, self.report) if entries is not None else None
        if found is not None:
            self.report.built_from = "cube"
            self.report.notes.append(
                f"Built from the cube's rows ({found.path.name}) because {self._cube_reason()}: values are as the "
                "legacy platform stored them (dates widened to a day, labels as first loaded), not read again from "
                "the sources."
            )
        return found

    def _cube_reason(self) -> str:
        if gone := self.report.sources_gone:
            listed = "; ".join(f"source {item['id']} ({item['url']}): {item['why']}" for item in gone)
            return f"a source the legacy platform loaded is gone, so only the cube holds all its rows ({listed})"
        return "the plan has no sources" if not self.plan.sources else "no source file could be used"

    def _load_cube(self, found: CsvInput) -> None:
        positions = positions_of(found.header)
        cells: list[Cell] = []
        kept: list[ColumnSpec] = []
        for column in self.columns:
            index = next((i for name in cube_names(column) if (i := position_in(positions, name)) is not None), None)
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

    def _load(self, found: CsvInput, cells: list[Cell]) -> None:
        widths = Widths(len(found.header))
        self.output.begin(found.index)
        with open(found.path, encoding=found.encoding, newline="", buffering=CHUNK) as handle:
            reader = after_header(handle)
            for first, rows in _batches(reader, lambda number, error: self._unreadable(found, number, reader, error)):
                self.report.rows_read += len(rows)
                short = widths.even_out(rows, first)
                columns, numbers = self._convert(found, cells, rows, first, short)
                if numbers:
                    self._accept(columns, numbers)
                    self._count_cells(cells, rows, [n - first for n in numbers] if len(numbers) < len(rows) else None)
        self.report.notes.extend(widths.notes(input_name(found.source_id).capitalize()))

    def _convert(
        self, found: CsvInput, cells: list[Cell], rows: list[list[str]], first: int, short: dict[int, int]
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
        self, found: CsvInput, cells: list[Cell], rows: list[list[str]], first: int, short: dict[int, int]
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

    def _count_cells(self, cells: list[Cell], rows: list[list[str]], kept: list[int] | None) -> None:
        """In the rows accepted (`kept` offsets, None: all): the empty cells of the columns a default fills, and the
        values a curator's number format rewrote."""
        for cell, column, fills in zip(cells, self.columns, self.filling, strict=True):
            if not fills and column.number_format is None:
                continue
            if cell.index < 0:  # the source has no such column: every cell is empty
                self.empty_cells[column.field] += (len(rows) if kept is None else len(kept)) if fills else 0
                continue
            values = list(map(itemgetter(cell.index), rows if kept is None else [rows[offset] for offset in kept]))
            if fills:
                self.empty_cells[column.field] += values.count("") + sum(map(str.isspace, values))
            if (chosen := column.number_format) is not None:
                self.reformatted[column.field] += sum(rewrite(value, *chosen) != value for value in values)

    def _accept(self, columns: list[Column], numbers: Sequence[int]) -> None:
        self.tally.add(columns)  # the dates as read: a month still spans its month in the fiscal period
        written = list(columns)
        for slot in self.date_slots:
            written[slot], count = widen_dates(columns[slot])
            self.widened[self.columns[slot].field] += count
        rownum = self.output.add(csv_lines(written), numbers)
        if self.keys is not None:
            self.keys.add(written, rownum)

    def _reject(self, found: CsvInput, cells: list[Cell], row: list[str], number: int, present: int) -> None:
        self.report.rows_rejected += 1
        for cell, column in zip(cells, self.columns, strict=True):
            try:
                cell.convert(row[cell.index])
            except ValueProblem as problem:
                message = problem.message
                if cell.index >= present:
                    message += f" (the row has only {present} of {len(found.header)} cells)"
                raw = row[cell.index] if 0 <= cell.index < present else ""
                add_problem(self.report, RowProblem(found.source_id, number, column.field, raw, message))

    def _unreadable(self, found: CsvInput, number: int, reader: _csv.Reader, error: csv.Error) -> None:
        self.report.rows_read += 1
        self.report.rows_rejected += 1
        message = (
            f"Unreadable CSV up to line {reader.line_num}: {error}; the lines since the previous row were not read"
        )
        add_problem(self.report, RowProblem(found.source_id, number, WHOLE_ROW, "", message))

    def _finish(self, target: Path) -> None:
        report, output = self.report, self.output
        output.close()
        report.overwritten = self.keys.close() if self.keys is not None else 0
        if self.keys is not None and report.overwritten:
            cut(output, target, self.keys.replaced(), self._dropped, batch=BATCH)
            report.notes.append(
                f"{rows_text(report.overwritten, 'was', 'were')} replaced by a later row with the same key."
            )
        else:
            os.replace(output.path, target)
        report.rows_written = output.rows - report.overwritten
        report.totals, report.totals_by_year = self.tally.totals()
        report.dates = self.tally.date_spans()
        report.kept_empty_by_year = self.tally.kept_empty()
        report.notes.extend(widened_note(name, count) for name, count in self.widened.items() if count)
        formats = {column.field: column.number_format for column in self.columns if column.number_format}
        report.notes.extend(reformatted_note(name, n, formats[name]) for name, n in self.reformatted.items() if n)
        self._record_defaults()
        if not report.dates and self.plan.meta.fiscal_period:
            report.notes.append(period_note(self.columns, self.plan.meta.fiscal_period))
        for name, (count, example) in self.commas.items():
            report.notes.append(
                f"{name}: {rows_text(count, 'has', 'have')} a decimal comma, such as {example!r}; the legacy loader "
                f"read it as a thousands separator ({example} -> {format_number(parse_float(example))}), and so does "
                "this build, to match the legacy database."
            )

    def _record_defaults(self) -> None:
        """How many cells each legacy default_value filled (or, kept empty by a curator, would have filled)."""
        report = self.report
        for column, fills in zip(self.columns, self.filling, strict=True):
            if not fills:
                continue
            if report.built_from == "cube":
                report.notes.append(
                    f"{column.field}: the cube stores its cells after the legacy default_value "
                    f"{column.default_value!r} filled the empty ones, so they cannot be told apart or kept empty."
                )
                continue
            if column.keep_empty:
                kept = sum(report.kept_empty_by_year.get(column.field, {}).values())
                report.defaults[column.field] = {"default_value": column.default_value, "kept_empty": kept}
            else:
                filled = self.empty_cells[column.field]
                report.defaults[column.field] = {"default_value": column.default_value, "filled": filled}

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


def _file_entry(out_dir: Path, path: Path, rows: int | None) -> dict[str, Any]:
    size, sha256 = file_size_and_sha256(path)
    return {"path": path.relative_to(out_dir).as_posix(), "bytes": size, "sha256": sha256, "rows": rows}
