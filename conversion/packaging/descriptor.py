"""The datapackage.json of a built package: a "dual-version" Fiscal Data Package (research fiscal-data-package.md §1.4).

A tabular data package (so frictionless validates it offline) with the FDP 0.3 `model` that OpenSpending Next reads
and a `columnType` on every field (FDP 1.0-rc). Pure function of the plan, the build report and the shapes of the
values written, so the same build always gives the same bytes: no timestamps, keys in a fixed order.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from conversion.packaging.package_spec import BuildPlan, BuildReport, ColumnSpec, PackageMeta
from conversion.packaging.vocabulary import ColumnType, column_type, is_known
from migration_site.lib.web_links import http_url

DATE_GRAINS = frozenset({"year", "month", "day"})  # value shapes of a date column, all written as days
NUMERIC_SHAPES = frozenset({"", "year", "integer", "number"})
INTEGER_SHAPES = frozenset({"", "year", "integer"})
LEGACY_DEFAULT_TIME = "legacy default_time"  # provenance fiscal_period_from: no dates in the data
GRANULARITY = {"budget": "aggregated", "spending": "transactional"}
# The FDP 0.3 schema's enums: anything else would make the package invalid, so it is left out of the model.
DIRECTIONS = frozenset({"expenditure", "revenue"})
PHASES = frozenset({"proposed", "approved", "adjusted", "executed"})
CLASSIFICATION_TYPES = frozenset({"functional", "administrative", "economic"})  # not os-types' "object"


def descriptor(plan: BuildPlan, report: BuildReport, value_shapes: Mapping[str, Collection[str]]) -> dict[str, Any]:
    """The package descriptor. `plan.columns` are the columns actually written; `value_shapes` says, per typed field,
    what its written values looked like ("year", "month", "day", "integer", "number", "text"; "" for empty)."""
    meta = plan.meta
    return {
        "name": meta.name,
        "title": meta.title,
        "description": meta.description,
        # "data-package", not "tabular-data-package": OpenSpending's loader rewrites the resources and then validates
        # the package against this profile, which fails for the tabular one. The resources stay tabular.
        "profile": "data-package",
        "profiles": {"fiscal": "*", "tabular": "*"},
        **({"countryCode": meta.territories[0].upper()} if meta.territories else {}),
        "currency": meta.currency.upper(),
        **({"granularity": GRANULARITY[meta.category]} if meta.category in GRANULARITY else {}),
        **({"fiscalPeriod": period} if (period := fiscal_period(meta, report)) else {}),
        "sources": [_source(source) for source in meta.sources],
        **({"licenses": [dict(licence) for licence in meta.licenses]} if meta.licenses else {}),
        **_people(meta),
        "legacy": _legacy(meta, plan.columns),
        "provenance": _provenance(meta, report),
        "resources": [_resource(plan, report, value_shapes)],
        "model": {"measures": _measures(plan), "dimensions": _dimensions(plan.columns)},
        "count_of_rows": report.rows_written,
    }


def fiscal_period(meta: PackageMeta, report: BuildReport) -> dict[str, str] | None:
    """The first and last day the data's date columns cover; only data without dates falls back to the plan's
    period (the legacy default_time's year, which the build notes in the provenance)."""
    if report.dates:
        spans = report.dates.values()
        return {"start": min(span["start"] for span in spans), "end": max(span["end"] for span in spans)}
    return dict(meta.fiscal_period) if meta.fiscal_period else None


def _source(source: Mapping[str, Any]) -> dict[str, Any]:
    name = str(source.get("id", ""))
    url = http_url(source.get("url"))
    if url is None:  # no address, or one that is not a web link: the source keeps its name, the value stays text
        return {"name": name, "title": f"Legacy source {name}", **_as_recorded(source.get("url"))}
    title = url.rstrip("/").rsplit("/", 1)[-1] or f"Legacy source {name}"
    return {"name": name, "title": title, "path": url, "web": url}


def _as_recorded(value: object) -> dict[str, str]:
    """A legacy address that is not an http(s) URL (`javascript:`, `ftp:`, a relative path) is not dropped, since the
    package keeps everything the legacy dataset had; it is kept under `url_as_recorded`, a name that no consumer
    (this site, FDP tools, data.json) treats as a link, where `url`, `path` and `web` would be followed."""
    text = str(value or "")
    return {"url_as_recorded": text} if text.strip() else {}


def _people(meta: PackageMeta) -> dict[str, Any]:
    # `name` satisfies FDP 0.3's author objects and `title` the tabular data package's contributors.
    people: dict[str, Any] = {"author": meta.author} if meta.author else {}
    contributors = [{"title": who, "name": who, "role": "contributor"} for who in meta.contributors]
    if meta.publisher:  # the organisation the owner publishes as (Data Package spec: role "publisher")
        contributors.append(dict(meta.publisher))
    if contributors:
        people["contributors"] = contributors
    if meta.owner:
        people["owner"] = meta.owner
    return people


def _legacy(meta: PackageMeta, columns: Sequence[ColumnSpec]) -> dict[str, Any]:
    return {
        # Which legacy dimension or attribute each field was (`to.label`): here, not in the fields, whose unknown
        # properties OpenSpending's packager passes on to os-types, which refuses them.
        "paths": {column.field: column.path for column in columns},
        "name": meta.legacy_name,
        **({"url": url} if (url := http_url(meta.legacy_url)) else _as_recorded(meta.legacy_url)),
        "title": meta.title,
        "category": meta.category,
        "currency": meta.currency,
        "languages": list(meta.languages),
        "territories": list(meta.territories),
        **{key: meta.extra[key] for key in sorted(meta.extra)},
    }


def _provenance(meta: PackageMeta, report: BuildReport) -> dict[str, Any]:
    return {
        **{key: meta.provenance[key] for key in sorted(meta.provenance)},
        **report.counts(),
        **_period_origin(meta, report),
        **({"sources_gone": list(report.sources_gone)} if report.sources_gone else {}),
        **({"default_values": dict(report.defaults)} if report.defaults else {}),
        "notes": list(report.notes),
    }


def _period_origin(meta: PackageMeta, report: BuildReport) -> dict[str, str]:
    """Where fiscalPeriod came from, so that readers (the site's years) can tell the data's span from a guess."""
    if report.dates:
        return {"fiscal_period_from": "data"}
    return {"fiscal_period_from": LEGACY_DEFAULT_TIME} if meta.fiscal_period else {}


def _resource(plan: BuildPlan, report: BuildReport, value_shapes: Mapping[str, Collection[str]]) -> dict[str, Any]:
    path = f"data/{plan.meta.name}.csv"
    written = next((entry for entry in report.files if entry["path"] == path), None)
    schema: dict[str, Any] = {"fields": [_field(column, value_shapes.get(column.field)) for column in plan.columns]}
    primary_key = [column.field for column in plan.columns if column.primary_key]
    if primary_key:
        schema["primaryKey"] = primary_key
    return {
        "name": plan.meta.name,
        "profile": "tabular-data-resource",
        "path": path,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        **({"bytes": written["bytes"], "hash": f"sha256:{written['sha256']}"} if written else {}),
        "schema": schema,
    }


def _field(column: ColumnSpec, shapes: Collection[str] | None) -> dict[str, Any]:
    kind = type_of(column)
    field: dict[str, Any] = {"name": column.field, "title": column.title, **_table_type(kind, shapes)}
    field.update(columnType=kind.name, conceptType=kind.concept)
    return field


def _table_type(kind: ColumnType, shapes: Collection[str] | None) -> dict[str, Any]:
    """The table schema type: the vocabulary's data type when every written value fits it, else string."""
    seen = set(shapes or ())
    if kind.data_type == "number" and seen <= NUMERIC_SHAPES:
        return {"type": "number", "decimalChar": ".", "groupChar": ""}
    if kind.data_type == "integer" and seen <= INTEGER_SHAPES:
        return {"type": "integer"}
    if kind.data_type == "date" and seen - {""} <= DATE_GRAINS:
        return {"type": "date", "format": "%Y-%m-%d"}  # months and years are written as their first day
    return {"type": "string"}


def _measures(plan: BuildPlan) -> dict[str, Any]:
    measures: dict[str, Any] = {}
    for column in plan.columns:
        if not type_of(column).is_measure:
            continue
        options = column.options
        measure = {
            "source": column.field,
            "title": column.title,
            "currency": str(options.get("currency") or plan.meta.currency).upper(),
            "factor": 1,
        }
        if options.get("direction") in DIRECTIONS:
            measure["direction"] = options["direction"]
        if options.get("phase") in PHASES:
            measure["phase"] = options["phase"]
        measures[column.field] = measure
    return measures


def _dimensions(columns: Sequence[ColumnSpec]) -> dict[str, Any]:
    """One dimension per concept, as os-types builds them; an `unknown:*` column gets its own, named after it."""
    groups: dict[str, list[ColumnSpec]] = {}
    concepts = {type_of(column).concept for column in columns}
    for column in columns:
        kind = type_of(column)
        if kind.is_measure:
            continue
        name = kind.concept
        if name == "unknown":
            name = column.field if column.field not in concepts else f"unknown-{column.field}"
        groups.setdefault(name, []).append(column)
    fields = {column.field for column in columns}
    return {name: _dimension(members, fields) for name, members in groups.items()}


def _dimension(members: list[ColumnSpec], fields: set[str]) -> dict[str, Any]:
    kind = type_of(members[0])
    dimension: dict[str, Any] = {"dimensionType": kind.dimension_type or "other"}
    if kind.classification_type in CLASSIFICATION_TYPES:
        dimension["classificationType"] = kind.classification_type
    dimension["primaryKey"] = _dimension_key(members)
    dimension["attributes"] = {column.field: _attribute(column, fields) for column in members}
    return dimension


def _attribute(column: ColumnSpec, fields: set[str]) -> dict[str, Any]:
    attribute: dict[str, Any] = {"source": column.field, "title": column.title}
    if column.labelfor in fields:
        attribute["labelfor"] = column.labelfor
    if column.parent in fields:
        attribute["parent"] = column.parent
    return attribute


def _dimension_key(members: list[ColumnSpec]) -> list[str]:
    """The unique attributes, parents before children; every attribute when none is unique."""
    unique = [column for column in members if type_of(column).unique] or members
    parents = {column.field: column.parent for column in members}

    def depth(field: str) -> int:
        steps, seen = 0, {field}
        while (parent := parents.get(field)) and parent in parents and parent not in seen:
            field, steps = parent, steps + 1
            seen.add(field)
        return steps

    order = {column.field: position for position, column in enumerate(members)}
    return sorted((column.field for column in unique), key=lambda field: (depth(field), order[field]))


def type_of(column: ColumnSpec) -> ColumnType:
    """The column's vocabulary type; a name the vocabulary does not know counts as `unknown:string`."""
    return column_type(column.column_type if is_known(column.column_type) else "unknown:string")
