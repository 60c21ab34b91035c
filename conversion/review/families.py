"""Which fiscal concept a legacy dimension stands for, guessed from its name, label, taxonomy and values.

The legacy model has no semantics beyond names, so these are name rules with a confidence each; a person reviews
every guess below the threshold. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WORD = re.compile(r"[a-z0-9]+")
# 01, 01.1, 01.1.2 (and without the leading zero, 4.5, or slugified, 01-1): COFOG's division.group.class codes.
COFOG_CODE = re.compile(r"^\d{1,2}(\.\d{1,2}){0,2}$|^\d{1,2}(-\d{1,2}){0,2}$")
DIGIT = re.compile(r"(\d)")


@dataclass(frozen=True)
class Family:
    """A group of column types for one concept, with the attribute role names it uses."""

    key: str
    prefix: str  # column-type prefix, e.g. "administrator:generic"
    code: str  # role of the legacy `name` attribute: "code" or "id"
    label: str  # role of the legacy `label` attribute: "label", "name" or "title"
    description: str | None  # role of a `description` attribute, if the family has one
    hierarchical: bool = False


PAYER = Family("payer", "administrator:generic", "id", "name", None)
RECIPIENT = Family("recipient", "recipient:generic", "id", "name", None)
SUPPLIER = Family("supplier", "supplier:generic", "id", "name", None)
COFOG = Family("cofog", "functional-classification:cofog", "code", "label", "description", hierarchical=True)
FUNCTIONAL = Family("functional", "functional-classification:generic", "code", "label", "description", True)
ADMINISTRATIVE = Family("administrative", "administrative-classification:generic", "code", "label", "description", True)
ECONOMIC = Family("economic", "economic-classification:generic", "code", "label", "description", True)
PROGRAM = Family("program", "activity:generic:program", "code", "label", None)
PROJECT = Family("project", "activity:generic:project", "code", "label", None)
GEO = Family("geo", "geo-source:generic", "code", "title", None)
FUNDING = Family("funding", "fin-source:generic", "code", "label", None, hierarchical=True)
EXPENDITURE_TYPE = Family("expenditure-type", "expenditure-type", "code", "label", None)

# Words of a dimension's name, label or taxonomy, and the family each points to, with how sure the word makes us.
KEYWORDS: list[tuple[frozenset[str], Family, float]] = [
    (frozenset({"cofog"}), COFOG, 0.95),
    (frozenset({"from", "payer", "spender", "buyer", "purchaser"}), PAYER, 0.85),
    (frozenset({"to", "payee", "recipient", "recipients", "beneficiary", "grantee"}), RECIPIENT, 0.85),
    (frozenset({"supplier", "suppliers", "vendor", "contractor", "merchant"}), SUPPLIER, 0.9),
    (frozenset({"function", "functional", "subfunction", "sector", "swg", "policy"}), FUNCTIONAL, 0.8),
    (
        frozenset(
            {
                "department",
                "ministry",
                "agency",
                "administrative",
                "institution",
                "vote",
                "unit",
                "office",
                "directorate",
                "authority",
                "organisation",
                "organization",
                "body",
                "stofnun",
                "ministerium",
                "dezernat",
                "ramo",
                "ur",
            }
        ),
        ADMINISTRATIVE,
        0.8,
    ),
    (frozenset({"economic"}), ECONOMIC, 0.9),
    (frozenset({"expenditure", "object", "account", "item", "line", "og"}), ECONOMIC, 0.75),
    (frozenset({"programme", "program", "pp", "subprogramme", "subprogram"}), PROGRAM, 0.8),
    (frozenset({"project", "projects"}), PROJECT, 0.8),
    (frozenset({"region", "country", "county", "city", "district", "location", "province", "state", "ward"}), GEO, 0.8),
    (frozenset({"fund", "funding", "financing", "ff", "financial", "donor", "donors", "funder"}), FUNDING, 0.75),
]


# Everyday words that name a concept only as a dimension's name ("to", "from"), never inside a label ("paid to").
NAME_ONLY = {"to", "from", "object", "line", "item", "unit", "body", "state", "og", "ur", "pp", "ff", "ramo", "paid"}


@dataclass(frozen=True)
class FamilyGuess:
    family: Family | None
    confidence: float
    reason: str


def words(*texts: str | None) -> list[str]:
    """Lower-case words, with digits split off (cofog1 -> cofog, 1) so names and levels both match."""
    found: list[str] = []
    for text in texts:
        for word in WORD.findall((text or "").lower()):
            found.extend(part for part in re.split(r"(\d+)", word) if part)
    return found


def guess_family(name: str, label: str | None, taxonomy: str | None, description: str | None) -> FamilyGuess:
    """The family the most specific words point to; the name and taxonomy weigh more than label and description."""
    strong = set(words(name, taxonomy))
    weak = set(words(label, description))
    if "type" in strong and strong & {"expense", "expenditure"}:
        return FamilyGuess(EXPENDITURE_TYPE, 0.85, "its name says it is a type of expense")
    best: FamilyGuess = FamilyGuess(None, 0.0, "no word of its name, label or taxonomy names a fiscal concept")
    for keywords, family, confidence in KEYWORDS:
        hits_strong = keywords & strong
        hits_weak = (keywords & weak) - NAME_ONLY
        if hits_strong:
            score, hit, where = confidence, sorted(hits_strong)[0], "name or taxonomy"
        elif hits_weak:
            score, hit, where = confidence - 0.15, sorted(hits_weak)[0], "label or description"
        else:
            continue
        if score > best.confidence:
            best = FamilyGuess(family, score, f"its {where} says '{hit}'")
    return best


ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "top": 1}


def explicit_level(*texts: str | None) -> int | None:
    """A hierarchy level written in a name, label or taxonomy: `cofog2`, `COFOG level 2`, `Second-level ...`."""
    for text in texts:
        match = DIGIT.search(text or "")
        if match and 1 <= int(match.group(1)) <= 8:
            return int(match.group(1))
        ordinal = next((ORDINALS[word] for word in words(text) if word in ORDINALS), None)
        if ordinal and "level" in words(text):
            return ordinal
    return None


def sub_depth(name: str) -> int:
    """`subcategory` is one level below `category`, `subsubfunction` two: the legacy models said levels this way."""
    depth = 0
    rest = name.lower()
    while rest.startswith("sub"):
        depth += 1
        rest = rest[3:].lstrip("-_ ")
    return depth


def cofog_level_from_codes(samples: Sequence[str]) -> int | None:
    """COFOG codes say their own level: 01 division, 01.1 group, 01.1.1 class (or 01-1 once slugified)."""
    levels = set()
    for value in samples:
        text = value.strip()
        if not COFOG_CODE.match(text):
            return None
        levels.add(1 + text.count(".") + text.count("-"))
    return levels.pop() if len(levels) == 1 else None


def cofog_shaped(samples: Sequence[str]) -> bool:
    return all(COFOG_CODE.match(value.strip()) for value in samples)


def looks_like_cofog(samples: Sequence[str]) -> bool:
    """Codes that could only be COFOG's: all in its shape, and some zero-padded or dotted (plain 1, 2 could be any)."""
    shaped = bool(samples) and cofog_shaped(samples)
    return shaped and any(value.strip().startswith("0") or "." in value for value in samples)


def role_of(attribute: str) -> str:
    """The part a compound dimension's attribute plays: code, label, description, or a kept extra."""
    lowered = attribute.lower()
    if lowered in {"name", "code", "id"}:
        return "code"
    if lowered in {"label", "title"}:
        return "label"
    if lowered in {"description", "desc", "notes"}:
        return "description"
    return "extra"


def first_word_match(mapping: Mapping[str, str], text: str) -> str | None:
    lowered = set(words(text))
    return next((value for key, value in mapping.items() if key in lowered), None)
