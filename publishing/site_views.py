"""The public site's pages about itself: the registry and the feed explained for people, and what crawlers and
browsers ask of every site (robots.txt, sitemap.xml, the icon).

Like the rest of the site (views.py) they read packages through `published()` only, and every page that depends on
the catalogue answers conditional requests from its validators before rendering anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_safe

from migration_site.lib.jsondata import iso
from publishing import feeds
from publishing.caching import Stamp
from publishing.links import absolute, package_url
from publishing.models import PublishedPackage
from publishing.paging import paginate
from publishing.views import PAGE_SIZE, _catalog_document

FAVICON = Path(__file__).resolve().parent / "static" / "publishing" / "favicon.svg"
# Paths no crawler needs: the back office and the job dashboard (both behind a login anyway).
DISALLOWED = ("/admin/", "/django-rq/")
# Pages of the site itself in the sitemap, beside one entry per package.
SITE_PAGES = ("publishing:home", "publishing:registry", "publishing:bulk", "publishing:feeds")


@require_safe
def registry(request: HttpRequest) -> HttpResponseBase:
    return _catalog_document(request, "registry-page", lambda stamp: _registry_page(request, stamp))


def _registry_page(request: HttpRequest, stamp: Stamp) -> HttpResponse:
    # The rows of registry/packages.csv, read from the database the registry is rebuilt from.
    rows = PublishedPackage.objects.published().only("owner", "name", "title", "years").order_by("owner", "name")
    paged = paginate(rows, request.GET.get("page"), PAGE_SIZE)
    context = {"page": paged.page, "page_notice": paged.notice, "total": paged.page.paginator.count}
    return render(request, "publishing/registry.html", context)


@require_safe
def feeds_page(request: HttpRequest) -> HttpResponseBase:
    size = feeds.subscription_size()
    return _catalog_document(request, "feeds-page", lambda stamp: _feeds_page(request, stamp, size), size)


@dataclass(frozen=True)
class _Archive:
    month: str  # YYYY-MM, as in the archive's address
    count: int


def _feeds_page(request: HttpRequest, stamp: Stamp, size: int) -> HttpResponse:
    open_month = feeds.Month.of(stamp.latest_publication) if stamp.latest_publication else None
    context = {
        "feed_url": feeds.feed_url(),
        "subscription_size": size,
        "open_month": open_month,
        "archives": _archives(open_month),
    }
    return render(request, "publishing/feeds.html", context)


def _archives(open_month: feeds.Month | None) -> list[_Archive]:
    """The closed months, newest first, with how many packages each archive holds (feeds.archive_state's rule)."""
    if open_month is None:
        return []
    months = (
        PublishedPackage.objects.published()
        .filter(published_at__lt=open_month.start)
        .annotate(month=TruncMonth("published_at"))
        .values("month")
        .annotate(count=Count("pk"))
        .order_by("-month")
    )
    return [_Archive(str(feeds.Month.of(row["month"])), row["count"]) for row in months]


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOWED), "Allow: /", ""]
    lines.append(f"Sitemap: {absolute(reverse('publishing:sitemap'))}")
    return _public(HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8"))


@require_safe
def sitemap(request: HttpRequest) -> HttpResponseBase:
    """Every published package page, with the day it last changed, and the site's own pages. The sitemap protocol
    takes 50,000 URLs per file: past that it would need a sitemap index (the legacy platform had a few thousand)."""
    return _catalog_document(request, "sitemap", _sitemap_document)


def _sitemap_document(stamp: Stamp) -> HttpResponse:
    pages = [(absolute(reverse(name)), iso(stamp.last_modified)) for name in SITE_PAGES]
    packages = PublishedPackage.objects.published().only("owner", "name", "modified_at").order_by("owner", "name")
    entries = [*pages, *((package_url(package), iso(package.modified_at)) for package in packages)]
    body = render_to_string("publishing/sitemap.xml", {"entries": entries})
    return HttpResponse(body, content_type="application/xml; charset=utf-8")


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers and feed readers ask for whatever the page links: the site's SVG icon itself."""
    return _public(HttpResponse(_favicon_bytes(), content_type="image/svg+xml"), seconds=86400)


@cache
def _favicon_bytes() -> bytes:
    return FAVICON.read_bytes()


def _public(response: HttpResponse, *, seconds: int | None = None) -> HttpResponse:
    response.headers["Cache-Control"] = (
        f"public, max-age={settings.PUBLIC_CACHE_SECONDS if seconds is None else seconds}"
    )
    return response
