"""Drafts for compound dimensions (a code, a label, maybe a description, of one classification family) and the rules
of naming their column types: a family's type for a role, at a hierarchy level when the dimensions of one hierarchical
family (cofog1..3, category/subcategory) are levels of it, with the parent links between their codes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from conversion.packaging import vocabulary
from conversion.review import families
from conversion.review.families import Family
from conversion.review.proposal_drafts import REVENUE_WORDS, DatasetFacts, Draft, label_of, legacy_source, samples_of

Member = tuple[str, Mapping[str, Any], list[Draft]]  # a compound dimension: name, legacy entry, its drafts


def compound_drafts(facts: DatasetFacts, name: str, entry: Mapping[str, Any]) -> list[Draft]:
    attributes: Mapping[str, Any] = entry["attributes"] if isinstance(entry.get("attributes"), Mapping) else {}
    label = label_of(entry, name)
    guess = families.guess_family(name, entry.get("label"), entry.get("taxonomy"), entry.get("description"))
    code_samples = samples_of(facts, _column_of(attributes.get("name")))
    family, confidence, reasons, conflict = _compound_family(guess, code_samples, revenue=_is_revenue(facts))
    drafts = []
    for attribute, spec in attributes.items():
        if not isinstance(spec, Mapping):
            continue
        role = families.role_of(attribute)
        draft = Draft(
            path=f"{name}.{attribute}",
            kind="compound",
            source=legacy_source(spec),
            column_type=family_type(family, role, None),
            title=_attribute_title(label, attribute, role),
            confidence=confidence if role != "extra" else 0.85,
            reasons=list(reasons) if role != "extra" else ["an extra attribute of the dimension, kept as it was"],
            samples=samples_of(facts, spec.get("column")) if spec.get("column") else _constant_samples(spec),
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


def _code_notes(draft: Draft, spec: Mapping[str, Any], attributes: Mapping[str, Any]) -> None:
    label = attributes.get("label")
    if isinstance(label, Mapping) and label.get("column") and label.get("column") == spec.get("column"):
        draft.reasons.append("name and label read the same column: the code is its slug")
    if spec.get("datatype") not in (None, "id"):
        draft.reasons.append(f"the legacy 'name' is typed {spec.get('datatype')}, so codes are kept as written")


def link_hierarchies(facts: DatasetFacts, compounds: list[Member]) -> None:
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
            level_type = family_type(family, role, level)
            if role != "extra" and vocabulary.is_known(level_type):
                draft.column_type = level_type
        parent = code_path_at.get(level - 1)
        code = next((draft for draft in drafts if draft.path == f"{name}.name"), None)
        if code is not None and parent:
            code.parent = parent
            code.reasons.append(f"level {level}, below {parent.split('.')[0]}")


COFOG_LEVEL_NAMES = {1: "division", 2: "group", 3: "class"}


def family_type(family: Family, role: str, level: int | None) -> str:
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
    families.COFOG,
    families.FUNCTIONAL,
    families.ADMINISTRATIVE,
    families.ECONOMIC,
    families.FUNDING,
    families.PAYER,
    families.RECIPIENT,
    families.SUPPLIER,
    families.PROGRAM,
    families.PROJECT,
    families.GEO,
    families.EXPENDITURE_TYPE,
]


def _column_of(spec: Any) -> str | None:
    return spec.get("column") if isinstance(spec, Mapping) else None


def _constant_samples(spec: Mapping[str, Any]) -> list[str]:
    return [str(spec["constant"])] if spec.get("constant") is not None else []


def _is_revenue(facts: DatasetFacts) -> bool:
    return bool(set(families.words(facts.name, facts.label)) & REVENUE_WORDS)


def _attribute_title(label: str, attribute: str, role: str) -> str:
    if role == "code":
        return f"{label} (code)"
    if role == "label":
        return label
    return f"{label}: {attribute}"
