"""Issue 11, items 1 and 5, at the builder: a source the legacy platform loaded that is gone sends the build to the
cube's rows; the cells a legacy default_value filled are counted per column, and a curator may keep a measure's
empty cells empty, which reconciliation then explains instead of calling a mismatch."""

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from conversion.packaging.package_spec import GoneSource
from conversion.packaging.reconcile import KeptEmpty, reconcile
from tests.conversion.test_build import AMOUNT, COLUMNS, built, plan, source

HEADER = "amount,year,agency\n"
ROWS = "10,2012,Health\n,2012,Schools\n  ,2013,Roads\n5,2013,Parks\n"  # two empty amounts: one blank, one spaces
CUBE = (
    "id,amount,time.name,time.year,agency.name,agency.label\n"
    "a,10,2012-01-01,2012,health,Health\n"
    "b,7,2013-01-01,2013,roads,Roads\n"
    "c,4,2014-01-01,2014,ports,Ports\n"
)


def with_default(default: str, *, keep_empty: bool = False) -> list:
    amount = replace(AMOUNT, default_value=default, keep_empty=keep_empty)
    return [amount, *COLUMNS[1:]]


def cube_file(tmp_path: Path) -> Path:
    path = tmp_path / "entries.csv"
    path.write_text(CUBE, encoding="utf-8")
    return path


# -- defaults --------------------------------------------------------------------------------------------------------


def test_the_cells_a_default_filled_are_counted_and_stated(tmp_path):
    report, rows, descriptor = built(tmp_path, plan(tmp_path, HEADER + ROWS, columns=with_default("0")))
    assert [row["amount"] for row in rows] == ["10", "0", "0", "5"]
    assert report.defaults == {"amount": {"default_value": "0", "filled": 2}}
    assert descriptor["provenance"]["default_values"] == {"amount": {"default_value": "0", "filled": 2}}


def test_a_missing_column_counts_every_cell_its_default_filled(tmp_path):
    columns = with_default("3")
    report, rows, _ = built(tmp_path, plan(tmp_path, "year,agency\n2012,Health\n2013,Roads\n", columns=columns))
    assert [row["amount"] for row in rows] == ["3", "3"]
    assert report.defaults["amount"]["filled"] == 2


def test_rejected_rows_are_not_counted(tmp_path):
    content = HEADER + ROWS + ",not a year,Docks\n"  # empty amount, but the row is refused for its date
    report, rows, _ = built(tmp_path, plan(tmp_path, content, columns=with_default("0")))
    assert report.rows_rejected == 1 and len(rows) == 4
    assert report.defaults["amount"]["filled"] == 2


def test_columns_without_a_default_are_not_listed(tmp_path):
    report, _, descriptor = built(tmp_path, plan(tmp_path, HEADER + "10,2012,Health\n"))
    assert report.defaults == {} and "default_values" not in descriptor["provenance"]


def test_a_measure_kept_empty_writes_empty_cells_and_counts_them_per_year(tmp_path):
    report, rows, descriptor = built(
        tmp_path, plan(tmp_path, HEADER + ROWS, columns=with_default("5", keep_empty=True))
    )
    assert [row["amount"] for row in rows] == ["10", "", "", "5"]
    assert report.defaults == {"amount": {"default_value": "5", "kept_empty": 2}}
    assert report.kept_empty_by_year == {"amount": {"2012": 1, "2013": 1}}
    assert report.totals["amount"] == 15
    assert descriptor["resources"][0]["schema"]["fields"][0].get("constraints", {}).get("required") is not True


def test_reconciliation_explains_the_cells_kept_empty(tmp_path):
    """The legacy cube wrote 5 into both empty cells: 30 in all, 15 in 2012, 15 in 2013; ours is 15 (10 and 5)."""
    cube = tmp_path / "entries.csv"
    cube.write_text(
        "id,amount,time.year\na,10,2012\nb,5,2012\nc,5,2013\nd,5,2013\n",
        encoding="utf-8",
    )
    ours = {"amount": Decimal(15)}
    by_year = {"amount": {"2012": Decimal(10), "2013": Decimal(5)}}
    names = {"amount": "amount"}
    plain = reconcile(ours, by_year, 4, names, aggregates=None, entries_csv=cube)
    assert plain.status == "mismatch"

    kept = {"amount": KeptEmpty(Decimal(5), {"2012": 1, "2013": 1})}
    explained = reconcile(ours, by_year, 4, names, aggregates=None, entries_csv=cube, kept_empty=kept)
    assert explained.status == "match" and not explained.differences
    assert any("2 empty cell(s) kept empty by a curator's choice" in note and "10 added back" in note
               for note in explained.notes)  # fmt: skip

    wrong = {"amount": KeptEmpty(Decimal(5), {"2012": 1})}  # one cell fewer than the cube filled: still a mismatch
    assert reconcile(ours, by_year, 4, names, aggregates=None, entries_csv=cube, kept_empty=wrong).status == "mismatch"


# -- a source that vanished --------------------------------------------------------------------------------------


def test_a_loaded_source_that_was_never_archived_sends_the_build_to_the_cube(tmp_path):
    gone = GoneSource(2, "https://example.org/2.csv", "the export got HTTP 404")
    build_plan = plan(tmp_path, HEADER + "10,2012,Health\n", entries_file=cube_file(tmp_path), gone_sources=[gone])
    report, rows, descriptor = built(tmp_path, build_plan)
    assert report.built_from == "cube" and len(rows) == 3
    assert report.sources_gone == [{"id": 2, "url": "https://example.org/2.csv", "why": "the export got HTTP 404"}]
    assert descriptor["provenance"]["sources_gone"] == report.sources_gone
    assert any("only the cube holds all its rows" in note and "source 2" in note for note in report.notes)


def test_a_loaded_source_whose_file_is_unusable_sends_the_build_to_the_cube(tmp_path):
    html = source(tmp_path, 2, "<!DOCTYPE html>\n<html><body>Not found</body></html>\n")
    build_plan = plan(tmp_path, HEADER + "10,2012,Health\n", entries_file=cube_file(tmp_path))
    build_plan = replace(build_plan, sources=[build_plan.sources[0], replace(html, loaded=True)])
    report, rows, _ = built(tmp_path, build_plan)
    assert report.built_from == "cube" and len(rows) == 3
    assert report.sources_gone[0]["id"] == 2
    assert any("none of the columns the mapping reads" in note for note in report.notes)


def test_a_source_never_loaded_that_is_unusable_changes_nothing(tmp_path):
    html = source(tmp_path, 2, "<!DOCTYPE html>\n<html><body>Not found</body></html>\n")
    build_plan = plan(tmp_path, HEADER + "10,2012,Health\n", entries_file=cube_file(tmp_path))
    build_plan = replace(build_plan, sources=[build_plan.sources[0], html])  # only sampled on the legacy platform
    report, rows, _ = built(tmp_path, build_plan)
    assert report.built_from == "sources" and len(rows) == 1 and report.sources_gone == []


def test_without_cube_rows_a_gone_source_leaves_the_other_sources_and_says_what_is_missing(tmp_path):
    gone = GoneSource(2, "https://example.org/2.csv", "the export got HTTP 404")
    report, rows, _ = built(tmp_path, plan(tmp_path, HEADER + "10,2012,Health\n", gone_sources=[gone]))
    assert report.built_from == "sources" and len(rows) == 1
    assert any("the package holds the rows of the other sources only" in note for note in report.notes)


def test_defaults_are_not_counted_from_the_cube(tmp_path):
    gone = GoneSource(2, "https://example.org/2.csv", "the export got HTTP 404")
    build_plan = plan(
        tmp_path, HEADER + ROWS, columns=with_default("0"), entries_file=cube_file(tmp_path), gone_sources=[gone]
    )
    report, _, _ = built(tmp_path, build_plan)
    assert report.built_from == "cube" and report.defaults == {}
    assert any("cannot be told apart" in note for note in report.notes)
