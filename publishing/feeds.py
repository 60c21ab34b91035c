"""The updates feed: Atom (RFC 4287) archived by month (RFC 5005 §4).

Written with feedgen. feedgen 1.0.0 drops rel/type/length from every entry link (lkiesow/python-feedgen#135,
research stack-notes.md §6), so an entry extension here writes the entries' links itself, and a feed extension adds
RFC 5005's namespace and `fh:archive`.

The logical feed is a subscription document plus monthly archives, segmented by the month a package was first
published (`published_at`), which never changes, so a package never moves from one archive to another:
- the *open month* is the month of the newest publication; its packages are in the subscription document, together
  with the most recently modified packages (an updated package reappears there, as RFC 5005 §4 suggests, and
  consumers keep the newest copy of an entry);
- every earlier month with publications is an archive document (`fh:archive`, `current`, `prev-archive`,
  `next-archive`), whose set of entries does not change once the month is closed. Only a withdrawal removes an entry:
  privacy comes first, so archives are revalidated like every other document rather than cached forever.

Each entry states the period its package covers (the descriptor's `fiscalPeriod`, which comes from the data's dates):
in words at the end of its summary, and as a DCMI Period in `dcterms:temporal` for programs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Min, Q, QuerySet, Subquery, Sum
from django.db.models.fields.json import KeyTransform
from django.urls import reverse
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from publishing.caching import EPOCH, Stamp, etag_of
from publishing.discovery import period, site_publisher
from publishing.links import absolute, data_files, package_url
from publishing.models import PublishedPackage

FH = "http://purl.org/syndication/history/1.0"
DCTERMS = "http://purl.org/dc/terms/"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, moment: datetime) -> Month:
        moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)

    @classmethod
    def parse(cls, text: str) -> Month | None:
        year, _, month = text.partition("-")
        if not (len(year) == 4 and year.isdigit() and len(month) == 2 and month.isdigit() and 1 <= int(month) <= 12):
            return None
        return cls(int(year), int(month))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return Month(self.year + self.month // 12, self.month % 12 + 1).start


def feed_url() -> str:
    return absolute(reverse("publishing:feed"))


def archive_url(month: Month) -> str:
    return absolute(reverse("publishing:feed_archive", args=[str(month)]))


def subscription_size() -> int:
    return settings.FEED_SUBSCRIPTION_SIZE


# -- the two kinds of document ---------------------------------------------------------------------------------------


def subscription_entries(open_month: Month | None) -> QuerySet[PublishedPackage]:
    """Everything first published in the open month, plus the most recently modified packages."""
    published = PublishedPackage.objects.published()
    newest = published.order_by("-modified_at", "-pk").values("pk")[: subscription_size()]
    wanted = Q(pk__in=Subquery(newest))
    if open_month:
        wanted |= Q(published_at__gte=open_month.start)
    return published.filter(wanted).order_by("-modified_at", "-pk")


def subscription_document(stamp: Stamp) -> bytes:
    open_month = Month.of(stamp.latest_publication) if stamp.latest_publication else None
    previous = _newest_archive(open_month) if open_month else None
    links = [("prev-archive", archive_url(previous))] if previous else []
    return _atom(
        self_url=feed_url(),
        updated=stamp.last_modified,
        history_links=links,
        archive=False,
        packages=subscription_entries(open_month),
    )


@dataclass(frozen=True)
class ArchiveState:
    """What an archive document depends on, read in one query so a 304 costs one query too."""

    month: Month
    newest: datetime | None
    count: int
    id_sum: int
    previous: Month | None
    following: Month | None
    open_month: Month | None

    @property
    def exists(self) -> bool:
        # Only closed months are archives: the open month's packages are in the subscription document.
        return self.count > 0 and self.open_month is not None and self.month < self.open_month

    @property
    def etag(self) -> str:
        return etag_of("archive", str(self.month), self.newest, self.count, self.id_sum, self.previous, self.following)

    @property
    def last_modified(self) -> datetime:
        return self.newest or EPOCH


def archive_state(month: Month) -> ArchiveState:
    inside = Q(published_at__gte=month.start, published_at__lt=month.end)
    row = PublishedPackage.objects.published().aggregate(
        newest=Max("modified_at", filter=inside),
        count=Count("pk", filter=inside),
        id_sum=Sum("pk", filter=inside),
        previous=Max("published_at", filter=Q(published_at__lt=month.start)),
        following=Min("published_at", filter=Q(published_at__gte=month.end)),
        latest=Max("published_at"),
    )
    open_month = Month.of(row["latest"]) if row["latest"] else None
    following = Month.of(row["following"]) if row["following"] else None
    return ArchiveState(
        month=month,
        newest=row["newest"],
        count=row["count"],
        id_sum=row["id_sum"] or 0,
        previous=Month.of(row["previous"]) if row["previous"] else None,
        following=following if following and open_month and following < open_month else None,
        open_month=open_month,
    )


def archive_document(state: ArchiveState) -> bytes:
    links = [("current", feed_url())]
    if state.previous:
        links.append(("prev-archive", archive_url(state.previous)))
    if state.following:
        links.append(("next-archive", archive_url(state.following)))
    month = state.month
    entries = PublishedPackage.objects.published().filter(published_at__gte=month.start, published_at__lt=month.end)
    return _atom(
        self_url=archive_url(month),
        updated=state.last_modified,
        history_links=links,
        archive=True,
        packages=entries.order_by("-published_at", "-pk"),
    )


def _newest_archive(open_month: Month) -> Month | None:
    earlier = PublishedPackage.objects.published().filter(published_at__lt=open_month.start)
    newest = earlier.aggregate(newest=Max("published_at"))["newest"]
    return Month.of(newest) if newest else None


# -- the Atom writer -------------------------------------------------------------------------------------------------


class _History(BaseExtension):
    """RFC 5005 at the feed level: the `fh` namespace, and `fh:archive` in an archive document."""

    def __init__(self) -> None:
        self.archive = False

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH, "dcterms": DCTERMS}

    def extend_atom(self, feed: Any) -> Any:
        if self.archive:
            xml_elem(f"{{{FH}}}archive", feed)
        return feed


class _Links(BaseEntryExtension):
    """An entry's links with all their attributes, in place of feedgen's href-only ones (python-feedgen#135); and
    the period its package covers, which Atom has no element for."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []
        self.period: tuple[str, str] | None = None

    def extend_atom(self, entry: Any) -> Any:
        for written in entry.findall("link"):
            entry.remove(written)
        for attributes in self.links:
            xml_elem("link", entry, **attributes)
        if self.period:
            start, end = self.period
            xml_elem(f"{{{DCTERMS}}}temporal", entry).text = f"start={start}; end={end}; scheme=W3C-DTF"
        return entry


def _atom(
    *,
    self_url: str,
    updated: datetime,
    history_links: list[tuple[str, str]],
    archive: bool,
    packages: QuerySet[PublishedPackage],
) -> bytes:
    """An Atom document of packages with its RFC 5005 links; deterministic bytes for the same packages."""
    feed = FeedGenerator()
    # One extension namespace for both: RFC 5005 on the feed, complete links on the entries.
    feed.register_extension("ours", _History, _Links, atom=True, rss=False)
    feed.ours.archive = archive
    feed.id(feed_url())  # one logical feed: the subscription document and its archives share the id
    feed.title("Migrated OpenSpending packages")
    feed.subtitle("Fiscal Data Packages migrated from the legacy OpenSpending platform.")
    feed.link(href=absolute(reverse("publishing:packages")), rel="alternate", type="text/html")
    for rel, href in [("self", self_url), *history_links]:
        feed.link(href=href, rel=rel, type="application/atom+xml")
    feed.updated(updated)
    feed.author(name=site_publisher())
    feed.language("en")
    # The descriptor stays in the database: only its period is read, as data.json does (discovery.catalog_packages).
    for package in packages.defer("descriptor").annotate(fiscal_period=KeyTransform("fiscalPeriod", "descriptor")):
        _entry(feed.add_entry(order="append"), package)
    return bytes(feed.atom_str(pretty=False, encoding="utf-8"))


def _entry(entry: Any, package: PublishedPackage) -> None:
    url = package_url(package)
    entry.id(url)
    entry.title(package.title or package.name)
    entry.updated(package.modified_at)
    entry.published(package.published_at)
    entry.author(name=package.owner)
    entry.link(href=url, rel="alternate")  # feedgen insists on one; _Links writes them all
    links = [{"rel": "alternate", "type": "text/html", "href": url}]
    files = data_files(package)
    own = [file for file in files if not file.is_parquet]  # package.bytes is their size, without the copies
    for file in files:
        attributes = {"rel": "enclosure", "type": file.mediatype, "href": file.url, "title": file.name}
        if own == [file] and package.bytes:
            attributes["length"] = str(package.bytes)
        links.append(attributes)
    entry.ours.links = links
    entry.ours.period = span = period(getattr(package, "fiscal_period", None))
    for term, facet in _categories(package):
        scheme = absolute(reverse("publishing:packages")) + f"?{facet}="
        entry.category(term=term, scheme=scheme, label=f"{facet}: {term}")
    stated = f"Period covered: {span[0]} to {span[1]}." if span else ""
    if summary := "\n\n".join(part for part in (package.description.strip(), stated) if part):
        entry.summary(summary, type="text")


def _categories(package: PublishedPackage) -> list[tuple[str, str]]:
    """A category per country and per category; the scheme + term is the URL of the matching list of packages."""
    return [(value, facet) for facet, value in (("country", package.country), ("category", package.category)) if value]
