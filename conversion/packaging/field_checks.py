"""How the data check (packaging/data_check.py) checks the cells of one field: frictionless 5's readers for number,
integer, date and boolean cells, and for the plain numbers our builder writes, a pattern that checks a whole column
joined by line feeds at once."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

DEFAULT_DATE_FORMAT = "%Y-%m-%d"
# What our builder writes; anything else is checked cell by cell, the way frictionless reads it.
_PLAIN = {"number": r"-?\d+(?:\.\d+)?", "integer": r"-?\d+"}
_NOT_BARE = re.compile(r"((^[^-\d]*)|(\D*$))")  # frictionless' pattern for bareNumber: false
_TYPES = frozenset({"string", "number", "integer", "date", "boolean", "any"})
_TRUE = ("true", "True", "TRUE", "1")
_FALSE = ("false", "False", "FALSE", "0")

Cell = Callable[[str], bool]


@dataclass(frozen=True)
class FieldRule:
    """How the cells of one field are checked."""

    name: str
    position: int
    label: str  # for messages: `number`, `date (%Y-%m-%d)`
    required: bool
    joined: re.Pattern[str] | None = None  # fullmatches a column joined by line feeds when all its cells are fine
    cell: Cell | None = None  # one cell, not a missing value: fine or not
    few: bool = False  # few distinct values (dates, booleans): check each distinct value once

    @property
    def active(self) -> bool:
        return self.required or self.joined is not None or self.cell is not None


def type_checks(
    item: Mapping[str, Any], kind: str, fmt: str, missing: Sequence[str]
) -> tuple[re.Pattern[str] | None, Cell | None, bool] | None:
    """(joined pattern, cell check, few values) for a type this module knows, else None."""
    if kind == "any" or (kind == "string" and fmt == "default"):
        return None, None, False
    if kind in ("number", "integer"):
        plain = _number_defaults(item) and kind in _PLAIN
        return (_joined(_PLAIN[kind], missing) if plain else None), _number_cell(item, kind), False
    if kind == "date" and (fmt == "default" or "%" in fmt):
        return None, _date_cell(DEFAULT_DATE_FORMAT if fmt == "default" else fmt), True
    if kind == "boolean":
        accepted = {str(value) for value in [*item.get("trueValues", _TRUE), *item.get("falseValues", _FALSE)]}
        return None, accepted.__contains__, True
    return None


def _number_defaults(item: Mapping[str, Any]) -> bool:
    return item.get("decimalChar", ".") == "." and item.get("bareNumber", True) is True


def _joined(cell: str, missing: Sequence[str]) -> re.Pattern[str]:
    """A pattern for a whole column of such cells (or missing values) joined by line feeds; atomic, so a column
    that does not match fails in linear time."""
    one = "|".join([cell, *(re.escape(value) for value in missing)])
    return re.compile(rf"(?>{one})(?:\n(?>{one}))*+", re.ASCII)


def _number_cell(item: Mapping[str, Any], kind: str) -> Cell:
    """frictionless' number and integer readers: strip, drop the group char, read with Decimal or int."""
    group, decimal = str(item.get("groupChar", "")), str(item.get("decimalChar", "."))
    bare = item.get("bareNumber", True) is not False

    def read(text: str) -> bool:
        text = text.strip()
        if not bare:
            text = _NOT_BARE.sub("", text)
        if kind == "integer":
            return _reads(int, text)
        if group:
            text = text.replace(group, "")
        if decimal != ".":
            if "." in text:
                return False
            text = text.replace(decimal, ".")
        return _reads(Decimal, text)

    return read


def _reads(kind: Callable[[str], object], text: str) -> bool:
    try:
        kind(text)
    except (ValueError, ArithmeticError):  # InvalidOperation is an ArithmeticError
        return False
    return True


def _date_cell(fmt: str) -> Cell:
    def read(text: str) -> bool:
        try:
            datetime.strptime(text, fmt)
        except ValueError:
            return False
        return True

    return read
