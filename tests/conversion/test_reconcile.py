"""Reconciliation: our build's row count and totals against the legacy cube's, overall and per year."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conversion.packaging.reconcile import (
    Compared,
    Difference,
    KeptEmpty,
    Reconciliation,
    reconcile,
    within_tolerance,
)
from tests.conftest import SHARED_DIR

D = Decimal
TOTALS = {"amount": D("35.50")}
BY_YEAR = {"amount": {"2013": D("30.50"), "2014": D("5")}}
NAMES = {"amount": "amount"}


def aggregates(
    total: Any = 35.5, by_year: dict[str, Any] | None = None, entries: Any = 3, **extra: Any
) -> dict[str, Any]:
    """An aggregates.json as the exporter writes it: floats from the legacy API."""
    years = {"2013": 30.5, "2014": 5.0} if by_year is None else by_year
    return {"num_entries": entries, "measures": {"amount": {"total": total, "by_year": years}}, "errors": [], **extra}


def check(cube: dict[str, Any] | None = None, *, entries: Path | None = None, **ours: Any) -> Reconciliation:
    return reconcile(
        ours.get("totals", TOTALS), ours.get("by_year", BY_YEAR), ours.get("rows", 3), ours.get("names", NAMES),
        aggregates=cube, entries_csv=entries,
    )  # fmt: skip


def write_entries(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_same_rows_and_totals_match() -> None:
    result = check(aggregates())

    assert (result.status, result.rows, result.source, result.differences) == ("match", (3, 3), "aggregates", [])
    assert result.summary() == "match: rows 3 vs 3, 0 differences (legacy side: aggregates)"


def test_different_total_is_a_mismatch_with_the_differences() -> None:
    result = check(aggregates(total=36.5, by_year={"2013": 31.5, "2014": 5.0}))

    assert result.status == "mismatch"
    assert result.differences == [
        Difference("amount", None, D("35.50"), D("36.5"), D("-1.00")),
        Difference("amount", "2013", D("30.50"), D("31.5"), D("-1.00")),
    ]


def test_years_that_do_not_add_up_are_listed_even_when_the_total_agrees() -> None:
    result = check(aggregates(by_year={"2013": 25.5, "2014": 8.0, "2015": 2.0}))

    assert result.status == "mismatch"
    assert [(item.year, item.ours, item.legacy, item.diff) for item in result.differences] == [
        ("2013", D("30.50"), D("25.5"), D("5.00")),
        ("2014", D("5"), D("8.0"), D("-3.0")),
        ("2015", None, D("2.0"), D("-2.0")),
    ]


def test_different_row_count_is_a_mismatch() -> None:
    result = check(aggregates(entries=4))

    assert (result.status, result.rows, result.differences) == ("mismatch", (3, 4), [])


def test_measure_names_map_package_fields_to_legacy_measures() -> None:
    result = check(
        aggregates(), totals={"betrag": D("35.5")}, by_year={"betrag": BY_YEAR["amount"]}, names={"betrag": "amount"}
    )

    assert result.status == "match"


@pytest.mark.parametrize(
    ("ours", "legacy", "within"),
    [
        (D("0.3"), 0.1 + 0.2, True),  # float noise: 0.30000000000000004
        (D("1000000000"), 1000000000.5, True),  # 5e-10 relative
        (D("1000000000"), 1000000002.0, False),  # 2e-9 relative: outside
        (D("10"), 10.004, True),  # small totals: the tolerance is half a cent
        (D("10"), 10.01, False),  # a missing cent shows
        (D("0"), 0.0000009, True),
        (D("0"), 0.01, False),
    ],
)
def test_tolerance_suits_legacy_floats(ours: Decimal, legacy: float, within: bool) -> None:
    result = check(aggregates(total=legacy, by_year={}), totals={"amount": ours}, by_year={})

    assert (result.status == "match") is within
    assert within_tolerance(ours, D(repr(legacy))) is within


def test_falls_back_to_the_cube_rows_when_aggregates_are_absent(tmp_path: Path) -> None:
    entries = write_entries(
        tmp_path / "entries.csv", "id,amount,from.name,time.name,time.year",
        "1,10.5,a,2013-01-01,2013", "2,20.0,b,2013-06-01,2013", "3,5.0,a,2014-01-01,2014",
    )  # fmt: skip

    result = check(None, entries=entries)

    assert (result.status, result.source, result.rows, result.differences) == ("match", "entries", (3, 3), [])


def test_falls_back_to_the_cube_rows_when_aggregates_are_incomplete(tmp_path: Path) -> None:
    entries = write_entries(tmp_path / "entries.csv", "amount,time.year", "30.5,2013", "5,2014", "0,2014")
    broken = aggregates(total=None, errors=[{"measure": "amount", "problem": "HTTP 500"}])

    result = check(broken, entries=entries)

    assert (result.status, result.source, result.rows, result.differences) == ("match", "entries", (3, 3), [])
    assert result.notes[0] == "aggregates incomplete, summed the cube's rows instead"


def test_year_comes_from_a_date_when_the_cube_rows_have_no_year_column(tmp_path: Path) -> None:
    entries = write_entries(tmp_path / "entries.csv", "amount,time.name", "30.5,2013-01-31", "5,2014-12-31", "0,")

    result = check(None, entries=entries, rows=3)

    assert result.status == "match", result.notes


def test_rows_of_the_cube_that_differ_are_summed_per_year(tmp_path: Path) -> None:
    entries = write_entries(tmp_path / "entries.csv", "amount,time_year", "30.5,2013", "4,2014", "oops,2014")

    result = check(None, entries=entries)

    assert result.status == "mismatch"
    assert [(item.year, item.diff) for item in result.differences] == [(None, D("1.00")), ("2014", D("1"))]
    assert "entries.csv: 1 measure cells are not numbers and were left out" in result.notes


def test_unavailable_without_aggregates_or_rows(tmp_path: Path) -> None:
    assert check(None).status == "unavailable"
    assert check(None, entries=tmp_path / "missing.csv").rows == (3, None)


def test_unavailable_when_the_cube_total_is_unknown_and_nothing_disagrees() -> None:
    result = check(aggregates(total=None, by_year={}))

    assert (result.status, result.source) == ("unavailable", "aggregates")
    assert "amount: the cube's total is unknown, not compared" in result.notes


def test_json_round_trip_keeps_decimals_exact() -> None:
    result = check(aggregates(total=36.5, by_year={"2013": 31.5, "2014": 5.0}))

    stored = json.loads(json.dumps(result.as_dict()))

    assert stored["differences"][0] == {"measure": "amount", "year": None, "ours": "35.50", "legacy": "36.5",
                                        "diff": "-1.00"}  # fmt: skip
    assert stored["rows"] == {"ours": 3, "legacy": 3}
    assert Reconciliation.from_dict(stored) == result


def test_every_total_compared_is_recorded_with_both_sides_matching_or_not() -> None:
    result = check(aggregates(total=36.5, by_year={"2013": 31.5, "2014": 5.0, "2015": 0.25}))

    assert result.compared == [
        Compared("amount", None, D("35.50"), D("36.5")),
        Compared("amount", "2013", D("30.50"), D("31.5")),
        Compared("amount", "2014", D("5"), D("5.0")),  # equal: not a difference, still compared
        Compared("amount", "2015", None, D("0.25")),  # a year only the cube has
    ]
    assert len(result.differences) == 3
    stored = json.loads(json.dumps(result.as_dict()))
    assert stored["compared"][:2] == [
        {"measure": "amount", "year": None, "ours": "35.50", "legacy": "36.5"},
        {"measure": "amount", "year": "2013", "ours": "30.50", "legacy": "31.5"},
    ]
    assert stored["compared"][3] == {"measure": "amount", "year": "2015", "ours": None, "legacy": "0.25"}
    assert Reconciliation.from_dict(stored).compared == result.compared


def test_compared_names_package_fields_and_leaves_out_what_was_not_compared() -> None:
    both = {"amount": {"total": 35.5, "by_year": {}}, "other": {"total": 1.0, "by_year": {"2013": 1.0}}}
    cube = {"num_entries": 3, "measures": both, "errors": []}
    totals = {"betrag": D("35.5"), "extra": D("2")}

    result = check(cube, totals=totals, by_year={"betrag": BY_YEAR["amount"]}, names={"betrag": "amount"})

    # betrag's years are not compared (the cube has none); extra has no legacy measure at all.
    assert result.compared == [Compared("betrag", None, D("35.5"), D("35.5"))]
    assert "extra: the cube's total is unknown, not compared" in result.notes


def test_a_measure_kept_empty_records_the_package_total_not_the_one_with_the_default_added_back() -> None:
    kept = {"amount": KeptEmpty(D(5), {"2014": 1})}
    cube = aggregates(total=40.5, by_year={"2013": 30.5, "2014": 10.0})

    result = reconcile(TOTALS, BY_YEAR, 3, NAMES, aggregates=cube, entries_csv=None, kept_empty=kept)

    assert (result.status, result.differences) == ("match", [])  # 35.50 + 5 added back is the cube's 40.5
    assert [(item.year, item.ours, item.legacy) for item in result.compared] == [
        (None, D("35.50"), D("40.5")),
        ("2013", D("30.50"), D("30.5")),
        ("2014", D("5"), D("10.0")),
    ]


def test_nothing_is_compared_without_a_legacy_side_and_older_records_read_without_compared() -> None:
    unavailable = check(None)
    assert unavailable.compared == [] and unavailable.as_dict()["compared"] == []

    before = check(aggregates()).as_dict()
    del before["compared"]  # a run reconciled before the comparisons were kept
    assert Reconciliation.from_dict(before) == Reconciliation("match", (3, 3), [], "aggregates", [])


@pytest.mark.shared
def test_bosnia_dataset_csv_reconciles_with_itself_as_the_cube_rows() -> None:
    """The 2015 export's rows (`time_year`, float amounts such as 2792748.0) summed as the cube's side."""
    dataset = SHARED_DIR / "legacy-openspending/fixtures/openspending-migrate/examples/bosnia-herzegovina/dataset.csv"
    ours = {"amount": {"2012": D("41032928792.0"), "2013": D("6748231637.50")}}

    result = check(None, entries=dataset, totals={"amount": D("47781160429.50")}, by_year=ours, rows=1341)

    assert (result.status, result.source, result.rows, result.notes) == ("match", "entries", (1341, 1341), [])
    off_by_one = check(None, entries=dataset, totals={"amount": D("47781160428.50")}, by_year={}, rows=1341)
    assert off_by_one.status == "match"  # 1 in 4.8e10 is float noise to the tolerance
    short = check(None, entries=dataset, totals={"amount": D("47781160429.50")}, by_year=ours, rows=1340)
    assert short.status == "mismatch"
