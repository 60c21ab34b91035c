"""Reading dump folders: ours (export_legacy) and the 2015 migration's (openspending-migrate), as plain values.

A dump folder holds one sub-folder per dataset, or is itself one dataset's folder:
`dataset.json`, `archive/<source id>.<ext>`, and the cube's rows as `entries.csv` (ours) or `dataset.csv` (2015).

A dump is hostile input: the dataset's name must be one safe folder name, every file is opened through
`dump_files.dump_file` (inside the dataset's folder, no symbolic links), and an archived file must match the size and
sha256 its record gives. What is refused becomes a problem of the source or the dataset, never a stored file.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.utils.dateparse import parse_datetime

from datasets.downloads import FETCHED, NOT_TRIED, UNREACHABLE, ArchiveRecord
from datasets.dump_files import RefusedFile, archive_mismatch, dump_file, dump_folder, read_json_object
from datasets.names import dataset_name_problem
from migration_site.lib.hashing import bytes_sha256, file_sha256
from migration_site.lib.jsondata import as_dict, as_list, as_text

DATASET_FILE = "dataset.json"
ENTRY_FILES = ("entries.csv", "dataset.csv")
KNOWN_KEYS = {
    "id",
    "name",
    "label",
    "description",
    "currency",
    "default_time",
    "schema_version",
    "category",
    "private",
    "created_at",
    "updated_at",
    "languages",
    "territories",
    "data",
    "sources",
    "team",
    "team_accounts",
    "runs",
    "entries",
    "export",
    "html_url",
}
VOLATILE_ARCHIVE_KEYS = {"checked_at", "fetched_at", "refresh_error"}
PROBLEM_STEP = "import"
MISSING_FILE = "recorded as fetched but the file is missing from the dump"


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
    archive_sha256: str = ""  # of archive_file, as checked when the dump was read


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
    """The dataset folders of a dump, or the folder itself; symbolic links are listed too, to be refused by name."""
    if _has_dataset_file(path):
        return [path]
    if not path.is_dir():
        raise DumpError(f"{path} is not a folder")
    return sorted(child for child in path.iterdir() if _has_dataset_file(child))


def _has_dataset_file(folder: Path) -> bool:
    return os.path.lexists(folder / DATASET_FILE)


def read_dataset_folder(folder: Path) -> DumpedDataset:
    """One dataset's folder as plain values; DumpError when its dataset.json cannot be used at all."""
    document = _load(folder)
    name = _name(folder, document)  # before any other file is opened
    problems: list[dict[str, Any]] = []
    export = as_dict(document.get("export"))
    entries_file, entries_sha256, entry_count = _entries(folder, problems)
    aggregates = _aggregates(folder, problems)
    if entry_count is None and aggregates and isinstance(aggregates.get("num_entries"), int):
        entry_count = aggregates["num_entries"]
    sources = [_source(folder, item, problems) for item in as_list(document.get("sources")) if _has_int_id(item)]
    dumped = DumpedDataset(
        folder=folder,
        name=name,
        fields=_fields(document),
        raw_model=document["data"] if isinstance(document.get("data"), dict) else None,
        model_fetch_error=str(export.get("model_error") or ""),
        sources=sources,
        team=_team(document),
        runs=_runs(document.get("runs")),
        entries_file=entries_file,
        entries_sha256=entries_sha256,
        entry_count=entry_count,
        entries_complete=_entries_complete(document.get("entries")),
        aggregates=aggregates,
        harvest_problems=[dict(p) for p in as_list(export.get("problems")) if isinstance(p, Mapping)] + problems,
        harvested_at=_harvested_at(export, folder),
        origin=str(export.get("legacy_url") or folder.resolve()),
    )
    dumped.content_hash = _content_hash(document, dumped)
    return dumped


def _load(folder: Path) -> dict[str, Any]:
    """dataset.json, from a folder that is no symbolic link and whose name could be a dataset's."""
    folder_name = Path(os.path.abspath(folder)).name
    problem = "it is a symbolic link" if folder.is_symlink() else dataset_name_problem(folder_name)
    if problem is not None:
        raise DumpError(f"refused the dataset folder {folder}: {problem}")
    try:
        path = dump_file(folder, DATASET_FILE)
        if path is None:
            raise DumpError(f"{folder} has no {DATASET_FILE}")
        return read_json_object(path)
    except RefusedFile as refused:
        raise DumpError(f"refused {folder / DATASET_FILE}: {refused}") from refused
    except OSError as error:
        raise DumpError(f"cannot read {folder / DATASET_FILE}: {error.strerror}") from error
    except ValueError as error:
        raise DumpError(f"{folder}: {error}") from error


def _name(folder: Path, document: Mapping[str, Any]) -> str:
    """The dataset's name: it names storage keys (legacy/<name>/...), so it must be one safe path segment."""
    name = str(document.get("name") or "").strip()
    problem = dataset_name_problem(name)
    if problem is not None:
        raise DumpError(f"refused {folder / DATASET_FILE}: {problem}")
    return name


def _aggregates(folder: Path, problems: list[dict[str, Any]]) -> dict[str, Any] | None:
    try:
        path = dump_file(folder, "aggregates.json")
        return read_json_object(path) if path is not None else None
    except (RefusedFile, OSError, ValueError) as error:
        _problem(problems, f"aggregates.json not read: {_why(error)}")
        return None


def _fields(document: Mapping[str, Any]) -> dict[str, Any]:
    territories = [str(code).upper() for code in as_list(document.get("territories"))]
    extra = {key: value for key, value in document.items() if key not in KNOWN_KEYS and value not in (None, "")}
    return {
        "legacy_id": document["id"] if isinstance(document.get("id"), int) else None,
        "label": as_text(document.get("label")),
        "description": as_text(document.get("description")),
        "currency": as_text(document.get("currency")).upper(),
        "category": as_text(document.get("category")),
        "territories": territories,
        "territory_index": "|" + "|".join(territories) + "|" if territories else "",
        "languages": [str(code).lower() for code in as_list(document.get("languages"))],
        "default_time": as_text(document.get("default_time")),
        "schema_version": as_text(document.get("schema_version")),
        "private": bool(document.get("private")),
        "legacy_created_at": _datetime(document.get("created_at")),
        "legacy_updated_at": _datetime(document.get("updated_at")),
        "legacy_url": as_text(document.get("html_url")),
        "extra": extra,
    }


def _source(folder: Path, item: Mapping[str, Any], problems: list[dict[str, Any]]) -> DumpedSource:
    source_id = int(item["id"])
    recorded = ArchiveRecord.from_dict(item.get("archive"))
    archive, path, sha256 = _archive(folder, source_id, recorded)
    if archive.status != recorded.status and archive.status == UNREACHABLE:
        _problem(problems, f"source {source_id}: {archive.error}")
    return DumpedSource(
        legacy_id=source_id,
        url=as_text(item.get("url")),
        created_at=_datetime(item.get("created_at")),
        updated_at=_datetime(item.get("updated_at")),
        analysis=_analysis(item.get("analysis")),
        archive=archive,
        archive_file=path,
        loaded=item["loaded"] if isinstance(item.get("loaded"), bool) else None,
        archive_sha256=sha256,
    )


def _archive(folder: Path, source_id: int, archive: ArchiveRecord) -> tuple[ArchiveRecord, Path | None, str]:
    """The archive record as the import should see it, the file to store (if any) and that file's sha256.

    A file that is refused, missing though recorded as fetched, or not the one recorded makes the source
    unreachable with the reason: it is not counted as fetched, and nothing is stored.
    """
    if archive.status not in (FETCHED, NOT_TRIED):
        return archive, None, ""
    try:
        path = dump_file(folder, archive.path) if archive.path else _find_archive(folder, source_id)
    except RefusedFile as refused:
        return _not_kept(archive, f"refused the archived file: {refused}"), None, ""
    if path is None:
        return (_not_kept(archive, MISSING_FILE) if archive.status == FETCHED else archive), None, ""
    mismatch, sha256 = archive_mismatch(archive, path)
    if mismatch is not None:
        return _not_kept(archive, f"refused the archived file: {mismatch}"), None, ""
    if archive.status == NOT_TRIED:
        # The 2015 dumps hold archived files without any record of the download.
        archive = ArchiveRecord(status=FETCHED, path=path.relative_to(folder).as_posix())
    return archive, path, sha256


def _not_kept(archive: ArchiveRecord, reason: str) -> ArchiveRecord:
    return replace(archive, status=UNREACHABLE, error=reason)


def _find_archive(folder: Path, source_id: int) -> Path | None:
    """The 2015 dumps' archive/<source id>.<ext>, found by listing; symbolic links are refused like named paths."""
    if dump_folder(folder, "archive") is None:
        return None
    names = sorted(path.name for path in (folder / "archive").glob(f"{source_id}.*") if not path.name.endswith(".part"))
    return dump_file(folder, f"archive/{names[0]}") if names else None


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
        for account in as_list(document.get("team_accounts"))
        if isinstance(account, Mapping) and account.get("name")
    }
    members = []
    for item in as_list(document.get("team")):
        account = item if isinstance(item, Mapping) else details.get(str(item), {"name": item})
        username = as_text(account.get("name") or account.get("username"))
        if username:
            admin = account.get("admin")
            members.append(
                DumpedMember(username, as_text(account.get("fullname")), admin if isinstance(admin, bool) else None)
            )
    return list({member.username: member for member in members}.values())


def _runs(value: Any) -> list[DumpedRun] | None:
    if not isinstance(value, list):
        return None
    return [
        DumpedRun(
            legacy_id=int(run["id"]),
            source_id=run["source_id"] if isinstance(run.get("source_id"), int) else None,
            operation=as_text(run.get("operation")),
            status=as_text(run.get("status")),
            time_start=_datetime(run.get("time_start")),
            time_end=_datetime(run.get("time_end")),
        )
        for run in value
        if _has_int_id(run)
    ]


def _entries(folder: Path, problems: list[dict[str, Any]]) -> tuple[Path | None, str, int | None]:
    """The cube's rows file, its hash and its row count (quoted newlines make line counts wrong)."""
    for name in ENTRY_FILES:
        try:
            path = dump_file(folder, name)
            if path is not None:
                return path, file_sha256(path), _csv_rows(path)
        except (RefusedFile, OSError, ValueError, csv.Error) as error:
            _problem(problems, f"{name} not read: {_why(error)}")
    return None, "", None


def _csv_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)


def _problem(problems: list[dict[str, Any]], text: str) -> None:
    problems.append({"step": PROBLEM_STEP, "problem": text})


def _why(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error)


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
        for source in as_list(document.get("sources"))
    ]
    stable["__files__"] = {
        "archive": {str(s.legacy_id): s.archive_sha256 for s in dumped.sources if s.archive_file},
        "entries": dumped.entries_sha256,
        "aggregates": dumped.aggregates,
        "model_error": dumped.model_fetch_error,
    }
    canonical = json.dumps(stable, sort_keys=True, ensure_ascii=False, default=str)
    return bytes_sha256(canonical.encode("utf-8"))


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


def _has_int_id(item: Any) -> bool:
    return isinstance(item, Mapping) and isinstance(item.get("id"), int)
