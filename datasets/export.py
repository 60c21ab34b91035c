"""Export a legacy instance over HTTP into a dump folder: DIR/<name>/{dataset.json, archive/, entries.csv, ...}.

Every step of a dataset is guarded: a failure is written into dataset.json (`export.problems`) and the export goes
on. What an earlier run fetched successfully is kept when the same step fails now.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit

from datasets import cube, legacy_html
from datasets.client import LegacyClient, LegacyError
from datasets.downloads import FETCHED, UNREACHABLE, ArchiveRecord, archive_source, file_sha256
from datasets.export_discovery import ExportFailed, ExportOptions, discover, name_problem
from datasets.export_files import read_json, redact_file, redact_value, write_json_atomically
from datasets.legacy_model import normalise_model

TOOL = "openspending-migration"
DATASET_FILE = "dataset.json"
REPORT_FILE = "export-report.json"
SOURCE_EXTENSIONS = {".csv", ".tsv", ".txt", ".json", ".xls", ".xlsx", ".ods", ".zip", ".xml"}
DATASET_FIELDS = ("name", "label", "description", "currency", "default_time", "schema_version", "category")
OPTIONAL_FIELDS = ("serp_title", "serp_teaser", "badges", "html_url")


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
    names = discover(client, include_private=options.include_private, only=options.names)
    if on_start:
        on_start(len(names))
    summary = ExportSummary(base_url=client.base_url)

    def run(item: tuple[str, bool]) -> DatasetOutcome:
        name, private = item
        try:
            return export_dataset(client, name, target, private=private, options=options)
        except Exception as error:  # one dataset's failure, whatever it is, must not end the run
            return _failed(client, name, private, f"{type(error).__name__}: {error}")

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
        redact=client.redact,
    )
    return summary


def _failed(client: LegacyClient, name: str, private: bool, problem: str) -> DatasetOutcome:
    """The outcome of a dataset that could not be exported; its name and problem as safe to print and write."""
    return DatasetOutcome(name=client.redact(name), ok=False, private=private, problems=[client.redact(problem)])


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
    client: LegacyClient, name: str, target: Path, *, private: bool, options: ExportOptions
) -> DatasetOutcome:
    """Export one dataset into target/<name>/; a name that cannot be one folder there is refused first."""
    refusal = _refusal(client, name, target)
    if refusal is not None:
        return _failed(client, name, private, f"refused: {refusal}")
    folder = target / name
    folder.mkdir(exist_ok=True)
    work = _Work(client=client, name=name, folder=folder, options=options, previous=read_json(folder / DATASET_FILE))
    meta = work.fetch("dataset", f"{quote(name)}.json")
    if not isinstance(meta, Mapping):
        problems = [p["problem"] for p in work.problems] or ["dataset metadata is not an object"]
        return DatasetOutcome(name=name, ok=False, private=private, problems=problems)  # the old dataset.json stays
    document = _document(work, meta, private=private)
    write_json_atomically(folder / DATASET_FILE, document, redact=client.redact)
    return _outcome(DatasetOutcome(name=name, private=private), document, work)


def _refusal(client: LegacyClient, name: str, target: Path) -> str | None:
    problem = name_problem(client, name)
    if problem is None and (target / name).is_symlink():
        # Written through, it would put the dataset's files wherever the link points.
        problem = f"{target / name} is a symbolic link"
    return problem


def _document(work: _Work, meta: Mapping[str, Any], *, private: bool) -> dict[str, Any]:
    """dataset.json: the 2015 dumps' shape, plus what the export saw (runs, visualisations, problems)."""
    document = _dataset_fields(meta, private=private)
    if document["name"] != work.name:
        work.problem("dataset", f"the instance answered for the name {str(document['name'])[:80]!r}")
        document["name"] = work.name  # the name we asked for, checked above, is the one the dump folder has
    document["data"], model_error = _model_data(work)
    document["sources"] = _sources(work)
    visualisations = work.fetch("views", f"{quote(work.name)}/views.json")
    document["visualisations"] = visualisations or work.previous.get("visualisations", [])
    document.update(_team(work))
    editor = _editor(work)
    if editor is not None:
        document["runs"], loaded = editor
        for source in document["sources"]:
            source["loaded"] = loaded.get(source["url"], False)
    _cube(work, document)
    document["export"] = {
        "tool": TOOL,
        "legacy_url": work.client.base_url,
        "exported_at": _now(),
        "problems": work.problems,
        "model_error": model_error,
    }
    return document


def _dataset_fields(meta: Mapping[str, Any], *, private: bool) -> dict[str, Any]:
    document: dict[str, Any] = {key: meta.get(key) for key in DATASET_FIELDS}
    document.update({key: meta[key] for key in OPTIONAL_FIELDS if key in meta})
    timestamps = meta["timestamps"] if isinstance(meta.get("timestamps"), Mapping) else {}
    document["created_at"] = timestamps.get("created")
    document["updated_at"] = timestamps.get("last_modified")
    document["private"] = private
    for key in ("languages", "territories"):
        document[key] = list(meta[key]) if isinstance(meta.get(key), list) else []
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
    if analysis is not None:
        # Redacted before it becomes a string: an escaped key inside the JSON text would not match later.
        analysis = json.dumps(redact_value(analysis, work.client.redact), ensure_ascii=False)
    return {
        "id": source_id,
        "url": url,
        "dataset": item.get("dataset", work.name),
        "created_at": item.get("created_at"),
        "analysis": analysis,  # a JSON string, as in the 2015 dumps; None when it could not be fetched
        "archive": _without_key(work, source_id, record).as_dict(),
    }


def _without_key(work: _Work, source_id: int, record: ArchiveRecord) -> ArchiveRecord:
    """The archived file with the API key redacted, if the legacy instance served one that echoes it."""
    if not work.client.has_api_key or record.status != FETCHED or not record.path:
        return record
    path = work.folder / record.path
    if not path.is_file() or not redact_file(path, work.client.redact):
        return record
    work.problem("sources", f"source {source_id}: the file held the API key, replaced by *** in the archived copy")
    return replace(record, sha256=file_sha256(path), size=path.stat().st_size)


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
            write_json_atomically(work.folder / "aggregates.json", aggregates, redact=work.client.redact)
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


def iter_dataset_names(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value.strip() for value in values if value.strip()))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
