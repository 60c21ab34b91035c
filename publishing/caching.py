"""HTTP validators for the public site: ETag and Last-Modified from one cheap query, 304s before any real work.

Every public document is a function of the published packages (and of settings), so one aggregate over
`published()` (newest `modified_at`, newest `published_at`, how many, the sum of their ids) identifies the catalogue's
state. The aggregate is worked out once per catalogue version (`models.CatalogState`, raised by database triggers on
every write that can change `published()`); a request reads just the version. The count and the id sum make the
ETag move when a package is withdrawn or made private, which the newest `modified_at` of what remains cannot show.
Last-Modified stays the newest `modified_at`; since If-None-Match takes precedence over If-Modified-Since
(RFC 9110 13.2.2), clients that send the ETag back always see a withdrawal.

The same validators key a cache of rendered bodies (`memory.documents`, per process): a strong ETag names one
exact body, so a body stored under it never goes stale; a change to the catalogue gives new validators and so a
new key, and old bodies just age out. A request that is not a 304 then costs the one cheap query and a memory
read, not a rendering (data.json over 10,000 packages takes about a second to render).

What is remembered per catalogue version (the stamp, each package's state: `per_version`) is keyed by a generation
that is new each time this process reads a version different from the last one, and the older generations' entries
are dropped then. So once a process has read the version a withdrawal raised (within PUBLIC_VERSION_CHECK_SECONDS),
it works out every document's validators again from the database: a withdrawn package's page and files are a 404,
and the catalogue's documents get new ETags, under which nothing of before is cached. The process that withdraws a
package drops everything it remembers at once (`forget_all`).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from time import monotonic
from typing import TypeVar

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

from publishing import memory
from publishing.models import CatalogState, PublishedPackage

T = TypeVar("T")

# Bump when the shape of a document changes, so clients holding an old ETag get the new one.
DOCUMENT_VERSION = "1"
# Headers a cached body keeps; the validators and the middleware's headers are set again on every response.
_KEPT_HEADERS = ("Content-Type", "Content-Disposition", "Content-Language")
# Last-Modified of documents with nothing published: a fixed date, so an empty site is stable too.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Validators:
    etag: str  # quoted, strong
    last_modified: datetime


@dataclass(frozen=True)
class Stamp:
    """The state of the published catalogue, as far as caches need to know it."""

    newest: datetime | None
    latest_publication: datetime | None
    count: int
    id_sum: int

    @property
    def last_modified(self) -> datetime:
        return self.newest or EPOCH

    def validators(self, *parts: object) -> Validators:
        """Validators for one document: the catalogue's state plus whatever else its bytes depend on."""
        state = (self.newest, self.latest_publication, self.count, self.id_sum)
        return Validators(etag=etag_of(state, *parts), last_modified=self.last_modified)


def catalog_stamp(seen: VersionSeen | None = None) -> Stamp:
    """The catalogue's stamp: the aggregate only when the catalogue's version is new to this process."""
    return per_version("stamp", _aggregate_stamp, size=200, seen=seen)


def per_version(name: str, compute: Callable[[], T], *, size: int, seen: VersionSeen | None = None) -> T:
    """`compute()` (never None), remembered in this process for the current catalogue version: what depends only on
    what is published is worked out once per change. Without the version row (a flushed test database) it is
    computed every time: slower, correct. An exception (a 404) is not remembered.

    The key names this process's generation of the version, never reused: an entry remembered for an older version
    is not served again even if the version number came back (a database restored from a backup).

    `seen`: a version already read (`version_seen()`), so that a response built from several remembered values
    reads the version once."""
    seen = seen or _current()
    if seen.version is None:
        return compute()
    key = f"{_PER_VERSION}{connection.alias}:{seen.generation}:{name}"
    found: T | None = memory.documents.get(key)
    if found is None:
        found = compute()
        memory.documents.set(key, found, size)
    return found


def version_seen() -> VersionSeen:
    """The catalogue's version as this process knows it now (read again when older than the check interval)."""
    return _current()


@dataclass(frozen=True)
class VersionSeen:
    read_at: float  # monotonic
    version: int | None
    generation: int  # new whenever the version read differs from the one read before


_PER_VERSION = "per-version:"
# Per database alias: what was read last.
_versions: dict[str, VersionSeen] = {}
_generations = itertools.count(1)


def catalog_version() -> int | None:
    """The catalogue's version, read at most once per `PUBLIC_VERSION_CHECK_SECONDS` (default 1 s) per process.

    Reading it costs a database round trip, on PostgreSQL about a third of a cached request; within that second a
    change (a package hidden by a decision) may still be served by this process, as shared caches may serve it for
    `PUBLIC_CACHE_SECONDS` anyway."""
    return _current().version


def _current() -> VersionSeen:
    ttl = settings.PUBLIC_VERSION_CHECK_SECONDS
    now, alias = monotonic(), connection.alias
    seen = _versions.get(alias)
    if ttl > 0 and seen is not None and now - seen.read_at < ttl:
        return seen
    version = _read_version()
    if seen is not None and seen.version == version:
        generation = seen.generation
    else:  # a new version (or the first read): what older ones computed is of no use any more
        generation = next(_generations)
        memory.documents.discard_prefix(f"{_PER_VERSION}{alias}:")
    _versions[alias] = VersionSeen(now, version, generation)
    return _versions[alias]


def _read_version() -> int | None:
    # Plain SQL: the ORM spends 0.2 ms building this query, five times what the database takes to answer it.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version FROM {CatalogState._meta.db_table} WHERE id = 1")
        row = cursor.fetchone()
    return int(row[0]) if row else None


def forget_versions() -> None:
    _versions.clear()


def forget_all() -> None:
    """Drop every document and version this process remembers: after it withdrew a package, nothing rendered while
    the package was public is served from here, not even within PUBLIC_VERSION_CHECK_SECONDS."""
    memory.documents.clear()
    forget_versions()


def _aggregate_stamp() -> Stamp:
    row = PublishedPackage.objects.published().aggregate(
        newest=Max("modified_at"), latest_publication=Max("published_at"), count=Count("pk"), id_sum=Sum("pk")
    )
    return Stamp(row["newest"], row["latest_publication"], row["count"], row["id_sum"] or 0)


def etag_of(*parts: object) -> str:
    text = repr((DOCUMENT_VERSION, settings.PUBLIC_BASE_URL, *parts))
    return f'"{hashlib.sha256(text.encode()).hexdigest()[:32]}"'


def cache_seconds() -> int:
    """How long shared caches may serve a document unchecked; short, because a withdrawal must show quickly."""
    return settings.PUBLIC_CACHE_SECONDS


def with_validators(response: HttpResponseBase, validators: Validators) -> HttpResponseBase:
    response.headers["ETag"] = validators.etag
    response.headers["Last-Modified"] = http_date(validators.last_modified.timestamp())
    response.headers["Cache-Control"] = f"public, max-age={cache_seconds()}"
    return response


def conditional(
    request: HttpRequest, validators: Validators, render: Callable[[], HttpResponseBase], *, cache: bool = False
) -> HttpResponseBase:
    """A 304 (or 412) when the client's copy is current, without calling `render`; else the response. With `cache`
    (for a body that is a function of the validators alone, not of files in storage) from the documents cache when
    a body with these validators was rendered before."""
    early = get_conditional_response(
        request, etag=validators.etag, last_modified=int(validators.last_modified.timestamp())
    )
    if early is not None:
        return with_validators(early, validators) if early.status_code == 304 else early
    found = _cached(validators) if cache else None
    response: HttpResponseBase = found if found is not None else render()
    if cache and found is None:
        _remember(validators, response)
    if response.status_code == 200:
        with_validators(response, validators)
    return response


def _cached(validators: Validators) -> HttpResponse | None:
    found = memory.documents.get(_cache_key(validators))
    if found is None:
        return None
    headers, body = found
    return HttpResponse(body, headers=headers)


def _remember(validators: Validators, response: HttpResponseBase) -> None:
    if response.status_code != 200 or not isinstance(response, HttpResponse):
        return  # streamed files (FileResponse is no HttpResponse) and errors are never cached
    body = response.content
    headers = {name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers}
    memory.documents.set(_cache_key(validators), (headers, body), len(body) + 500)


def _cache_key(validators: Validators) -> str:
    return f"document:{validators.etag.strip(chr(34))}"
