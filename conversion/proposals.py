"""Proposing how every legacy measure and dimension becomes a Fiscal Data Package column. Pure functions.

Each proposal names a column type of the vocabulary, the output field, its title, labelfor/parent links (as legacy
paths of the same dataset), whether it is part of the primary key, measure options; a confidence between 0 and 1;
reasons written for a person; and sample values. Below the threshold, or when evidence conflicts, it is ambiguous.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from text_unidecode import unidecode  # type: ignore[import-untyped]

from conversion import families, vocabulary
from conversion.families import Family
from conversion.legacy_values import ValueProblem, parse_date, parse_float

DEFAULT_THRESHOLD = 0.8
MAX_SAMPLES = 5
YEAR = re.compile(r"^\d{4}$")
REVENUE_WORDS = {"revenue", "revenues", "income", "receipts", "tax", "taxes", "tekjur", "einnahmen", "ingresos"}
PROPOSED_WORDS = {"proposed", "draft", "request", "requested", "estimate", "estimates", "ansatz", "plan"}
EXECUTED_WORDS = {"actual", "actuals", "executed", "outturn", "spent", "ergebnis", "paid", "uppgjor", "realised"}
IDENTIFIER_WORDS = {"transaction", "transactionid", "invoice", "payment", "voucher", "ref", "reference", "id", "entry"}
TRANSACTION_WORDS = {"transaction", "transactionid", "invoice", "voucher", "payment"}


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


@dataclass
class _Draft:
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


Member = tuple[str, Mapping[str, Any], list[_Draft]]  # a compound dimension: name, legacy entry, its drafts


def propose(facts: DatasetFacts, *, threshold: float = DEFAULT_THRESHOLD) -> list[Proposal]:
    mapping = facts.model.get("mapping") if isinstance(facts.model, Mapping) else None
    if not isinstance(mapping, Mapping):
        return []
    drafts: list[_Draft] = []
    compounds: list[Member] = []
    for name, entry in mapping.items():
        if not isinstance(entry, Mapping):
            continue
        kind = entry.get("type")
        if kind == "measure":
            drafts.append(_measure(facts, name, entry, drafts))
        elif kind == "date":
            drafts.append(_date(facts, name, entry))
        elif kind == "attribute":
            drafts.append(_attribute(facts, name, entry))
        elif kind == "compound":
            members = _compound(facts, name, entry)
            compounds.append((name, entry, members))
            drafts.extend(members)
    _link_hierarchies(facts, compounds)
    drafts.extend(_extras(facts, drafts))
    return _finish(drafts, threshold)


# -- measures and dates ---------------------------------------------------------------------------------------------


def _measure(facts: DatasetFacts, name: str, entry: Mapping[str, Any], earlier: list[_Draft]) -> _Draft:
    column = entry.get("column")
    draft = _Draft(
        path=name,
        kind="measure",
        source=_source(entry),
        column_type="value",
        title=_label(entry, name),
        confidence=0.95,
        reasons=["a legacy measure: an amount of money"],
        samples=_samples(facts, column),
    )
    _measure_options(facts, name, entry, draft)
    bad = _not_numbers(draft.samples)
    if bad:
        draft.doubt(f"sample values that are not numbers: {', '.join(bad)}", conflict=True)
    if any(other.kind == "measure" and other.source.get("column") == column for other in earlier):
        draft.doubt(f"reads the same column '{column}' as another measure: keep one of them", conflict=True)
    return draft


def _measure_options(facts: DatasetFacts, name: str, entry: Mapping[str, Any], draft: _Draft) -> None:
    currency = (facts.currency or "").strip().upper()
    if currency:
        draft.options["currency"] = currency
        draft.reasons.append(f"currency {currency} from the dataset")
    else:
        draft.doubt("the dataset names no currency: choose one", conflict=True)
    text = set(families.words(name, entry.get("label"), entry.get("description"), facts.label, facts.name))
    draft.options["direction"] = "revenue" if text & REVENUE_WORDS else "expenditure"
    if draft.options["direction"] == "revenue":
        draft.reasons.append("the names speak of revenue")
    category = (facts.category or "").lower()
    if text & PROPOSED_WORDS:
        draft.options["phase"] = "proposed"
    elif text & EXECUTED_WORDS or category == "spending":
        draft.options["phase"] = "executed"
    else:
        draft.options["phase"] = "approved"
    if category in {"budget", "spending"}:
        draft.reasons.append(
            f"direction {draft.options['direction']} and phase {draft.options['phase']} from the category "
            f"'{category}' and the names"
        )
    else:
        draft.doubt(
            f"the category '{category or 'none'}' says nothing of direction or phase: "
            f"guessed {draft.options['direction']}, {draft.options['phase']}",
            confidence=0.7,
        )


def _date(facts: DatasetFacts, name: str, entry: Mapping[str, Any]) -> _Draft:
    samples = _samples(facts, entry.get("column"))
    draft = _Draft(
        path=name,
        kind="date",
        source=_source(entry),
        column_type="date:generic",
        title=_label(entry, name),
        confidence=0.95,
        reasons=[],
        samples=samples,
        primary_key=bool(entry.get("key")),
    )
    if entry.get("format"):
        draft.options["format"] = entry["format"]
    years = [value for value in samples if YEAR.match(value.strip())]
    if samples and len(years) == len(samples):
        draft.column_type = "date:fiscal-year"
        draft.confidence = 0.9
        draft.reasons.append("every sample value is a year")
    elif years:
        draft.doubt("some values are years and some are dates: the granularity differs by row", conflict=True)
    elif samples:
        draft.reasons.append("the values are dates")
    else:
        draft.doubt("no sample values to tell years from dates", confidence=0.7)
    return draft


# -- attribute dimensions -----------------------------------------------------------------------------------------


def _attribute(facts: DatasetFacts, name: str, entry: Mapping[str, Any]) -> _Draft:
    samples = _samples(facts, entry.get("column"))
    draft = _Draft(
        path=name,
        kind="attribute",
        source=_source(entry),
        column_type="unknown:string",
        title=_label(entry, name),
        confidence=0.4,
        reasons=[],
        samples=samples,
        primary_key=bool(entry.get("key")),
    )
    text = set(families.words(name, entry.get("label"), entry.get("description")))
    guess = families.guess_family(name, entry.get("label"), entry.get("taxonomy"), entry.get("description"))
    if entry.get("key") and not _few_values(facts, samples):
        _identifier(facts, draft, text)
        return draft
    if entry.get("key"):
        draft.reasons.append("a key in the legacy model, but with few distinct values: it groups rows")
    if text & TRANSACTION_WORDS:
        draft.column_type, draft.confidence = "transaction-id:code", 0.85
        draft.reasons.append("its name says it identifies transactions")
    elif "currency" in families.words(name):
        draft.column_type, draft.confidence = "value-currency:code", 0.85
        draft.reasons.append("its name says it holds currency codes")
    elif guess.family is not None:
        draft.column_type = _type(guess.family, "code", None)
        draft.confidence = guess.confidence - 0.05
        draft.reasons.append(f"{guess.reason}; a single column, so it is both the code and the label")
    elif entry.get("datatype") == "float" or (samples and not _not_numbers(samples)):
        draft.column_type = "unknown:number"
        draft.doubt(
            "numbers the legacy app kept as an attribute, not a measure: map it as 'value' if it is an amount",
            confidence=0.5,
        )
    else:
        draft.doubt(f"{guess.reason}: kept as a plain text column")
    return draft


def _few_values(facts: DatasetFacts, samples: Sequence[str]) -> bool:
    """Whether a column repeats a handful of values over many rows: a category, not an identifier."""
    return bool(samples) and facts.sample_rows >= 4 * len(set(samples))


def _identifier(facts: DatasetFacts, draft: _Draft, text: set[str]) -> None:
    draft.reasons.append("marked as a key in the legacy model: it identifies rows")
    if text & IDENTIFIER_WORDS or (facts.category or "").lower() == "spending":
        draft.column_type, draft.confidence = "transaction-id:code", 0.85
        draft.reasons.append("a transaction identifier by its name or the spending category")
    else:
        draft.column_type, draft.confidence = "budget-line-id", 0.75
        draft.doubt("a budget line id or a transaction id? its name does not say")


# -- compound dimensions ------------------------------------------------------------------------------------------


def _compound(facts: DatasetFacts, name: str, entry: Mapping[str, Any]) -> list[_Draft]:
    attributes: Mapping[str, Any] = entry["attributes"] if isinstance(entry.get("attributes"), Mapping) else {}
    label = _label(entry, name)
    guess = families.guess_family(name, entry.get("label"), entry.get("taxonomy"), entry.get("description"))
    code_samples = _samples(facts, _column_of(attributes.get("name")))
    family, confidence, reasons, conflict = _compound_family(guess, code_samples, revenue=_is_revenue(facts))
    drafts = []
    for attribute, spec in attributes.items():
        if not isinstance(spec, Mapping):
            continue
        role = families.role_of(attribute)
        draft = _Draft(
            path=f"{name}.{attribute}",
            kind="compound",
            source=_source(spec),
            column_type=_type(family, role, None),
            title=_attribute_title(label, attribute, role),
            confidence=confidence if role != "extra" else 0.85,
            reasons=list(reasons) if role != "extra" else ["an extra attribute of the dimension, kept as it was"],
            samples=_samples(facts, spec.get("column")) if spec.get("column") else _constant_samples(spec),
            conflict=conflict and role != "extra",
        )
        if spec.get("constant") is not None and not spec.get("column"):
            draft.reasons.append(f"a constant in the legacy model ('{spec['constant']}'), materialised as a column")
        if role == "code":
            draft.primary_key = bool(entry.get("key"))
            _code_notes(draft, spec, attributes)
        if role == "label" and isinstance(attributes.get("name"), Mapping):
            draft.labelfor = f"{name}.name"
        drafts.append(draft)
    return drafts


def _compound_family(
    guess: families.FamilyGuess, codes: Sequence[str], *, revenue: bool
) -> tuple[Family, float, list[str], bool]:
    cofog_codes = families.looks_like_cofog(codes)
    if guess.family is families.COFOG and codes and not families.cofog_shaped(codes):
        return families.COFOG, 0.6, [guess.reason, "but its codes do not look like COFOG codes"], True
    if guess.family is not None:
        return guess.family, guess.confidence, [guess.reason], False
    if cofog_codes:
        return families.COFOG, 0.7, ["its codes look like COFOG codes (01, 01.1, ...), though no name says so"], False
    if revenue:
        reason = f"{guess.reason}; in a revenue dataset, categories are usually an economic classification"
        return families.ECONOMIC, 0.5, [reason], False
    reason = f"{guess.reason}: proposed as a generic administrative classification, choose the right family"
    return families.ADMINISTRATIVE, 0.35, [reason], False


def _code_notes(draft: _Draft, spec: Mapping[str, Any], attributes: Mapping[str, Any]) -> None:
    label = attributes.get("label")
    if isinstance(label, Mapping) and label.get("column") and label.get("column") == spec.get("column"):
        draft.reasons.append("name and label read the same column: the code is its slug")
    if spec.get("datatype") not in (None, "id"):
        draft.reasons.append(f"the legacy 'name' is typed {spec.get('datatype')}, so codes are kept as written")


def _link_hierarchies(facts: DatasetFacts, compounds: list[Member]) -> None:
    """Give levels and parent links to the dimensions of one hierarchical family (cofog1..3, category/subcategory)."""
    by_family: dict[str, list[Member]] = {}
    for name, entry, drafts in compounds:
        code = next((draft for draft in drafts if draft.path == f"{name}.name"), None)
        family = _family_of(code.column_type) if code else None
        if family is not None and family.hierarchical:
            by_family.setdefault(family.key, []).append((name, entry, drafts))
    for members in by_family.values():
        family = _family_of(next(d for d in members[0][2] if d.path.endswith(".name")).column_type)
        assert family is not None
        levels = _levels(facts, family, members)
        _apply_levels(family, members, levels)


def _levels(facts: DatasetFacts, family: Family, members: list[Member]) -> list[int]:
    """Each member's level (0: no level): written in its name, told by its COFOG codes, or `sub` prefixes."""
    any_sub = any(families.sub_depth(name) for name, _, _ in members)
    levels = []
    for position, (name, entry, drafts) in enumerate(members):
        code = next((draft for draft in drafts if draft.path == f"{name}.name"), None)
        explicit = families.explicit_level(name, entry.get("taxonomy"), entry.get("label"), entry.get("description"))
        from_codes = families.cofog_level_from_codes(code.samples) if code and family is families.COFOG else None
        if code is not None and explicit and from_codes and explicit != from_codes:
            code.doubt(f"its name says level {explicit} but its codes are level {from_codes}", conflict=True)
        level = explicit or from_codes
        if level is None and (any_sub or len(members) == 1):
            level = families.sub_depth(name) + 1 if any_sub else 0
        elif level is None:
            level = position + 1
            if code is not None:
                code.doubt("its level in the hierarchy is a guess from the order of the model", confidence=0.7)
        levels.append(level)
    return levels


def _apply_levels(family: Family, members: list[Member], levels: list[int]) -> None:
    code_path_at = {level: f"{name}.name" for (name, _, _), level in zip(members, levels, strict=True) if level}
    for (name, _, drafts), level in zip(members, levels, strict=True):
        if not level:
            continue
        for draft in drafts:
            role = families.role_of(draft.path.split(".", 1)[1])
            level_type = _type(family, role, level)
            if role != "extra" and vocabulary.is_known(level_type):
                draft.column_type = level_type
        parent = code_path_at.get(level - 1)
        code = next((draft for draft in drafts if draft.path == f"{name}.name"), None)
        if code is not None and parent:
            code.parent = parent
            code.reasons.append(f"level {level}, below {parent.split('.')[0]}")


COFOG_LEVEL_NAMES = {1: "division", 2: "group", 3: "class"}


def _type(family: Family, role: str, level: int | None) -> str:
    """The column type of a role (code, label, description, extra) in a family, at a hierarchy level if given."""
    if role == "extra" or (role == "description" and family.description is None):
        return "unknown:string"
    part = {"code": family.code, "label": family.label, "description": family.description or "description"}[role]
    if level and family is families.COFOG:
        return f"{family.prefix}:{COFOG_LEVEL_NAMES.get(level, 'class')}:{part}"
    if level:
        return f"{family.prefix}:level{level}:{part}"
    return f"{family.prefix}:{part}"


def _family_of(column_type: str) -> Family | None:
    return next((family for family in FAMILIES if column_type.startswith(family.prefix + ":")), None)


FAMILIES = [
    families.COFOG, families.FUNCTIONAL, families.ADMINISTRATIVE, families.ECONOMIC, families.FUNDING,
    families.PAYER, families.RECIPIENT, families.SUPPLIER, families.PROGRAM, families.PROJECT, families.GEO,
    families.EXPENDITURE_TYPE,
]  # fmt: skip


# -- columns the legacy model never used ----------------------------------------------------------------------------


def _extras(facts: DatasetFacts, drafts: list[_Draft]) -> list[_Draft]:
    used = {draft.source.get("column") for draft in drafts}
    extras = []
    for column in facts.source_columns:
        if column in used or not column.strip():
            continue
        samples = _samples(facts, column)
        column_type = _plain_type(samples)
        extras.append(
            _Draft(
                path=f"extra:{column}",
                kind="extra",
                source={
                    "column": column,
                    "datatype": {"unknown:number": "float", "unknown:date": "date"}.get(column_type, "string"),
                },
                column_type=column_type,
                title=column,
                confidence=0.85,
                reasons=["a column of the original sources that the legacy model never used: kept so nothing is lost"],
                samples=samples,
            )
        )
    return extras


# -- finishing ------------------------------------------------------------------------------------------------------


def _finish(drafts: list[_Draft], threshold: float) -> list[Proposal]:
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


def _source(entry: Mapping[str, Any]) -> dict[str, Any]:
    """How the legacy loader read the values. An empty default_value is kept: it meant "empty is fine"."""
    keys = ("column", "datatype", "constant", "format")
    source = {key: entry[key] for key in keys if entry.get(key) not in (None, "")}
    if entry.get("default_value") is not None:
        source["default_value"] = entry["default_value"]
    return source


def _column_of(spec: Any) -> str | None:
    return spec.get("column") if isinstance(spec, Mapping) else None


def _samples(facts: DatasetFacts, column: Any) -> list[str]:
    if not isinstance(column, str):
        return []
    return [value for value in facts.samples.get(column, ()) if value.strip()][: MAX_SAMPLES * 4]


def _constant_samples(spec: Mapping[str, Any]) -> list[str]:
    return [str(spec["constant"])] if spec.get("constant") is not None else []


def _plain_type(samples: Sequence[str]) -> str:
    """unknown:number, unknown:date or unknown:string, from what every sample value reads as."""
    if not samples:
        return "unknown:string"
    if not _not_numbers(samples):
        return "unknown:number"
    try:
        for value in samples:
            parse_date(value.strip(), None)
    except ValueProblem:
        return "unknown:string"
    return "unknown:date"


def _is_revenue(facts: DatasetFacts) -> bool:
    return bool(set(families.words(facts.name, facts.label)) & REVENUE_WORDS)


def _not_numbers(samples: Sequence[str]) -> list[str]:
    bad = []
    for value in samples:
        try:
            parse_float(value)
        except ValueProblem:
            bad.append(value)
    return bad[:3]


def _label(entry: Mapping[str, Any], name: str) -> str:
    return str(entry.get("label") or name)


def _attribute_title(label: str, attribute: str, role: str) -> str:
    if role == "code":
        return f"{label} (code)"
    if role == "label":
        return label
    return f"{label}: {attribute}"
