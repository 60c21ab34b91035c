"""`/api/2/search` and `/api/2/aggregate` over the static cube rows: the Solr and SQL sides of the legacy API."""

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from datasets.sample_legacy.documents import dataset_as_dict, entry_document
from datasets.sample_legacy.instance import SampleDataset

STREAMING_PAGESIZE = 100  # above this the legacy app streamed all requested rows in one response


class QueryError(ValueError):
    """A parameter problem the legacy API answered with HTTP 400 and `{"errors": [...]}`."""


@dataclass(frozen=True)
class SearchParams:
    dataset_names: list[str]
    page: int
    pagesize: int
    order: list[tuple[str, bool]]  # (field, descending)
    filters: dict[str, list[str]]
    facet_fields: list[str]
    facet_pagesize: int

    @property
    def streamed(self) -> bool:
        return self.pagesize > STREAMING_PAGESIZE

    def as_legacy_dict(self) -> dict[str, Any]:
        """What the legacy streaming code put into `stats.results_count` by mistake."""
        return {
            "q": "*:*",
            "dataset": self.dataset_names,
            "page": self.page,
            "pagesize": self.pagesize,
            "order": [[field, "desc" if descending else "asc"] for field, descending in self.order],
            "filter": self.filters,
            "facet_field": self.facet_fields,
            "facet_page": 1,
            "facet_pagesize": self.facet_pagesize,
            "stats": False,
        }


def parse_search(params: Mapping[str, str]) -> SearchParams:
    return SearchParams(
        dataset_names=_split(params.get("dataset", "")),
        page=max(1, int(_number(params.get("page", "1"), "page"))),
        pagesize=_non_negative(params.get("pagesize", "100"), "pagesize"),
        order=_parse_order(params.get("order", "")) or [("amount", True)],
        filters=_parse_pairs(params.get("filter", "")),
        facet_fields=_split(params.get("facet_field", "")),
        facet_pagesize=min(100, _non_negative(params.get("facet_pagesize", "100"), "facet_pagesize")),
    )


def search(datasets: Sequence[SampleDataset], params: SearchParams, base_url: str) -> dict[str, Any]:
    """Filter, facet, order and page the entries of the given (already permission-checked) datasets."""
    hits = [
        {**entry_document(dataset, row, base_url), "dataset": dataset_as_dict(dataset, base_url)}
        for dataset in datasets
        for row in dataset.entries
    ]
    hits = [hit for hit in hits if _matches(hit, params.filters)]
    facets = {field: _facet_counts(hits, field)[: params.facet_pagesize] for field in params.facet_fields}
    _sort(hits, params.order, _lookup)
    start = (params.page - 1) * params.pagesize
    page = hits[start : start + params.pagesize]
    count: Any = params.as_legacy_dict() if params.streamed else len(page)
    return {"stats": {"results_count_query": len(hits), "results_count": count}, "facets": facets, "results": page}


def aggregate(dataset: SampleDataset, params: Mapping[str, str], base_url: str) -> dict[str, Any]:
    """Sum the measures over the cube rows, grouped by the drilldowns, like `Dataset.aggregate` did in SQL."""
    if "time" not in dataset.mapping:
        raise QueryError("Dataset has no time dimension, which is required for aggregation")
    measures = _split(params.get("measure", "amount"))
    for measure in measures:
        if measure not in dataset.measures():
            raise QueryError(f"No measure named {measure!r} in this dataset")
    drilldowns = _split(params.get("drilldown", ""))
    rows = [entry_document(dataset, row, base_url) for row in dataset.entries]
    rows = [row for row in rows if _matches_cuts(row, _parse_pairs(params.get("cut", "")))]
    cells = _cells(rows, drilldowns, measures)
    order = _parse_order(params.get("order", "")) or [(measures[0], True)]
    _sort(cells, order, lambda cell, field: cell.get(field))
    page = max(1, int(_number(params.get("page", "1"), "page")))
    pagesize = max(1, _non_negative(params.get("pagesize", "10000"), "pagesize"))
    summary: dict[str, Any] = {measure: sum(float(row[measure]) for row in rows) for measure in measures}
    summary.update(
        num_entries=len(rows),
        currency={measure: dataset.row.get("currency") for measure in measures},
        num_drilldowns=len(cells),
        page=page,
        pages=max(1, -(-len(cells) // pagesize)),
        pagesize=pagesize,
    )
    return {"drilldown": cells[(page - 1) * pagesize : page * pagesize], "summary": summary}


def _cells(rows: list[dict[str, Any]], drilldowns: list[str], measures: list[str]) -> list[dict[str, Any]]:
    cells: dict[str, dict[str, Any]] = {}
    for row in rows:
        values = {drilldown: _drilldown_value(row, drilldown) for drilldown in drilldowns}
        cell = cells.setdefault(
            json.dumps(values, sort_keys=True), {**values, **dict.fromkeys(measures, 0.0), "num_entries": 0}
        )
        for measure in measures:
            cell[measure] += float(row[measure])
        cell["num_entries"] += 1
    return list(cells.values())


def _drilldown_value(row: dict[str, Any], drilldown: str) -> Any:
    if drilldown in ("year", "month"):
        return row["time"]["year" if drilldown == "year" else "yearmonth"]
    dimension, _, attribute = drilldown.partition(".")
    if dimension not in row or dimension in ("id", "html_url"):
        raise QueryError(f"Invalid drilldown: {drilldown!r} is not a dimension")
    value = row[dimension]
    if attribute:
        if not isinstance(value, dict) or attribute not in value:
            raise QueryError(f"Invalid drilldown: {drilldown!r} is not an attribute")
        return value[attribute]
    return value


def _matches_cuts(row: dict[str, Any], cuts: dict[str, list[str]]) -> bool:
    """Repeating a key ORs its values; different keys AND."""
    for key, values in cuts.items():
        field = {"year": "time.year", "month": "time.yearmonth"}.get(key, key)
        if str(_lookup(row, field)) not in values:
            return False
    return True


def _matches(hit: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    return all(str(_lookup(hit, field)) in values for field, values in filters.items())


def _facet_counts(hits: list[dict[str, Any]], field: str) -> list[list[Any]]:
    counts: dict[str, int] = {}
    for hit in hits:
        value = _lookup(hit, field)
        if value is not None:
            counts[str(value)] = counts.get(str(value), 0) + 1
    return [[value, count] for value, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def _lookup(document: dict[str, Any], field: str) -> Any:
    """Solr-style field names: `from.name`, `time.year`; a bare compound (or `dataset`) means its name."""
    value: Any = document
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value.get("name") if isinstance(value, dict) else value


def _sort(
    items: list[dict[str, Any]], order: list[tuple[str, bool]], lookup: Callable[[dict[str, Any], str], Any]
) -> None:
    """Stable sorts from the last order key to the first give a multi-key order with mixed directions."""
    for field, descending in reversed(order):

        def key(item: dict[str, Any], field: str = field) -> tuple[int, Any]:
            return _sort_key(lookup(item, field))

        items.sort(key=key, reverse=descending)


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool) or value is None:
        return (2, "")
    if isinstance(value, int | float):
        return (0, float(value))
    return (1, str(value))


def _parse_order(text: str) -> list[tuple[str, bool]]:
    order = []
    for part in _split(text.replace(",", "|")):
        field, _, direction = part.strip().partition(":")
        order.append((field.strip(), direction.strip().lower() == "desc"))
    return order


def _parse_pairs(text: str) -> dict[str, list[str]]:
    pairs: dict[str, list[str]] = {}
    for part in _split(text):
        key, separator, value = part.partition(":")
        if not separator:
            raise QueryError(f"Wrong format: {part!r} must be field:value")
        pairs.setdefault(key.strip(), []).append(value.strip())
    return pairs


def _split(text: str) -> list[str]:
    return [part for part in text.split("|") if part.strip()]


def _number(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise QueryError(f"{name} must be a number, not {text!r}") from None


def _non_negative(text: str, name: str) -> int:
    value = int(_number(text, name))
    if value < 0:
        raise QueryError(f"{name} must not be negative")
    return value
