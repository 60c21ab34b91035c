"""The routes of the legacy app, as plain request -> response functions (no sockets here)."""

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from datasets.sample_legacy import documents, pages, queries
from datasets.sample_legacy.instance import SampleAccount, SampleDataset, SampleInstance, with_base

FORBIDDEN = "Sorry, you're not permitted to do this."
DATASET = r"(?P<ds>[\w-]+)"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    base_url: str

    @property
    def api_key(self) -> str | None:
        method, _, key = self.headers.get("authorization", "").strip().partition(" ")
        return key.strip() if method.lower() == "apikey" and key.strip() else None


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_response(document: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(document, indent=2).encode())


def html_response(page: str, status: int = 200) -> Response:
    return Response(status, page.encode(), "text/html; charset=utf-8")


def wants_json(path: str) -> bool:
    return path.endswith(".json") or path.startswith("/api/")


def error_response(path: str, status: int, message: str) -> Response:
    if wants_json(path):
        return json_response({"errors": [message]}, status)
    return html_response(pages.error_page(status, message), status)


class LegacyApp:
    def __init__(self, instance: SampleInstance) -> None:
        self.instance = instance
        self.routes: list[tuple[re.Pattern[str], Callable[..., Response]]] = [
            (re.compile(pattern), view)
            for pattern, view in (
                (r"^/datasets\.json$", self.dataset_index),
                (r"^/api/2/search$", self.search),
                (r"^/api/2/aggregate$", self.aggregate),
                (r"^/api/2/permissions$", self.permissions),
                (r"^/files/(?P<ds>[^/]+)/(?P<filename>[^/]+)$", self.source_file),
                (r"^/account/(?P<name>[^/]+)$", self.profile),
                (r"^/dashboard$", self.dashboard),
                (rf"^/{DATASET}\.json$", self.dataset_view),
                (rf"^/{DATASET}/model\.json$", self.model),
                (rf"^/{DATASET}/sources\.json$", self.sources),
                (rf"^/{DATASET}/sources/(?P<sid>\d+)/analysis\.json$", self.analysis),
                (rf"^/{DATASET}/sources/(?P<sid>\d+)/runs/(?P<rid>\d+)$", self.run),
                (rf"^/{DATASET}/sources/(?P<sid>\d+)$", self.source_redirect),
                (rf"^/{DATASET}/views\.json$", self.views),
                (rf"^/{DATASET}/meta$", self.about),
                (rf"^/{DATASET}/editor$", self.editor),
                (rf"^/{DATASET}/editor/team$", self.team),
            )
        ]

    def handle(self, request: Request) -> Response:
        for pattern, view in self.routes:
            match = pattern.match(request.path)
            if match:
                try:
                    return view(request, **match.groupdict())
                except HttpError as error:
                    return error_response(request.path, error.status, error.message)
                except queries.QueryError as error:
                    return error_response(request.path, 400, str(error))
        return error_response(request.path, 404, "Not found")

    # -- helpers ---------------------------------------------------------------------------------------------

    def account(self, request: Request) -> SampleAccount | None:
        return self.instance.account_for_key(request.api_key)

    def dataset(self, request: Request, name: str, *, update: bool = False) -> SampleDataset:
        """The dataset behind a route, or the 404/403 the legacy app answered."""
        dataset = self.instance.datasets.get(name)
        if dataset is None:
            raise HttpError(404, f"There is no dataset named {name!r}")
        account = self.account(request)
        allowed = self.instance.can_update if update else self.instance.can_read
        if not allowed(dataset, account):
            raise HttpError(403, FORBIDDEN)
        return dataset

    def managers(self, dataset: SampleDataset) -> list[SampleAccount]:
        return [self.instance.accounts[name] for name in dataset.team if name in self.instance.accounts]

    @staticmethod
    def source_of(dataset: SampleDataset, sid: str) -> dict[str, Any]:
        source = dataset.source(int(sid))
        if source is None:
            raise HttpError(404, f"There is no source '{sid}'")
        return source

    # -- JSON API ------------------------------------------------------------------------------------------

    def dataset_index(self, request: Request) -> Response:
        """Public datasets only, even for admins; the legacy filters (languages, territories, category) apply."""
        listed = [dataset for dataset in self.instance.datasets.values() if not dataset.private]
        for param in ("languages", "territories"):
            if request.params.get(param):
                listed = [d for d in listed if request.params[param] in d.row.get(param, [])]
        if request.params.get("category"):
            listed = [d for d in listed if d.row.get("category") == request.params["category"]]
        return json_response(documents.dataset_index(listed, request.base_url))

    def dataset_view(self, request: Request, ds: str) -> Response:
        return json_response(documents.dataset_as_dict(self.dataset(request, ds), request.base_url))

    def model(self, request: Request, ds: str) -> Response:
        return json_response(documents.model_document(self.dataset(request, ds), request.base_url))

    def sources(self, request: Request, ds: str) -> Response:
        return json_response(documents.sources_document(self.dataset(request, ds), request.base_url))

    def analysis(self, request: Request, ds: str, sid: str) -> Response:
        return json_response(self.source_of(self.dataset(request, ds), sid).get("analysis") or {})

    def views(self, request: Request, ds: str) -> Response:
        return json_response(documents.views_document(self.dataset(request, ds)))

    def source_redirect(self, request: Request, ds: str, sid: str) -> Response:
        source = self.source_of(self.dataset(request, ds), sid)
        return Response(302, content_type="text/html", headers={"Location": with_base(source["url"], request.base_url)})

    def search(self, request: Request) -> Response:
        params = queries.parse_search(request.params)
        account = self.account(request)
        if params.dataset_names:
            for name in params.dataset_names:
                self._known(name)
            selected = [self.dataset(request, name) for name in params.dataset_names]
        else:
            # Without `dataset` the legacy app searched every dataset the caller may read, private ones included.
            selected = [d for d in self.instance.datasets.values() if self.instance.can_read(d, account)]
        response = json_response(queries.search(selected, params, request.base_url))
        if params.streamed:
            response.headers.update(
                {"X-Accel-Buffering": "no", "Content-Disposition": "attachment; filename=entries.json"}
            )
        return response

    def _known(self, name: str) -> None:
        """The API's parameter parsers answered 400, not 404, for unknown dataset names."""
        if name not in self.instance.datasets:
            raise queries.QueryError(f"no dataset named {name!r}")

    def aggregate(self, request: Request) -> Response:
        name = request.params.get("dataset", "")
        if not name:
            raise queries.QueryError("dataset name not provided")
        self._known(name)
        return json_response(queries.aggregate(self.dataset(request, name), request.params, request.base_url))

    def permissions(self, request: Request) -> Response:
        name = request.params.get("dataset", "")
        if not name:
            raise queries.QueryError("Dataset name not provided")
        dataset, account = self.instance.datasets.get(name), self.account(request)
        read = dataset is not None and self.instance.can_read(dataset, account)
        update = dataset is not None and self.instance.can_update(dataset, account)
        document = documents.permissions_document(
            exists=dataset is not None, logged_in=account is not None, read=read, update=update
        )
        return json_response(document)

    # -- HTML pages ----------------------------------------------------------------------------------------

    def about(self, request: Request, ds: str) -> Response:
        dataset, account = self.dataset(request, ds), self.account(request)
        page = pages.about_page(
            dataset,
            self.managers(dataset),
            request.base_url,
            can_update=self.instance.can_update(dataset, account),
            logged_in=account is not None,
        )
        return html_response(page)

    def editor(self, request: Request, ds: str) -> Response:
        return html_response(pages.editor_page(self.dataset(request, ds, update=True), request.base_url))

    def team(self, request: Request, ds: str) -> Response:
        dataset = self.dataset(request, ds, update=True)
        editor = self.account(request)
        assert editor is not None  # update permission implies a known account
        return html_response(pages.team_page(dataset, self.managers(dataset), editor))

    def run(self, request: Request, ds: str, sid: str, rid: str) -> Response:
        dataset = self.dataset(request, ds, update=True)
        source = self.source_of(dataset, sid)
        run = next((run for run in dataset.runs_of(source["id"]) if run["id"] == int(rid)), None)
        if run is None:
            raise HttpError(404, f"There is no run '{rid}'")
        return html_response(pages.run_page(dataset, source, run, request.base_url))

    def profile(self, request: Request, name: str) -> Response:
        profile = self.instance.accounts.get(name)
        if profile is None:
            raise HttpError(404, f"There is no account named {name!r}")
        return self._profile_response(profile, self.account(request))

    def dashboard(self, request: Request) -> Response:
        account = self.account(request)
        if account is None:
            raise HttpError(403, "You need to be logged in to see your dashboard.")
        return self._profile_response(account, account)

    def _profile_response(self, profile: SampleAccount, viewer: SampleAccount | None) -> Response:
        """Private datasets are listed only to their owner and to admins (a stricter rule than OS-legacy's)."""
        own = viewer is not None and (viewer.admin or viewer.name == profile.name)
        datasets = [d for d in self.instance.managed_by(profile) if own or not d.private]
        views = [
            (view, dataset)
            for dataset in self.instance.datasets.values()
            for view in dataset.visualisations
            if view.get("account") == profile.name and (own or not dataset.private)
        ]
        page = pages.profile_page(profile, datasets, views, show_email=own, logged_in=viewer is not None)
        return html_response(page)

    # -- source files --------------------------------------------------------------------------------------

    def source_file(self, request: Request, ds: str, filename: str) -> Response:
        """The files the sources point at, as a static web server would serve them (public, cacheable)."""
        dataset = self.instance.datasets.get(ds)
        path = dataset.file_path(filename) if dataset else None
        if dataset is None or path is None:
            return Response(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html")
        body = path.read_bytes()
        modified = _file_modified(dataset, filename)
        headers = {"ETag": f'"{hashlib.sha1(body).hexdigest()[:20]}"', "Last-Modified": format_datetime(modified, True)}
        if _not_modified(request.headers, headers["ETag"], modified):
            return Response(304, headers=headers, content_type="text/csv; charset=utf-8")
        return Response(200, body, "text/csv; charset=utf-8", headers)


def _file_modified(dataset: SampleDataset, filename: str) -> datetime:
    """The file's date is the registration date of its source: stable, unlike a checkout's file times."""
    source = next((s for s in dataset.sources if s["url"].endswith(f"/{filename}")), None)
    stamp = source["created_at"] if source else dataset.row["created_at"]
    return datetime.fromisoformat(stamp).replace(microsecond=0, tzinfo=UTC)


def _not_modified(headers: dict[str, str], etag: str, modified: datetime) -> bool:
    """If-None-Match wins over If-Modified-Since, as RFC 9110 says."""
    if "if-none-match" in headers:
        tags = [tag.strip().removeprefix("W/") for tag in headers["if-none-match"].split(",")]
        return "*" in tags or etag in tags
    since = headers.get("if-modified-since")
    if not since:
        return False
    try:
        return modified <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
