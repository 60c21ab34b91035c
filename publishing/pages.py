"""What the package page shows, read from the stored descriptor and the conversion run: plain values for templates."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conversion.packaging.descriptor import LEGACY_DEFAULT_TIME
from migration_site.lib.jsondata import as_dict, dicts_in, strings_in
from migration_site.lib.web_links import http_url
from publishing.links import Download, downloads
from publishing.models import PublishedPackage
from publishing.totals import PackageTotals, package_totals

MAX_DIFFERENCES = 10
# Provenance keys the page shows in sentences and tables of their own, not as "key: value".
SHOWN_APART = {"notes", "sources_gone", "default_values", "dropped_columns"}
PERIOD_NOTES = {
    "data": "the first and last dates in the data",
    LEGACY_DEFAULT_TIME: "the data has no dates: this is the year the legacy platform showed by default",
}


@dataclass(frozen=True)
class FieldRow:
    name: str
    title: str
    type: str
    column_type: str
    role: str  # "measure", the dimension it belongs to, or ""


@dataclass(frozen=True)
class Dimension:
    name: str
    dimension_type: str
    attributes: list[str]


@dataclass(frozen=True)
class Reconciliation:
    status: str
    rows_ours: object
    rows_legacy: object
    differences: list[dict[str, Any]] = field(default_factory=list)
    difference_count: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DefaultFill:
    field: str
    default_value: str
    filled: int | None  # cells the legacy default filled; None when a curator kept them empty
    kept_empty: int | None


@dataclass(frozen=True)
class Summary:
    files: list[Download]  # each data file with its copies in other formats (Parquet)
    fields: list[FieldRow]
    measures: list[dict[str, Any]]
    dimensions: list[Dimension]
    provenance: list[tuple[str, str]]
    notes: list[str]
    sources: list[tuple[str, str | None, str]]  # title, link (http(s) only), the address as text when not a link
    reconciliation: Reconciliation | None
    totals: PackageTotals  # per measure and year, beside the legacy platform's (publishing/totals.py)
    fiscal_period: str  # "start to end", as the descriptor states it
    fiscal_period_note: str  # where the period comes from, when the build said so
    legacy_url: str | None
    legacy_address: str  # a recorded legacy address that is not an http(s) URL: shown as text, never linked
    built_from: str  # "sources" or "cube": where the rows were read
    sources_gone: list[tuple[str, str, str]]  # id, address (dead: shown as text), why: loaded once, now gone
    defaults: list[DefaultFill]  # per column with a legacy default_value: the cells it filled, or kept empty
    dropped: list[tuple[str, str, str]]  # legacy path, source column, why: columns a curator left out


def summary(package: PublishedPackage) -> Summary:
    descriptor: Mapping[str, Any] = package.descriptor if isinstance(package.descriptor, dict) else {}
    model = as_dict(descriptor.get("model"))
    provenance = as_dict(descriptor.get("provenance"))
    return Summary(
        files=downloads(package, descriptor),
        fields=fields(descriptor, model),
        measures=[{"name": name, **as_dict(m)} for name, m in as_dict(model.get("measures")).items()],
        dimensions=dimensions(model),
        provenance=[
            (key.replace("_", " "), readable(v)) for key, v in sorted(provenance.items()) if key not in SHOWN_APART
        ],
        notes=strings_in(provenance.get("notes")),
        sources=[_source(source) for source in dicts_in(descriptor.get("sources"))],
        reconciliation=reconciliation(descriptor, package),
        totals=package_totals(descriptor, package),
        fiscal_period=_fiscal_period(descriptor.get("fiscalPeriod")),
        fiscal_period_note=PERIOD_NOTES.get(str(provenance.get("fiscal_period_from")), ""),
        legacy_url=http_url(package.legacy_url),
        legacy_address=_text(as_dict(descriptor.get("legacy")).get("url_as_recorded")),
        built_from=str(provenance.get("built_from") or ""),
        sources_gone=[_gone(item) for item in dicts_in(provenance.get("sources_gone"))],
        defaults=_defaults(provenance.get("default_values")),
        dropped=[
            (_text(item.get("path")), _text(item.get("column")), _text(item.get("reason")))
            for item in dicts_in(provenance.get("dropped_columns"))
        ],
    )


def fields(descriptor: Mapping[str, Any], model: Mapping[str, Any]) -> list[FieldRow]:
    roles = {str(m.get("source", name)): "measure" for name, m in as_dict(model.get("measures")).items()}
    for name, dimension in as_dict(model.get("dimensions")).items():
        for attribute in as_dict(as_dict(dimension).get("attributes")).values():
            roles.setdefault(str(as_dict(attribute).get("source", "")), f"dimension {name}")
    rows = []
    for resource in dicts_in(descriptor.get("resources")):
        for item in dicts_in(as_dict(resource.get("schema")).get("fields")):
            name = str(item.get("name", ""))
            rows.append(
                FieldRow(
                    name,
                    str(item.get("title", "")),
                    str(item.get("type", "")),
                    str(item.get("columnType", "")),
                    roles.get(name, ""),
                )
            )
    return rows


def dimensions(model: Mapping[str, Any]) -> list[Dimension]:
    return [
        Dimension(name, str(as_dict(d).get("dimensionType", "")), list(as_dict(as_dict(d).get("attributes"))))
        for name, d in as_dict(model.get("dimensions")).items()
    ]


def reconciliation(descriptor: Mapping[str, Any], package: PublishedPackage) -> Reconciliation | None:
    """From the descriptor when it carries one, else from the run that built the package."""
    run = package.run
    data = as_dict(descriptor.get("reconciliation")) or as_dict(run.reconciliation if run else None)
    if not data:
        return None
    status = str(data.get("status", ""))
    if run and run.reconciliation_status == "accepted":
        status = "mismatch accepted after review"
    rows = as_dict(data.get("rows"))
    differences: list[dict[str, Any]] = dicts_in(data.get("differences"))
    return Reconciliation(
        status=status,
        rows_ours=rows.get("ours"),
        rows_legacy=rows.get("legacy"),
        differences=differences[:MAX_DIFFERENCES],
        difference_count=len(differences),
        notes=[str(note) for note in strings_in(data.get("notes"))],
    )


def _source(source: Mapping[str, Any]) -> tuple[str, str | None, str]:
    title = str(source.get("title") or source.get("name") or "")
    link = http_url(source.get("web")) or http_url(source.get("path"))
    return title, link, _text(source.get("url_as_recorded"))


def _defaults(value: object) -> list[DefaultFill]:
    return [
        DefaultFill(
            str(name), _text(item.get("default_value")), _count(item.get("filled")), _count(item.get("kept_empty"))
        )
        for name, item in sorted(as_dict(value).items())
        if isinstance(item, dict)
    ]


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _gone(item: Mapping[str, Any]) -> tuple[str, str, str]:
    return _text(item.get("id")), _text(item.get("url")), _text(item.get("why"))


def _fiscal_period(value: object) -> str:
    period = as_dict(value)
    return f"{period.get('start', '?')} to {period.get('end', '?')}" if period else ""


def _text(value: object) -> str:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "" if value is None else str(value)


def readable(value: object) -> str:
    """A provenance value in words, not JSON: `{"changes": {"approved": 14}, "reviewers": ["a", "b"]}` reads
    "changes: approved: 14; reviewers: a, b" (a JSON object on one line also ran past a phone's width)."""
    if isinstance(value, dict):
        separator = ", " if all(not isinstance(v, dict | list) for v in value.values()) else "; "
        return separator.join(f"{str(k).replace('_', ' ')}: {readable(v)}" for k, v in sorted(value.items()))
    if isinstance(value, list):
        return ", ".join(readable(item) for item in value)
    return _text(value)
