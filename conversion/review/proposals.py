"""Proposing how every legacy measure and dimension becomes a Fiscal Data Package column. Pure functions.

Each proposal names a column type of the vocabulary, the output field, its title, labelfor/parent links (as legacy
paths of the same dataset), whether it is part of the primary key, measure options; a confidence between 0 and 1;
reasons written for a person; and sample values. Below the threshold, or when evidence conflicts, it is ambiguous.

Drafts are made in review/proposers.py (measures, dates, attributes, unused columns) and review/compound_proposers.py
(compound dimensions and their hierarchies), over the dataclasses of review/proposal_drafts.py; here they become
proposals, with unique field names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from text_unidecode import unidecode  # type: ignore[import-untyped]

from conversion.packaging import vocabulary
from conversion.review.compound_proposers import Member, compound_drafts, link_hierarchies
from conversion.review.proposal_drafts import MAX_SAMPLES, DatasetFacts, Draft
from conversion.review.proposers import attribute_draft, date_draft, extra_drafts, measure_draft

__all__ = ["DEFAULT_THRESHOLD", "DatasetFacts", "Proposal", "field_name", "propose"]

DEFAULT_THRESHOLD = 0.8


@dataclass(frozen=True)
class Proposal:
    legacy_path: str
    kind: str
    position: int
    source: dict[str, Any]
    target: dict[str, Any]
    confidence: float
    reasons: tuple[str, ...]
    samples: tuple[str, ...]
    ambiguous: bool


def propose(facts: DatasetFacts, *, threshold: float = DEFAULT_THRESHOLD) -> list[Proposal]:
    mapping = facts.model.get("mapping") if isinstance(facts.model, Mapping) else None
    if not isinstance(mapping, Mapping):
        return []
    drafts: list[Draft] = []
    compounds: list[Member] = []
    for name, entry in mapping.items():
        if not isinstance(entry, Mapping):
            continue
        kind = entry.get("type")
        if kind == "measure":
            drafts.append(measure_draft(facts, name, entry, drafts))
        elif kind == "date":
            drafts.append(date_draft(facts, name, entry))
        elif kind == "attribute":
            drafts.append(attribute_draft(facts, name, entry))
        elif kind == "compound":
            members = compound_drafts(facts, name, entry)
            compounds.append((name, entry, members))
            drafts.extend(members)
    link_hierarchies(facts, compounds)
    drafts.extend(extra_drafts(facts, drafts))
    return _finish(drafts, threshold)


# -- finishing ------------------------------------------------------------------------------------------------------


def _finish(drafts: list[Draft], threshold: float) -> list[Proposal]:
    names: set[str] = set()
    proposals = []
    for position, draft in enumerate(drafts):
        if not vocabulary.is_known(draft.column_type):
            draft.doubt(f"no column type {draft.column_type} in the vocabulary", conflict=True)
            draft.column_type = "unknown:string"
        target = {
            "column_type": draft.column_type,
            "field": _unique(_field_name(draft.path), names),
            "title": draft.title,
            "labelfor": draft.labelfor,
            "parent": draft.parent,
            "primary_key": draft.primary_key,
            "options": draft.options,
        }
        confidence = round(max(0.0, min(1.0, draft.confidence)), 2)
        proposals.append(
            Proposal(
                legacy_path=draft.path,
                kind=draft.kind,
                position=position,
                source=draft.source,
                target=target,
                confidence=confidence,
                reasons=tuple(draft.reasons),
                samples=tuple(draft.samples[:MAX_SAMPLES]),
                ambiguous=draft.conflict or confidence < threshold,
            )
        )
    return proposals


def field_name(path: str) -> str:
    """An output column name: the legacy path in lower-case snake case, as the 2015 migration named columns."""
    return _field_name(path)


def _field_name(path: str) -> str:
    text = path.removeprefix("extra:")
    slug = re.sub(r"[^0-9a-z]+", "_", unidecode(text).lower()).strip("_")
    return slug or "column"


def _unique(name: str, taken: set[str]) -> str:
    candidate, counter = name, 2
    while candidate in taken:
        candidate, counter = f"{name}_{counter}", counter + 1
    taken.add(candidate)
    return candidate
