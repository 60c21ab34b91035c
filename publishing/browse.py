"""Searching and filtering the list of packages, with a count for every filter value.

The filterable columns are small (country, currency, category, years), so one query reads them for every package
matching the text search and the rest happens here: the year filter works the same on SQLite and PostgreSQL (a JSON
list), and each facet counts what would match if only its own filter changed (the usual faceted-search rule).

The text is looked for in what a visitor sees of a package, not only its title: its description, legacy name and
category, the name of its country (packages store the code) and the name of its publisher (conversion/organisations.py,
the organisation data.json names). Names looked up match at the start of a word, as a visitor types them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from django.db.models import Q, QuerySet
from django.http import QueryDict

from conversion.organisations import Publishers
from publishing.countries import codes_named
from publishing.discovery import catalog_publishers
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
        values = {name: _printable(query.get(name, ""))[:200] for name in ("q", *FACETS)}
        sort = query.get("sort", "title")
        return cls(**values, sort=sort if sort in SORTS else "title")

    def selected(self, facet: str) -> str:
        return str(getattr(self, facet))

    @property
    def active(self) -> bool:
        return bool(self.q or any(self.selected(facet) for facet in FACETS))


def _printable(text: str) -> str:
    """Without control characters: PostgreSQL refuses a NUL in a query (a 500), and no title holds one."""
    return _CONTROLS.sub("", text).strip()


_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Result:
    ids: list[int]  # matching packages, in display order
    facets: dict[str, list[FacetValue]]


def search(filters: Filters, publishers: Publishers | None = None) -> Result:
    """`publishers`: who publishes each owner's packages, which the text also searches (default: as they are now)."""
    rows = [_Row.of(*values) for values in _matching_text(filters, publishers).values_list(*_COLUMNS)]
    ids = [row.pk for row in rows if row.matches(filters)]
    return Result(ids=ids, facets={facet: _counts(rows, filters, facet) for facet in FACETS})


_COLUMNS = ("pk", "country", "currency", "category", "years")


def _matching_text(filters: Filters, publishers: Publishers | None) -> QuerySet[PublishedPackage]:
    packages = PublishedPackage.objects.published().order_by(*SORTS[filters.sort])
    if filters.q:
        packages = packages.filter(text_matches(filters.q, publishers or catalog_publishers()))
    return packages


def text_matches(q: str, publishers: Publishers) -> Q:
    """Packages whose title, description, legacy name, category, country's name or publisher contains `q`."""
    text = Q(title__icontains=q) | Q(description__icontains=q) | Q(legacy_name__icontains=q)
    return text | Q(category__icontains=q) | Q(country__in=codes_named(q)) | _published_by(q, publishers)


def _published_by(q: str, publishers: Publishers) -> Q:
    """Packages whose publisher's name has a word starting with `q`: the owners of a matching organisation, and every
    owner in no organisation when the site's own publisher (the default organisation, else PUBLIC_PUBLISHER_NAME)
    matches. At a word's start only: a publisher names many packages, and "spending" must not find every package
    of "OpenSpending"."""
    at_word_start = re.compile(rf"(?<!\w){re.escape(q)}", re.IGNORECASE)
    owners = [owner for owner, publisher in publishers.by_owner.items() if at_word_start.search(publisher.name)]
    found = Q(owner__in=owners)
    if at_word_start.search(publishers.site().name):
        found |= ~Q(owner__in=list(publishers.by_owner))
    return found


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
