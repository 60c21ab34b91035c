"""babbage's three queries, `aggregate`, `facts` and `members`, over a package's Parquet file, with its answers'
shapes (babbage/cube.py): the same keys, references as keys of each cell and row, `cell` listing the cuts applied.

An aggregate is one pass over the file: the cells are grouped once, and the number of cells and the summary are
window sums over the grouped cells, so a drilldown costs what DuckDB's GROUP BY costs, not three scans as babbage's
count, summary and cells queries did. Only a page past the last cell, which has no rows to carry them, asks again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings

from publishing.api import params
from publishing.api.engine import run
from publishing.api.model import Column, CubeModel, quoted
from publishing.api.params import Cut, Order, Paging, ParameterError

DEFAULT_PAGE_SIZE = 100  # babbage's default
CELLS = "__cells"


@dataclass(frozen=True)
class Query:
    """What every query starts from: the file and the cuts, as SQL with its parameters."""

    path: Path
    cuts: list[Cut]

    def where(self) -> tuple[str, list[object]]:
        clauses, values = [], []
        for cut in self.cuts:
            clauses.append(f"{cut.column.sql} IN ({', '.join('?' for _ in cut.values)})")
            values += list(cut.values)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), values

    def source(self) -> tuple[str, list[object]]:
        where, values = self.where()
        return f"read_parquet(?){where}", [str(self.path), *values]


def query(model: CubeModel, path: Path, request: Mapping[str, str]) -> Query:
    return Query(path, params.cuts(model, params.text(request, "cut")))


def aggregate(model: CubeModel, path: Path, request: Mapping[str, str]) -> dict[str, Any]:
    base = query(model, path, request)
    drilldowns = params.drilldowns(model, params.text(request, "drilldown"))
    aggregates = params.aggregates(model, params.text(request, "aggregates"))
    orderable = {column.ref: quoted(column.ref) for column in drilldowns} | {ref: quoted(ref) for ref in aggregates}
    order = params.order(params.text(request, "order"), orderable, "a drilldown or an aggregate of this query")
    paging = _paging(request)
    source, values = base.source()
    selected = [f"{column.sql} AS {quoted(column.ref)}" for column in drilldowns]
    selected += [f"{_aggregate_sql(model, ref)} AS {quoted(ref)}" for ref in aggregates]
    group = f" GROUP BY {', '.join(str(n) for n in range(1, len(drilldowns) + 1))}" if drilldowns else ""
    windows = [f"{_total(ref)}({quoted(ref)}) OVER () AS {quoted('__summary:' + ref)}" for ref in aggregates]
    ordering = _order_sql(order or [Order(column.ref, False) for column in drilldowns], orderable)
    sql = (
        f"WITH cells AS (SELECT {', '.join(selected)} FROM {source}{group}) "
        f"SELECT *, count(*) OVER () AS {CELLS}, {', '.join(windows)} FROM cells{ordering} LIMIT ? OFFSET ?"
    )
    result = run(sql, [*values, paging.size, paging.offset]).dicts()
    if result:
        count, summary = int(_number(result[0][CELLS])), {ref: result[0][f"__summary:{ref}"] for ref in aggregates}
    else:
        count, summary = _count_and_summary(model, base, drilldowns, aggregates)
    cells = [
        {key: value for key, value in row.items() if key != CELLS and not key.startswith("__summary:")}
        for row in result
    ]
    return {
        "total_cell_count": count,
        "cells": [_json_row(cell) for cell in cells],
        "summary": _json_row(summary),
        "cell": [cut.as_dict() for cut in base.cuts],
        "aggregates": aggregates,
        "attributes": [column.ref for column in drilldowns],
        "order": [item.as_pair() for item in order],
        "page": paging.page,
        "page_size": paging.size,
    }


def facts(model: CubeModel, path: Path, request: Mapping[str, str]) -> dict[str, Any]:
    base = query(model, path, request)
    fields = params.fields(model, params.text(request, "fields")) or _stored_columns(model)
    orderable = {ref: column.sql for ref, column in {**model.attributes, **model.measures}.items()}
    order = params.order(params.text(request, "order"), orderable, "an attribute or a measure")
    paging = _paging(request)
    source, values = base.source()
    selected = ", ".join(f"{column.sql} AS {quoted(column.ref)}" for column in fields)
    rows = run(
        f"SELECT {selected} FROM {source}{_order_sql(order, orderable)} LIMIT ? OFFSET ?",
        [*values, paging.size, paging.offset],
    )
    total = run(f"SELECT count(*) FROM {source}", values).rows[0][0]
    return {
        "total_fact_count": int(_number(total)),
        "data": [_json_row(row) for row in rows.dicts()],
        "cell": [cut.as_dict() for cut in base.cuts],
        "fields": [column.ref for column in fields],
        "order": [item.as_pair() for item in order],
        "page": paging.page,
        "page_size": paging.size,
    }


def members(model: CubeModel, path: Path, ref: str, request: Mapping[str, str]) -> dict[str, Any]:
    """The distinct members of a dimension (grouped by its key, its other attributes alongside) or of an attribute."""
    columns = [column for column in model.expand(ref) if column.ref not in model.measures]
    if not columns:
        raise ParameterError(f"members: no dimension or attribute {ref[:80]!r} in this cube")
    dimension = model.dimensions.get(ref)
    if dimension is not None:  # the key first: members are distinct keys
        columns.sort(key=lambda column: column.ref != dimension.key_ref)
    base = query(model, path, request)
    orderable = {column.ref: quoted(column.ref) for column in columns}
    order = params.order(params.text(request, "order"), orderable, "an attribute of the members")
    paging = _paging(request)
    source, values = base.source()
    key, others = columns[0], columns[1:]
    selected = [f"{key.sql} AS {quoted(key.ref)}"] + [f"max({c.sql}) AS {quoted(c.ref)}" for c in others]
    ordering = _order_sql(order or [Order(key.ref, False)], orderable)
    sql = (
        f"WITH members AS (SELECT {', '.join(selected)} FROM {source} GROUP BY 1) "
        f"SELECT *, count(*) OVER () AS {CELLS} FROM members{ordering} LIMIT ? OFFSET ?"
    )
    result = run(sql, [*values, paging.size, paging.offset]).dicts()
    count = int(_number(result[0][CELLS])) if result else _member_count(base, key)
    return {
        "total_member_count": count,
        "data": [_json_row({k: v for k, v in row.items() if k != CELLS}) for row in result],
        "cell": [cut.as_dict() for cut in base.cuts],
        "fields": [column.ref for column in columns],
        "order": [item.as_pair() for item in order],
        "page": paging.page,
        "page_size": paging.size,
    }


def _paging(request: Mapping[str, str]) -> Paging:
    return params.paging(request, default_size=DEFAULT_PAGE_SIZE, max_size=settings.API_MAX_PAGE_SIZE)


def _stored_columns(model: CubeModel) -> list[Column]:
    """babbage's default fields: every attribute and measure (the computed parts of dates are left out)."""
    return [
        column
        for column in [*model.attributes.values(), *model.measures.values()]
        if column.sql == quoted(column.field)
    ]


def _aggregate_sql(model: CubeModel, ref: str) -> str:
    aggregate = model.aggregates[ref]
    if aggregate.measure is None:
        return "count(*)"
    return f"fsum({model.measures[aggregate.measure].sql})"


def _total(ref: str) -> str:
    """Counts add up exactly; sums of doubles with compensated summation (`fsum`), so the summary of a page and of
    a page past the end (summed straight from the rows) agree to the last digit."""
    return "sum" if ref == "_count" else "fsum"


def _order_sql(order: Sequence[Order], orderable: Mapping[str, str]) -> str:
    if not order:
        return ""
    terms = [f"{orderable[item.ref]} {'DESC' if item.descending else 'ASC'} NULLS LAST" for item in order]
    return " ORDER BY " + ", ".join(terms)


def _count_and_summary(
    model: CubeModel, base: Query, drilldowns: list[Column], aggregates: list[str]
) -> tuple[int, dict[str, object]]:
    """For a page past the last cell: the count of cells and the summary, which the empty page cannot carry."""
    source, values = base.source()
    count = 1
    if drilldowns:
        groups = ", ".join(str(n) for n in range(1, len(drilldowns) + 1))
        grouped = f"SELECT {', '.join(column.sql for column in drilldowns)} FROM {source} GROUP BY {groups}"
        count = int(_number(run(f"SELECT count(*) FROM ({grouped})", values).rows[0][0]))
    totals = ", ".join(f"{_aggregate_sql(model, ref)} AS {quoted(ref)}" for ref in aggregates)
    return count, run(f"SELECT {totals} FROM {source}", values).dicts()[0]


def _member_count(base: Query, key: Column) -> int:
    source, values = base.source()
    return int(_number(run(f"SELECT count(DISTINCT {key.sql}) FROM {source}", values).rows[0][0]))


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float | Decimal) else 0.0


def _json_row(row: Mapping[str, object]) -> dict[str, object]:
    return {key: json_value(value) for key, value in row.items()}


def json_value(value: object) -> object:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
