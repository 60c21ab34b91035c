"""The updates feed: Atom (RFC 4287) archived by month (RFC 5005 §4).

Built on Django's own `Atom1Feed` rather than feedgen: feedgen 1.0.0 drops rel/type/length from every entry link
(lkiesow/python-feedgen#135, research stack-notes.md §6), and Django's writer lets us emit exactly the elements we
want with no extra dependency. Every element of the head and of the entries is written here, so the output is ours.

The logical feed is a subscription document plus monthly archives, segmented by the month a package was first
published (`published_at`), which never changes, so a package never moves from one archive to another:
- the *open month* is the month of the newest publication; its packages are in the subscription document, together
  with the most recently modified packages (an updated package reappears there, as RFC 5005 §4 suggests, and
  consumers keep the newest copy of an entry);
- every earlier month with publications is an archive document (`fh:archive`, `current`, `prev-archive`,
  `next-archive`), whose set of entries does not change once the month is closed. Only a withdrawal removes an entry:
  privacy comes first, so archives are revalidated like every other document rather than cached forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax.xmlreader import AttributesImpl

from django.conf import settings
from django.db.models import Count, Max, Min, Q, QuerySet, Subquery, Sum
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, rfc3339_date
from django.utils.xmlutils import SimplerXMLGenerator

from publishing.caching import EPOCH, Stamp, etag_of
from publishing.discovery import site_publisher
from publishing.links import absolute, data_files, package_url
from publishing.models import PublishedPackage

FH = "http://purl.org/syndication/history/1.0"
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
    return int(getattr(settings, "FEED_SUBSCRIPTION_SIZE", 50))


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
    feed = PackageFeed(self_url=feed_url(), updated=stamp.last_modified, history_links=links, archive=False)
    feed.add_packages(subscription_entries(open_month))
    return feed.writeString("utf-8").encode()


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
        newest=Max("modified_at", filter=inside), count=Count("pk", filter=inside), id_sum=Sum("pk", filter=inside),
        previous=Max("published_at", filter=Q(published_at__lt=month.start)),
        following=Min("published_at", filter=Q(published_at__gte=month.end)), latest=Max("published_at"),
    )  # fmt: skip
    open_month = Month.of(row["latest"]) if row["latest"] else None
    following = Month.of(row["following"]) if row["following"] else None
    return ArchiveState(
        month=month, newest=row["newest"], count=row["count"], id_sum=row["id_sum"] or 0,
        previous=Month.of(row["previous"]) if row["previous"] else None,
        following=following if following and open_month and following < open_month else None, open_month=open_month,
    )  # fmt: skip


def archive_document(state: ArchiveState) -> bytes:
    links = [("current", feed_url())]
    if state.previous:
        links.append(("prev-archive", archive_url(state.previous)))
    if state.following:
        links.append(("next-archive", archive_url(state.following)))
    month = state.month
    feed = PackageFeed(self_url=archive_url(month), updated=state.last_modified, history_links=links, archive=True)
    entries = PublishedPackage.objects.published().filter(published_at__gte=month.start, published_at__lt=month.end)
    feed.add_packages(entries.order_by("-published_at", "-pk"))
    return feed.writeString("utf-8").encode()


def _newest_archive(open_month: Month) -> Month | None:
    earlier = PublishedPackage.objects.published().filter(published_at__lt=open_month.start)
    newest = earlier.aggregate(newest=Max("published_at"))["newest"]
    return Month.of(newest) if newest else None


# -- the Atom writer -------------------------------------------------------------------------------------------------


class PackageFeed(Atom1Feed):
    """An Atom document of packages with RFC 5005 links; every element is written here, not by Django's defaults."""

    def __init__(self, *, self_url: str, updated: datetime, history_links: list[tuple[str, str]], archive: bool):
        super().__init__(
            title="Migrated OpenSpending packages",
            link=absolute(reverse("publishing:packages")),
            description="Fiscal Data Packages migrated from the legacy OpenSpending platform.",
            feed_url=self_url,
            feed_guid=feed_url(),  # one logical feed: the subscription document and its archives share the id
            author_name=site_publisher(),
            language="en",
        )
        self.updated = updated
        self.history_links = history_links
        self.archive = archive

    def add_packages(self, packages: QuerySet[PublishedPackage]) -> None:
        for package in packages.defer("descriptor"):
            self.add_item(
                title=package.title or package.name, link=package_url(package), description=package.description,
                unique_id=package_url(package), pubdate=package.published_at, updateddate=package.modified_at,
                author_name=package.owner, package=package,
            )  # fmt: skip

    def latest_post_date(self) -> datetime:
        # Django's default is now() for an empty feed, which would change the bytes on every request.
        return self.updated

    def root_attributes(self) -> dict[str, str]:
        return {**super().root_attributes(), "xmlns:fh": FH}

    def add_root_elements(self, handler: SimplerXMLGenerator) -> None:
        handler.addQuickElement("title", self.feed["title"])
        handler.addQuickElement("subtitle", self.feed["description"])
        handler.addQuickElement("link", "", {"rel": "alternate", "type": "text/html", "href": self.feed["link"]})
        for rel, href in [("self", self.feed["feed_url"]), *self.history_links]:
            handler.addQuickElement("link", "", {"rel": rel, "type": "application/atom+xml", "href": href})
        handler.addQuickElement("id", self.feed["id"])
        handler.addQuickElement("updated", rfc3339_date(self.latest_post_date()))
        _author(handler, self.feed["author_name"])
        if self.archive:
            handler.addQuickElement("fh:archive", "")

    def add_item_elements(self, handler: SimplerXMLGenerator, item: dict[str, Any]) -> None:
        package: PublishedPackage = item["package"]
        handler.addQuickElement("id", item["unique_id"])
        handler.addQuickElement("title", item["title"])
        handler.addQuickElement("updated", rfc3339_date(item["updateddate"]))
        handler.addQuickElement("published", rfc3339_date(item["pubdate"]))
        _author(handler, item["author_name"])
        handler.addQuickElement("link", "", {"rel": "alternate", "type": "text/html", "href": item["link"]})
        for file in data_files(package):
            attributes = {"rel": "enclosure", "type": "text/csv", "href": file.url, "title": file.name}
            if len(package.data_keys) == 1 and package.bytes:
                attributes["length"] = str(package.bytes)
            handler.addQuickElement("link", "", attributes)
        for term, facet in _categories(package):
            scheme = absolute(reverse("publishing:packages")) + f"?{facet}="
            handler.addQuickElement("category", "", {"term": term, "scheme": scheme, "label": f"{facet}: {term}"})
        if item["description"]:
            handler.addQuickElement("summary", item["description"], {"type": "text"})


def _author(handler: SimplerXMLGenerator, name: str) -> None:
    handler.startElement("author", AttributesImpl({}))
    handler.addQuickElement("name", name)
    handler.endElement("author")


def _categories(package: PublishedPackage) -> list[tuple[str, str]]:
    """A category per country and per category; the scheme + term is the URL of the matching list of packages."""
    return [(value, facet) for facet, value in (("country", package.country), ("category", package.category)) if value]
