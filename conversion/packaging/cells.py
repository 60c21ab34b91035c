"""How each output column of a package is made from a source row: the legacy loader's value rules (conversion.
legacy_values) worked out once per column, and applied to a whole batch's column at once where the column allows it
(plain text kept as it is, plain numbers made canonical by a few regex passes, identifiers and dates cached).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from conversion.packaging.descriptor import type_of
from conversion.packaging.legacy_values import (
    ValueProblem,
    convert_value,
    format_date,
    format_number,
    parse_date,
    parse_float,
    slugify_id,
)
from conversion.packaging.number_formats import rewrite
from conversion.packaging.package_spec import ColumnSpec

__all__ = ["Cell", "Column", "Converter", "constant", "converter", "cube_cell", "fixed", "missing", "refuse"]

Converter = Callable[[str], str]
Column = list[str]
CACHE_SIZE = 16_384  # converted values kept per identifier or date column
# A comma not followed by a group of three digits is a decimal comma the legacy loader misread as a thousands one.
_DECIMAL_COMMA = re.compile(r",(?!\d{3}(?:[,.]|$))")
_DECIMAL_COMMAS = re.compile(r",(?!\d{3}(?:[,.]|$))", re.MULTILINE)  # the same, over values joined by line feeds
# Numbers without exponent, one per line; up to 299 digits before the point stay inside the float range.
_NUMBERS = re.compile(r"-?\d{1,299}(?:\.\d+)?(?:\n-?\d{1,299}(?:\.\d+)?)*", re.ASCII)
_COMMA_AFTER_POINT = re.compile(r"\.[^\n]*,")  # the legacy float rule refused these
# What format_number does to such a number: no trailing zeros after the point, no leading zeros, no minus zero.
_CANONICAL = (
    (re.compile(r"(\.\d*?)0+$", re.MULTILINE), r"\1"),
    (re.compile(r"\.$", re.MULTILINE), ""),
    (re.compile(r"^(-?)0+(?=\d)", re.MULTILINE), r"\1"),
    (re.compile(r"^-0$", re.MULTILINE), "0"),
)


@dataclass(frozen=True)
class Cell:
    """How one output column is made from a row: `convert` one cell, or `column` a whole batch of them."""

    index: int  # of the cell in the row; -1 when the column reads no cell (a constant, a missing column)
    convert: Converter
    column: Callable[[Column], Column] = field(default=lambda values: values)


def converter(index: int, column: ColumnSpec, commas: dict[str, list[Any]]) -> Cell:
    """convert_value for one column, with the datatype dispatch and the empty-cell outcome worked out once."""
    kind = column.datatype.lower().strip()
    present: Converter | None = None
    if kind == "float" and column.number_format is not None:
        # A curator's format: each value rewritten into the legacy one, then read as the legacy loader read it.
        decimal, group = column.number_format
        formatted = _with_empty(
            _then(lambda text: rewrite(text, decimal, group), _float_converter(column.field, {})), _empty(column)
        )
        return Cell(index, formatted, lambda values: list(map(formatted, values)))
    if kind == "float":
        present = _float_converter(column.field, commas)
    elif kind == "id":
        present = slugify_id
    elif kind == "date":
        present = _date_converter(column.date_format)
    if type_of(column).is_measure and kind != "float":
        present = _as_number if present is None else _then(present, _as_number)
    convert = _with_empty(present, _empty(column))
    if kind in ("id", "date"):
        # Identifiers and dates repeat a few thousand values over millions of rows: a cache hit runs no Python code.
        convert = lru_cache(maxsize=CACHE_SIZE)(convert)
    if present is None:
        return Cell(index, convert, _text_column(convert))
    if kind == "float":
        return Cell(index, convert, _float_column(convert, column.field, commas))
    return Cell(index, convert, lambda values: list(map(convert, values)))


def fixed(convert: Converter, column: ColumnSpec) -> Cell:
    """A column that reads no cell: a constant, or what an empty cell gives. A measure's must be a number."""
    return Cell(-1, _then(convert, _as_number) if type_of(column).is_measure else convert)


def _text_column(convert: Converter) -> Callable[[Column], Column]:
    def column(values: Column) -> Column:
        # Text is kept as it is unless blank: one check of the whole column instead of a call per cell.
        if all(values) and not any(map(str.isspace, values)):
            return values
        return list(map(convert, values))

    return column


def _float_column(convert: Converter, name: str, commas: dict[str, list[Any]]) -> Callable[[Column], Column]:
    def column(values: Column) -> Column:
        # A column of plain numbers (thousands commas allowed) is made canonical with a few regex passes over the
        # joined text, as format_number(parse_float(value)) would make each; anything else goes value by value.
        text = "\n".join(values)
        plain = text.replace(",", "")
        if text.count("\n") != len(values) - 1 or not _NUMBERS.fullmatch(plain) or _COMMA_AFTER_POINT.search(text):
            return list(map(convert, values))
        if "," in text and _DECIMAL_COMMAS.search(text):
            for value in values:
                if "," in value and _DECIMAL_COMMA.search(value):
                    commas.setdefault(name, [0, value])[0] += 1
        for pattern, replacement in _CANONICAL:
            plain = pattern.sub(replacement, plain)
        return plain.split("\n")

    return column


def _with_empty(present: Converter | None, empty: str | ValueProblem) -> Converter:
    if isinstance(empty, str):
        if present is None:
            return lambda raw: raw if raw and not raw.isspace() else empty
        return lambda raw: present(raw) if raw and not raw.isspace() else empty
    message = empty.message

    def convert(raw: str) -> str:
        if raw and not raw.isspace():
            return present(raw) if present is not None else raw
        raise ValueProblem(message)  # a new exception each time: re-raising one instance grows its traceback

    return convert


def _empty(column: ColumnSpec) -> str | ValueProblem:
    if column.keep_empty:
        return ""  # the curator chose to keep the legacy default out of the measure's empty cells
    try:
        return convert_value(
            None, datatype=column.datatype, default_value=column.default_value, date_format=column.date_format
        )
    except ValueProblem as problem:
        return problem


def fills_empty_cells(column: ColumnSpec) -> bool:
    """Whether an empty cell of the column takes a value from the legacy default_value (or would, for a measure a
    curator keeps empty): what the package counts for its readers."""
    if column.constant is not None or column.default_value is None:
        return False
    empty = _empty(replace(column, keep_empty=False))
    return isinstance(empty, str) and bool(empty)


def missing(column: ColumnSpec) -> Converter:
    empty = _empty(column)
    return constant(empty) if isinstance(empty, str) else refuse(f"{empty.message} (the source has no such column)")


def constant(constant: str) -> Converter:
    try:
        value = convert_value(None, datatype="constant", constant=constant)
    except ValueProblem as problem:
        return refuse(problem.message)
    return lambda raw: value


def refuse(message: str) -> Converter:
    def refuse(raw: str) -> str:
        raise ValueProblem(message)

    return refuse


def _float_converter(name: str, commas: dict[str, list[Any]]) -> Converter:
    def convert(text: str) -> str:
        if text.isdigit() and text.isascii():
            return text.lstrip("0") or "0"  # most amounts
        if "," in text:
            dot = text.find(".")
            # Commas before the point are thousands separators the legacy loader dropped; after it, an error.
            plain = _plain_number(text.replace(",", "")) if dot < 0 or text.rfind(",") < dot else None
            result = plain if plain is not None else format_number(parse_float(text))  # raises for a bad number
            if _DECIMAL_COMMA.search(text):
                # Counted only once the legacy reading succeeded: a rejected value is a problem, not a quirk.
                seen = commas.setdefault(name, [0, text])
                seen[0] += 1
            return result
        plain = _plain_number(text)
        return plain if plain is not None else format_number(parse_float(text))

    return convert


def _plain_number(text: str) -> str | None:
    """format_number(parse_float(text)) without the Decimal round trip, for `-123` and `123.45`; else None."""
    if not text.isascii() or len(text) > 300:  # longer ones may leave the float range: parse_float refuses those
        return None
    sign = "-" if text[:1] == "-" else ""
    whole, dot, fraction = text[len(sign) :].partition(".")
    if not whole.isdigit() or (dot and not fraction.isdigit()):
        return None
    whole, fraction = whole.lstrip("0") or "0", fraction.rstrip("0")
    if whole == "0" and not fraction:
        return "0"
    return f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}"


def _date_converter(date_format: str | None) -> Converter:
    return lambda text: format_date(parse_date(text, date_format))


def _as_number(text: str) -> str:
    # The legacy fact table stored measures in a Float column: text that is no number never got in.
    try:
        return format_number(Decimal(text.strip()))
    except InvalidOperation:
        raise ValueProblem(f"'{text}' is not a number, and measures are numbers") from None


def _then(first: Converter, second: Converter) -> Converter:
    return lambda raw: second(first(raw))


def cube_cell(index: int, column: ColumnSpec) -> Cell:
    """The cube's values are converted already; measures are only normalised (`12.0` -> `12`) for exact totals."""
    if type_of(column).is_measure:
        return Cell(index, _cube_amount, lambda values: list(map(_cube_amount, values)))
    return Cell(index, lambda raw: raw)


def _cube_amount(raw: str) -> str:
    return _as_number(raw) if raw else ""


def widen_dates(values: Column) -> tuple[Column, int]:
    """A date column's month and year values as their first day (`2012-10` -> `2012-10-01`, `2013` ->
    `2013-01-01`), the way the legacy platform stored them and the only date form OpenSpending's loader reads; and
    how many were widened. Values are ISO dates already (the legacy conversion wrote them) or empty."""
    if all(len(value) == 10 or not value for value in values):
        return values, 0
    widened = [value + _FIRST_DAY.get(len(value), "") for value in values]
    return widened, sum(len(value) in _FIRST_DAY for value in values)


_FIRST_DAY = {4: "-01-01", 7: "-01"}  # by the length of a year and of a month value
