"""What a package build needs and what it reports: plain values shared by the builder, validation, reconciliation
and the jobs. No Django here, so the builder runs the same in a worker, a command or a benchmark."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

BuiltFrom = Literal["sources", "cube"]


@dataclass(frozen=True)
class ColumnSpec:
    """One output column: where its values come from (legacy semantics) and what it is (the approved target)."""

    path: str  # legacy path: "amount", "to.label", "extra:Notes"
    kind: str  # measure, date, attribute, compound, extra
    field: str  # output column name
    column_type: str  # a name of conversion.packaging.vocabulary
    title: str
    source_column: str | None  # column of the original source files; None for a constant
    datatype: str  # legacy datatype: id, string, float, date, constant, url
    default_value: str | None = None
    constant: str | None = None
    date_format: str | None = None
    labelfor: str | None = None  # the *field* this one labels
    parent: str | None = None  # the *field* one level up
    primary_key: bool = False
    legacy_key: bool = False  # part of the legacy entry key: rows with equal keys overwrite each other
    keep_empty: bool = False  # a measure's empty cells stay empty instead of taking default_value (a curator's choice)
    number_format: tuple[str, str] | None = None  # (decimal, thousands) a curator chose for a measure; None: legacy
    # dataclasses.field: inside this class `field` names the column's field (mypy reads it so).
    options: dict[str, Any] = dataclasses.field(default_factory=dict)  # measures: currency, direction, phase


@dataclass(frozen=True)
class SourceFile:
    source_id: int
    url: str
    path: Path  # a local file (the job copies it out of storage first)
    loaded: bool = False  # the legacy platform loaded it into the cube (an import run of it completed or failed)


@dataclass(frozen=True)
class GoneSource:
    """A source the legacy platform loaded that no longer exists as a usable file: its rows live only in the cube."""

    source_id: int
    url: str
    why: str  # for a person: "HTTP 404", "never archived"


@dataclass(frozen=True)
class PackageMeta:
    name: str  # package name: lower-case slug
    title: str
    description: str
    legacy_name: str
    legacy_url: str
    currency: str
    category: str
    territories: list[str]
    languages: list[str]
    owner: str
    author: str  # "username" or "Full Name (username)"
    contributors: list[str]
    sources: list[dict[str, Any]]  # [{"id", "url"}]
    fiscal_period: dict[str, str] | None = None  # from default_time: used only when the data has no dates
    provenance: dict[str, Any] = field(default_factory=dict)  # review trail summary, decision, ...
    extra: dict[str, Any] = field(default_factory=dict)
    licenses: list[dict[str, str]] = field(default_factory=list)  # Data Package `licenses`: [{"name", "path", "title"}]
    publisher: dict[str, str] = field(default_factory=dict)  # a contributor with role "publisher": title, path, email


@dataclass(frozen=True)
class BuildPlan:
    meta: PackageMeta
    columns: list[ColumnSpec]
    sources: list[SourceFile]  # in the order the legacy platform loaded them
    entries_file: Path | None = None  # the cube's rows, for the fallback
    gone_sources: list[GoneSource] = field(default_factory=list)  # loaded once, not archived: build from the cube


@dataclass
class RowProblem:
    source_id: int | None  # None: the cube's rows
    row: int  # 1-based data row number in its file
    field: str
    value: str
    problem: str


@dataclass
class BuildReport:
    built_from: BuiltFrom
    rows_read: int = 0
    rows_written: int = 0
    rows_rejected: int = 0  # rows the legacy loader would have refused (a cell that fails conversion)
    overwritten: int = 0  # rows replaced by a later row with the same legacy key
    overwritten_examples: list[dict[str, Any]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)  # capped; counts below are complete
    problem_counts: dict[str, int] = field(default_factory=dict)  # per field
    totals: dict[str, Decimal] = field(default_factory=dict)  # per measure field
    totals_by_year: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # measure field -> year -> total
    dates: dict[str, dict[str, str]] = field(default_factory=dict)  # date field -> {"start", "end"}: days it covers
    files: list[dict[str, Any]] = field(default_factory=list)  # [{"path", "bytes", "sha256", "rows"}]
    notes: list[str] = field(default_factory=list)  # for a person: fallbacks, dropped columns, ...
    sources_gone: list[dict[str, Any]] = field(default_factory=list)  # [{"id", "url", "why"}]: loaded, now unusable
    # Per column with a legacy default_value: {"default_value", "filled"} cells the default filled as the rows were
    # read, or {"default_value", "kept_empty"} cells left empty by a curator's choice.
    defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    kept_empty_by_year: dict[str, dict[str, int]] = field(default_factory=dict)  # measure -> year -> empty cells

    def counts(self) -> dict[str, Any]:
        """Where the rows came from and what happened to them: for the descriptor, the run record and people."""
        return {
            "built_from": self.built_from,
            "rows_read": self.rows_read,
            "rows_written": self.rows_written,
            "rows_rejected": self.rows_rejected,
            "overwritten": self.overwritten,
        }
