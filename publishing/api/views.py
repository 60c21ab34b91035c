"""The read API's views: babbage's `/api/3/cubes/...`, answered as JSON, public, read-only.

Every URL of a cube goes through `published()` before anything else, as the pages do: a withdrawn package (or one a
decision made private a minute ago) answers 404 on all of them at once. Answers carry the package's validators plus
the full query string, so a client's conditional GET costs one cheap query, and a repeated query is served from the
documents cache (publishing/caching.py) without touching DuckDB.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.http import require_safe

from publishing.api import cubes
from publishing.api.cache import CacheError, local_copy, parquet_of
from publishing.api.engine import QueryTimeout
from publishing.api.model import CubeModel, cube_model
from publishing.api.params import ParameterError
from publishing.caching import catalog_stamp, conditional, per_version
from publishing.lookup import package_state, published_package
from publishing.models import PublishedPackage
from publishing.store import SEGMENT

JSON = "application/json"
Answer = Callable[[CubeModel, Any, dict[str, str]], dict[str, Any]]


def json_response(document: object, status: int = 200) -> HttpResponse:
    body = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    response = HttpResponse(body.encode(), content_type=JSON, status=status)
    response.headers["Access-Control-Allow-Origin"] = "*"  # public data, read by budget portals in browsers
    return response


def error(status: int, message: str) -> HttpResponse:
    return json_response({"status": "error", "message": message}, status=status)


def split_cube_name(name: str) -> tuple[str, str]:
    owner, separator, dataset = name.partition(":")
    if not separator or not SEGMENT.fullmatch(owner) or not SEGMENT.fullmatch(dataset):
        raise Http404("A cube is named <owner>:<dataset>")
    return owner, dataset


def answered(request: HttpRequest, cube: str, kind: str, answer: Answer) -> HttpResponseBase:
    """The common path of every cube URL: 404 unless published, 304 when current, else the answer or a clear error."""
    try:
        owner, dataset = split_cube_name(cube)
        state = package_state(owner, dataset)
    except Http404:
        return error(404, f"No such cube: {cube[:200]!r}")

    def build() -> HttpResponse:
        try:
            model, path = cube_and_file(owner, dataset)
            document = answer(model, path, request.GET.dict())
        except ParameterError as problem:
            return error(400, str(problem))
        except QueryTimeout as problem:
            return error(503, f"{problem}: narrow it with a cut or a smaller page")
        except (CacheError, Http404) as problem:
            return error(404 if isinstance(problem, Http404) else 503, str(problem))
        return json_response({**document, "status": "ok"})

    return conditional(request, state.validators(f"api:{kind}", request.get_full_path()), build, cache=True)


def cube_and_file(owner: str, dataset: str) -> tuple[CubeModel, Any]:
    """The cube's model (worked out once per catalogue version) and its local Parquet copy."""

    def load() -> tuple[CubeModel, Any]:
        package = published_package(owner, dataset)
        descriptor = package.descriptor if isinstance(package.descriptor, dict) else {}
        return cube_model(f"{owner}:{dataset}", descriptor), parquet_of(owner, dataset, descriptor)

    model, parquet = per_version(f"api-cube:{owner}/{dataset}", load, size=20_000)
    if parquet is None:
        raise Http404("This package has no Parquet copy to query; download its CSV instead")
    return model, local_copy(parquet)


@require_safe
def cube_list(request: HttpRequest) -> HttpResponseBase:
    def build() -> HttpResponse:
        rows = PublishedPackage.objects.published().values_list("owner", "name", "data_keys")
        names = [f"{owner}:{name}" for owner, name, keys in rows if any(str(k).endswith(".parquet") for k in keys)]
        return json_response({"status": "ok", "data": [{"name": name} for name in sorted(names)]})

    return conditional(request, catalog_stamp().validators("api:cubes"), build, cache=True)


@require_safe
def model(request: HttpRequest, cube: str) -> HttpResponseBase:
    return answered(request, cube, "model", lambda model, _path, _params: {"name": cube, "model": model.as_babbage()})


@require_safe
def aggregate(request: HttpRequest, cube: str) -> HttpResponseBase:
    return answered(request, cube, "aggregate", cubes.aggregate)


@require_safe
def facts(request: HttpRequest, cube: str) -> HttpResponseBase:
    return answered(request, cube, "facts", cubes.facts)


@require_safe
def members(request: HttpRequest, cube: str, ref: str) -> HttpResponseBase:
    return answered(request, cube, "members", lambda model, path, query: cubes.members(model, path, ref, query))
