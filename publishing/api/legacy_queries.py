"""`/api/2/aggregate` and `/api/2/search` of the legacy API over packages' Parquet files, with the legacy answers'
shapes (research legacy-openspending.md §1.3; the sample legacy instance's datasets/sample_legacy/queries.py).

What a client reads is the legacy API's: cells with the drilldown values, the measure totals and `num_entries`; the
summary's totals, counts and paging; search's stats, facets and entries. What the package cannot give is left out:
the members' and entries' surrogate ids, `taxonomy`; `html_url` points at the package's page. Ties in an order keep
the rows' order in the file (a cell ranks by its earliest row): the legacy API left ties to its database, so pages
could overlap; this order is stable from page to page, and is the sample instance's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings

from publishing.api.cubes import json_value
from publishing.api.engine import run
from publishing.api.legacy import (
    SOURCE,
    TIME,
    LegacyCube,
    LegacyError,
    Value,
    condition,
    direction,
    json_only,
    number,
    order,
    pairs,
    sort_key,
    split,
    text,
    where,
)

AGGREGATE_PAGE_SIZE = 10_000  # the legacy defaults
SEARCH_PAGE_SIZE = 100
MAX_FACET_PAGE_SIZE = 100  # the legacy cap
MAX_DRILLDOWNS = 20
DATASET = "dataset"
DATASET_FIELDS = (DATASET, "dataset.name")  # a search result's dataset, by its name
FULL_TEXT = ("", "*", "*:*")  # `q` that asks for everything; other Solr queries are refused
Queried = tuple[LegacyCube, Path]


@dataclass(frozen=True)
class Drill:
    """One drilldown: the values it groups by, and whether the cell holds a member dict (a compound drilled whole)."""

    key: str
    parts: tuple[tuple[str, Value], ...]
    member: bool

    def cell_value(self, values: list[object], page_url: str) -> object:
        if not self.member:
            return json_value(values[0])
        return {**{name: json_value(v) for (name, _), v in zip(self.parts, values, strict=True)}, "html_url": page_url}


def drill(cube: LegacyCube, key: str) -> Drill:
    compound = cube.compound(key)
    if compound:
        return Drill(key, tuple(compound.items()), True)
    value = cube.value(key, aliases=True)
    if value is None:
        raise LegacyError(f"Invalid drilldown: {key[:200]!r} is not a dimension or an attribute of this dataset")
    return Drill(key, (("", value),), False)


def cuts(cube: LegacyCube, request: Mapping[str, str]) -> list[tuple[str, list[object]]]:
    clauses = []
    for key, wanted in pairs(text(request, "cut"), "cut").items():
        value = cube.value(key, aliases=True)
        if value is None:
            raise LegacyError(f"Invalid cut: {key[:200]!r} is not a dimension or an attribute of this dataset")
        clauses.append(condition(value, wanted))
    return clauses


# -- aggregate --------------------------------------------------------------------------------------------------------


def aggregate(cube: LegacyCube, path: Path, request: Mapping[str, str]) -> dict[str, Any]:
    """One pass over the file: the cells grouped once, their count and the summary as window sums over them; only a
    page past the last cell, which has no row to carry them, asks again."""
    measures = _measures(cube, request)
    drills = [drill(cube, key) for key in dict.fromkeys(split(text(request, "drilldown")))]
    if len(drills) > MAX_DRILLDOWNS:
        raise LegacyError(f"drilldown: at most {MAX_DRILLDOWNS} at once")
    filters, values = where(cuts(cube, request))
    arguments = [str(path), *values]
    page = max(1, number(request, "page", 1))
    size = max(1, number(request, "pagesize", min(AGGREGATE_PAGE_SIZE, settings.API_MAX_PAGE_SIZE)))
    if size > settings.API_MAX_PAGE_SIZE:
        raise LegacyError(f"pagesize: at most {settings.API_MAX_PAGE_SIZE}")
    cells = _cells_sql(cube, drills, measures, filters)
    totals = ", ".join(f"fsum(m{n}) OVER () AS t{n}" for n in range(len(measures)))
    rows = run(
        f"{cells}SELECT *, count(*) OVER () AS c, sum(n) OVER () AS tn, {totals} "
        f"FROM cells ORDER BY {_cell_order(request, drills, measures)} LIMIT ? OFFSET ?",
        [*arguments, size, (page - 1) * size],
    ).dicts()
    if rows:
        summary_row: dict[str, object] = rows[0]
    else:
        sums = ", ".join(f"coalesce(fsum(m{n}), 0) AS t{n}" for n in range(len(measures)))
        sql = f"{cells}SELECT count(*) AS c, coalesce(sum(n), 0) AS tn, {sums} FROM cells"
        summary_row = run(sql, arguments).dicts()[0]
    return {
        "drilldown": [_cell(cube, drills, measures, row) for row in rows],
        "summary": _summary(cube, measures, summary_row, page, size),
    }


def _measures(cube: LegacyCube, request: Mapping[str, str]) -> list[str]:
    """The measures asked for (`amount` by default), once the legacy API's other refusals are out of the way."""
    if TIME not in cube.dimensions:
        raise LegacyError("Dataset has no time dimension, which is required for aggregation")
    if text(request, "inflate"):
        raise LegacyError("inflate: adjusting for inflation is not offered here")
    json_only(request)
    measures = list(dict.fromkeys(split(text(request, "measure")))) or ["amount"]
    for measure in measures:
        if measure not in cube.measures:
            raise LegacyError(f'no measure with name "{measure[:200]}"')
    return measures


def _cells_sql(cube: LegacyCube, drills: list[Drill], measures: list[str], filters: str) -> str:
    """The cells as a CTE: columns d0.. (the drilldowns' values), m0.. (the measures' sums), n (rows) and f (the
    first row's number, which breaks ties). No rows, no cell: the legacy answer had none either."""
    parts = [value for item in drills for _, value in item.parts]
    selected = [f"{value.shown} AS d{n}" for n, value in enumerate(parts)]
    selected += [f"coalesce(fsum({cube.measures[m].sql}), 0) AS m{n}" for n, m in enumerate(measures)]
    groups = f" GROUP BY {', '.join(str(n + 1) for n in range(len(parts)))}" if parts else ""
    return (
        f"WITH cells AS (SELECT {', '.join(selected)}, count(*) AS n, min(file_row_number) AS f "
        f"FROM {SOURCE}{filters}{groups} HAVING count(*) > 0) "
    )


def _cell_order(request: Mapping[str, str], drills: list[Drill], measures: list[str]) -> str:
    """By a measure asked for, `num_entries` or a drilldown (a member by its name); default the first measure, down."""
    columns = {measure: f"m{n}" for n, measure in enumerate(measures)} | {"num_entries": "n"}
    position = 0
    for item in drills:
        names = [name for name, _ in item.parts]
        columns[item.key] = f"d{position + (names.index('name') if 'name' in names else 0)}"
        position += len(item.parts)
    terms = []
    for key, descending in order(text(request, "order")) or [(measures[0], True)]:
        if key not in columns:
            raise LegacyError(
                f"order: cannot order by {key[:200]!r}; order by a measure, num_entries or a drilldown of this query"
            )
        terms.append(f"{columns[key]} {direction(descending)}")
    return ", ".join([*terms, "f ASC"])


def _cell(cube: LegacyCube, drills: list[Drill], measures: list[str], row: Mapping[str, object]) -> dict[str, Any]:
    cell: dict[str, Any] = {}
    position = 0
    for item in drills:
        values = [row[f"d{position + n}"] for n in range(len(item.parts))]
        cell[item.key] = item.cell_value(values, cube.page_url)
        position += len(item.parts)
    cell.update({measure: json_value(row[f"m{n}"]) for n, measure in enumerate(measures)})
    cell["num_entries"] = json_value(row["n"])
    return cell


def _summary(cube: LegacyCube, measures: list[str], row: Mapping[str, object], page: int, size: int) -> dict[str, Any]:
    count = _int(row["c"])
    summary: dict[str, Any] = {measure: json_value(row[f"t{n}"]) for n, measure in enumerate(measures)}
    summary.update(
        num_entries=_int(row["tn"]),
        currency=dict.fromkeys(measures, cube.currency),
        num_drilldowns=count,
        page=page,
        pages=max(1, -(-count // size)),
        pagesize=size,
    )
    return summary


# -- search -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Search:
    filters: dict[str, list[str]]
    order: list[tuple[str, bool]]
    facets: list[str]
    page: int
    size: int
    facet_page: int
    facet_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def search(queried: Sequence[Queried], request: Mapping[str, str]) -> dict[str, Any]:
    """Entries of one or more datasets, filtered, ordered and paged, with facet counts. Several datasets are merged
    in Python from each one's first `page * pagesize` entries, so a deep page of several is refused."""
    query, kept = _search_query(queried, request)
    merging = len(queried) > 1
    total, hits, counts = 0, [], [Counter[str]() for _ in query.facets]
    for index, (cube, path) in enumerate(kept):
        filters, values = _search_where(cube, query.filters)
        total += _int(run(f"SELECT count(*) FROM {SOURCE}{filters}", [str(path), *values]).rows[0][0])
        hits += [(index, *hit) for hit in _entries(cube, path, query, merging)]
        for facet, counted in zip(query.facets, counts, strict=True):
            counted.update(_facet(cube, path, facet, query, merging))
    if merging:
        hits = _merged(hits, query)[query.offset : query.offset + query.size]
    first = (query.facet_page - 1) * query.facet_size
    facets = {
        facet: [[value, n] for value, n in sorted(counted.items(), key=lambda item: (-item[1], item[0]))][
            first : first + query.facet_size
        ]
        for facet, counted in zip(query.facets, counts, strict=True)
    }
    results = [entry for _, _, _, entry in hits]
    return {
        "stats": {"results_count_query": total, "results_count": len(results)},
        "facets": facets,
        "results": results,
    }


def _search_query(queried: Sequence[Queried], request: Mapping[str, str]) -> tuple[Search, list[Queried]]:
    """The parameters, checked against the datasets searched, and the datasets a `dataset` filter or `category`
    keeps."""
    if text(request, "q").strip() not in FULL_TEXT:
        raise LegacyError("q: full-text search is not offered here; select entries with filter=field:value")
    json_only(request)
    filters = pairs(text(request, "filter"), "filter")
    names = [*filters.pop(DATASET, []), *filters.pop("dataset.name", [])]
    sort = order(text(request, "order"))
    facets = list(dict.fromkeys(split(text(request, "facet_field"))))
    for key in [*filters, *(key for key, _ in sort), *facets]:
        if key not in DATASET_FIELDS and all(cube.value(key) is None for cube, _ in queried):
            raise LegacyError(f"{key[:200]!r} is not a field of the datasets searched")
    if not sort and any("amount" in cube.measures for cube, _ in queried):
        sort = [("amount", True)]  # the legacy default, less Solr's relevance score
    query = Search(
        filters=filters,
        order=sort,
        facets=facets,
        page=max(1, number(request, "page", 1)),
        size=number(request, "pagesize", min(SEARCH_PAGE_SIZE, settings.API_MAX_PAGE_SIZE)),
        facet_page=max(1, number(request, "facet_page", 1)),
        facet_size=min(MAX_FACET_PAGE_SIZE, number(request, "facet_pagesize", MAX_FACET_PAGE_SIZE)),
    )
    if query.size > settings.API_MAX_PAGE_SIZE:
        raise LegacyError(f"pagesize: at most {settings.API_MAX_PAGE_SIZE}")
    if len(queried) > 1 and query.offset + query.size > settings.API_MAX_PAGE_SIZE:
        raise LegacyError(
            f"page: a search of several datasets reaches its first {settings.API_MAX_PAGE_SIZE} entries; "
            "search one dataset for the entries beyond"
        )
    category = text(request, "category").strip()
    kept = [
        (cube, path)
        for cube, path in queried
        if (not category or cube.dataset["category"] == category) and (not names or cube.name in names)
    ]
    return query, kept


def _search_where(cube: LegacyCube, filters: Mapping[str, list[str]]) -> tuple[str, list[object]]:
    """A filter on a field this dataset lacks matches none of its entries (Solr's missing field)."""
    clauses: list[tuple[str, list[object]]] = []
    for key, wanted in filters.items():
        value = cube.value(key)
        clauses.append(condition(value, wanted) if value is not None else ("FALSE", []))
    return where(clauses)


def _order_value(cube: LegacyCube, key: str) -> str | None:
    value = cube.value(key)
    return value.shown if value is not None else None


def _entries(
    cube: LegacyCube, path: Path, query: Search, merging: bool
) -> list[tuple[int, list[object], dict[str, Any]]]:
    """This dataset's page (or, when merging, its first `page * pagesize`): (row, order values, entry)."""
    layout = [(name, shape) for name, shape in cube.dimensions.items()]
    columns = [value for _, shape in layout for value in (shape.values() if isinstance(shape, dict) else [shape])]
    order_sql = [_order_value(cube, key) for key, _ in query.order]
    selected = [f"{value.shown} AS e{n}" for n, value in enumerate(columns)]
    selected += [f"{sql or 'NULL'} AS o{n}" for n, sql in enumerate(order_sql)]
    terms = [
        f"o{n} {direction(desc)}" for n, (sql, (_, desc)) in enumerate(zip(order_sql, query.order, strict=True)) if sql
    ]
    filters, values = _search_where(cube, query.filters)
    limit, offset = (query.offset + query.size, 0) if merging else (query.size, query.offset)
    rows = run(
        f"SELECT {', '.join(selected)}, file_row_number AS r FROM {SOURCE}{filters} "
        f"ORDER BY {', '.join([*terms, 'r ASC'])} LIMIT ? OFFSET ?",
        [str(path), *values, limit, offset],
    ).dicts()
    found = []
    for row in rows:
        ordered = [cube.name if key in DATASET_FIELDS else row[f"o{n}"] for n, (key, _) in enumerate(query.order)]
        found.append((_int(row["r"]), ordered, _entry(cube, layout, [row[f"e{n}"] for n in range(len(columns))])))
    return found


def _entry(cube: LegacyCube, layout: list[tuple[str, Any]], values: list[object]) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    items = iter(values)
    for name, shape in layout:
        if isinstance(shape, dict):
            entry[name] = {**{attribute: json_value(next(items)) for attribute in shape}, "html_url": cube.page_url}
        else:
            entry[name] = json_value(next(items))
    return {**entry, "html_url": cube.page_url, "dataset": cube.dataset}


def _merged(hits: list[Any], query: Search) -> list[Any]:
    """Several datasets' entries in one order: stable sorts from the last key to the first, from the datasets' order
    and each one's row order, as the legacy code sorted."""
    hits.sort(key=lambda hit: (hit[0], hit[1]))
    for n, (_, descending) in reversed(list(enumerate(query.order))):
        hits.sort(key=partial(_hit_key, n), reverse=descending)
    return hits


def _hit_key(n: int, hit: tuple[int, int, list[object], object]) -> tuple[int, Any]:
    return sort_key(hit[2][n])


def _facet(cube: LegacyCube, path: Path, key: str, query: Search, merging: bool) -> Counter[str]:
    """The count of entries per value of `key`: exact for one dataset; when merging, of each one's commonest values
    (API_MAX_PAGE_SIZE of them)."""
    filters, values = _search_where(cube, query.filters)
    if key in DATASET_FIELDS:
        counted = _int(run(f"SELECT count(*) FROM {SOURCE}{filters}", [str(path), *values]).rows[0][0])
        return Counter({cube.name: counted} if counted else {})
    value = cube.value(key)
    if value is None:
        return Counter()
    column = value.shown if value.text else f"CAST({value.sql} AS VARCHAR)"
    present = f"{filters} AND {column} IS NOT NULL" if filters else f" WHERE {column} IS NOT NULL"
    limit = settings.API_MAX_PAGE_SIZE if merging else query.facet_page * query.facet_size
    rows = run(
        f"SELECT {column} AS v, count(*) AS n FROM {SOURCE}{present} GROUP BY 1 ORDER BY n DESC, v ASC LIMIT ?",
        [str(path), *values, limit],
    ).rows
    return Counter({str(v): _int(n) for v, n in rows})


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) else 0
