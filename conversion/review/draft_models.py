"""A model for a dataset the legacy platform never mapped (a draft: its sources uploaded, no model saved), drawn from
its source columns, so that the same engine proposes from it: each column a measure, a date or an attribute by its
header and its values. Every proposal made from it is ambiguous: a curator looks at each. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from text_unidecode import unidecode  # type: ignore[import-untyped]

from conversion.packaging.legacy_values import ValueProblem, parse_date, parse_float

NO_MODEL_REASON = "the legacy platform had no model for this dataset: proposed from the source column alone"
# Headers that name money, and headers that name time (English and German, as the legacy platform's users wrote).
MONEY = re.compile(
    r"amount|budget|spend|spent|expenditure|revenue|income|value|total|proposed|approved|actual|cost|sum|paid|"
    r"betrag|ansatz|ergebnis|ausgaben|einnahmen|€|\$|£",
    re.IGNORECASE,
)
TIME = re.compile(r"date|year|\bfy\b|period|month|quarter|datum|jahr|monat", re.IGNORECASE)
DATATYPES = {"measure": "float", "date": "date", "attribute": "string"}


def draft_model(columns: Sequence[str], samples: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """{"mapping": {name: entry}} in the legacy model's shape, one entry per non-blank column, in the file's order."""
    mapping: dict[str, dict[str, Any]] = {}
    for column in columns:
        if not column.strip():
            continue
        values = [value for value in samples.get(column, ()) if value.strip()]
        kind = column_kind(column, values)
        mapping[_name(column, mapping)] = {
            "type": kind,
            "label": column.strip(),
            "column": column,
            "datatype": DATATYPES[kind],
        }
    return {"mapping": mapping}


def column_kind(header: str, values: Sequence[str]) -> str:
    """A date when the header names time and every value reads as a date; a measure when every value is a number
    and the header names money or a value has decimals or thousands separators (plain integers are codes, such as
    account numbers, unless the header says money); an attribute otherwise."""
    if values and TIME.search(header) and all(_date(value) for value in values):
        return "date"
    numbers = bool(values) and all(_number(value) for value in values)
    if numbers and (MONEY.search(header) or any("." in value or "," in value for value in values)):
        return "measure"
    return "attribute"


def _date(text: str) -> bool:
    try:
        parse_date(text.strip(), None)
    except ValueProblem:
        return False
    return True


def _number(text: str) -> bool:
    try:
        parse_float(text.strip())
    except ValueProblem:
        return False
    return True


def _name(column: str, taken: Mapping[str, Any]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", unidecode(column).lower()).strip("_") or "column"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    return name
