"""What the proposers read and write: the facts of one dataset, a proposal while it is drafted, and how a legacy
entry's source, label and sample values are read. The overview is in conversion/review/proposals.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_SAMPLES = 5
REVENUE_WORDS = {"revenue", "revenues", "income", "receipts", "tax", "taxes", "tekjur", "einnahmen", "ingresos"}


@dataclass(frozen=True)
class DatasetFacts:
    name: str
    label: str
    currency: str
    category: str
    model: Mapping[str, Any]
    samples: Mapping[str, Sequence[str]] = field(default_factory=dict)
    source_columns: Sequence[str] = ()
    sample_rows: int = 0  # how many rows the samples were drawn from (distinct values are capped)


@dataclass
class Draft:
    """A proposal while it is drafted: the proposers add reasons and doubts, `proposals` finishes it."""

    path: str
    kind: str
    source: dict[str, Any]
    column_type: str
    title: str
    confidence: float
    reasons: list[str]
    samples: list[str]
    labelfor: str | None = None
    parent: str | None = None
    primary_key: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    conflict: bool = False

    def doubt(self, reason: str, *, conflict: bool = False, confidence: float | None = None) -> None:
        self.reasons.append(reason)
        self.conflict = self.conflict or conflict
        if confidence is not None:
            self.confidence = min(self.confidence, confidence)


def legacy_source(entry: Mapping[str, Any]) -> dict[str, Any]:
    """How the legacy loader read the values. An empty default_value is kept: it meant "empty is fine"."""
    keys = ("column", "datatype", "constant", "format")
    source = {key: entry[key] for key in keys if entry.get(key) not in (None, "")}
    if entry.get("default_value") is not None:
        source["default_value"] = entry["default_value"]
    return source


def samples_of(facts: DatasetFacts, column: Any) -> list[str]:
    if not isinstance(column, str):
        return []
    return [value for value in facts.samples.get(column, ()) if value.strip()][: MAX_SAMPLES * 4]


def label_of(entry: Mapping[str, Any], name: str) -> str:
    return str(entry.get("label") or name)
