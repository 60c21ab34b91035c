"""HTTP validators for the public site: ETag and Last-Modified from one cheap query, 304s before any real work.

Every public document is a function of the published packages (and of settings), so one aggregate over
`published()` (newest `modified_at`, newest `published_at`, how many, the sum of their ids) identifies the catalogue's
state. The count and the id sum make the ETag move when a package is withdrawn or made private, which the newest
`modified_at` of what remains cannot show. Last-Modified stays the newest `modified_at`; since If-None-Match takes
precedence over If-Modified-Since (RFC 9110 13.2.2), clients that send the ETag back always see a withdrawal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import Count, Max, Sum
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

from publishing.models import PublishedPackage

# Bump when the shape of a document changes, so clients holding an old ETag get the new one.
DOCUMENT_VERSION = "1"
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


def catalog_stamp() -> Stamp:
    """One aggregate query; cheap on any database (an index on modified_at is not even needed at this size)."""
    row = PublishedPackage.objects.published().aggregate(
        newest=Max("modified_at"), latest_publication=Max("published_at"), count=Count("pk"), id_sum=Sum("pk")
    )
    return Stamp(row["newest"], row["latest_publication"], row["count"], row["id_sum"] or 0)


def etag_of(*parts: object) -> str:
    text = repr((DOCUMENT_VERSION, settings.PUBLIC_BASE_URL, *parts))
    return f'"{hashlib.sha256(text.encode()).hexdigest()[:32]}"'


def cache_seconds() -> int:
    """How long shared caches may serve a document unchecked; short, because a withdrawal must show quickly."""
    return int(getattr(settings, "PUBLIC_CACHE_SECONDS", 60))


def with_validators(response: HttpResponseBase, validators: Validators) -> HttpResponseBase:
    response.headers["ETag"] = validators.etag
    response.headers["Last-Modified"] = http_date(validators.last_modified.timestamp())
    response.headers["Cache-Control"] = f"public, max-age={cache_seconds()}"
    return response


def conditional(
    request: HttpRequest, validators: Validators, render: Callable[[], HttpResponseBase]
) -> HttpResponseBase:
    """A 304 (or 412) when the client's copy is current, without calling `render`; else the rendered response."""
    early = get_conditional_response(
        request, etag=validators.etag, last_modified=int(validators.last_modified.timestamp())
    )
    if early is not None:
        return with_validators(early, validators) if early.status_code == 304 else early
    response = render()
    if response.status_code == 200:
        with_validators(response, validators)
    return response
