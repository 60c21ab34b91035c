"""Writes for the legacy dataset registry: importing a dumped dataset into the database and storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.dateparse import parse_datetime

from datasets.dump import DumpedDataset, DumpedSource
from datasets.legacy_model import normalise_model
from datasets.links import link_problems
from datasets.models import HarvestRecord, LegacyDataset, Source, SourceRun, TeamMember
from datasets.names import check_dataset_name, safe_suffix
from migration_site.lib.hashing import file_sha256

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
SKIPPED = "skipped"
MAX_SHOWN_VALUE = 300


@dataclass
class ImportResult:
    name: str
    action: str
    changes: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""


def dataset_import(*, dumped: DumpedDataset, force: bool = False) -> ImportResult:
    """Create or update one dataset from a dump; a dump identical to the last import changes nothing."""
    check_dataset_name(dumped.name)  # it names the storage keys below: InvalidDatasetName (a ValueError) if unsafe
    existing = LegacyDataset.objects.filter(name=dumped.name).first()
    if existing is not None and existing.content_hash == dumped.content_hash:
        return ImportResult(dumped.name, UNCHANGED)
    if _is_older(existing, dumped) and not force:
        return ImportResult(
            dumped.name,
            SKIPPED,
            message=f"the dump was made at {dumped.harvested_at:%Y-%m-%d %H:%M} UTC, before the data already "
            "imported; pass --force to import it anyway",
        )
    stored_sources = {source.legacy_id: _store_source_file(dumped, source) for source in dumped.sources}
    entries_name = _store_entries_file(dumped)
    with transaction.atomic():
        dataset = existing or LegacyDataset(name=dumped.name)
        before = _snapshot(dataset) if existing else {}
        _apply_fields(dataset, dumped, entries_name)
        dataset.save()
        _sync_sources(dataset, dumped.sources, stored_sources)
        _sync_team(dataset, dumped)
        successful_import = _sync_runs(dataset, dumped)
        dataset.refresh_state(successful_import=successful_import)
        dataset.save(update_fields=["incomplete_reasons", "is_incomplete"])
        changes = _diff(before, _snapshot(dataset)) if existing else []
        HarvestRecord.objects.create(
            dataset=dataset,
            origin=dumped.origin,
            created=existing is None,
            changes=changes,
            content_hash=dumped.content_hash,
        )
    return ImportResult(dumped.name, CREATED if existing is None else UPDATED, changes)


def _is_older(existing: LegacyDataset | None, dumped: DumpedDataset) -> bool:
    if existing is None or existing.harvested_at is None or dumped.harvested_at is None:
        return False
    return dumped.harvested_at < existing.harvested_at


def _apply_fields(dataset: LegacyDataset, dumped: DumpedDataset, entries_name: str) -> None:
    for name, value in dumped.fields.items():
        setattr(dataset, name, value)
    normalised = normalise_model(dumped.raw_model, _model_dataset_block(dumped))
    dataset.raw_model = dumped.raw_model
    dataset.model_fetch_error = dumped.model_fetch_error
    if dumped.model_fetch_error:
        dataset.normalised_model = None
        dataset.model_migrations = []
        dataset.model_problems = [
            {
                "path": "model",
                "problem": f"the model could not be read: {dumped.model_fetch_error}",
                "severity": "error",
            }
        ]
    else:
        dataset.normalised_model = normalised.model
        dataset.model_migrations = list(normalised.applied_migrations)
        dataset.model_problems = [problem.as_dict() for problem in normalised.problems]
    dataset.model_problem_count = len(dataset.model_problems)
    dataset.runs_known = dumped.runs is not None
    dataset.entry_count = dumped.entry_count
    dataset.entries_complete = dumped.entries_complete
    dataset.entries_file = entries_name
    dataset.entries_sha256 = dumped.entries_sha256
    dataset.aggregates = dumped.aggregates
    dataset.harvest_problems = dumped.harvest_problems + link_problems(dumped)  # non-http(s) addresses, never links
    dataset.origin = dumped.origin
    dataset.harvested_at = dumped.harvested_at
    dataset.content_hash = dumped.content_hash


MODEL_DATASET_KEYS = ("label", "description", "currency", "category", "languages", "territories", "default_time")


def _model_dataset_block(dumped: DumpedDataset) -> dict[str, Any]:
    """The dataset block as the legacy model held it; unique_keys (pre-2011 models) lives in `extra` after a dump."""
    block: dict[str, Any] = {"name": dumped.name, "schema_version": dumped.fields["schema_version"] or None}
    block.update({key: dumped.fields[key] for key in MODEL_DATASET_KEYS})
    block.update({key: dumped.fields["extra"][key] for key in ("unique_keys",) if key in dumped.fields["extra"]})
    return block


# -- files in storage -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredFile:
    name: str
    sha256: str
    size: int


def _store_source_file(dumped: DumpedDataset, source: DumpedSource) -> StoredFile | None:
    """The file's own hash names it, whatever the dump's record says: the bytes are the truth."""
    if source.archive_file is None:
        return None
    sha256 = source.archive_sha256 or file_sha256(source.archive_file)  # hashed once, when the dump was checked
    name = f"legacy/{dumped.name}/sources/{source.legacy_id}-{sha256[:12]}{safe_suffix(source.archive_file)}"
    return StoredFile(_store(name, source.archive_file), sha256, source.archive_file.stat().st_size)


def _store_entries_file(dumped: DumpedDataset) -> str:
    if dumped.entries_file is None:
        return ""
    name = f"legacy/{dumped.name}/entries-{dumped.entries_sha256[:12]}.csv"
    return _store(name, dumped.entries_file)


def _store(name: str, path: Path) -> str:
    """Content-addressed names: an unchanged file is never written twice, a changed one never replaces the old."""
    if default_storage.exists(name):
        return name
    with path.open("rb") as handle:
        return default_storage.save(name, File(handle, name=path.name))


# -- related rows ---------------------------------------------------------------------------------------------------


def _sync_sources(dataset: LegacyDataset, sources: list[DumpedSource], stored: dict[int, StoredFile | None]) -> None:
    keep = []
    for source in sources:
        archive = source.archive
        stored_file = stored.get(source.legacy_id)
        Source.objects.update_or_create(
            dataset=dataset,
            legacy_id=source.legacy_id,
            defaults={
                "url": source.url,
                "legacy_created_at": source.created_at,
                "legacy_updated_at": source.updated_at,
                "analysis": source.analysis,
                "legacy_loaded": source.loaded,
                "archived_file": stored_file.name if stored_file else "",
                "archive_status": archive.status,
                "archive_http_status": archive.http_status,
                "archive_error": archive.error or archive.refresh_error or "",
                "sha256": stored_file.sha256 if stored_file else "",
                "size": stored_file.size if stored_file else None,
                "content_type": archive.content_type or "",
                "fetched_at": _parse(archive.fetched_at),
            },
        )
        keep.append(source.legacy_id)
    dataset.sources.exclude(legacy_id__in=keep).delete()


def _sync_team(dataset: LegacyDataset, dumped: DumpedDataset) -> None:
    usernames = []
    for position, member in enumerate(dumped.team):
        TeamMember.objects.update_or_create(
            dataset=dataset,
            username=member.username,
            defaults={"fullname": member.fullname, "legacy_admin": member.admin, "position": position},
        )
        usernames.append(member.username)
    dataset.team.exclude(username__in=usernames).delete()


def _sync_runs(dataset: LegacyDataset, dumped: DumpedDataset) -> bool | None:
    """Runs are replaced only when the dump saw them; returns whether any source was successfully loaded."""
    if dumped.runs is None:
        return None
    sources = {source.legacy_id: source for source in dataset.sources.all()}
    for run in dumped.runs:
        SourceRun.objects.update_or_create(
            dataset=dataset,
            legacy_id=run.legacy_id,
            defaults={
                "source": sources.get(run.source_id) if run.source_id is not None else None,
                "operation": run.operation,
                "status": run.status,
                "time_start": run.time_start,
                "time_end": run.time_end,
            },
        )
    dataset.runs.exclude(legacy_id__in=[run.legacy_id for run in dumped.runs]).delete()
    loaded = dataset.sources.filter(legacy_loaded=True).exists()
    return loaded or any(run.is_successful_import for run in dataset.runs.all())


# -- what changed ---------------------------------------------------------------------------------------------------

SNAPSHOT_FIELDS = [
    "label",
    "description",
    "currency",
    "category",
    "territories",
    "languages",
    "default_time",
    "schema_version",
    "private",
    "legacy_created_at",
    "legacy_updated_at",
    "legacy_url",
    "extra",
    "raw_model",
    "model_fetch_error",
    "model_problems",
    "entry_count",
    "entries_sha256",
    "aggregates",
    "incomplete_reasons",
]


def _snapshot(dataset: LegacyDataset) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(dataset, name) for name in SNAPSHOT_FIELDS}
    if dataset.pk:
        values["sources"] = {
            source.legacy_id: [source.url, source.archive_status, source.sha256] for source in dataset.sources.all()
        }
        values["team"] = dataset.team_usernames
        values["runs"] = {run.legacy_id: [run.operation, run.status] for run in dataset.runs.all()}
    return values


def _diff(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"field": name, "before": _shown(before.get(name)), "after": _shown(after.get(name))}
        for name in after
        if before.get(name) != after.get(name)
    ]


def _shown(value: Any) -> Any:
    """Small values as they are; big ones (a whole model) summarised, so the record stays readable."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    if len(text) <= MAX_SHOWN_VALUE:
        return value if isinstance(value, (str, int, float, bool, list, type(None))) else text
    return f"{text[:MAX_SHOWN_VALUE]}... ({len(text)} characters)"


def _parse(value: str | None) -> Any:
    return parse_datetime(value) if value else None
