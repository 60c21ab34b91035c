"""fiscalPeriod is the span of the dates in the data; the legacy default_time's year only when the data has none."""

from dataclasses import replace

import pytest

from conversion.packaging.tally import date_span
from tests.conversion.test_build import AGENCY, AMOUNT, built, col, meta, plan

SPENDING = """amount,date,agency
10,2012-10,Alþingi
20,2012-11-15,Embætti forseta Íslands
30,2013-03,Hagstofa
"""


def test_the_fiscal_period_runs_from_the_first_to_the_last_date_in_the_data(tmp_path):
    date = col("date", "date", "date", "date:generic")
    report, _, package = built(tmp_path, plan(tmp_path, SPENDING, columns=[AMOUNT, date, AGENCY]))
    assert report.dates == {"date": {"start": "2012-10-01", "end": "2013-03-31"}}
    # The plan's period is the default_time year 2012, as conversion.plan makes it: the data wins.
    assert package["fiscalPeriod"] == {"start": "2012-10-01", "end": "2013-03-31"}
    assert package["legacy"]["default_time"] == "2012"
    assert package["provenance"]["fiscal_period_from"] == "data"
    assert not any("default_time" in note for note in package["provenance"]["notes"])


def test_months_and_fiscal_years_cover_their_whole_month_and_year(tmp_path):
    month = col("month", "date", "date", "date:generic", date_format="%Y-%m")
    year = col("year", "year", "id", "date:fiscal-year")
    content = "amount,date,year,agency\n1,2012-10,2012,A\n2,2013-02,2013,B\n"
    report, _, package = built(tmp_path, plan(tmp_path, content, columns=[AMOUNT, month, year, AGENCY]))
    assert report.dates == {
        "month": {"start": "2012-10-01", "end": "2013-02-28"},
        "year": {"start": "2012-01-01", "end": "2013-12-31"},
    }
    assert package["fiscalPeriod"] == {"start": "2012-01-01", "end": "2013-12-31"}


def test_a_fiscal_month_is_no_date(tmp_path):
    month = col("month", "month", "id", "date:fiscal-month")
    content = "amount,month,agency\n1,10,A\n"
    report, _, package = built(tmp_path, plan(tmp_path, content, columns=[AMOUNT, month, AGENCY]))
    assert report.dates == {}
    assert package["fiscalPeriod"] == {"start": "2012-01-01", "end": "2012-12-31"}  # the default_time fallback


def test_a_row_replaced_by_a_later_one_leaves_the_period(tmp_path):
    date = col("date", "date", "date", "date:generic")  # not part of the key: the agency alone is
    content = "amount,date,agency\n10,2011-06-01,A\n20,2012-10-05,A\n30,2013-03-31,B\n"
    report, rows, package = built(tmp_path, plan(tmp_path, content, columns=[AMOUNT, date, AGENCY]))
    assert (report.overwritten, len(rows)) == (1, 2)
    assert package["fiscalPeriod"] == {"start": "2012-10-05", "end": "2013-03-31"}


def test_without_a_date_column_the_default_time_year_is_the_period_and_the_provenance_says_so(tmp_path):
    report, _, package = built(tmp_path, plan(tmp_path, "amount,agency\n1,A\n", columns=[AMOUNT, AGENCY]))
    assert report.dates == {}
    assert package["fiscalPeriod"] == {"start": "2012-01-01", "end": "2012-12-31"}
    assert package["provenance"]["fiscal_period_from"] == "legacy default_time"
    assert any("no date column" in note and "default_time" in note for note in report.notes)
    assert package["provenance"]["notes"] == report.notes


def test_without_dates_or_default_time_there_is_no_fiscal_period(tmp_path):
    build_plan = replace(
        plan(tmp_path, "amount,agency\n1,A\n", columns=[AMOUNT, AGENCY]),
        meta=meta(fiscal_period=None, extra={"default_time": ""}),
    )
    _, _, package = built(tmp_path, build_plan)
    assert "fiscalPeriod" not in package and "fiscal_period_from" not in package["provenance"]


@pytest.mark.parametrize(
    ("text", "whole_year", "expected"),
    [
        ("2013", False, ("2013-01-01", "2013-12-31")),
        ("2012-02", False, ("2012-02-01", "2012-02-29")),
        ("2013-03-31", False, ("2013-03-31", "2013-03-31")),
        ("2013-03-31", True, ("2013-01-01", "2013-12-31")),
        ("2013-13", False, None),
        ("2013-02-30", False, None),
        ("0000-02", False, None),
        ("", False, None),
        ("n/a", False, None),
    ],
)
def test_date_span(text, whole_year, expected):
    assert date_span(text, whole_year=whole_year) == expected
