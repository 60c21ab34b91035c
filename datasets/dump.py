"""Reading dump folders: ours (export_legacy) and the 2015 migration's (openspending-migrate), as plain values.

A dump folder holds one sub-folder per dataset, or is itself one dataset's folder:
`dataset.json`, `archive/<source id>.<ext>`, and the cube's rows as `entries.csv` (ours) or `dataset.csv` (2015).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.utils.dateparse import parse_datetime

from datasets.downloads import FETCHED, NOT_TRIED, ArchiveRecord, file_sha256

DATASET_FILE = "dataset.json"
ENTRY_FILES = ("entries.csv", "dataset.csv")
KNOWN_KEYS = {
    "id", "name", "label", "description", "currency", "default_time", "schema_version", "category", "private",
    "created_at", "updated_at", "languages", "territories", "data", "sources", "team", "team_accounts", "runs",
    "entries", "export", "html_url",
}  # fmt: skip
VOLATILE_ARCHIVE_KEYS = {"checked_at", "fetched_at", "refresh_error"}


class DumpError(Exception):
    """A dump folder that cannot be read at all."""


@dataclass(frozen=True)
class DumpedSource:
    legacy_id: int
    url: str
    created_at: datetime | None
    updated_at: datetime | None
    analysis: Any
    archive: ArchiveRecord
    archive_file: Path | None
    loaded: bool | None


@dataclass(frozen=True)
class DumpedMember:
    username: str
    fullname: str
    admin: bool | None


@dataclass(frozen=True)
class DumpedRun:
    legacy_id: int
    source_id: int | None
    operation: str
    status: str
    time_start: datetime | None
    time_end: datetime | None


@dataclass
class DumpedDataset:
    folder: Path
    name: str
    fields: dict[str, Any]
    raw_model: dict[str, Any] | None
    model_fetch_error: str
    sources: list[DumpedSource]
    team: list[DumpedMember]
    runs: list[DumpedRun] | None
    entries_file: Path | None
    entries_sha256: str
    entry_count: int | None
    entries_complete: bool | None
    aggregates: dict[str, Any] | None
    harvest_problems: list[dict[str, Any]]
    harvested_at: datetime | None
    origin: str
    content_hash: str = field(default="")


def find_dataset_folders(path: Path) -> list[Path]:
    if (path / DATASET_FILE).is_file():
        return [path]
    if not path.is_dir():
        raise DumpError(f"{path} is not a folder")
    return sorted(child for child in path.iterdir() if (child / DATASET_FILE).is_file())


def read_dataset_folder(folder: Path) -> DumpedDataset:
    document = _load(folder / DATASET_FILE)
    name = str(document.get("name") or "").strip()
    if not name:
        raise DumpError(f"{folder / DATASET_FILE} has no dataset name")
    export = _mapping(document.get("export"))
    entries_file, entries_sha256, entry_count = _entries(folder)
    aggregates = _optional_json(folder / "aggregates.json")
    if entry_count is None and aggregates and isinstance(aggregates.get("num_entries"), int):
        entry_count = aggregates["num_entries"]
    dumped = DumpedDataset(
        folder=folder,
        name=name,
        fields=_fields(document),
        raw_model=document["data"] if isinstance(document.get("data"), dict) else None,
        model_fetch_error=str(export.get("model_error") or ""),
        sources=[_source(folder, item) for item in _list(document.get("sources")) if _has_int_id(item)],
        team=_team(document),
        runs=_runs(document.get("runs")),
        entries_file=entries_file,
        entries_sha256=entries_sha256,
        entry_count=entry_count,
        entries_complete=_entries_complete(document.get("entries")),
        aggregates=aggregates,
        harvest_problems=[dict(p) for p in _list(export.get("problems")) if isinstance(p, Mapping)],
        harvested_at=_harvested_at(export, folder),
        origin=str(export.get("legacy_url") or folder.resolve()),
    )
    dumped.content_hash = _content_hash(document, dumped)
    return dumped


def _load(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise DumpError(f"cannot read {path}: {error.strerror}") from error
    except ValueError as error:
        raise DumpError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise DumpError(f"{path} does not hold a JSON object")
    return value


def _optional_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _fields(document: Mapping[str, Any]) -> dict[str, Any]:
    territories = [str(code).upper() for code in _list(document.get("territories"))]
    extra = {key: value for key, value in document.items() if key not in KNOWN_KEYS and value not in (None, "")}
    return {
        "legacy_id": document["id"] if isinstance(document.get("id"), int) else None,
        "label": _text(document.get("label")),
        "description": _text(document.get("description")),
        "currency": _text(document.get("currency")).upper(),
        "category": _text(document.get("category")),
        "territories": territories,
        "territory_index": "|" + "|".join(territories) + "|" if territories else "",
        "languages": [str(code).lower() for code in _list(document.get("languages"))],
        "default_time": _text(document.get("default_time")),
        "schema_version": _text(document.get("schema_version")),
        "private": bool(document.get("private")),
        "legacy_created_at": _datetime(document.get("created_at")),
        "legacy_updated_at": _datetime(document.get("updated_at")),
        "legacy_url": _text(document.get("html_url")),
        "extra": extra,
    }


def _source(folder: Path, item: Mapping[str, Any]) -> DumpedSource:
    source_id = int(item["id"])
    archive = ArchiveRecord.from_dict(item.get("archive"))
    path = folder / archive.path if archive.path else _find_archive(folder, source_id)
    if path is not None and not path.is_file():
        path = None
    if path is not None and archive.status == NOT_TRIED:
        # The 2015 dumps hold archived files without any record of the download.
        archive = ArchiveRecord(status=FETCHED, path=str(path.relative_to(folder)))
    return DumpedSource(
        legacy_id=source_id,
        url=_text(item.get("url")),
        created_at=_datetime(item.get("created_at")),
        updated_at=_datetime(item.get("updated_at")),
        analysis=_analysis(item.get("analysis")),
        archive=archive,
        archive_file=path if archive.status == FETCHED else None,
        loaded=item["loaded"] if isinstance(item.get("loaded"), bool) else None,
    )


def _find_archive(folder: Path, source_id: int) -> Path | None:
    matches = sorted((folder / "archive").glob(f"{source_id}.*")) if (folder / "archive").is_dir() else []
    return next((match for match in matches if not match.name.endswith(".part")), None)


def _analysis(value: Any) -> Any:
    """The 2015 dumps store the analysis as a JSON string; a string that is not JSON is kept as text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return {"unparsed": value}
    return value


def _team(document: Mapping[str, Any]) -> list[DumpedMember]:
    details = {
        str(account.get("name")): account
        for account in _list(document.get("team_accounts"))
        if isinstance(account, Mapping) and account.get("name")
    }
    members = []
    for item in _list(document.get("team")):
        account = item if isinstance(item, Mapping) else details.get(str(item), {"name": item})
        username = _text(account.get("name") or account.get("username"))
        if username:
            admin = account.get("admin")
            members.append(
                DumpedMember(username, _text(account.get("fullname")), admin if isinstance(admin, bool) else None)
            )
    return list({member.username: member for member in members}.values())


def _runs(value: Any) -> list[DumpedRun] | None:
    if not isinstance(value, list):
        return None
    return [
        DumpedRun(
            legacy_id=int(run["id"]),
            source_id=run["source_id"] if isinstance(run.get("source_id"), int) else None,
            operation=_text(run.get("operation")),
            status=_text(run.get("status")),
            time_start=_datetime(run.get("time_start")),
            time_end=_datetime(run.get("time_end")),
        )
        for run in value
        if _has_int_id(run)
    ]


def _entries(folder: Path) -> tuple[Path | None, str, int | None]:
    """The cube's rows file, its hash and its row count (quoted newlines make line counts wrong)."""
    for name in ENTRY_FILES:
        path = folder / name
        if path.is_file():
            with path.open(encoding="utf-8", newline="") as handle:
                rows = sum(1 for _ in csv.reader(handle)) - 1
            return path, file_sha256(path), max(rows, 0)
    return None, "", None


def _entries_complete(value: Any) -> bool | None:
    if isinstance(value, Mapping) and isinstance(value.get("complete"), bool):
        return bool(value["complete"])
    return None


def _harvested_at(export: Mapping[str, Any], folder: Path) -> datetime | None:
    exported = _datetime(export.get("exported_at"))
    if exported is not None:
        return exported
    # The 2015 dumps carry no export time: the file's own time is the best we have.
    return datetime.fromtimestamp((folder / DATASET_FILE).stat().st_mtime, tz=UTC)


def _content_hash(document: Mapping[str, Any], dumped: DumpedDataset) -> str:
    """A hash of what the dump says, ignoring when it was said: re-exporting unchanged data gives the same hash."""
    stable = {key: value for key, value in document.items() if key != "export"}
    stable["sources"] = [
        {**source, "archive": _stable_archive(source.get("archive"))} if isinstance(source, Mapping) else source
        for source in _list(document.get("sources"))
    ]
    stable["__files__"] = {
        "archive": {str(s.legacy_id): file_sha256(s.archive_file) for s in dumped.sources if s.archive_file},
        "entries": dumped.entries_sha256,
        "aggregates": dumped.aggregates,
        "model_error": dumped.model_fetch_error,
    }
    canonical = json.dumps(stable, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _stable_archive(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    return {key: item for key, item in value.items() if key not in VOLATILE_ARCHIVE_KEYS}


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _has_int_id(item: Any) -> bool:
    return isinstance(item, Mapping) and isinstance(item.get("id"), int)
