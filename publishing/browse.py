"""Searching and filtering the list of packages, with a count for every filter value.

The filterable columns are small (country, currency, category, years), so one query reads them for every package
matching the text search and the rest happens here: the year filter works the same on SQLite and PostgreSQL (a JSON
list), and each facet counts what would match if only its own filter changed (the usual faceted-search rule).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal

from django.db.models import Q, QuerySet
from django.http import QueryDict

from publishing.models import PublishedPackage

FACETS = ("country", "currency", "category", "year")
SORTS = {"title": ("title", "owner", "name"), "newest": ("-modified_at", "-pk")}
Facet = Literal["country", "currency", "category", "year"]


@dataclass(frozen=True)
class Filters:
    q: str
    country: str
    currency: str
    category: str
    year: str
    sort: str

    @classmethod
    def from_query(cls, query: QueryDict) -> Filters:
        values = {name: query.get(name, "").strip()[:200] for name in ("q", *FACETS)}
        sort = query.get("sort", "title")
        return cls(**values, sort=sort if sort in SORTS else "title")

    def selected(self, facet: str) -> str:
        return str(getattr(self, facet))

    @property
    def active(self) -> bool:
        return bool(self.q or any(self.selected(facet) for facet in FACETS))


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Result:
    ids: list[int]  # matching packages, in display order
    facets: dict[str, list[FacetValue]]


def search(filters: Filters) -> Result:
    rows = [_Row.of(*values) for values in _matching_text(filters).values_list(*_COLUMNS)]
    ids = [row.pk for row in rows if row.matches(filters)]
    return Result(ids=ids, facets={facet: _counts(rows, filters, facet) for facet in FACETS})


_COLUMNS = ("pk", "country", "currency", "category", "years")


def _matching_text(filters: Filters) -> QuerySet[PublishedPackage]:
    packages = PublishedPackage.objects.published().order_by(*SORTS[filters.sort])
    if filters.q:
        text = Q(title__icontains=filters.q) | Q(description__icontains=filters.q)
        packages = packages.filter(text | Q(legacy_name__icontains=filters.q))
    return packages


@dataclass(frozen=True)
class _Row:
    pk: int
    values: dict[str, frozenset[str]]

    @classmethod
    def of(cls, pk: int, country: str, currency: str, category: str, years: object) -> _Row:
        year_values = frozenset(str(year) for year in years) if isinstance(years, list) else frozenset()
        values = {"country": {country}, "currency": {currency}, "category": {category}, "year": year_values}
        return cls(pk, {name: frozenset(v for v in found if v) for name, found in values.items()})

    def matches(self, filters: Filters, ignoring: str = "") -> bool:
        return all(
            not filters.selected(facet) or filters.selected(facet) in self.values[facet]
            for facet in FACETS
            if facet != ignoring
        )


def _counts(rows: list[_Row], filters: Filters, facet: str) -> list[FacetValue]:
    counts = Counter(value for row in rows if row.matches(filters, ignoring=facet) for value in row.values[facet])
    selected = filters.selected(facet)
    if selected and selected not in counts:
        counts[selected] = 0  # keep the chosen value visible (and removable) even when nothing matches
    order = sorted(counts, reverse=facet == "year")
    return [FacetValue(value, counts[value], value == selected) for value in order]
