"""The steps of one dataset's export (datasets/export.py), each filling part of its dataset.json: the dataset's own
fields, its model, its sources (archived, with their analysis), its team, its runs, the cube's totals and rows. A step
that fails records a problem, and keeps what an earlier export fetched when it can."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit

from datasets import cube, legacy_html
from datasets.client import LegacyClient, LegacyError
from datasets.downloads import FETCHED, ArchiveRecord, archive_source
from datasets.export_discovery import ExportOptions
from datasets.export_files import read_json, redact_file, redact_value, write_json_atomically
from datasets.legacy_model import normalise_model
from migration_site.lib.hashing import file_sha256

SOURCE_EXTENSIONS = {".csv", ".tsv", ".txt", ".json", ".xls", ".xlsx", ".ods", ".zip", ".xml"}
DATASET_FIELDS = ("name", "label", "description", "currency", "default_time", "schema_version", "category")
OPTIONAL_FIELDS = ("serp_title", "serp_teaser", "badges", "html_url")


@dataclass
class Work:
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


def dataset_fields(meta: Mapping[str, Any], *, private: bool) -> dict[str, Any]:
    document: dict[str, Any] = {key: meta.get(key) for key in DATASET_FIELDS}
    document.update({key: meta[key] for key in OPTIONAL_FIELDS if key in meta})
    timestamps = meta["timestamps"] if isinstance(meta.get("timestamps"), Mapping) else {}
    document["created_at"] = timestamps.get("created")
    document["updated_at"] = timestamps.get("last_modified")
    document["private"] = private
    for key in ("languages", "territories"):
        document[key] = list(meta[key]) if isinstance(meta.get(key), list) else []
    return document


def fetch_model(work: Work) -> tuple[dict[str, Any], str | None]:
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


def fetch_sources(work: Work) -> list[dict[str, Any]]:
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


def _source(work: Work, item: Mapping[str, Any], previous: ArchiveRecord | None) -> dict[str, Any]:
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


def _without_key(work: Work, source_id: int, record: ArchiveRecord) -> ArchiveRecord:
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


def fetch_team(work: Work) -> dict[str, Any]:
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


def fetch_editor(work: Work) -> tuple[list[dict[str, Any]], dict[str, bool]] | None:
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
        {
            "id": run.id,
            "source_id": run.source_id,
            "operation": run.operation,
            "status": run.status,
            "time_start": run.time_start,
            "time_end": run.time_end,
            "error_count": run.error_count,
        }
        for run in legacy_html.parse_runs_from_editor(page)
    ]
    loaded = {source.url: source.loaded for source in legacy_html.parse_sources_from_editor(page) if source.url}
    return runs, loaded


def fetch_cube(work: Work, document: dict[str, Any]) -> None:
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


def _unchanged_since_previous(work: Work, document: Mapping[str, Any]) -> bool:
    previous = work.previous
    if not previous or previous.get("updated_at") != document.get("updated_at") or not document.get("updated_at"):
        return False
    entries = previous.get("entries")
    if isinstance(entries, Mapping) and entries.get("sha256"):
        path = work.folder / "entries.csv"
        return path.is_file() and file_sha256(path) == entries["sha256"]
    return not work.options.entries
