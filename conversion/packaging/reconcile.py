"""Does the package add up to what the legacy cube said? Row count and each measure's total, overall and per year.

The cube's side comes from `aggregates.json` (the legacy /api/2/aggregate answers the exporter saved) or, when that
is missing or incomplete, from the cube's own rows (`entries.csv`, or the 2015 `dataset.csv`), summed here.
Pure apart from reading that CSV, which is streamed.

Tolerance: the legacy cube summed floats, so a total of 1e9 may be off in its last digits; a difference counts when
|ours - legacy| > max(half a cent, 1e-9 * |legacy|). Doubles carry about 16 significant digits and the rounding of
a sum of a million of them stays far below 1e-9 relative, so this forgives float noise while a missing cent shows
in totals under 10 million, and a missing unit in totals under a billion.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

Status = Literal["match", "mismatch", "unavailable"]
Source = Literal["aggregates", "entries"]

RELATIVE_TOLERANCE = Decimal("1e-9")
ABSOLUTE_TOLERANCE = Decimal("0.005")
# Where the year lives in a flattened cube row: the API's `time.year`, the 2015 export's `time_year`, then any
# other date dimension's year, then a date we can take the year from.
YEAR_COLUMNS = ("time.year", "time_year")
YEAR_SUFFIXES = (".year", "_year")
DATE_COLUMNS = ("time.name", "time_name", "time")
_YEAR = re.compile(r"^\s*(\d{4})")


@dataclass(frozen=True)
class Difference:
    measure: str  # the package's measure field
    year: str | None  # None: the overall total
    ours: Decimal | None  # None: that side has no such year
    legacy: Decimal | None
    diff: Decimal  # ours - legacy, a missing side counting as 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "year": self.year,
            "ours": _text(self.ours),
            "legacy": _text(self.legacy),
            "diff": str(self.diff),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Difference:
        return cls(
            measure=str(data["measure"]),
            year=data.get("year"),
            ours=_decimal(data.get("ours")),
            legacy=_decimal(data.get("legacy")),
            diff=Decimal(str(data["diff"])),
        )


@dataclass(frozen=True)
class Compared:
    """One comparison made, as the package page shows it: the package's own total beside the cube's. For a measure
    whose empty cells a curator kept empty, `ours` is the package's total, not the one with the default added back."""

    measure: str  # the package's measure field
    year: str | None  # None: the overall total
    ours: Decimal | None  # None: that side has no such year
    legacy: Decimal | None

    def as_dict(self) -> dict[str, Any]:
        return {"measure": self.measure, "year": self.year, "ours": _text(self.ours), "legacy": _text(self.legacy)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Compared:
        ours, legacy = _decimal(data.get("ours")), _decimal(data.get("legacy"))
        return cls(measure=str(data["measure"]), year=data.get("year"), ours=ours, legacy=legacy)


@dataclass(frozen=True)
class Reconciliation:
    status: Status
    rows: tuple[int, int | None]  # (ours, legacy)
    differences: list[Difference] = field(default_factory=list)
    source: Source | None = None  # where the legacy side came from
    notes: list[str] = field(default_factory=list)  # what could not be compared, and why
    compared: list[Compared] = field(default_factory=list)  # every total compared, in the order compared

    def summary(self) -> str:
        ours, legacy = self.rows
        rows = f"rows {ours} vs {'?' if legacy is None else legacy}"
        return f"{self.status}: {rows}, {len(self.differences)} differences (legacy side: {self.source or 'none'})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "rows": {"ours": self.rows[0], "legacy": self.rows[1]},
            "source": self.source,
            "differences": [difference.as_dict() for difference in self.differences],
            "notes": list(self.notes),
            "compared": [item.as_dict() for item in self.compared],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reconciliation:
        rows = data.get("rows") or {}
        return cls(
            status=data["status"],
            rows=(int(rows.get("ours", 0)), rows.get("legacy")),
            source=data.get("source"),
            differences=[Difference.from_dict(item) for item in data.get("differences", [])],
            notes=[str(note) for note in data.get("notes", [])],
            compared=[Compared.from_dict(item) for item in data.get("compared", [])],  # absent before they were kept
        )


@dataclass
class _Cube:
    """The legacy side, keyed by legacy measure name; a measure absent from `totals` is unknown."""

    source: Source
    rows: int | None
    totals: dict[str, Decimal] = field(default_factory=dict)
    by_year: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def reconcile(
    report_totals: Mapping[str, Decimal],
    report_by_year: Mapping[str, Mapping[str, Decimal]],
    rows: int,
    measure_names: Mapping[str, str],
    *,
    aggregates: Mapping[str, Any] | None,
    entries_csv: Path | None,
    kept_empty: Mapping[str, KeptEmpty] | None = None,
) -> Reconciliation:
    """Compare our build (totals keyed by package measure field) with the cube (keyed by legacy measure name).
    `kept_empty`: the measures whose empty cells a curator kept empty, compared with the legacy default added back,
    so that the choice shows as an explained difference, not a mismatch."""
    cube = _cube_side(aggregates, entries_csv, sorted(set(measure_names.values())))
    if cube is None:
        return Reconciliation("unavailable", (rows, None), notes=["neither aggregates nor the cube's rows are known"])
    notes = list(cube.notes)
    totals, by_year = report_totals, report_by_year
    if kept_empty:
        totals, by_year = _with_defaults(report_totals, report_by_year, kept_empty, notes)
    outcome = _Outcome()
    complete = cube.rows is not None
    for measure, ours in sorted(totals.items()):
        legacy_name = measure_names.get(measure)
        if legacy_name is None or legacy_name not in cube.totals:
            notes.append(f"{measure}: the cube's total is unknown, not compared")
            complete = False
            continue
        outcome.add(measure, None, ours=ours, package=report_totals.get(measure), legacy=cube.totals[legacy_name])
        ours_years, legacy_years = _keyed(by_year.get(measure)), cube.by_year.get(legacy_name) or {}
        package_years = _keyed(report_by_year.get(measure))
        for year in _years_compared(measure, ours_years, legacy_years, notes):
            ours_then, package_then = ours_years.get(year), package_years.get(year)
            outcome.add(measure, year, ours=ours_then, package=package_then, legacy=legacy_years.get(year))
    rows_differ = cube.rows is not None and cube.rows != rows
    status: Status = "mismatch" if outcome.differences or rows_differ else "match" if complete else "unavailable"
    return Reconciliation(status, (rows, cube.rows), outcome.differences, cube.source, notes, outcome.compared)


@dataclass
class _Outcome:
    differences: list[Difference] = field(default_factory=list)
    compared: list[Compared] = field(default_factory=list)

    def add(
        self, measure: str, year: str | None, *, ours: Decimal | None, package: Decimal | None, legacy: Decimal | None
    ) -> None:
        """`ours`: the total compared (a kept-empty measure's has the default added back); `package`: the package's."""
        self.differences += _compare(measure, year, ours, legacy)
        self.compared.append(Compared(measure, year, package, legacy))


@dataclass(frozen=True)
class KeptEmpty:
    """A measure's empty cells that a curator kept empty where the legacy platform wrote its default_value."""

    default: Decimal
    by_year: Mapping[str, int]  # year ("" without a date column) -> cells


def _with_defaults(
    totals: Mapping[str, Decimal],
    by_year: Mapping[str, Mapping[str, Decimal]],
    kept_empty: Mapping[str, KeptEmpty],
    notes: list[str],
) -> tuple[dict[str, Decimal], dict[str, dict[str, Decimal]]]:
    """Our totals as the legacy platform summed them: each kept-empty cell counted at the default it would have had."""
    sums = dict(totals)
    years_of = {measure: dict(years) for measure, years in by_year.items()}
    for measure, kept in sorted(kept_empty.items()):
        cells = sum(kept.by_year.values())
        added = kept.default * cells
        sums[measure] = sums.get(measure, Decimal(0)) + added
        years = years_of.setdefault(measure, {})
        for year, count in kept.by_year.items():
            if year:
                years[year] = years.get(year, Decimal(0)) + kept.default * count
        notes.append(
            f"{measure}: {cells} empty cell(s) kept empty by a curator's choice, where the legacy platform wrote "
            f"its default value {kept.default}; compared with {added} added back, the difference that choice makes"
        )
    return sums, years_of


def within_tolerance(ours: Decimal, legacy: Decimal) -> bool:
    return abs(ours - legacy) <= max(ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE * abs(legacy))


def _compare(measure: str, year: str | None, ours: Decimal | None, legacy: Decimal | None) -> list[Difference]:
    left, right = ours or Decimal(0), legacy or Decimal(0)
    if within_tolerance(left, right):
        return []
    return [Difference(measure, year, ours, legacy, left - right)]


def _years_compared(
    measure: str, ours: Mapping[str, Decimal], legacy: Mapping[str, Decimal], notes: list[str]
) -> list[str]:
    """Per year only when both sides have years: a package without a date says nothing about the cube's years."""
    if not ours or not legacy:
        side = "ours" if not ours else "the cube's"
        notes.append(f"{measure}: per-year totals not compared, {side} has none")
        return []
    return sorted(set(ours) | set(legacy))


def _keyed(by_year: Mapping[str, Decimal] | None) -> dict[str, Decimal]:
    return {_year_key(year): total for year, total in (by_year or {}).items()}


# The cube's side -----------------------------------------------------------------------------------------------------


def _cube_side(aggregates: Mapping[str, Any] | None, entries_csv: Path | None, measures: Sequence[str]) -> _Cube | None:
    from_aggregates = _from_aggregates(aggregates, measures) if aggregates else None
    if from_aggregates is not None and not from_aggregates.notes:
        return from_aggregates
    if entries_csv is not None and entries_csv.is_file():
        cube = _from_entries(entries_csv, measures)
        if from_aggregates is not None:
            cube.notes.insert(0, "aggregates incomplete, summed the cube's rows instead")
        return cube
    return from_aggregates  # incomplete, or None: compare what is known


def _from_aggregates(aggregates: Mapping[str, Any], measures: Sequence[str]) -> _Cube:
    count = aggregates.get("num_entries")
    cube = _Cube("aggregates", count if isinstance(count, int) and not isinstance(count, bool) else None)
    if cube.rows is None:
        cube.notes.append("aggregates have no row count")
    failed = {str(error.get("measure")) for error in aggregates.get("errors") or [] if isinstance(error, Mapping)}
    stored = aggregates.get("measures")
    stored = stored if isinstance(stored, Mapping) else {}
    for measure in measures:
        item = stored.get(measure) if measure not in failed else None
        total = _decimal(item.get("total")) if isinstance(item, Mapping) else None
        by_year = _years(item.get("by_year")) if isinstance(item, Mapping) else None
        if total is None or by_year is None:
            cube.notes.append(f"aggregates lack the total or the years of {measure}")
        if total is not None:
            cube.totals[measure] = total
        if by_year is not None:
            cube.by_year[measure] = by_year
    return cube


def _years(value: Any) -> dict[str, Decimal] | None:
    """Per-year totals; None when any year's figure is missing (the legacy drilldown failed or was cut)."""
    if not isinstance(value, Mapping):
        return None
    years = {_year_key(year): _decimal(total) for year, total in value.items()}
    if None in years.values():
        return None
    # A cell of entries without a year ("None") is in the total only, as in the build report.
    return {year: total for year, total in years.items() if total is not None and _year_of(year)}


def _from_entries(path: Path, measures: Sequence[str]) -> _Cube:
    cube = _Cube("entries", 0)
    with path.open(encoding="utf-8-sig", newline="") as data:
        reader = csv.reader(data)
        header = next(reader, [])
        columns = {measure: header.index(measure) for measure in measures if measure in header}
        year_column = _year_column(header)
        cube.notes += [f"{path.name} has no column {measure}" for measure in measures if measure not in columns]
        if year_column is None:
            cube.notes.append(f"{path.name} has no year or date column; per-year totals unknown")
        cube.rows, unreadable = _sum_rows(reader, columns, year_column, cube)
    if unreadable:
        cube.notes.append(f"{path.name}: {unreadable} measure cells are not numbers and were left out")
    return cube


def _sum_rows(
    reader: Iterator[list[str]], columns: Mapping[str, int], year_column: int | None, cube: _Cube
) -> tuple[int, int]:
    cube.totals = dict.fromkeys(columns, Decimal(0))
    if year_column is not None:
        cube.by_year = {measure: {} for measure in columns}
    rows = unreadable = 0
    for cells in reader:
        rows += 1
        year = _year_of(cells[year_column]) if year_column is not None and year_column < len(cells) else None
        for measure, index in columns.items():
            value = _decimal(cells[index]) if index < len(cells) and cells[index].strip() else Decimal(0)
            if value is None:
                unreadable += 1
                continue
            cube.totals[measure] += value
            if year is not None:  # rows without a year count in the total only, as in the build report
                years = cube.by_year[measure]
                years[year] = years.get(year, Decimal(0)) + value
    return rows, unreadable


def _year_column(header: Sequence[str]) -> int | None:
    for name in YEAR_COLUMNS:
        if name in header:
            return header.index(name)
    for index, name in enumerate(header):
        if name.endswith(YEAR_SUFFIXES):
            return index
    for name in DATE_COLUMNS:
        if name in header:
            return header.index(name)
    return None


def _year_of(value: str) -> str | None:
    match = _YEAR.match(value)
    return match.group(1) if match else None


def _year_key(value: Any) -> str:
    """The legacy drilldown writes years as "2013" (sometimes 2013 or "2013.0"); ours are "2013"."""
    text = str(value).strip()
    return _year_of(text) or text


def _decimal(value: Any) -> Decimal | None:
    """Floats through their shortest repr, so 0.1 stays 0.1 and not 0.1000000000000000055511151231257827."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
