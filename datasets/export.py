"""Export a legacy instance over HTTP into a dump folder: DIR/<name>/{dataset.json, archive/, entries.csv, ...}.

Every step of a dataset is guarded: a failure is written into dataset.json (`export.problems`) and the export goes
on. What an earlier run fetched successfully is kept when the same step fails now.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit

from datasets import cube, legacy_html
from datasets.client import LegacyClient, LegacyError
from datasets.downloads import FETCHED, UNREACHABLE, ArchiveRecord, archive_source, file_sha256
from datasets.legacy_model import normalise_model

TOOL = "openspending-migration"
DATASET_FILE = "dataset.json"
REPORT_FILE = "export-report.json"
SOURCE_EXTENSIONS = {".csv", ".tsv", ".txt", ".json", ".xls", ".xlsx", ".ods", ".zip", ".xml"}
DATASET_FIELDS = ("name", "label", "description", "currency", "default_time", "schema_version", "category")
OPTIONAL_FIELDS = ("serp_title", "serp_teaser", "badges", "html_url")


class ExportFailed(Exception):
    """The export as a whole cannot run (the instance is unreachable, the target is unusable)."""


@dataclass(frozen=True)
class ExportOptions:
    include_private: bool = False
    names: tuple[str, ...] = ()
    entries: bool = True
    workers: int = 4
    max_source_bytes: int = 512 * 1024 * 1024


@dataclass
class DatasetOutcome:
    name: str
    ok: bool = True
    private: bool = False
    sources_fetched: int = 0
    sources_unreachable: int = 0
    bytes: int = 0
    entries: int | None = None
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ExportSummary:
    base_url: str
    outcomes: list[DatasetOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[DatasetOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.ok]

    def totals(self) -> dict[str, int]:
        return {
            "datasets": len(self.outcomes),
            "private": sum(outcome.private for outcome in self.outcomes),
            "failed": len(self.failed),
            "sources_fetched": sum(outcome.sources_fetched for outcome in self.outcomes),
            "sources_unreachable": sum(outcome.sources_unreachable for outcome in self.outcomes),
            "bytes": sum(outcome.bytes for outcome in self.outcomes),
            "entries": sum(outcome.entries or 0 for outcome in self.outcomes),
        }


# -- discovery ---------------------------------------------------------------------------------------------------


def discover(client: LegacyClient, options: ExportOptions) -> dict[str, bool]:
    """Dataset names to export, each with whether it is private. Raises ExportFailed when the listing fails."""
    try:
        listing = client.get_json("datasets.json")
    except LegacyError as error:
        raise ExportFailed(f"cannot list datasets: {client.redact(str(error))}") from error
    if not isinstance(listing, Mapping) or not isinstance(listing.get("datasets"), list):
        raise ExportFailed(f"{client.url('datasets.json')} did not answer a dataset listing")
    public = {str(item["name"]) for item in listing["datasets"] if isinstance(item, Mapping) and item.get("name")}
    found = dict.fromkeys(sorted(public), False)
    if options.include_private:
        if not client.has_api_key:
            raise ExportFailed("--include-private needs --api-key: private datasets are only visible to their team")
        found.update(dict.fromkeys(sorted(_private_candidates(client) - public), True))
    if options.names:
        return {name: found.get(name, name not in public) for name in options.names}
    return found


def _private_candidates(client: LegacyClient) -> set[str]:
    """Names the key's account can read beyond the public listing: its dashboard and the search facets."""
    names: set[str] = set()
    with contextlib.suppress(LegacyError):
        names.update(legacy_html.parse_managed_datasets(client.get_text("dashboard")))
    try:
        answer = client.get_json("api/2/search", {"facet_field": "dataset", "pagesize": 0, "facet_pagesize": 100})
        facets = answer.get("facets", {}).get("dataset", []) if isinstance(answer, Mapping) else []
        names.update(str(pair[0]) for pair in facets if isinstance(pair, list) and pair)
    except (LegacyError, AttributeError):
        pass
    return {name for name in names if _is_safe_name(name)}


def _is_safe_name(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name and name not in {".", ".."}


# -- the whole run ------------------------------------------------------------------------------------------------


def export_instance(
    client: LegacyClient,
    target: Path,
    options: ExportOptions,
    *,
    on_dataset: Callable[[DatasetOutcome], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> ExportSummary:
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportFailed(f"cannot write to {target}: {error}") from error
    names = discover(client, options)
    if on_start:
        on_start(len(names))
    summary = ExportSummary(base_url=client.base_url)

    def run(item: tuple[str, bool]) -> DatasetOutcome:
        return export_dataset(client, item[0], target / item[0], private=item[1], options=options)

    with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
        for outcome in pool.map(run, names.items()):
            summary.outcomes.append(outcome)
            if on_dataset:
                on_dataset(outcome)
    write_json_atomically(
        target / REPORT_FILE,
        {
            "tool": TOOL,
            "legacy_url": client.base_url,
            "finished_at": _now(),
            "totals": summary.totals(),
            "datasets": [outcome.as_dict() for outcome in summary.outcomes],
        },
    )
    return summary


# -- one dataset ----------------------------------------------------------------------------------------------------


@dataclass
class _Work:
    """Everything gathered for one dataset while exporting it."""

    client: LegacyClient
    name: str
    folder: Path
    options: ExportOptions
    previous: dict[str, Any]
    problems: list[dict[str, str]] = field(default_factory=list)

    def fetch(self, step: str, path: str, params: Mapping[str, Any] | None = None) -> Any:
        try:
            return self.client.get_json(path, params)
        except LegacyError as error:
            self.problem(step, str(error))
            return None

    def problem(self, step: str, text: str) -> None:
        self.problems.append({"step": step, "problem": self.client.redact(text)})


def export_dataset(
    client: LegacyClient, name: str, folder: Path, *, private: bool, options: ExportOptions
) -> DatasetOutcome:
    outcome = DatasetOutcome(name=name, private=private)
    if not _is_safe_name(name):
        outcome.ok = False
        outcome.problems.append(f"refused dataset name {name!r}")
        return outcome
    folder.mkdir(parents=True, exist_ok=True)
    work = _Work(client=client, name=name, folder=folder, options=options, previous=read_json(folder / DATASET_FILE))
    meta = work.fetch("dataset", f"{quote(name)}.json")
    if not isinstance(meta, Mapping):
        outcome.ok = False
        outcome.problems = [p["problem"] for p in work.problems] or ["dataset metadata is not an object"]
        return outcome  # the previous dataset.json, if any, stays as it was
    document = _dataset_fields(meta, private=private)
    document["data"], model_error = _model_data(work)
    document["sources"] = _sources(work)
    document["visualisations"] = work.fetch("views", f"{quote(name)}/views.json") or work.previous.get(
        "visualisations", []
    )
    document.update(_team(work))
    editor = _editor(work)
    if editor is not None:
        document["runs"], loaded = editor
        for source in document["sources"]:
            source["loaded"] = loaded.get(source["url"], False)
    _cube(work, document)
    document["export"] = {
        "tool": TOOL,
        "legacy_url": client.base_url,
        "exported_at": _now(),
        "problems": work.problems,
        "model_error": model_error,
    }
    write_json_atomically(folder / DATASET_FILE, document)
    return _outcome(outcome, document, work)


def _dataset_fields(meta: Mapping[str, Any], *, private: bool) -> dict[str, Any]:
    document: dict[str, Any] = {key: meta.get(key) for key in DATASET_FIELDS}
    document.update({key: meta[key] for key in OPTIONAL_FIELDS if key in meta})
    timestamps = meta["timestamps"] if isinstance(meta.get("timestamps"), Mapping) else {}
    document["created_at"] = timestamps.get("created")
    document["updated_at"] = timestamps.get("last_modified")
    document["private"] = private
    document["languages"] = list(meta.get("languages") or [])
    document["territories"] = list(meta.get("territories") or [])
    return document


def _model_data(work: _Work) -> tuple[dict[str, Any], str | None]:
    """The stored model (model.json minus its dataset block) and, if it could not be read, why.

    When it cannot be read now but an earlier export has it, the earlier one is kept (and the problem noted).
    """
    problems_before = len(work.problems)
    model = work.fetch("model", f"{quote(work.name)}/model.json")
    if isinstance(model, Mapping):
        return {key: value for key, value in model.items() if key != "dataset"}, None
    if model is not None:
        work.problem("model", "model.json is not a JSON object")
    error = work.problems[problems_before]["problem"] if len(work.problems) > problems_before else "no model"
    previous = work.previous.get("data")
    if isinstance(previous, Mapping) and previous.get("mapping"):
        work.problem("model", "kept the model exported earlier")
        return dict(previous), None
    return {}, error


def _sources(work: _Work) -> list[dict[str, Any]]:
    listed = work.fetch("sources", f"{quote(work.name)}/sources.json")
    if not isinstance(listed, list):
        return list(work.previous.get("sources", []))
    previous_archive = {
        source.get("id"): ArchiveRecord.from_dict(source.get("archive")) for source in work.previous.get("sources", [])
    }
    sources = []
    for item in listed:
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), int):
            work.problem("sources", f"skipped a source entry that has no numeric id: {str(item)[:80]}")
            continue
        sources.append(_source(work, item, previous_archive.get(item["id"])))
    return sorted(sources, key=lambda source: source["id"])


def _source(work: _Work, item: Mapping[str, Any], previous: ArchiveRecord | None) -> dict[str, Any]:
    source_id = item["id"]
    analysis = work.fetch("analysis", f"{quote(work.name)}/sources/{source_id}/analysis.json")
    url = str(item.get("url") or "")
    record = archive_source(
        work.client,
        url,
        work.folder,
        f"archive/{source_id}{_extension(url)}",
        max_bytes=work.options.max_source_bytes,
        previous=previous,
    )
    return {
        "id": source_id,
        "url": url,
        "dataset": item.get("dataset", work.name),
        "created_at": item.get("created_at"),
        # A JSON string, as in the 2015 dumps; None when it could not be fetched.
        "analysis": json.dumps(analysis, ensure_ascii=False) if analysis is not None else None,
        "archive": record.as_dict(),
    }


def _extension(url: str) -> str:
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    return suffix if suffix in SOURCE_EXTENSIONS else ".csv"


def _team(work: _Work) -> dict[str, Any]:
    """The team from the editor's team page (with admin flags) when the key allows it, else from the about page."""
    accounts: list[legacy_html.TeamAccount] = []
    if work.client.has_api_key:
        try:
            accounts = legacy_html.parse_team_from_editor(work.client.get_text(f"{quote(work.name)}/editor/team"))
        except LegacyError:
            accounts = []
    if not accounts:
        try:
            accounts = legacy_html.parse_team_from_meta(work.client.get_text(f"{quote(work.name)}/meta"))
        except LegacyError as error:
            work.problem("team", str(error))
            return {key: work.previous[key] for key in ("team", "team_accounts") if key in work.previous}
    return {
        "team": [account.username for account in accounts],
        "team_accounts": [
            {"name": account.username, "fullname": account.fullname, "admin": account.admin} for account in accounts
        ],
    }


def _editor(work: _Work) -> tuple[list[dict[str, Any]], dict[str, bool]] | None:
    """Runs and "Successfully loaded" flags from the editor page, which needs the team's key; None: not known.

    The legacy pages never name a run's operation (sample or import): the per-source "Successfully loaded"
    button is the only sign that an import completed.
    """
    if not work.client.has_api_key:
        return None
    try:
        page = work.client.get_text(f"{quote(work.name)}/editor")
    except LegacyError as error:
        work.problem("runs", f"runs not visible: {error}")
        return None
    runs = [
        {"id": run.id, "source_id": run.source_id, "operation": run.operation, "status": run.status,
         "time_start": run.time_start, "time_end": run.time_end, "error_count": run.error_count}
        for run in legacy_html.parse_runs_from_editor(page)
    ]  # fmt: skip
    loaded = {source.url: source.loaded for source in legacy_html.parse_sources_from_editor(page) if source.url}
    return runs, loaded


def _cube(work: _Work, document: dict[str, Any]) -> None:
    """The cube's rows and totals, skipped when an earlier run got them complete and the dataset is unchanged."""
    measures = _measures(document)
    unchanged = _unchanged_since_previous(work, document)
    if unchanged and (work.folder / "aggregates.json").is_file():
        aggregates = read_json(work.folder / "aggregates.json")
    else:
        aggregates = cube.fetch_aggregates(work.client, work.name, measures) if measures else {}
        for error in aggregates.get("errors", []):
            work.problem("aggregates", f"{error['measure']}: {error['problem']}")
        if aggregates:
            write_json_atomically(work.folder / "aggregates.json", aggregates)
    if not work.options.entries:
        if "entries" in work.previous:
            document["entries"] = work.previous["entries"]
        return
    if unchanged and work.previous.get("entries", {}).get("complete"):
        document["entries"] = work.previous["entries"]
        return
    try:
        result = cube.fetch_entries(
            work.client, work.name, work.folder / "entries.csv", expected=aggregates.get("num_entries")
        )
    except LegacyError as error:
        work.problem("entries", str(error))
        if "entries" in work.previous:
            document["entries"] = work.previous["entries"]
        return
    document["entries"] = result.as_dict()
    if not result.complete:
        work.problem("entries", f"the search API returned {result.rows} rows, the cube holds {result.expected}")


def _measures(document: Mapping[str, Any]) -> list[str]:
    data = document.get("data")
    if not isinstance(data, Mapping) or not data.get("mapping"):
        return []
    mapping = normalise_model(data, document).model.get("mapping", {})
    return [name for name, entry in mapping.items() if isinstance(entry, Mapping) and entry.get("type") == "measure"]


def _unchanged_since_previous(work: _Work, document: Mapping[str, Any]) -> bool:
    previous = work.previous
    if not previous or previous.get("updated_at") != document.get("updated_at") or not document.get("updated_at"):
        return False
    entries = previous.get("entries")
    if isinstance(entries, Mapping) and entries.get("sha256"):
        path = work.folder / "entries.csv"
        return path.is_file() and file_sha256(path) == entries["sha256"]
    return not work.options.entries


def _outcome(outcome: DatasetOutcome, document: Mapping[str, Any], work: _Work) -> DatasetOutcome:
    for source in document.get("sources", []):
        archive = source.get("archive", {})
        if archive.get("status") == FETCHED:
            outcome.sources_fetched += 1
            outcome.bytes += int(archive.get("size") or 0)
        elif archive.get("status") == UNREACHABLE:
            outcome.sources_unreachable += 1
    entries = document.get("entries")
    outcome.entries = entries.get("rows") if isinstance(entries, Mapping) else None
    outcome.problems = [f"{p['step']}: {p['problem']}" for p in work.problems]
    return outcome


# -- files ----------------------------------------------------------------------------------------------------------


def read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def write_json_atomically(path: Path, value: Any) -> None:
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(partial, path)


def iter_dataset_names(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value.strip() for value in values if value.strip()))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
