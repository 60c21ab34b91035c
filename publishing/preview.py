"""What the package page shows of the data itself: its rows, twenty at a time, and its top ten (top_members.py), both
read with the read API's queries (publishing/api/) over the package's Parquet copy, so the page shows what
`/api/3/cubes/<owner>:<dataset>/facts` answers, and links to it.

The page is a cached document (views.package): its `rows` parameter is part of its validators, so page 2 is never
served as page 1. A query that failed for now (past API_QUERY_TIMEOUT_SECONDS, or a Parquet copy missing from the
store) must not be remembered under those validators, which would name the failure until the package changes:
`conditional_page` serves such a page without validators and uncached, and the next request tries again. The page
links only `?rows=N`, never the rest of the query string a visitor sent, since the body is shared by everyone who
asks for the same rows.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import duckdb
from django.core.paginator import Page
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse

from migration_site.lib.jsondata import as_dict, dicts_in
from publishing.api import cubes
from publishing.api.cache import CacheError, local_copy, parquet_of
from publishing.api.engine import QueryTimeout
from publishing.api.model import CubeModel, cube_model
from publishing.caching import Validators, conditional, per_version
from publishing.models import PublishedPackage
from publishing.paging import paginate
from publishing.top_members import TopMembers, top_members
from publishing.totals import MAX_DECIMALS, amount

T = TypeVar("T")
logger = logging.getLogger(__name__)

PREVIEW_ROWS = 20
NO_PARQUET = "No preview: this package has no Parquet copy to read it from."
NOT_NOW = "The preview is not available now. Try again in a moment, or download the data."
NO_FIELDS = "No preview: the package's model describes none of its fields."
# What may fail for now: a slow query, the copy missing from the store or not matching its hash, a file or DuckDB
# error reading it. A failure is shown in the section; the rest of the page stands.
FAILURES = (QueryTimeout, CacheError, duckdb.Error, OSError)
_PAGE_NUMBER = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class Cube:
    model: CubeModel
    path: Path  # the local Parquet copy


@dataclass(frozen=True)
class Heading:
    title: str  # the package's field title (its name when it has none)
    field: str
    numeric: bool  # right-aligned


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool


@dataclass(frozen=True)
class RowsPage:
    headings: list[Heading]
    rows: list[list[Cell]]
    page: Page[int]  # of range(total): numbers, first and last row shown
    notice: str  # a page asked for that does not exist: what was shown instead
    total: int
    api_url: str  # the same rows from the read API
    left_out: list[str]  # fields the model does not describe, which the API (and so the preview) cannot show


@dataclass(frozen=True)
class DataSections:
    rows: RowsPage | None
    rows_problem: str  # why there are no rows to show
    top: TopMembers | None
    top_problem: str  # set only when the top ten failed; a package without one just has no such section
    failed_now: bool  # a query failed for now: the page must not be cached


def package_data(package: PublishedPackage, requested: str | None) -> DataSections:
    descriptor: Mapping[str, Any] = package.descriptor if isinstance(package.descriptor, dict) else {}
    try:
        cube = open_cube(package, descriptor)
    except FAILURES as failure:
        _log(package, failure)
        return DataSections(None, NOT_NOW, None, "", failed_now=True)
    if cube is None:
        return DataSections(None, NO_PARQUET, None, "", failed_now=False)
    rows, rows_failed = _attempt(package, lambda: rows_page(cube, package, descriptor, requested))
    top, top_failed = _attempt(package, lambda: remembered_top(package, cube, descriptor))
    return DataSections(
        rows=rows,
        rows_problem=NOT_NOW if rows_failed else ("" if rows else NO_FIELDS),
        top=top,
        top_problem=NOT_NOW if top_failed else "",
        failed_now=rows_failed or top_failed,
    )


def open_cube(package: PublishedPackage, descriptor: Mapping[str, Any]) -> Cube | None:
    """The package's cube and its local Parquet copy (fetched from the store when missing); None without a copy."""
    parquet = parquet_of(package.owner, package.name, descriptor)
    if parquet is None:
        return None
    return Cube(cube_model(f"{package.owner}:{package.name}", descriptor), local_copy(parquet))


def rows_page(
    cube: Cube, package: PublishedPackage, descriptor: Mapping[str, Any], requested: str | None
) -> RowsPage | None:
    """The page of rows asked for by `?rows=N`: past the end the last page, junk the first, each with a notice."""
    headings, refs, left_out = _columns(cube.model, descriptor)
    if not refs:
        return None
    asked = _asked_page(requested)
    answer = _facts(cube, refs, asked)
    paged = paginate(range(int(answer["total_fact_count"])), requested, PREVIEW_ROWS)
    if paged.page.number != asked:  # the page asked for does not exist: the one shown instead
        answer = _facts(cube, refs, paged.page.number)
    return RowsPage(
        headings=headings,
        rows=_cells(headings, refs, answer["data"], cube.model),
        page=paged.page,
        notice=paged.notice,
        total=paged.page.paginator.count,
        api_url=facts_url(package, paged.page.number),
        left_out=left_out,
    )


def remembered_top(package: PublishedPackage, cube: Cube, descriptor: Mapping[str, Any]) -> TopMembers | None:
    """The top ten, worked out once per package version rather than once per page of rows; a failure is not kept."""
    key = f"top-members:{package.owner}/{package.name}:{package.descriptor_sha256}"
    return per_version(key, lambda: (top_members(cube.model, cube.path, descriptor),), size=8_000)[0]


def facts_url(package: PublishedPackage, page: int) -> str:
    cube = reverse("publishing:api_facts", kwargs={"cube": f"{package.owner}:{package.name}"})
    return f"{cube}?page={page}&pagesize={PREVIEW_ROWS}"


def _facts(cube: Cube, refs: list[str], page: int) -> dict[str, Any]:
    query = {"fields": ",".join(refs), "page": str(page), "pagesize": str(PREVIEW_ROWS)}
    return cubes.facts(cube.model, cube.path, query)


def _columns(model: CubeModel, descriptor: Mapping[str, Any]) -> tuple[list[Heading], list[str], list[str]]:
    """The fields of the data file in its own order, with their titles, and the API reference that reads each."""
    resources = dicts_in(descriptor.get("resources"))
    fields = dicts_in(as_dict(resources[0].get("schema")).get("fields")) if resources else []
    headings, refs, left_out = [], [], []
    for item in fields:
        name = str(item.get("name", ""))
        ref = model.fields.get(name)
        column = model.column(ref) if ref else None
        if ref is None or column is None:
            left_out.append(name)
            continue
        headings.append(Heading(str(item.get("title") or name), name, column.datatype in ("integer", "number")))
        refs.append(ref)
    return headings, refs, left_out


def _cells(headings: list[Heading], refs: list[str], data: list[dict[str, Any]], model: CubeModel) -> list[list[Cell]]:
    """Measures as the page writes amounts (grouped, as many decimals as the column has on this page); other values
    as they are (a year or a code is not grouped)."""
    places = {ref: _places([row.get(ref) for row in data]) for ref in refs if ref in model.measures}
    return [
        [
            Cell(_cell_text(row.get(ref), places.get(ref)), heading.numeric)
            for heading, ref in zip(headings, refs, strict=True)
        ]
        for row in data
    ]


def _cell_text(value: object, places: int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if places is not None and isinstance(value, int | float):
        return amount(_decimal(value), places)
    return str(value)


def _places(values: list[object]) -> int:
    """The decimals the column's values need: a double holds no trailing zeros, so 1500.0 needs none."""
    written = [
        max(0, -int(_decimal(v).normalize().as_tuple().exponent))
        for v in values
        if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    return min(max(written, default=0), MAX_DECIMALS)


def _decimal(value: int | float) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _asked_page(requested: str | None) -> int:
    text = (requested or "").strip()
    return max(int(text), 1) if _PAGE_NUMBER.fullmatch(text) else 1


def _attempt(package: PublishedPackage, compute: Callable[[], T]) -> tuple[T | None, bool]:
    """What `compute` gives, or None and True when it failed for now."""
    try:
        return compute(), False
    except FAILURES as failure:
        _log(package, failure)
        return None, True


def _log(package: PublishedPackage, failure: Exception) -> None:
    logger.warning("package page %s/%s: the data could not be read: %s", package.owner, package.name, failure)


# -- the page's caching -----------------------------------------------------------------------------------------------


class _FailedNow(Exception):
    """Carries a page whose data failed for now past `conditional`, which would otherwise cache and validate it."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__("the package's data could not be read now")
        self.response = response


def settled(response: HttpResponse, data: DataSections) -> HttpResponse:
    """The rendered page; raised past the cache instead when its data failed for now."""
    if data.failed_now:
        raise _FailedNow(response)
    return response


def conditional_page(
    request: HttpRequest, validators: Validators, build: Callable[[], HttpResponse]
) -> HttpResponseBase:
    """`conditional`, cached by the validators, except for a page whose data failed for now: served as it is, with
    no ETag or Last-Modified a client could send back and stored by no cache."""
    try:
        return conditional(request, validators, build, cache=True)
    except _FailedNow as failed:
        failed.response.headers["Cache-Control"] = "no-store"
        return failed.response
