"""The check of a Parquet copy before it is published: the CSV read again, independently of DuckDB (the stdlib's csv
module and Decimal, streamed), must give the rows and, per number and integer field, the sums the copy gives.

Sums are compared as reconciliation compares them (conversion/packaging/reconcile.py): equal within half a cent or
1e-9 of the amount, which forgives the doubles' rounding while a changed cent shows.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation, localcontext
from pathlib import Path
from typing import Any

from conversion.packaging.reconcile import within_tolerance
from migration_site.lib.jsondata import as_dict, dicts_in
from publishing.formats import delimiter, missing_values
from publishing.parquet import NOT_BARE_PATTERN, SQL_SUMS, ParquetError, Totals

NOT_BARE = re.compile(NOT_BARE_PATTERN)
Reader = Callable[[str], Decimal]


def csv_totals(csv_path: Path, resource: Mapping[str, Any], *, where: str) -> Totals:
    """Rows and sums of the number and integer fields, from the CSV itself (blank lines are no rows, as in DuckDB)."""
    fields = dicts_in(as_dict(resource.get("schema")).get("fields"))
    measured = [(position, field) for position, field in enumerate(fields) if field.get("type") in SQL_SUMS]
    readers = [(str(field["name"]), position, _reader(field)) for position, field in measured]
    missing = frozenset(missing_values(resource))
    rows, sums = 0, {name: Decimal(0) for name, _, _ in readers}
    seen: set[str] = set()
    with localcontext(prec=60):  # far beyond any total: the sum of the text, not of rounded values
        for number, row in _rows(csv_path, resource, where):
            rows += 1
            for name, position, read in readers:
                cell = row[position] if position < len(row) else ""
                if cell in missing:
                    continue
                sums[name] += _read(read, cell, where=where, field=name, row=number)
                seen.add(name)
    return Totals(rows, {name: (total if name in seen else None) for name, total in sums.items()})


def totals_compare(csv_side: Totals, parquet_side: Totals, *, where: str) -> None:
    """Raise ParquetError naming the file, the field and both numbers at the first difference."""
    if csv_side.rows != parquet_side.rows:
        raise ParquetError(f"{where}: {csv_side.rows} rows in the CSV, {parquet_side.rows} in its Parquet copy")
    for name, ours in csv_side.sums.items():
        theirs = parquet_side.sums.get(name)
        if not _same(ours, theirs):
            raise ParquetError(f"{where}: field {name} sums to {ours} in the CSV and to {theirs} in its Parquet copy")


def _same(csv_sum: Decimal | None, parquet_sum: Decimal | None) -> bool:
    if csv_sum is None or parquet_sum is None:
        return csv_sum is parquet_sum
    if not (csv_sum.is_finite() and parquet_sum.is_finite()):  # NaN or infinite: both the same, or different
        return str(csv_sum).lower() == str(parquet_sum).lower()
    return within_tolerance(parquet_sum, csv_sum)


def _rows(csv_path: Path, resource: Mapping[str, Any], where: str) -> Iterator[tuple[int, list[str]]]:
    """(line number as frictionless counts rows, cells) of each non-blank row after the header."""
    try:
        with csv_path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter(resource))
            next(reader, None)
            for number, row in enumerate(reader, start=2):
                if row:
                    yield number, row
    except (UnicodeDecodeError, csv.Error) as error:
        raise ParquetError(f"{where}: the CSV could not be read again to check its Parquet copy: {error}") from error


def _reader(field: Mapping[str, Any]) -> Reader:
    """frictionless' reading of a number or integer cell: strip, bareNumber, groupChar, decimalChar."""
    bare = field.get("bareNumber", True) is not False
    group, decimal = str(field.get("groupChar", "")), str(field.get("decimalChar", "."))
    integer = field.get("type") == "integer"

    def read(cell: str) -> Decimal:
        text = cell.strip()
        if not bare:
            text = NOT_BARE.sub("", text)
        if group:
            text = text.replace(group, "")
        if integer:
            return Decimal(int(text))
        if decimal != ".":
            if "." in text:
                raise ValueError(text)
            text = text.replace(decimal, ".")
        return Decimal(text)

    return read


def _read(read: Reader, cell: str, *, where: str, field: str, row: int) -> Decimal:
    try:
        return read(cell)
    except (ValueError, InvalidOperation) as error:
        raise ParquetError(f'{where}: field {field}, row {row}: "{cell}" is not a number') from error
