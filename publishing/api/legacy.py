"""The legacy API's names over a migrated package: what `/api/2/aggregate` and `/api/2/search` clients send
(`from.name`, `time.year`, `year`, `amount`) translated through the approved mapping the package records,
descriptor["legacy"]["paths"] (package field -> the legacy dimension or attribute it came from).

Every identifier that reaches SQL is a field of the package's cube model (publishing/api/model.py), quoted; every
value a client sends is a bound parameter. A name the package does not have is refused with the legacy API's 400.

The legacy `time` dimension was a date member: `{name, label, year, quarter, month, week, day, yearmonth}`, all text.
Its parts are computed here from the package's date with the legacy loader's formats, its `quarter` bug included
(`month // 4`), and a year-only field read as 1 January of that year, which is how the legacy loader stored a bare
year; so a cut on `time.yearmonth` or a drilldown on `month` matches what it matched in the legacy API.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from migration_site.lib.jsondata import as_dict, dicts_in, strings_in
from publishing.api import params
from publishing.api.model import Column, cube_model

TIME = "time"
# The legacy date member's attributes, in its order, as SQL over `{d}`, a DATE (DuckDB's %B is always English).
TIME_PARTS = {
    "name": "strftime({d}, '%Y-%m-%d')",
    "label": "strftime({d}, '%d. %B %Y')",
    "year": "strftime({d}, '%Y')",
    "quarter": "CAST(month({d}) // 4 AS VARCHAR)",  # the legacy loader's bug, kept: cuts on it matched this
    "month": "strftime({d}, '%m')",
    "week": "strftime({d}, '%W')",
    "day": "strftime({d}, '%d')",
    "yearmonth": "strftime({d}, '%Y%m')",
}
# The aggregate's own names for parts of `time` (OS-legacy built them from the dataset's time dimension).
ALIASES = {"year": "time.year", "month": "time.yearmonth"}
SOURCE = "read_parquet(?, file_row_number = true)"  # file_row_number: the rows' order, for ties
MAX_VALUES = params.MAX_VALUES


class LegacyError(ValueError):
    """A parameter the legacy API refused: answered with HTTP 400 and `{"errors": [message]}`."""


@dataclass(frozen=True)
class Value:
    """What a legacy name reads, one value per row: SQL over the package's Parquet file; `text` if a string."""

    sql: str
    text: bool

    @property
    def shown(self) -> str:
        """The value as the legacy API gave it: an empty text cell was "" there (the loader kept text as it came),
        where the package has a missing value."""
        return f"coalesce({self.sql}, '')" if self.text else self.sql


Shape = Value | dict[str, Value]  # an attribute dimension or a measure; a compound dimension (attribute -> value)


@dataclass(frozen=True)
class LegacyCube:
    name: str  # the legacy dataset name
    currency: str | None
    dimensions: dict[str, Shape]  # in the order of the legacy mapping's fields
    measure_names: tuple[str, ...]
    page_url: str
    dataset: dict[str, Any]  # `dataset` of each search result

    @property
    def measures(self) -> dict[str, Value]:
        return {
            name: shape
            for name, shape in self.dimensions.items()
            if name in self.measure_names and isinstance(shape, Value)
        }

    def compound(self, name: str) -> dict[str, Value] | None:
        shape = self.dimensions.get(name)
        return shape if isinstance(shape, dict) else None

    def value(self, key: str, *, aliases: bool = False) -> Value | None:
        """What a legacy field reads: `amount`, `ergebnisart`, `from.name`, `time.year`; a compound dimension alone
        means its name, as in the legacy cuts and Solr's fields; with `aliases`, `year` and `month` too."""
        key = ALIASES.get(key, key) if aliases else key
        dimension, dot, attribute = key.partition(".")
        shape = self.dimensions.get(dimension)
        if isinstance(shape, dict):
            return shape.get(attribute if dot else "name")
        return shape if shape is not None and not dot else None


def legacy_cube(owner: str, name: str, descriptor: Mapping[str, Any], page_url: str) -> LegacyCube:
    """The package's fields under the legacy names they came from; fields outside its model are left out."""
    legacy = as_dict(descriptor.get("legacy"))
    model = cube_model(f"{owner}:{name}", descriptor)
    measure_of = {column.field: column for column in model.measures.values()}
    types = _field_types(descriptor)
    dimensions: dict[str, Shape] = {}
    measure_names: list[str] = []
    for field, path in as_dict(legacy.get("paths")).items():
        column = measure_of.get(field) or model.column(model.fields.get(field, ""))
        dimension, dot, attribute = str(path).partition(".")
        if column is None or not dimension or (dot and not attribute):
            continue
        value = Value(column.sql, types.get(field) == "string")
        if dimension == TIME:
            if not dot:  # the legacy date member: its parts from the package's date
                dimensions[TIME] = _time_parts(column, types.get(field, "string"))
        elif dot:
            compound = dimensions.setdefault(dimension, {})
            if isinstance(compound, dict):
                compound[attribute] = value
        elif dimension not in dimensions:
            dimensions[dimension] = value
            if field in measure_of:
                measure_names.append(dimension)
    legacy_name = str(legacy.get("name") or name)
    return LegacyCube(
        name=legacy_name,
        currency=_text(legacy.get("currency")),
        dimensions=dimensions,
        measure_names=tuple(measure_names),
        page_url=page_url,
        dataset=_dataset_block(legacy_name, descriptor, legacy, page_url),
    )


def _time_parts(column: Column, kind: str) -> dict[str, Value]:
    if kind == "date":
        day = column.sql
    elif kind == "datetime":
        day = f"CAST({column.sql} AS DATE)"
    elif kind in ("integer", "year", "number"):  # a bare year: the legacy loader stored it as 1 January
        day = f"make_date(CAST({column.sql} AS INTEGER), 1, 1)"
    else:
        day = f"TRY_CAST({column.sql} AS DATE)"
    return {part: Value(sql.format(d=day), True) for part, sql in TIME_PARTS.items()}


def _field_types(descriptor: Mapping[str, Any]) -> dict[str, str]:
    resources = dicts_in(descriptor.get("resources"))
    fields = dicts_in(as_dict(resources[0].get("schema")).get("fields")) if resources else []
    return {str(item.get("name")): str(item.get("type") or "string") for item in fields}


def _dataset_block(name: str, descriptor: Mapping[str, Any], legacy: Mapping[str, Any], url: str) -> dict[str, Any]:
    """`Dataset.as_dict()` as far as the package records it (no ids, timestamps or badges), `html_url` ours."""
    return {
        "name": name,
        "label": _text(legacy.get("title")) or _text(descriptor.get("title")) or name,
        "description": _text(descriptor.get("description")),
        "currency": _text(legacy.get("currency")),
        "category": _text(legacy.get("category")),
        "default_time": _text(legacy.get("default_time")),
        "languages": strings_in(legacy.get("languages")),
        "territories": strings_in(legacy.get("territories")),
        "html_url": url,
    }


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


# -- parameters -------------------------------------------------------------------------------------------------------


def text(request: Mapping[str, str], name: str) -> str:
    try:
        return params.text(request, name)
    except params.ParameterError as problem:
        raise LegacyError(str(problem)) from None


def split(value: str) -> list[str]:
    return [part.strip() for part in value.split("|") if part.strip()]


def pairs(value: str, name: str) -> dict[str, list[str]]:
    """`key:value|key:value`; a key given twice takes either value (OR), different keys must all match (AND)."""
    found: dict[str, list[str]] = {}
    for part in split(value):
        key, separator, item = part.partition(":")
        if not separator or not key.strip():
            raise LegacyError(
                f'Wrong format for "{name}". It has to be specified in the form "{name}=key:value|key:value". '
                f'We got: "{name}={value[:200]}"'
            )
        found.setdefault(key.strip(), []).append(item.strip())
    if sum(len(items) for items in found.values()) > MAX_VALUES:
        raise LegacyError(f"{name}: more than {MAX_VALUES} values")
    return found


def order(value: str) -> list[tuple[str, bool]]:
    """`key:asc|key:desc` (a comma separates too); (key, descending) pairs."""
    found = []
    for part in split(value.replace(",", "|")):
        key, _, direction = part.partition(":")
        direction = direction.strip().lower() or "asc"
        if direction not in ("asc", "desc"):
            raise LegacyError(f'Order direction can be "asc" or "desc". We got "{direction[:40]}" in "order={value}"')
        found.append((key.strip(), direction == "desc"))
    return found


def number(request: Mapping[str, str], name: str, default: int) -> int:
    """A page number or size as the legacy parser read it: any number, its whole part kept."""
    raw = text(request, name).strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise LegacyError(f'"{name}" has to be a number, it is: {raw[:40]}') from None
    if not math.isfinite(value) or abs(value) > 10**12:
        raise LegacyError(f'"{name}" is out of range: {raw[:40]}')
    if value < 0:
        raise LegacyError(f'"{name}" must not be negative')
    return int(value)


def json_only(request: Mapping[str, str]) -> None:
    kind = text(request, "format").strip().lower()
    if kind not in ("", "json"):
        raise LegacyError("format: only json is offered here; each package's page links its full data as CSV")


# -- SQL --------------------------------------------------------------------------------------------------------------


def condition(value: Value, wanted: list[str]) -> tuple[str, list[object]]:
    """The legacy API compared the text of a value: strings as they are, other types through their text. The plain
    column unless "" is wanted, so that DuckDB can skip row groups by their statistics."""
    plain = value.shown if "" in wanted else value.sql
    column = plain if value.text else f"CAST({value.sql} AS VARCHAR)"
    return f"{column} IN ({', '.join('?' for _ in wanted)})", list(wanted)


def where(clauses: list[tuple[str, list[object]]]) -> tuple[str, list[object]]:
    if not clauses:
        return "", []
    return " WHERE " + " AND ".join(f"({sql})" for sql, _ in clauses), [v for _, values in clauses for v in values]


def direction(descending: bool) -> str:
    """Python's sort as the legacy code sorted cells: missing values last going up, hence first going down."""
    return "DESC NULLS FIRST" if descending else "ASC NULLS LAST"


def sort_key(value: object) -> tuple[int, Any]:
    """The same order in Python, for merging the pages of several datasets: numbers, then text, then nothing."""
    if isinstance(value, bool) or value is None:
        return (2, "")
    if isinstance(value, int | float):
        return (0, float(value))
    return (1, str(value))
