"""The package page's top ten: the largest members of the package's main breakdown by its first measure's total,
read with the read API's own queries (publishing/api/cubes.py), so the page and `/aggregate` agree.

The main breakdown is the classification dimension with the most members (a COFOG function, a programme, an
economic classification: what readers ask "where does the money go" of), else the entity dimension with the most
members (who pays or receives). A package with neither, or without a measure, has no top ten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils.formats import number_format

from migration_site.lib.jsondata import as_dict
from publishing.api import cubes
from publishing.api.model import Column, CubeModel, Dimension
from publishing.totals import ABSENT, amount

TOP = 10
# In order of preference, with how the page names them: a classification says what the money is for, an entity who
# spends or receives it.
BREAKDOWNS = {"classification": "a classification", "entity": "an entity"}
NO_VALUE = "(no value)"


@dataclass(frozen=True)
class Member:
    label: str
    key: str  # shown beside the label when it differs (a code and its name)
    amount_text: str
    share: float  # of the total, 0 to 1 for the bar (a negative total or member shows no bar)
    share_text: str  # "12.3%", or "" when the total is zero


@dataclass(frozen=True)
class TopMembers:
    dimension: str  # the dimension's label
    kind: str  # "a classification" or "an entity"
    measure: str  # the measure's label
    currency: str
    member_count: int
    total_text: str
    shown_share_text: str  # what the members shown add up to, as a share of the total
    members: list[Member]


def top_members(model: CubeModel, path: Path, descriptor: Mapping[str, Any]) -> TopMembers | None:
    measure = next(iter(model.measures.values()), None)
    chosen = main_breakdown(model, path)
    if measure is None or chosen is None:
        return None
    dimension, count = chosen
    answer = cubes.aggregate(model, path, _largest_query(dimension, measure))
    sum_ref = f"{measure.ref}.sum"
    total = _decimal(answer["summary"].get(sum_ref))
    sums = [_decimal(cell.get(sum_ref)) for cell in answer["cells"]]
    places = 2 if any(value is not None and value != value.to_integral_value() for value in sums) else 0
    members = [
        _member(cell, value, total, dimension, places) for cell, value in zip(answer["cells"], sums, strict=True)
    ]
    shown = sum((value for value in sums if value is not None), Decimal(0))
    return TopMembers(
        dimension=dimension.label,
        kind=BREAKDOWNS[str(dimension.spec.get("dimensionType"))],
        measure=measure.label,
        currency=currency_of(measure, descriptor),
        member_count=count,
        total_text=_amount_text(total, places),
        shown_share_text=_share_text(shown, total),
        members=members,
    )


def main_breakdown(model: CubeModel, path: Path) -> tuple[Dimension, int] | None:
    """The classification with the most members, else the entity with the most; the first of equals (model order)."""
    for kind in BREAKDOWNS:
        candidates = [d for d in model.dimensions.values() if d.spec.get("dimensionType") == kind]
        if candidates:
            counted = [(dimension, member_count(model, path, dimension)) for dimension in candidates]
            return max(counted, key=lambda pair: pair[1])  # max keeps the first of equal counts
    return None


def member_count(model: CubeModel, path: Path, dimension: Dimension) -> int:
    """Distinct keys, as `/members/<dimension>` counts them (a page of none: just the count)."""
    return int(cubes.members(model, path, dimension.name, {"pagesize": "0"})["total_member_count"])


def currency_of(measure: Column, descriptor: Mapping[str, Any]) -> str:
    """The measure's own currency, else the package's (the FDP lets either say it)."""
    for name, spec in as_dict(as_dict(descriptor.get("model")).get("measures")).items():
        if str(as_dict(spec).get("source") or name) == measure.field and as_dict(spec).get("currency"):
            return str(as_dict(spec)["currency"])
    return str(descriptor.get("currency") or "")


def _largest_query(dimension: Dimension, measure: Column) -> dict[str, str]:
    refs = dict.fromkeys([dimension.key_ref, dimension.label_ref])  # one ref when the key is its own label
    return {
        "drilldown": "|".join(refs),
        "aggregates": f"{measure.ref}.sum",
        "order": f"{measure.ref}.sum:desc",
        "pagesize": str(TOP),
    }


def _member(
    cell: Mapping[str, object], value: Decimal | None, total: Decimal | None, dimension: Dimension, places: int
) -> Member:
    label, key = _text(cell.get(dimension.label_ref)), _text(cell.get(dimension.key_ref))
    share = float(value / total) if value is not None and total else 0.0
    return Member(
        label=label,
        key="" if key == label else key,
        amount_text=_amount_text(value, places),
        share=min(max(share, 0.0), 1.0),
        share_text=_share_text(value, total),
    )


def _share_text(value: Decimal | None, total: Decimal | None) -> str:
    if value is None or not total:
        return ""
    return number_format(round(value * 100 / total, 1), decimal_pos=1, use_l10n=True) + "%"


def _amount_text(value: Decimal | None, places: int) -> str:
    return ABSENT if value is None else amount(value, places)


def _decimal(value: object) -> Decimal | None:
    """A sum as the API answers it (a float from DuckDB's fsum; None for no value or a non-finite one)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _text(value: object) -> str:
    return NO_VALUE if value is None or value == "" else str(value)
