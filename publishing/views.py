"""The public site: no login, GET and HEAD only, and every package read through `published()`.

Each view first works out its validators from one cheap query and answers conditional requests with a 304 before
doing any real work (rendering, storage reads). Files are streamed from storage through the site rather than
redirected to storage URLs: a presigned S3 URL stays valid after a package is withdrawn and names the bucket, while a
stream 404s the moment the package leaves `published()`. Files come from the public storage only (`public_storage()`);
the working storage, which holds private material, is never read here.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from itertools import groupby

from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponsePermanentRedirect,
)
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from conversion.organisations import Publishers
from datasets.names import dataset_name_problem
from publishing import bulk, discovery, feeds, legacy_links, preview
from publishing.browse import FACETS, Filters, search
from publishing.caching import (
    Stamp,
    Validators,
    VersionSeen,
    catalog_stamp,
    conditional,
    version_seen,
)
from publishing.links import find_data_file, package_path
from publishing.lookup import package_state, package_validators, published_package
from publishing.models import PublishedPackage
from publishing.pages import summary
from publishing.paging import paginate
from publishing.store import json_bytes, public_storage

PAGE_SIZE = 20
REGISTRY_DESCRIPTOR = "registry/datapackage.json"
REGISTRY_CSV = "registry/packages.csv"
BULK_PART = re.compile(r"(?P<name>.+)-part-(?P<part>[1-9][0-9]*)\.zip")


def _catalog_document(
    request: HttpRequest,
    kind: str,
    render_with: Callable[[Stamp], HttpResponseBase],
    *settings: object,
    cache: bool = True,
    seen: VersionSeen | None = None,
) -> HttpResponseBase:
    """A document that depends on the whole catalogue, on its own URL (query string included) and on `settings`;
    `cache=False` for one that also depends on files in storage (see caching.conditional)."""
    stamp = catalog_stamp(seen)
    validators = stamp.validators(kind, request.get_full_path(), *settings)
    return conditional(request, validators, lambda: render_with(stamp), cache=cache)


# -- pages ------------------------------------------------------------------------------------------------------------


@require_safe
def packages(request: HttpRequest) -> HttpResponseBase:
    filters = Filters.from_query(request.GET)
    if not filters.q:
        return _catalog_document(request, "packages", lambda stamp: _packages_page(request, stamp, filters, None))
    # The text also searches publishers' names, which change apart from the packages (as in data.json).
    seen = version_seen()
    by = discovery.catalog_publishers(seen)
    build = lambda stamp: _packages_page(request, stamp, filters, by)  # noqa: E731
    return _catalog_document(request, "packages", build, by.state, seen=seen)


def _packages_page(request: HttpRequest, stamp: Stamp, filters: Filters, by: Publishers | None) -> HttpResponse:
    result = search(filters, by)
    paged = paginate(result.ids, request.GET.get("page"), PAGE_SIZE)
    page = paged.page
    found = PublishedPackage.objects.published().defer("descriptor").in_bulk(list(page.object_list))
    context = {
        "filters": filters,
        "facets": [(name, result.facets[name]) for name in FACETS],
        "page": page,
        "page_notice": paged.notice,
        "packages": [found[pk] for pk in page.object_list if pk in found],
        "total": len(result.ids),
        "catalog_size": stamp.count,
        "is_home": request.path == "/",
    }
    return render(request, "publishing/packages.html", context)


@require_safe
def package(request: HttpRequest, owner: str, dataset: str) -> HttpResponseBase:
    rows = request.GET.get("rows")  # the preview's page: part of the validators, so each page is its own document

    def build() -> HttpResponse:
        found = published_package(owner, dataset)
        data = preview.package_data(found, rows)
        context = {"package": found, "summary": summary(found), "data": data}
        return preview.settled(render(request, "publishing/package.html", context), data)

    return preview.conditional_page(request, package_state(owner, dataset).validators("page", rows), build)


@require_safe
def legacy_redirect(request: HttpRequest, legacy_name: str, rest: str = "") -> HttpResponseBase:
    """openspending.org/<dataset>[/...] lived at the site root; send old links to the migrated package for good, and
    say so when a public dataset was left out of the migration (legacy_links.py)."""
    if dataset_name_problem(legacy_name):  # no dataset can have that name (a NUL, 10 kB): the unknown name's 404
        raise Http404(legacy_links.NOT_FOUND)
    found = PublishedPackage.objects.published().filter(legacy_name=legacy_name).only("owner", "name").first()
    if found is None:
        return legacy_links.not_migrated(request, legacy_name)
    return HttpResponsePermanentRedirect(package_path(found))


# -- package files ----------------------------------------------------------------------------------------------------


@require_safe
def descriptor(request: HttpRequest, owner: str, dataset: str) -> HttpResponseBase:
    """The published descriptor from the database, in the store's serialisation, so the bytes (and their sha256) are
    the stored object's without a storage read; its relative resource paths resolve to the data downloads."""

    def build() -> HttpResponse:
        return HttpResponse(json_bytes(published_package(owner, dataset).descriptor), content_type="application/json")

    return conditional(request, package_state(owner, dataset).validators("descriptor"), build, cache=True)


@require_safe
def data(request: HttpRequest, owner: str, dataset: str, filename: str) -> HttpResponseBase:
    found = published_package(owner, dataset)
    data_file = find_data_file(found, filename)
    if data_file is None:
        raise Http404("No such file")
    validators = package_validators(found, "data", data_file.key)
    kind = data_file.mediatype + ("; charset=utf-8" if data_file.mediatype.startswith("text/") else "")
    return conditional(request, validators, lambda: _stream(request, data_file.key, kind, download=filename))


def _stream(request: HttpRequest, key: str, content_type: str, *, download: str | None = None) -> HttpResponseBase:
    storage = public_storage()
    if not storage.exists(key):
        raise Http404("The file is not in storage")
    response: HttpResponseBase
    if request.method == "HEAD":  # the headers of the GET, without fetching the object
        response = HttpResponse(content_type=content_type)
        response.headers["Content-Length"] = str(storage.size(key))
    else:
        response = FileResponse(storage.open(key, "rb"), content_type=content_type)
    if download:
        response.headers["Content-Disposition"] = content_disposition_header(True, download) or "attachment"
    return response


# -- registry, discovery, feeds ---------------------------------------------------------------------------------------


@require_safe
def registry_descriptor(request: HttpRequest) -> HttpResponseBase:
    stream = lambda _: _stream(request, REGISTRY_DESCRIPTOR, "application/json")  # noqa: E731
    return _catalog_document(request, "registry", stream, cache=False)


@require_safe
def registry_csv(request: HttpRequest, version: str = "") -> HttpResponseBase:
    """`packages.csv`, or the versioned `packages-<sha12>.csv` that the registry's datapackage.json names."""
    key = f"registry/packages-{version}.csv" if version else REGISTRY_CSV
    return _catalog_document(request, "registry", lambda _: _registry_rows(key), cache=False)


def _registry_rows(key: str) -> HttpResponse:
    """The stored registry, less any row naming a package that is not published now: between a decision to hide a
    package and the job that rebuilds the registry, the stored file still lists it."""
    storage = public_storage()
    if not storage.exists(key):
        raise Http404("The registry has not been written yet")
    with storage.open(key, "rb") as handle:
        text = handle.read().decode("utf-8")
    published = set(PublishedPackage.objects.published().values_list("owner", "name"))
    return HttpResponse(published_rows(text, published).encode(), content_type="text/csv; charset=utf-8")


def published_rows(text: str, published: set[tuple[str, str]]) -> str:
    """The CSV unchanged (same bytes, same hash) when every row is published; else without the other rows."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    package_of = _package_column(rows[0]) if rows else None
    if package_of is None:
        return text  # no column names packages: nothing to check against
    kept = [row for row in rows[1:] if len(row) == len(rows[0]) and package_of(row) in published]
    if len(kept) == len(rows) - 1:
        return text
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([rows[0], *kept])
    return out.getvalue()


def _package_column(header: list[str]) -> Callable[[list[str]], tuple[str, str]] | None:
    """How a registry row names its package: `owner` and `name` columns, or one `owner/name` column."""
    if "owner" in header and "name" in header:
        owner, name = header.index("owner"), header.index("name")
        return lambda row: (row[owner], row[name])
    column = next((c for c in ("package_id", "id", "package") if c in header), None)
    if column is None:
        return None
    index = header.index(column)

    def split(row: list[str]) -> tuple[str, str]:
        owner, _, name = row[index].partition("/")
        return owner, name

    return split


@require_safe
def data_json(request: HttpRequest) -> HttpResponseBase:
    seen = version_seen()  # one read of the catalogue's version for both remembered values
    publishers = discovery.catalog_publishers(seen)  # who publishes what: organisations change apart from packages

    def build(stamp: Stamp) -> HttpResponse:
        document = discovery.data_json(discovery.catalog_packages(), modified=stamp.newest, by=publishers)
        return HttpResponse(discovery.render(document), content_type="application/json")

    return _catalog_document(request, "data.json", build, publishers.state, seen=seen)


@require_safe
def api_catalog(request: HttpRequest) -> HttpResponseBase:
    content_type = f'application/linkset+json; profile="{discovery.API_CATALOG_PROFILE}"'
    body = discovery.render(discovery.api_catalog())
    return _catalog_document(request, "api-catalog", lambda _: HttpResponse(body, content_type=content_type))


@require_safe
def feed(request: HttpRequest) -> HttpResponseBase:
    def build(stamp: Stamp) -> HttpResponse:
        return HttpResponse(feeds.subscription_document(stamp), content_type=feeds.CONTENT_TYPE)

    return _catalog_document(request, "feed", build, feeds.subscription_size())


@require_safe
def feed_archive(request: HttpRequest, month: str) -> HttpResponseBase:
    parsed = feeds.Month.parse(month)
    state = feeds.archive_state(parsed) if parsed else None
    if state is None or not state.exists:
        raise Http404("No archive for that month")
    validators = Validators(etag=state.etag, last_modified=state.last_modified)
    build = lambda: HttpResponse(feeds.archive_document(state), content_type=feeds.CONTENT_TYPE)  # noqa: E731
    return conditional(request, validators, build, cache=True)


# -- bulk files -------------------------------------------------------------------------------------------------------


@require_safe
def bulk_index(request: HttpRequest) -> HttpResponseBase:
    limits = (bulk.max_zipped(), bulk.max_unzipped())
    return _catalog_document(request, "bulk", lambda stamp: _bulk_page(request, stamp), *limits, cache=False)


def _bulk_page(request: HttpRequest, stamp: Stamp) -> HttpResponse:
    published = set(PublishedPackage.objects.published().values_list("owner", "name"))
    listed = [item for item in bulk.bulk_index(stamp) if (item.owner, item.name) in published]
    listed.sort(key=lambda item: (_year_order(item.segment.year), item.owner, item.name, item.segment.part))
    years = [(year, list(items)) for year, items in groupby(listed, key=lambda item: item.segment.year)]
    context = {
        "years": years,
        "total_files": len(listed),
        "total_rows": sum(item.segment.rows for item in listed),
        "max_zipped": _decimal_size(bulk.max_zipped()),
        "max_unzipped": _decimal_size(bulk.max_unzipped()),
    }
    return render(request, "publishing/bulk.html", context)


def _decimal_size(size: int) -> str:
    """The limits as people state them (10 MB, 1 GB), not in the binary units of `filesizeformat`."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= scale:
            return f"{size / scale:g} {unit}"
    return f"{size} bytes"


def _year_order(year: str) -> int:
    return -int(year) if year.isdigit() else 1  # newest year first, undated rows last


@require_safe
def bulk_part(request: HttpRequest, year: str, owner: str, filename: str) -> HttpResponseBase:
    match = BULK_PART.fullmatch(filename)
    if not match:
        raise Http404("No such file")
    found = published_package(owner, match["name"])
    part = int(match["part"])
    validators = Validators(etag=bulk.segment_etag(found, year, part), last_modified=found.modified_at)
    return conditional(request, validators, lambda: _bulk_file(request, found, year, part))


def _bulk_file(request: HttpRequest, found: PublishedPackage, year: str, part: int) -> HttpResponseBase:
    segment = bulk.find_segment(found, year, part)
    if segment is None:
        raise Http404("No such file")
    return _stream(request, segment.key, "application/zip", download=segment.download_name(found))
