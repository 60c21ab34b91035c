"""Turning a reviewed dataset into a build plan: approved mappings as columns, archived files copied out of storage."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import Count, Q

from conversion.models import DatasetDecision, DimensionMapping, ReviewEvent, dataset_licence, dataset_owner
from conversion.organisations import publisher_of
from conversion.packaging import number_formats
from conversion.packaging.package_spec import BuildPlan, ColumnSpec, GoneSource, PackageMeta, SourceFile
from datasets.models import LegacyDataset, Source

NAME = re.compile(r"[^a-z0-9._-]+")


class NotConvertible(Exception):
    """The dataset cannot be converted as it stands; the message says why, for a person. A run that meets it ends
    "not convertible" (ConversionRun.Status.NOT_CONVERTIBLE), with the message as its error."""


def convertible_problem(dataset: LegacyDataset) -> str:
    """Why a dataset cannot be converted now; empty when it can."""
    return workflow_problem(dataset) or no_data_problem(dataset)


def workflow_problem(dataset: LegacyDataset) -> str:
    """What people still have to do before a conversion (review, or undo an exclusion); empty when nothing."""
    mappings = DimensionMapping.objects.filter(dataset=dataset)
    counts = mappings.aggregate(total=Count("id"))
    if not counts["total"]:
        return "no mapping: propose and review one first"
    open_count = mappings.open().count()
    if open_count:
        return f"{open_count} mapping(s) still wait for a curator"
    decision = DatasetDecision.objects.filter(dataset=dataset).first()
    if decision is not None and decision.decision == DatasetDecision.Choice.EXCLUDE:
        return "a migration admin excluded it from the migration"
    return ""


def no_data_problem(dataset: LegacyDataset) -> str:
    """Why there is no data to convert, when the database can tell: no source file with a byte and no cube row. A
    file that turns out unreadable is found by the build, and the run then ends the same way."""
    if _usable_sources(dataset).exclude(size=0).exists():
        return ""
    if not dataset.entries_file:
        cube = "the legacy cube's rows were not exported"
    elif dataset.entry_count == 0:  # counted when imported; None (unknown) is not held against it
        cube = "the legacy cube has no rows"
    else:
        return ""
    empty = _usable_sources(dataset).filter(size=0).count()
    sources = f"its {empty} archived source file(s) are empty" if empty else "none of its source files was archived"
    return f"no data: {sources} and {cube}"


def build_plan(dataset: LegacyDataset, workdir: Path) -> BuildPlan:
    problem = convertible_problem(dataset)
    if problem:
        raise NotConvertible(problem)
    mappings = list(
        DimensionMapping.objects.filter(dataset=dataset, status=DimensionMapping.Status.APPROVED).in_order()
    )
    loaded = _loaded_source_ids(dataset)
    return BuildPlan(
        meta=package_meta(dataset),
        columns=columns_of(dataset, mappings),
        sources=_copy_sources(dataset, workdir, loaded),
        entries_file=_copy(dataset.entries_file.name, workdir / "entries.csv") if dataset.entries_file else None,
        gone_sources=_gone_sources(dataset, loaded),
    )


def columns_of(dataset: LegacyDataset, mappings: list[DimensionMapping]) -> list[ColumnSpec]:
    """Approved mappings as columns; labelfor/parent turned from legacy paths into the fields they name."""
    field_of = {mapping.legacy_path: mapping.field_name for mapping in mappings}
    keys = _legacy_keys(dataset)
    return [_column(mapping, field_of, keys) for mapping in mappings]


def _column(mapping: DimensionMapping, field_of: dict[str, str], keys: set[str]) -> ColumnSpec:
    target, source = mapping.current_target, mapping.source
    default = target["default_value"] if "default_value" in target else source.get("default_value")
    return ColumnSpec(
        path=mapping.legacy_path,
        kind=mapping.kind,
        field=mapping.field_name,
        column_type=mapping.column_type,
        title=str(target.get("title") or mapping.field_name),
        source_column=source.get("column"),
        datatype=str(source.get("datatype") or "string"),
        default_value=default,
        constant=None if source.get("constant") is None else str(source["constant"]),
        date_format=source.get("format"),
        labelfor=field_of.get(str(target.get("labelfor"))),
        parent=field_of.get(str(target.get("parent"))),
        primary_key=bool(target.get("primary_key")),
        legacy_key=_dimension(mapping.legacy_path) in keys and _is_key_attribute(mapping),
        # Without a default there is nothing to keep out of the empty cells (they refuse their row, as the legacy did).
        keep_empty=bool(target.get("keep_empty"))
        and mapping.kind == DimensionMapping.Kind.MEASURE
        and default is not None,
        number_format=number_formats.of_target(target.get("number_format")),
        options=dict(target.get("options") or {}),
    )


def _keeps_empty(mapping: DimensionMapping, target: dict[str, Any], default: object) -> bool:
    """A measure a curator keeps empty; without a default there is nothing to keep out of its empty cells (they
    refuse their row, as the legacy loader did)."""
    return bool(target.get("keep_empty")) and mapping.kind == DimensionMapping.Kind.MEASURE and default is not None


def _legacy_keys(dataset: LegacyDataset) -> set[str]:
    mapping = (dataset.normalised_model or {}).get("mapping") or {}
    return {name for name, entry in mapping.items() if isinstance(entry, dict) and entry.get("key")}


def _dimension(path: str) -> str:
    return path.split(".", 1)[0]


def _is_key_attribute(mapping: DimensionMapping) -> bool:
    """The legacy key used a compound dimension's `name` (its member), and the whole value of other dimensions."""
    return mapping.kind != DimensionMapping.Kind.COMPOUND_ATTRIBUTE or mapping.legacy_path.endswith(".name")


def package_meta(dataset: LegacyDataset) -> PackageMeta:
    team = list(dataset.team.all())
    decision = DatasetDecision.objects.filter(dataset=dataset).first()
    owner = dataset_owner(dataset, decision)
    sources = list(dataset.sources.order_by("legacy_created_at", "legacy_id"))
    return PackageMeta(
        name=package_name(dataset.name),
        title=dataset.label or dataset.name,
        description=dataset.description,
        legacy_name=dataset.name,
        legacy_url=dataset.legacy_url,
        currency=dataset.currency.upper(),
        category=dataset.category,
        territories=list(dataset.territories),
        languages=list(dataset.languages),
        owner=owner,
        author=_person(team[0]) if team else owner,
        contributors=[_person(member) for member in team[1:]],
        sources=[{"id": source.legacy_id, "url": source.url} for source in sources],
        fiscal_period=_fiscal_period(dataset.default_time),
        provenance=_provenance(dataset, decision),
        extra={"default_time": dataset.default_time, "private": dataset.private},
        licenses=[dataset_licence(decision).descriptor_entry()],
        publisher=publisher_of(owner).contributor(),
    )


def package_name(name: str) -> str:
    return NAME.sub("-", name.lower()).strip("-") or "dataset"


def _person(member: Any) -> str:
    return (
        f"{member.fullname} ({member.username})"
        if member.fullname and member.fullname != member.username
        else str(member.username)
    )


def _fiscal_period(default_time: str) -> dict[str, str] | None:
    """The legacy default_time is a year chosen in the editor, not the time the data covers: its calendar year is
    only the fallback the build uses when the data has no dates (the descriptor takes the data's own span)."""
    if re.fullmatch(r"\d{4}", default_time or ""):
        return {"start": f"{default_time}-01-01", "end": f"{default_time}-12-31"}
    return None


def _provenance(dataset: LegacyDataset, decision: DatasetDecision | None) -> dict[str, Any]:
    events = ReviewEvent.objects.filter(dataset=dataset)
    actions = dict(events.values_list("action").annotate(count=Count("id")).order_by())
    reviewers = sorted({name for name in events.exclude(user=None).values_list("user__username", flat=True)})
    return {
        "harvested_from": dataset.origin,
        "harvested_at": dataset.harvested_at.isoformat() if dataset.harvested_at else None,
        "review": {"changes": actions, "reviewers": reviewers},
        "decision": (
            {"decision": decision.decision, "reason": decision.reason} if decision and decision.decision else None
        ),
        "dropped_columns": _dropped_columns(dataset),
    }


def _dropped_columns(dataset: LegacyDataset) -> list[dict[str, Any]]:
    """The legacy columns a curator left out of the package, with why and who: the package page lists them."""
    dropped = DimensionMapping.objects.filter(dataset=dataset, status=DimensionMapping.Status.DROPPED).in_order()
    return [
        {
            "path": mapping.legacy_path,
            "column": mapping.source.get("column"),
            "reason": mapping.rejection_reason,
            "by": mapping.reviewer.username if mapping.reviewer else None,
        }
        for mapping in dropped.select_related("reviewer")
    ]


def _usable_sources(dataset: LegacyDataset) -> Any:
    return dataset.sources.filter(archive_status=Source.ArchiveStatus.FETCHED).exclude(archived_file="")


def _copy_sources(dataset: LegacyDataset, workdir: Path, loaded: set[int]) -> list[SourceFile]:
    files = []
    for source in _usable_sources(dataset).order_by("legacy_created_at", "legacy_id"):
        suffix = Path(source.archived_file.name).suffix or ".csv"
        path = _copy(source.archived_file.name, workdir / "sources" / f"{source.legacy_id}{suffix}")
        files.append(
            SourceFile(source_id=source.legacy_id, url=source.url, path=path, loaded=source.legacy_id in loaded)
        )
    return files


def _loaded_source_ids(dataset: LegacyDataset) -> set[int]:
    """The sources whose rows reached the cube: an import of it ran (a failed import still loaded its valid rows, one
    by one), or the legacy editor said "Successfully loaded"."""
    imported = dataset.runs.filter(
        Q(status__iexact="complete") | Q(status__iexact="failed"), operation__iexact="import", source__isnull=False
    ).values_list("source__legacy_id", flat=True)
    flagged = dataset.sources.filter(legacy_loaded=True).values_list("legacy_id", flat=True)
    return {*imported, *flagged}


def _gone_sources(dataset: LegacyDataset, loaded: set[int]) -> list[GoneSource]:
    """Loaded sources the export could not archive: the cube is then the only complete copy of the data."""
    missing = dataset.sources.filter(legacy_id__in=loaded).exclude(pk__in=_usable_sources(dataset).values("pk"))
    return [
        GoneSource(source_id=source.legacy_id, url=source.url, why=_why_gone(source))
        for source in missing.order_by("legacy_created_at", "legacy_id")
    ]


def _why_gone(source: Source) -> str:
    if source.archive_status == Source.ArchiveStatus.UNREACHABLE:
        if source.archive_http_status:
            return f"the export got HTTP {source.archive_http_status}"
        return f"the export could not fetch it: {source.archive_error}" if source.archive_error else "unreachable"
    return "it was never archived"


def _copy(name: str, destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    with default_storage.open(name, "rb") as source, destination.open("wb") as target:
        shutil.copyfileobj(source, target, 1024 * 1024)
    return destination
