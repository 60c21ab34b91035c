"""The legacy API's `/api/2/aggregate` and `/api/2/search`, for old clients: a migrated dataset under its legacy name
(`?dataset=<legacy name>`), answered from its published package (publishing/api/legacy_queries.py).

A name is looked up in `published()` before anything else, so a dataset that is unknown, private, excluded from the
migration or withdrawn answers the same 404, word for word: nothing tells them apart. Search needs `dataset` (one
name, or a few as `a|b`): the legacy API's search of every dataset at once would read every package's file on one
request, so it is refused with a 400 saying so. Answers carry validators like the /api/3 views' (the packages'
versions plus the full query string) and are served again from the documents cache; `callback` gives JSONP, which
the legacy API offered on every JSON answer and its browser clients used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.http import require_safe

from publishing.api import legacy_queries
from publishing.api.cache import CacheError, local_copy, parquet_of
from publishing.api.engine import QueryTimeout
from publishing.api.legacy import LegacyCube, LegacyError, legacy_cube, split
from publishing.api.views import json_response
from publishing.caching import Validators, conditional, etag_of, per_version
from publishing.lookup import package_state, published_package
from publishing.models import PublishedPackage, package_page_url

MAX_DATASETS = 10  # in one search
MAX_NAME = 255  # PublishedPackage.legacy_name's length
_CALLBACK = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$.]{0,99}$")
Answer = Callable[[Sequence[tuple[LegacyCube, Path]], dict[str, str]], dict[str, Any]]


class _NotQueryable(Exception):
    """The package is published but has no Parquet copy to query yet."""


def errors(status: int, message: str) -> HttpResponse:
    """The legacy API's error document."""
    return json_response({"errors": [message]}, status=status)


def not_found(name: str) -> HttpResponse:
    return errors(404, f"There is no dataset named {name[:MAX_NAME]!r}")


@require_safe
def aggregate(request: HttpRequest) -> HttpResponseBase:
    name = request.GET.get("dataset", "").strip()
    if not name:
        return errors(400, "dataset name not provided")
    answer: Answer = lambda queried, query: legacy_queries.aggregate(*queried[0], query)  # noqa: E731
    return _answered(request, "aggregate", [name], answer)


@require_safe
def search(request: HttpRequest) -> HttpResponseBase:
    names = list(dict.fromkeys(split(request.GET.get("dataset", ""))))
    if not names:
        return errors(
            400,
            "dataset: name the dataset to search (dataset=<name>, or a few as dataset=<name>|<name>); "
            "a search of every dataset at once is not offered here",
        )
    if len(names) > MAX_DATASETS:
        return errors(400, f"dataset: at most {MAX_DATASETS} datasets in one search")
    return _answered(request, "search", names, legacy_queries.search)


def _answered(request: HttpRequest, kind: str, names: list[str], answer: Answer) -> HttpResponseBase:
    """404 unless every dataset is published, 304 when the client's copy is current, else the answer or an error."""
    callback = request.GET.get("callback", "")
    if callback and not _CALLBACK.match(callback):
        return errors(400, "callback: a JavaScript function name (letters, digits, _, $ and dots)")
    located: list[tuple[str, str]] = []
    for name in names:
        try:
            located.append(_located(name))
        except Http404:
            return not_found(name)
    try:
        states = [package_state(owner, dataset) for owner, dataset in located]
    except Http404:  # withdrawn between the two lookups
        return not_found(names[0])
    validators = Validators(
        etag=etag_of(f"api2:{kind}", [(state.state, state.review) for state in states], request.get_full_path()),
        last_modified=max(state.changed for state in states),
    )

    def build() -> HttpResponse:
        try:
            queried = [_cube_and_file(owner, dataset) for owner, dataset in located]
            document = answer(queried, request.GET.dict())
        except LegacyError as problem:
            return errors(400, str(problem))
        except QueryTimeout as problem:
            return errors(503, f"{problem}: narrow it with a cut or a filter, or ask for a smaller page")
        except (CacheError, _NotQueryable) as problem:
            return errors(503, str(problem))
        except Http404:
            return not_found(names[0])
        return _jsonp(document, callback) if callback else json_response(document)

    return conditional(request, validators, build, cache=True)


def _located(name: str) -> tuple[str, str]:
    """The published package of a legacy dataset name, remembered per catalogue version (Http404 if none)."""
    if len(name) > MAX_NAME or "\x00" in name:
        raise Http404("No such dataset")

    def find() -> tuple[str, str]:
        packages = PublishedPackage.objects.published().filter(legacy_name=name).order_by("pk")
        found = packages.values_list("owner", "name").first()
        if found is None:
            raise Http404("No such dataset")
        return found

    return per_version(f"legacy-name:{name}", find, size=200)


def _cube_and_file(owner: str, dataset: str) -> tuple[LegacyCube, Path]:
    """The package under its legacy names (worked out once per catalogue version) and its local Parquet copy."""

    def load() -> tuple[LegacyCube, Any]:
        package = published_package(owner, dataset)
        descriptor = package.descriptor if isinstance(package.descriptor, dict) else {}
        cube = legacy_cube(owner, dataset, descriptor, package_page_url(owner, dataset))
        return cube, parquet_of(owner, dataset, descriptor)

    cube, parquet = per_version(f"api-legacy:{owner}/{dataset}", load, size=20_000)
    if parquet is None:
        raise _NotQueryable(f"{cube.name} cannot be queried yet: its package has no Parquet copy; see {cube.page_url}")
    return cube, local_copy(parquet)


def _jsonp(document: object, callback: str) -> HttpResponse:
    body = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    response = HttpResponse(f"/**/{callback}({body});".encode(), content_type="application/javascript; charset=utf-8")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
