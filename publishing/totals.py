"""A package's totals per measure and year beside the legacy platform's: the values of the package page's chart and
table (publishing/charts.py draws the chart).

The reconciliation keeps every comparison it made (`compared`: the package's total and the cube's, per measure,
overall and per year). A run reconciled before it kept them, or one without legacy totals (a draft the legacy
platform never loaded), still has the build's own totals in its report: those are shown, the legacy side "not
recorded". A descriptor uploaded with `publish_osdp` may carry a reconciliation of its own: it is untrusted, so a
value that is not a plain number of sensible size is left out rather than formatted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any

from django.utils.formats import number_format

from conversion.packaging.reconcile import within_tolerance
from migration_site.lib.jsondata import as_dict, dicts_in
from publishing.models import PublishedPackage

NOT_RECORDED = "not recorded"  # the run kept no legacy totals
NOT_COMPARED = "not compared"  # the reconciliation did not compare this one (the reasons are in its notes)
ABSENT = "none"  # that side has no total for this year
MAX_COMPARED = 2000  # an uploaded descriptor may hold anything; ours hold a few per measure
MAX_DECIMALS = 6
ALL_YEARS = ""  # the year of the overall total


@dataclass(frozen=True)
class TotalRow:
    year: str  # ALL_YEARS for the overall total
    ours: Decimal | None
    legacy: Decimal | None
    ours_text: str
    legacy_text: str
    difference_text: str
    differs: bool  # beyond the reconciliation's tolerance

    @property
    def label(self) -> str:
        return self.year or "all years"


@dataclass(frozen=True)
class MeasureTotals:
    field: str  # the package's measure field
    title: str
    currency: str
    places: int  # decimals shown: as many as the package's own totals have
    years: list[TotalRow]  # oldest first
    overall: TotalRow | None

    @property
    def rows(self) -> list[TotalRow]:
        """The table's rows: each year, then the overall total."""
        return [*self.years, *([self.overall] if self.overall else [])]

    @property
    def charted(self) -> list[TotalRow]:
        """What the chart draws: each year, or the overall total for a package without dates."""
        return self.years or ([self.overall] if self.overall else [])


@dataclass(frozen=True)
class PackageTotals:
    measures: list[MeasureTotals]
    legacy_recorded: bool  # False: our totals only, from the run's report
    why_none: str  # why there is nothing to show, when `measures` is empty

    def measure(self, field: str | None) -> MeasureTotals | None:
        """The measure named `field`, or the first when none is named."""
        return next((m for m in self.measures if field is None or m.field == field), None)


@dataclass
class _Entry:
    ours: Decimal | None = None
    legacy: Decimal | None = None
    legacy_state: str = NOT_RECORDED  # "" once the cube's side is known


def package_totals(descriptor: Mapping[str, Any], package: PublishedPackage) -> PackageTotals:
    run = package.run
    reconciliation = as_dict(descriptor.get("reconciliation")) or as_dict(run.reconciliation if run else None)
    compared = dicts_in(reconciliation.get("compared"))[:MAX_COMPARED]
    report = as_dict(run.report) if run else {}
    entries: dict[tuple[str, str], _Entry] = {}
    _add_report(entries, report, NOT_COMPARED if compared else NOT_RECORDED)
    _add_compared(entries, compared)
    model_measures = as_dict(as_dict(descriptor.get("model")).get("measures"))
    if not entries:
        return PackageTotals([], False, _why_none(model_measures, run is not None))
    return PackageTotals(_measures(entries, model_measures), bool(compared), "")


def _add_report(entries: dict[tuple[str, str], _Entry], report: Mapping[str, Any], legacy_state: str) -> None:
    """The build's own totals, overall and per year (runs before the years were kept have the overall only)."""
    for field, total in as_dict(report.get("totals")).items():
        entries[(str(field), ALL_YEARS)] = _Entry(_number(total), legacy_state=legacy_state)
    for field, years in as_dict(report.get("totals_by_year")).items():
        for year, total in as_dict(years).items():
            entries[(str(field), str(year))] = _Entry(_number(total), legacy_state=legacy_state)


def _add_compared(entries: dict[tuple[str, str], _Entry], compared: list[dict[str, Any]]) -> None:
    for item in compared:
        year = item.get("year")
        if not isinstance(item.get("measure"), str) or not (year is None or _is_year(year)):
            continue
        key = (item["measure"], year or ALL_YEARS)
        entries[key] = _Entry(_number(item.get("ours")), _number(item.get("legacy")), legacy_state="")


def _measures(entries: dict[tuple[str, str], _Entry], model_measures: Mapping[str, Any]) -> list[MeasureTotals]:
    """In the model's order, then any measure the model does not name."""
    described = {str(as_dict(m).get("source") or name): as_dict(m) for name, m in model_measures.items()}
    found = {field for field, _ in entries}
    fields = [field for field in described if field in found] + sorted(found - set(described))
    return [_measure(field, entries, described.get(field, {})) for field in fields]


def _measure(field: str, entries: dict[tuple[str, str], _Entry], described: Mapping[str, Any]) -> MeasureTotals:
    mine = {year: entry for (name, year), entry in entries.items() if name == field}
    places = _places([entry.ours for entry in mine.values()])
    rows = {year: _row(year, entry, places) for year, entry in mine.items()}
    overall = rows.pop(ALL_YEARS, None)
    return MeasureTotals(
        field=field,
        title=str(described.get("title") or field),
        currency=str(described.get("currency") or ""),
        places=places,
        years=[rows[year] for year in sorted(rows)],
        overall=overall,
    )


def _row(year: str, entry: _Entry, places: int) -> TotalRow:
    ours, legacy = entry.ours, entry.legacy
    known = not entry.legacy_state
    differs = known and not within_tolerance(ours or Decimal(0), legacy or Decimal(0))
    if not known:
        difference = "unknown"
    elif not differs:
        difference = "none"
    else:
        difference = signed_amount((ours or Decimal(0)) - (legacy or Decimal(0)), places)
    return TotalRow(
        year=year,
        ours=ours,
        legacy=legacy,
        ours_text=ABSENT if ours is None else amount(ours, places),
        legacy_text=entry.legacy_state or (ABSENT if legacy is None else amount(legacy, places)),
        difference_text=difference,
        differs=differs,
    )


def _why_none(model_measures: Mapping[str, Any], converted_here: bool) -> str:
    if not model_measures:
        return "This package has no measure, so it has no totals."
    if not converted_here:
        return "This package was uploaded as it is, not converted here: no totals were recorded for it."
    return "The conversion run that built this package recorded no totals."


# Numbers ------------------------------------------------------------------------------------------------------------


def amount(value: Decimal, places: int) -> str:
    """The site's number formatting, as `floatformat:"g"` does it: rounded (number_format alone cuts), grouped."""
    with localcontext(prec=80):  # totals are at most 1e24 here (_number): no rounding of the integer digits
        rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return number_format(rounded if rounded else abs(rounded), decimal_pos=places, use_l10n=True, force_grouping=True)


def signed_amount(value: Decimal, places: int) -> str:
    """A difference, its direction said: +1,000.00 or -1,000.00; to cents when it is smaller than `places` shows."""
    shown = places if abs(value) >= Decimal(1).scaleb(-places) / 2 else max(places, 2)
    return ("+" if value > 0 else "") + amount(value, shown)


def _places(values: list[Decimal | None]) -> int:
    """As many decimals as the package's totals are written with (legacy totals are floats: 1458.5000000000002)."""
    written = [max(0, -int(value.as_tuple().exponent)) for value in values if value is not None]
    return min(max(written, default=2), MAX_DECIMALS)


def _number(value: object) -> Decimal | None:
    """A stored total, or None for anything else: floats and texts alike, bounded so a hostile one formats cheaply."""
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or (number and not -12 <= number.adjusted() <= 24):
        return None
    return number


def _is_year(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 10
