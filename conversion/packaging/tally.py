"""The tallies of a build over the rows it writes: exact measure totals, per year, the shapes of typed values
(year, month, day, integer, number, text) and the dates each date column spans, for the descriptor. Rows cut out
later are taken back."""

from __future__ import annotations

import calendar
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, Inexact, Rounded, localcontext
from functools import lru_cache
from itertools import compress, repeat
from operator import itemgetter, not_

from conversion.packaging.cells import Column
from conversion.packaging.descriptor import type_of
from conversion.packaging.package_spec import ColumnSpec

_YEAR = itemgetter(slice(0, 4))  # the year of an ISO date: its first four characters
# Amounts are summed exactly: no rounding, and a trap would say if anything were ever rounded.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[Inexact, Rounded])
_DATE = re.compile(r"(\d{4})(?:-(\d\d)(?:-(\d\d))?)?")
# A month within the fiscal year (1..12) is no date: it says nothing about which years the data covers.
_NOT_DATES = frozenset({"date:fiscal-month"})
_SHAPES = (
    ("year", re.compile(r"\d{4}")),
    ("month", re.compile(r"\d{4}-\d\d")),
    ("day", re.compile(r"\d{4}-\d\d-\d\d")),
    ("integer", re.compile(r"-?\d+")),
    ("number", re.compile(r"-?\d*\.?\d+")),
)


class Tally:
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
        # Per measure whose empty cells a curator keeps empty: those cells per year, for the reconciliation.
        self.kept: list[tuple[int, Counter[str]]] = [
            (slot, Counter()) for slot, column in enumerate(columns) if column.keep_empty and types[slot].is_measure
        ]
        # Per date column: how many times each value was written (few distinct values), so the span can be taken
        # back too; a fiscal year counts as its whole calendar year, whatever precision its values have.
        self.dates: list[tuple[int, bool, Counter[str]]] = [
            (slot, column.column_type == "date:fiscal-year", Counter())
            for slot, column in enumerate(columns)
            if column.column_type.startswith("date:") and column.column_type not in _NOT_DATES
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
        for slot, kept in self.kept:
            _count(kept, Counter({year: texts.count("") for year, texts in _by_year(columns[slot], years)}), sign)
        for slot, shapes in self.shapes:
            _count(shapes, Counter(map(_shape, columns[slot])), sign)
        for slot, _, values in self.dates:
            _count(values, Counter(columns[slot]), sign)

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

    def kept_empty(self) -> dict[str, dict[str, int]]:
        """Per measure kept empty: its empty cells per year ("" without a date column), years with none left out."""
        return {self.fields[slot]: {year: n for year, n in sorted(kept.items()) if n > 0} for slot, kept in self.kept}

    def shapes_seen(self) -> dict[str, set[str]]:
        return {self.fields[slot]: {shape for shape, n in shapes.items() if n > 0} for slot, shapes in self.shapes}

    def date_spans(self) -> dict[str, dict[str, str]]:
        """Per date column with at least one date written: {"start", "end"}, the first and last day it covers."""
        spans: dict[str, dict[str, str]] = {}
        for slot, whole_year, values in self.dates:
            days = [day for text, n in values.items() if n > 0 and (day := date_span(text, whole_year=whole_year))]
            if days:
                spans[self.fields[slot]] = {"start": min(day[0] for day in days), "end": max(day[1] for day in days)}
        return spans


def date_span(text: str, *, whole_year: bool = False) -> tuple[str, str] | None:
    """The first and last day a written value covers: `2013` the year, `2013-10` the month, a day itself; None for
    text that is no date. `whole_year`: a fiscal-year value covers its calendar year at any precision."""
    match = _DATE.fullmatch(text.strip())
    if match is None or match[1] == "0000":  # there is no year 0: not a date (and calendar would raise)
        return None
    year, month, day = match.groups()
    if whole_year or month is None:
        return f"{year}-01-01", f"{year}-12-31"
    if not 1 <= int(month) <= 12:
        return None
    last = calendar.monthrange(int(year), int(month))[1]
    if day is None:
        return f"{year}-{month}-01", f"{year}-{month}-{last:02d}"
    return (f"{year}-{month}-{day}", f"{year}-{month}-{day}") if 1 <= int(day) <= last else None


def _count(counter: Counter[str], counts: Counter[str], sign: int) -> None:
    if sign > 0:
        counter.update(counts)
    else:
        counter.subtract(counts)


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
