import csv
import hashlib
import json
from dataclasses import replace
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

import pytest

from conversion.packaging import build, key_files
from conversion.packaging.build import WHOLE_ROW, build_package
from conversion.packaging.csv_inputs import PROBLEM_CAP, WHOLE_FILE
from conversion.packaging.legacy_values import ValueProblem, convert_value
from conversion.packaging.package_spec import BuildPlan, BuildReport, ColumnSpec, PackageMeta, SourceFile
from tests.conftest import SHARED_DIR

FIXTURES = SHARED_DIR / "legacy-openspending" / "fixtures"
EXAMPLES = FIXTURES / "openspending-migrate" / "examples"
CSV_IMPORT = FIXTURES / "openspending" / "csv_import"
SPECS = SHARED_DIR / "specs" / "fiscal-data-package"


# -- helpers --------------------------------------------------------------------------------------------------------


def meta(**changes: Any) -> PackageMeta:
    values: dict[str, Any] = {
        "name": "lindenau-budget", "title": "Lindenau budget", "description": "What Lindenau spends.",
        "legacy_name": "lindenau-budget", "legacy_url": "https://openspending.org/lindenau-budget", "currency": "eur",
        "category": "budget", "territories": ["de", "AT"], "languages": ["de"], "owner": "carla",
        "author": "Tryggvi (tryggvib)", "contributors": ["Sunbless"],
        "sources": [{"id": 1, "url": "https://example.org/data/budget-2012.csv"}, {"id": 2, "url": ""}],
        "fiscal_period": {"start": "2012-01-01", "end": "2012-12-31"},
        "provenance": {"decision": "approved"}, "extra": {"default_time": "2012"},
    }  # fmt: skip
    return PackageMeta(**{**values, **changes})


def col(field: str, source: str | None, datatype: str = "string", column_type: str = "unknown:string", **kw: Any):
    kind = kw.pop("kind", "measure" if column_type == "value" else "date" if datatype == "date" else "attribute")
    return ColumnSpec(path=kw.pop("path", field), kind=kind, field=field, column_type=column_type,
                      title=kw.pop("title", field.title()), source_column=source, datatype=datatype, **kw)  # fmt: skip


AMOUNT = col("amount", "amount", "float", "value", options={"currency": "eur", "direction": "expenditure"})
TIME = col("time", "year", "date", "date:generic", legacy_key=True, primary_key=True)
AGENCY = col("agency_id", "agency", "id", "administrator:generic:id", path="from.name", kind="compound",
             legacy_key=True, primary_key=True)  # fmt: skip
AGENCY_NAME = col("agency_name", "agency", "string", "administrator:generic:name", path="from.label",
                  kind="compound", labelfor="agency_id")  # fmt: skip
COLUMNS = [AMOUNT, TIME, AGENCY, AGENCY_NAME]


def source(tmp_path: Path, source_id: int, content: str | bytes) -> SourceFile:
    path = tmp_path / "sources" / f"{source_id}.csv"
    path.parent.mkdir(exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return SourceFile(source_id, f"https://example.org/{source_id}.csv", path)


def plan(tmp_path: Path, *contents: str | bytes, columns: list[ColumnSpec] | None = None, **changes: Any) -> BuildPlan:
    sources = [source(tmp_path, number, content) for number, content in enumerate(contents, start=1)]
    return BuildPlan(meta=meta(), columns=columns or COLUMNS, sources=sources, **changes)


def built(tmp_path: Path, build_plan: BuildPlan) -> tuple[BuildReport, list[dict[str, str]], dict[str, Any]]:
    out = tmp_path / "package"
    report = build_package(build_plan, out)
    with (out / "data" / f"{build_plan.meta.name}.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return report, rows, json.loads((out / "datapackage.json").read_text(encoding="utf-8"))


def legacy(raw: str | None, **options: Any) -> str | None:
    try:
        return convert_value(raw, **options)
    except ValueProblem:
        return None


BUDGET = """amount,year,agency
"1,200",2012,Embætti forseta Íslands
300.50,2012,Alþingi
75,2013,Embætti forseta Íslands
"""


# -- conversion -----------------------------------------------------------------------------------------------------


def test_cells_are_converted_with_the_legacy_rules(tmp_path):
    columns = [
        col("amount", "amount", "float", "value", default_value="0"),
        col("year", "year", "date", "date:generic"),
        col("month", "month", "date", "date:generic"),
        col("day", "day", " Date ", "date:generic", date_format="%d.%m.%Y"),
        col("agency", "agency", "id", "administrator:generic:id"),
        col("label", "agency", "string", "administrator:generic:name"),
        col("region", "region", "string", default_value="Lindenau"),
        col("colour", None, "constant", constant="#555555"),
    ]
    content = (
        "amount,year,month,day,agency,region\n"
        '"1,234.50",2012,2012-3,05.01.2012,"Embætti forseta Íslands ",\n'
        ",2013,2013-12,31.12.2013,a+b,  \n"
    )
    report, rows, _ = built(tmp_path, plan(tmp_path, content, columns=columns))
    assert rows == [
        {"amount": "1234.5", "year": "2012-01-01", "month": "2012-03-01", "day": "2012-01-05",
         "agency": "embaetti-forseta-islands", "label": "Embætti forseta Íslands ", "region": "Lindenau",
         "colour": "#555555"},
        {"amount": "0", "year": "2013-01-01", "month": "2013-12-01", "day": "2013-12-31", "agency": "a+b",
         "label": "a+b", "region": "Lindenau", "colour": "#555555"},
    ]  # fmt: skip
    assert (report.rows_read, report.rows_written, report.rows_rejected) == (2, 2, 0)


RAW_VALUES = [
    "", " ", "12", "0012", "-0", "-0.000", "1,234", "1,234.50", "12.", ".5", "3.20E+07", "1e5", "5784688,08",
    "3.135.000.00", "1.2,3", " 12", "12\n", "abc", "2012", "2012-03", "2012-3-5", "2012-02-30", "2010Z",
    "Embætti forseta Íslands", "a+b", "€ 5", "01.1.1", '"quoted"', "x\ry", "-", "1" * 305, "9" * 299 + ".5",
]  # fmt: skip


@pytest.mark.parametrize("datatype", ["float", "id", "date", "string", "url", "FLOAT "])
@pytest.mark.parametrize("default", [None, "", "0", "2010"])
def test_every_cell_matches_convert_value(tmp_path, datatype, default):
    """Through the batch path (a column of good values) and the row path (a batch with a failing cell)."""
    expected = [legacy(raw, datatype=datatype, default_value=default) for raw in RAW_VALUES]
    good = [raw for raw, value in zip(RAW_VALUES, expected, strict=True) if value is not None]
    columns = [col("value", "value", datatype, default_value=default)]
    for raws in (RAW_VALUES, good):
        body = "".join(_csv_line([raw]) for raw in raws)
        report, rows, _ = built(tmp_path / datatype / str(len(raws)), plan(tmp_path, "value\n" + body, columns=columns))
        wanted = [legacy(raw, datatype=datatype, default_value=default) for raw in raws]
        assert [row["value"] for row in rows] == [value for value in wanted if value is not None]
        assert report.rows_rejected == wanted.count(None)


def test_a_column_of_plain_numbers_is_made_canonical_like_convert_value(tmp_path):
    raws = ["12", "0012", "-0", "-0.000", "1,234", "1,234.50", "5784688,08", "-1,000.0", "0.10", "007.700", "9" * 299]
    columns = [col("amount", "amount", "float", "value")]
    report, rows, _ = built(
        tmp_path, plan(tmp_path, "amount\n" + "".join(_csv_line([raw]) for raw in raws), columns=columns)
    )
    assert [row["amount"] for row in rows] == [legacy(raw, datatype="float") for raw in raws]
    with localcontext(prec=1000):
        assert report.totals["amount"] == sum(Decimal(legacy(raw, datatype="float") or 0) for raw in raws)
    assert any(note.startswith("amount: 1 row has a decimal comma") for note in report.notes)


def test_a_measure_that_reads_no_cell_must_still_be_a_number(tmp_path):
    columns = [col("amount", None, "constant", "value", constant="lots"), TIME]
    report, rows, _ = built(tmp_path, plan(tmp_path, "year\n2012\n", columns=columns))
    assert rows == [] and report.problems[0].problem == "'lots' is not a number, and measures are numbers"


def _csv_line(values: list[str]) -> str:
    return ",".join('"' + value.replace('"', '""') + '"' for value in values) + "\n"


def test_a_default_fills_empty_cells_only(tmp_path):
    columns = [col("amount", "amount", "float", "value", default_value="0"), TIME]
    report, rows, _ = built(tmp_path, plan(tmp_path, "amount,year\n,2012\nn/a,2012\n", columns=columns))
    assert [row["amount"] for row in rows] == ["0"]
    assert [(p.row, p.field, p.value) for p in report.problems] == [(2, "amount", "n/a")]


# -- rejected rows and broken files ---------------------------------------------------------------------------------


def test_a_row_with_a_failing_cell_is_rejected_and_the_rest_kept(tmp_path):
    content = "amount,year,agency\n10,2012,A\n3.135.000.00,2012-2013,B\n30,2012,C\n"
    report, rows, _ = built(tmp_path, plan(tmp_path, content))
    assert [row["agency_id"] for row in rows] == ["a", "c"]
    assert (report.rows_read, report.rows_written, report.rows_rejected) == (3, 2, 1)
    assert [(p.source_id, p.row, p.field, p.value) for p in report.problems] == [
        (1, 2, "amount", "3.135.000.00"),
        (1, 2, "time", "2012-2013"),
    ]
    assert "is not a number" in report.problems[0].problem
    assert report.problem_counts == {"amount": 1, "time": 1}
    assert report.totals == {"amount": Decimal(40)}


def test_problems_are_capped_but_counted(tmp_path):
    content = "amount,year,agency\n" + "x,2012,A\n" * 1200 + "1,2012,A\n"
    report, rows, _ = built(tmp_path, plan(tmp_path, content))
    assert len(report.problems) == PROBLEM_CAP
    assert report.problem_counts == {"amount": 1200}
    assert report.rows_rejected == 1200
    assert len(rows) == 1


def test_a_short_row_takes_defaults_or_is_rejected_with_a_clear_problem(tmp_path):
    columns = [*COLUMNS, col("region", "region", default_value="Lindenau")]
    content = "amount,year,agency,region\n10,2012,A\n20,2012\n"
    report, rows, _ = built(tmp_path, plan(tmp_path, content, columns=columns))
    assert [(row["agency_id"], row["region"]) for row in rows] == [("a", "Lindenau")]
    assert [(p.row, p.field) for p in report.problems] == [(2, "agency_id"), (2, "agency_name")]
    assert report.problems[0].problem == "Column is empty (the row has only 2 of 4 cells)"
    assert any("2 rows have fewer than 4 cells (first: row 1)" in note for note in report.notes)


def test_bad_quoting_is_reported_and_reading_goes_on(tmp_path):
    content = 'amount,year,agency\n10,2012,A\n20,2012,"B"x\n30,2012,C\n40,2012,"D\n'
    report, rows, _ = built(tmp_path, plan(tmp_path, content))
    assert [row["agency_id"] for row in rows] == ["a", "c"]
    unreadable = [p for p in report.problems if p.field == WHOLE_ROW]
    assert [(p.row, p.source_id) for p in unreadable] == [(2, 1), (4, 1)]
    assert "',' expected after '\"'" in unreadable[0].problem
    assert "unexpected end of data" in unreadable[1].problem
    assert (report.rows_read, report.rows_rejected, report.rows_written) == (4, 2, 2)


def test_an_empty_source_is_skipped_with_a_problem(tmp_path):
    report, rows, _ = built(tmp_path, plan(tmp_path, "", "\n\n", BUDGET))
    assert len(rows) == 3
    assert [(p.source_id, p.field, p.problem) for p in report.problems] == [
        (1, WHOLE_FILE, "source 1: the file is empty"),
        (2, WHOLE_FILE, "source 2: the file is empty"),
    ]


def test_a_header_only_source_gives_no_rows_and_no_problem(tmp_path):
    report, rows, _ = built(tmp_path, plan(tmp_path, "amount,year,agency\n"))
    assert rows == [] and report.problems == [] and report.rows_written == 0
    assert report.totals == {"amount": Decimal(0)}


def test_cp1252_sources_are_decoded_and_noted(tmp_path):
    content = "amount,year,agency\n10,2012,Caf\xe9 Zo\xeb\n".encode("cp1252")
    report, rows, _ = built(tmp_path, plan(tmp_path, content))
    assert [row["agency_name"] for row in rows] == ["Café Zoë"]
    assert "Source 1 is not utf-8 (0xe9 at byte 30): read as cp1252." in report.notes


def test_a_utf8_bom_is_not_part_of_the_first_column_name(tmp_path):
    _, rows, _ = built(tmp_path, plan(tmp_path, "\ufeff" + BUDGET))
    assert [row["amount"] for row in rows] == ["1200", "300.5", "75"]


def test_undecodable_bytes_skip_the_source_with_a_problem(tmp_path):
    report, rows, _ = built(tmp_path, plan(tmp_path, b"amount,year,agency\n10,2012,\x81\n", BUDGET))
    assert len(rows) == 3
    assert report.problems[0].field == WHOLE_FILE
    assert report.problems[0].problem == "source 1: not utf-8 (0x81 at byte 27) and not cp1252 (0x81 at byte 27)"


def test_a_missing_source_file_is_skipped_with_a_problem(tmp_path):
    build_plan = plan(tmp_path, BUDGET)
    build_plan = replace(build_plan, sources=[SourceFile(9, "", tmp_path / "gone.csv"), *build_plan.sources])
    report, rows, _ = built(tmp_path, build_plan)
    assert len(rows) == 3
    assert report.problems[0].problem == "source 9: cannot be read: No such file or directory"


def test_a_column_missing_from_a_source_counts_as_empty(tmp_path):
    columns = [*COLUMNS, col("region", "region", default_value="Lindenau")]
    report, rows, _ = built(tmp_path, plan(tmp_path, BUDGET, columns=columns))
    assert {row["region"] for row in rows} == {"Lindenau"}
    assert any("Source 1 has no column 'region' (region)" in note for note in report.notes)


# -- upserts --------------------------------------------------------------------------------------------------------


def test_a_later_row_with_the_same_key_replaces_the_earlier_one(tmp_path):
    first = "amount,year,agency\n10,2012,A\n20,2012,B\n30,2012,C\n"
    second = "amount,year,agency\n25,2012,b\n40,2013,A\n"  # `b` slugs to the key of `B`
    report, rows, _ = built(tmp_path, plan(tmp_path, first, second))
    assert [(row["agency_name"], row["amount"]) for row in rows] == [("A", "10"), ("C", "30"), ("b", "25"), ("A", "40")]
    assert (report.rows_read, report.rows_written, report.overwritten) == (5, 4, 1)
    assert report.overwritten_examples == [
        {"key": {"time": "2012-01-01", "agency_id": "b"}, "replaced": {"source_id": 1, "row": 2},
         "by": {"source_id": 2, "row": 1}},
    ]  # fmt: skip
    assert report.totals == {"amount": Decimal(105)}
    assert report.files[0]["rows"] == 4


def test_a_key_repeated_within_one_batch_keeps_the_last_row(tmp_path):
    content = "amount,year,agency\n" + "".join(f"{n},2012,{'A' if n % 2 else 'B'}\n" for n in range(1, 8))
    report, rows, _ = built(tmp_path, plan(tmp_path, content))
    assert [row["amount"] for row in rows] == ["6", "7"]
    assert report.overwritten == 5
    assert report.totals == {"amount": Decimal(13)}


def test_keys_that_only_look_alike_stay_apart(tmp_path):
    columns = [AMOUNT, col("a", "a", legacy_key=True), col("b", "b", legacy_key=True, default_value="")]
    content = 'amount,a,b\n1,x\x1fy,z\n2,x,y\x1fz\n3,"' + "k" * 70 + '",\n4,"' + "k" * 70 + '",\n'
    report, rows, _ = built(tmp_path, plan(tmp_path, content, columns=columns))
    assert [row["amount"] for row in rows] == ["1", "2", "4"]
    assert report.overwritten == 1


def test_without_key_columns_every_row_is_kept(tmp_path):
    columns = [replace(column, legacy_key=False) for column in COLUMNS]
    report, rows, _ = built(tmp_path, plan(tmp_path, BUDGET, BUDGET, columns=columns))
    assert len(rows) == 6 and report.overwritten == 0


def test_batch_and_key_file_sizes_do_not_change_the_result(tmp_path, monkeypatch):
    first = 'amount,year,agency\n10,2012,A\n"1,5",2012,B\n"x"y,2012,C\n30,2013,C\n7\n'
    second = "amount,year,agency\n25,2012,b\nbad,2012,D\n40,2013,A\n0.25,2014,E\n"
    third = "amount,year,agency\n1,2012,a\n2,2013,c\n"
    build_plan = plan(tmp_path, first, second, third)
    expected = build_package(build_plan, tmp_path / "one")
    monkeypatch.setattr(build, "BATCH", 2)
    monkeypatch.setattr(key_files, "KEY_BUFFER", 3)
    monkeypatch.setattr(key_files, "KEY_PART_BYTES", 16)  # about ten key files
    report = build_package(build_plan, tmp_path / "two")
    assert report == expected
    assert (report.rows_read, report.rows_rejected, report.overwritten, report.rows_written) == (11, 3, 3, 5)
    for name in ("data/lindenau-budget.csv", "datapackage.json"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


# -- totals ---------------------------------------------------------------------------------------------------------


def test_totals_are_exact_overall_and_per_year(tmp_path):
    content = "amount,year,agency\n0.1,2012,A\n0.2,2012,B\n-0.3,2012,C\n1.0E+3,2013,A\n0.05,2013,B\n"
    report, _, _ = built(tmp_path, plan(tmp_path, content))
    assert report.totals == {"amount": Decimal("1000.05")}
    assert report.totals_by_year == {"amount": {"2012": Decimal(0), "2013": Decimal("1000.05")}}


def test_totals_by_year_follow_the_first_date_column(tmp_path):
    columns = [AMOUNT, col("paid", "paid", "date", "date:generic"), col("year", "year", "date", "date:fiscal-year")]
    content = "amount,paid,year\n5,2011-12-30,2012\n7,2012-01-02,2012\n"
    report, _, _ = built(tmp_path, plan(tmp_path, content, columns=columns))
    assert report.totals_by_year == {"amount": {"2011": Decimal(5), "2012": Decimal(7)}}


def test_decimal_commas_are_read_the_legacy_way_and_noted(tmp_path):
    content = 'amount,year,agency\n"5784688,08",2012,A\n"1,000",2012,B\n'
    report, rows, _ = built(tmp_path, plan(tmp_path, content))
    assert [row["amount"] for row in rows] == ["578468808", "1000"]
    assert any(note.startswith("amount: 1 row has a decimal comma, such as '5784688,08'") for note in report.notes)


# -- the cube's rows ------------------------------------------------------------------------------------------------

ENTRIES = """amount,from.name,from.label,time.name,time.year,notes
1200.0,embaetti-forseta-islands,Embætti forseta Íslands,2012-01-01,2012,x
300.5,althingi,Alþingi,2012-01-01,2012,y
"""


def test_without_sources_the_cube_rows_are_used_and_noted(tmp_path):
    entries = tmp_path / "entries.csv"
    entries.write_text(ENTRIES, encoding="utf-8")
    columns = [*COLUMNS, col("notes", "Notes", kind="extra", path="extra:Notes")]
    report, rows, package = built(tmp_path, replace(plan(tmp_path, columns=columns), entries_file=entries))
    assert report.built_from == "cube"
    assert rows == [
        {"amount": "1200", "time": "2012-01-01", "agency_id": "embaetti-forseta-islands",
         "agency_name": "Embætti forseta Íslands"},
        {"amount": "300.5", "time": "2012-01-01", "agency_id": "althingi", "agency_name": "Alþingi"},
    ]  # fmt: skip
    assert report.notes[0].startswith("Built from the cube's rows (entries.csv) because the plan has no sources")
    assert "Left out notes (extra:Notes): not a column of the cube's rows." in report.notes
    assert [field["name"] for field in package["resources"][0]["schema"]["fields"]] == list(rows[0])
    assert package["provenance"]["built_from"] == "cube"


def test_the_cube_rows_are_used_when_no_source_file_can_be(tmp_path):
    entries = tmp_path / "entries.csv"
    entries.write_text("amount,from_name,from_label,time\n5.0,a,A,2012-01-01\n", encoding="utf-8")
    report, rows, _ = built(tmp_path, replace(plan(tmp_path, b"\x81"), entries_file=entries))
    assert report.built_from == "cube" and len(rows) == 1
    assert "because no source file could be used" in report.notes[1]
    assert report.totals == {"amount": Decimal(5)}


def test_nothing_to_build_from_gives_an_empty_package(tmp_path):
    report, rows, package = built(tmp_path, plan(tmp_path))
    assert rows == [] and report.built_from == "sources"
    assert package["count_of_rows"] == 0


# -- output ---------------------------------------------------------------------------------------------------------


def test_a_second_build_is_byte_identical(tmp_path):
    build_plan = plan(tmp_path, BUDGET, "amount,year,agency\n1,2012,alþingi\n")
    first, second = tmp_path / "one", tmp_path / "two"
    build_package(build_plan, first)
    build_package(build_plan, second)
    for name in ("data/lindenau-budget.csv", "datapackage.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    assert sorted(path.name for path in first.iterdir()) == ["data", "datapackage.json"]  # no scratch left behind


def test_the_csv_is_utf8_with_line_feeds_and_quotes_only_where_needed(tmp_path):
    columns = [col("label", "label"), col("note", "note")]
    content = 'label,note\n"a,b","say ""hi"""\n"x\ry",plain\n"",\n'
    _, rows, _ = built(tmp_path, plan(tmp_path, content, columns=[replace(c, default_value="") for c in columns]))
    data = (tmp_path / "package" / "data" / "lindenau-budget.csv").read_bytes()
    assert data == b'label,note\n"a,b","say ""hi"""\n"x\ry",plain\n,\n'
    assert rows[1]["label"] == "x\ry"


def test_the_report_lists_the_files_with_size_and_hash(tmp_path):
    report, _, package = built(tmp_path, plan(tmp_path, BUDGET))
    data = tmp_path / "package" / "data" / "lindenau-budget.csv"
    assert report.files[0] == {"path": "data/lindenau-budget.csv", "bytes": data.stat().st_size,
                               "sha256": hashlib.sha256(data.read_bytes()).hexdigest(), "rows": 3}  # fmt: skip
    assert report.files[1]["path"] == "datapackage.json"
    resource = package["resources"][0]
    assert (resource["bytes"], resource["hash"]) == (data.stat().st_size, "sha256:" + report.files[0]["sha256"])


# -- the descriptor -------------------------------------------------------------------------------------------------

HIERARCHY = [
    AMOUNT,
    TIME,
    col("cofog1", "c1", "id", "functional-classification:cofog:division:code", kind="compound", legacy_key=True),
    col("cofog1_label", "c1l", "string", "functional-classification:cofog:division:label", labelfor="cofog1"),
    col("cofog2", "c2", "id", "functional-classification:cofog:group:code", parent="cofog1", legacy_key=True),
    col("cofog2_label", "c2l", "string", "functional-classification:cofog:group:label", labelfor="cofog2"),
    col("level", "level", "string", "unknown:string"),
    col("object", "obj", "string", "object-classification:generic:level1:code"),
]
HIERARCHY_CSV = "amount,year,c2,c2l,c1,c1l,level,obj\n10,2012,01.1,Organs,01,Government,State,X\n"


def test_the_descriptor_types_every_field_and_builds_the_model(tmp_path):
    _, _, package = built(tmp_path, plan(tmp_path, HIERARCHY_CSV, columns=HIERARCHY))
    fields = package["resources"][0]["schema"]["fields"]
    assert [(f["name"], f["type"], f["columnType"], f["conceptType"]) for f in fields] == [
        ("amount", "number", "value", "value"),
        ("time", "date", "date:generic", "date"),
        ("cofog1", "string", "functional-classification:cofog:division:code", "functional-classification"),
        ("cofog1_label", "string", "functional-classification:cofog:division:label", "functional-classification"),
        ("cofog2", "string", "functional-classification:cofog:group:code", "functional-classification"),
        ("cofog2_label", "string", "functional-classification:cofog:group:label", "functional-classification"),
        ("level", "string", "unknown:string", "unknown"),
        ("object", "string", "object-classification:generic:level1:code", "object-classification"),
    ]
    assert fields[0]["decimalChar"] == "." and fields[0]["groupChar"] == ""
    assert fields[1]["format"] == "%Y-%m-%d"  # year-only values are written as their first day
    model = package["model"]
    assert model["measures"] == {
        "amount": {"source": "amount", "title": "Amount", "currency": "EUR", "factor": 1, "direction": "expenditure"}
    }
    functional = model["dimensions"]["functional-classification"]
    assert functional["dimensionType"] == "classification"
    assert functional["classificationType"] == "functional"
    assert functional["primaryKey"] == ["cofog1", "cofog2"]  # the parent first
    assert functional["attributes"]["cofog2"] == {"source": "cofog2", "title": "Cofog2", "parent": "cofog1"}
    assert functional["attributes"]["cofog2_label"]["labelfor"] == "cofog2"
    assert model["dimensions"]["level"] == {
        "dimensionType": "other", "primaryKey": ["level"],
        "attributes": {"level": {"source": "level", "title": "Level"}},
    }  # fmt: skip
    assert "classificationType" not in model["dimensions"]["object-classification"]  # "object" fails FDP 0.3
    assert list(model["dimensions"]) == ["date", "functional-classification", "level", "object-classification"]


def test_the_descriptor_keeps_the_legacy_metadata(tmp_path):
    report, _, package = built(tmp_path, plan(tmp_path, BUDGET))
    assert package["name"] == "lindenau-budget" and package["profile"] == "data-package"
    assert package["profiles"] == {"fiscal": "*", "tabular": "*"}
    assert (package["countryCode"], package["legacy"]["territories"]) == ("DE", ["de", "AT"])
    assert (package["currency"], package["granularity"]) == ("EUR", "aggregated")
    # The dates in the data (2012 and 2013), not the plan's default_time year 2012.
    assert package["fiscalPeriod"] == {"start": "2012-01-01", "end": "2013-12-31"}
    assert package["sources"] == [
        {"name": "1", "title": "budget-2012.csv", "path": "https://example.org/data/budget-2012.csv",
         "web": "https://example.org/data/budget-2012.csv"},
        {"name": "2", "title": "Legacy source 2"},
    ]  # fmt: skip
    assert package["author"] == "Tryggvi (tryggvib)" and package["owner"] == "carla"
    assert package["contributors"] == [{"title": "Sunbless", "name": "Sunbless", "role": "contributor"}]
    assert package["legacy"]["default_time"] == "2012" and package["legacy"]["languages"] == ["de"]
    assert package["provenance"] == {
        "decision": "approved", "built_from": "sources", "rows_read": 3, "rows_written": 3, "rows_rejected": 0,
        "overwritten": 0, "fiscal_period_from": "data", "notes": report.notes,
    }  # fmt: skip
    assert package["resources"][0]["schema"]["primaryKey"] == ["time", "agency_id"]


@pytest.mark.parametrize(
    ("column_type", "values", "expected"),
    [
        ("date:generic", ["2012", "2013"], {"type": "date", "format": "%Y-%m-%d"}),
        ("date:generic", ["2012-03", "2012-04"], {"type": "date", "format": "%Y-%m-%d"}),
        ("date:generic", ["2012-03-31"], {"type": "date", "format": "%Y-%m-%d"}),
        ("date:generic", ["2012", "2012-03-31"], {"type": "date", "format": "%Y-%m-%d"}),
        ("date:fiscal-year", ["2012", "2013"], {"type": "integer"}),
        ("date:fiscal-year", ["2012-01-01"], {"type": "string"}),
    ],
)
def test_date_fields_are_iso_days_whatever_the_granularity_read(tmp_path, column_type, values, expected):
    """OpenSpending's loader reads dates only as ISO days: months and years are written as their first day."""
    columns = [AMOUNT, col("when", "when", "date", column_type)]
    content = "amount,when\n" + "".join(f"1,{value}\n" for value in values)
    _, _, package = built(tmp_path, plan(tmp_path, content, columns=columns))
    field = package["resources"][0]["schema"]["fields"][1]
    assert {key: field[key] for key in ("type", "format") if key in field} == expected


def test_months_are_written_as_days_and_still_span_whole_months(tmp_path):
    columns = [AMOUNT, col("when", "when", "date", "date:generic")]
    report, rows, package = built(tmp_path, plan(tmp_path, "amount,when\n1,2012-10\n2,2013-03\n", columns=columns))
    assert [row["when"] for row in rows] == ["2012-10-01", "2013-03-01"]
    assert package["fiscalPeriod"] == {"start": "2012-10-01", "end": "2013-03-31"}
    assert any(note.startswith("when: 2 value(s) name a month or a year") for note in report.notes)


def test_a_date_shape_seen_only_in_a_replaced_row_does_not_count(tmp_path):
    columns = [AMOUNT, col("when", "when", "date", "date:generic"), col("id", "id", legacy_key=True)]
    content = "amount,when,id\n1,2012,a\n2,2012-05-01,a\n"
    _, rows, package = built(tmp_path, plan(tmp_path, content, columns=columns))
    assert len(rows) == 1
    assert package["resources"][0]["schema"]["fields"][1]["format"] == "%Y-%m-%d"


def test_frictionless_finds_the_package_valid(tmp_path):
    frictionless = pytest.importorskip("frictionless")
    build_package(plan(tmp_path, HIERARCHY_CSV, BUDGET.replace("agency", "c1"), columns=HIERARCHY), tmp_path / "p")
    report = frictionless.validate(tmp_path / "p" / "datapackage.json")
    assert report.valid, report.flatten(["type", "note"])


# -- the real legacy datasets ---------------------------------------------------------------------------------------

# Types for the example datasets' compound dimensions, by dimension name: (code type, label type, parent dimension).
EXAMPLE_TYPES = {
    "from": ("administrator:generic:id", "administrator:generic:name", None),
    "to": ("recipient:generic:id", "recipient:generic:name", None),
    "cofog1": ("functional-classification:cofog:division:code", "functional-classification:cofog:division:label", None),
    "cofog2": ("functional-classification:cofog:group:code", "functional-classification:cofog:group:label", "cofog1"),
    "cofog3": ("functional-classification:cofog:class:code", "functional-classification:cofog:class:label", "cofog2"),
    "category": ("economic-classification:generic:level1:code", "economic-classification:generic:level1:label", None),
    "subcategory": (
        "economic-classification:generic:level2:code", "economic-classification:generic:level2:label", "category",
    ),
}  # fmt: skip


def legacy_columns(mapping: dict[str, Any]) -> list[ColumnSpec]:
    """A plan's columns from a legacy mapping, the way the app read it (research legacy-openspending.md §3.3): in the
    real flow the columns come from approved mappings; this stands in for them."""
    columns: list[ColumnSpec] = []
    for name, entry in mapping.items():
        key, label, kind = bool(entry.get("key")), entry.get("label") or name, entry.get("type")
        common = {"title": label, "legacy_key": key, "default_value": entry.get("default_value")}
        if kind == "measure" or name == "amount":
            columns.append(col(name.lower(), entry["column"], entry["datatype"], "value", path=name, **common))
        elif kind == "date" or (name == "time" and entry.get("datatype") == "date"):
            columns.append(col(name.lower(), entry["column"], "date", "date:generic", path=name, kind="date",
                               date_format=entry.get("format"), primary_key=key, **common))  # fmt: skip
        elif kind in ("value", "attribute"):
            columns.append(col(name.lower(), entry["column"], entry["datatype"], path=name, primary_key=key, **common))
        else:
            columns += _compound_columns(name, entry, key)
    return columns


def _compound_columns(name: str, entry: dict[str, Any], key: bool) -> list[ColumnSpec]:
    code_type, label_type, parent = EXAMPLE_TYPES.get(name.lower(), ("unknown:string", "unknown:string", None))
    columns = []
    for attribute, spec in entry["attributes"].items():
        is_name = attribute == "name"
        columns.append(col(
            f"{name.lower()}_{attribute}", spec.get("column"), spec["datatype"],
            code_type if is_name else label_type if attribute == "label" else "unknown:string",
            path=f"{name}.{attribute}", kind="compound", title=f"{entry.get('label') or name} ({attribute})",
            default_value=spec.get("default_value"), constant=spec.get("constant"),
            labelfor=f"{name.lower()}_name" if attribute == "label" else None,
            parent=f"{parent}_name" if is_name and parent else None,
            primary_key=is_name and key, legacy_key=is_name and key,  # the legacy key used a member's `name`
        ))  # fmt: skip
    return columns


def example_plan(name: str) -> BuildPlan:
    dataset = json.loads((EXAMPLES / name / "dataset.json").read_text(encoding="utf-8"))
    sources = [
        SourceFile(s["id"], s["url"], EXAMPLES / name / "archive" / f"{s['id']}.csv") for s in dataset["sources"]
    ]
    team = dataset["team"]
    package_meta = meta(
        name=name, title=dataset["label"], description=dataset["description"], legacy_name=name,
        legacy_url=f"https://openspending.org/{name}", currency=dataset["currency"], category=dataset["category"],
        territories=dataset["territories"], languages=dataset["languages"], owner=team[0], author=team[0],
        contributors=team[1:], sources=[{"id": s["id"], "url": s["url"]} for s in dataset["sources"]],
        fiscal_period=None, extra={"default_time": dataset["default_time"]},
    )  # fmt: skip
    return BuildPlan(meta=package_meta, columns=legacy_columns(dataset["data"]["mapping"]), sources=sources)


def legacy_database(name: str) -> tuple[int, Decimal, dict[str, Decimal]]:
    """Rows, amount total and totals per year of the legacy database (the 2015 dump's dataset.csv)."""
    with (EXAMPLES / name / "dataset.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_year: dict[str, Decimal] = {}
    for row in rows:
        by_year[row["time"][:4]] = by_year.get(row["time"][:4], Decimal(0)) + Decimal(row["amount"])
    return len(rows), sum(by_year.values(), Decimal(0)), by_year


@pytest.mark.shared
@pytest.mark.parametrize("name", ["bosnia-herzegovina", "tekjur-rikissjods", "uppgjor-rikissjods"])
def test_an_example_dataset_rebuilt_from_its_sources_matches_the_legacy_database(tmp_path, name):
    report, rows, package = built(tmp_path, example_plan(name))
    count, total, by_year = legacy_database(name)
    assert (report.rows_written, len(rows), report.rows_rejected) == (count, count, 0)
    assert report.totals == {"amount": total}
    assert report.totals_by_year == {"amount": by_year}
    assert package["count_of_rows"] == count


@pytest.mark.shared
def test_bosnia_keeps_the_legacy_reading_of_its_decimal_commas(tmp_path):
    # Source 11328 writes amounts like "5784688,08". The legacy loader dropped the comma as a thousands separator, so
    # the legacy database holds 578468808 (100 times the amount meant). We reconcile against that database, so the
    # build reads it the same way, and says so in a note for the curator.
    report, rows, _ = built(tmp_path, example_plan("bosnia-herzegovina"))
    assert "578468808" in {row["amount"] for row in rows}
    assert any(note.startswith("amount: 80 rows have a decimal comma, such as '5784688,08'") for note in report.notes)


@pytest.mark.shared
def test_uppgjor_upserts_the_row_the_legacy_loader_overwrote(tmp_path):
    # Source 2146 has "Málefni fatlaðra" twice for ministry 08 and the same quarter (Rasto 08809 and 08819); the
    # entry key (to, from, time) is equal, so the legacy database kept only the second row: 1737 of 1738.
    report, _, _ = built(tmp_path, example_plan("uppgjor-rikissjods"))
    assert (report.rows_read, report.overwritten) == (1738, 1)
    assert report.overwritten_examples == [
        {"key": {"to_name": "malefni-fatladra", "from_name": "08", "time": "2012-06-30"},
         "replaced": {"source_id": 2146, "row": 349}, "by": {"source_id": 2146, "row": 350}},
    ]  # fmt: skip


@pytest.mark.shared
@pytest.mark.parametrize("name", ["bosnia-herzegovina", "tekjur-rikissjods", "uppgjor-rikissjods"])
def test_an_example_dataset_rebuilt_from_the_2015_dump_has_the_same_totals(tmp_path, name):
    build_plan = replace(example_plan(name), sources=[], entries_file=EXAMPLES / name / "dataset.csv")
    report, _, _ = built(tmp_path, build_plan)
    count, total, by_year = legacy_database(name)
    assert report.built_from == "cube"
    assert (report.rows_written, report.totals, report.totals_by_year) == (
        count,
        {"amount": total},
        {"amount": by_year},
    )


@pytest.mark.shared
@pytest.mark.parametrize("name", ["bosnia-herzegovina", "tekjur-rikissjods", "uppgjor-rikissjods"])
def test_an_example_descriptor_is_valid_fdp_0_3_and_1_0_rc(tmp_path, name):
    jsonschema = pytest.importorskip("jsonschema")
    _, _, package = built(tmp_path, example_plan(name))
    for version in ("fdp-0.3-model", "fdp-1.0-rc"):
        assert list(_validator(jsonschema, SPECS / version).iter_errors(package)) == [], version


def _validator(jsonschema: Any, folder: Path) -> Any:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    resources = []
    for path in folder.glob("*.json"):
        resource = Resource.from_contents(json.loads(path.read_text(encoding="utf-8")), default_specification=DRAFT4)
        resources += [(path.name, resource), (f"schemas/{path.name}", resource)]  # how the two versions refer
    schema = json.loads((folder / "fiscal-data-package.json").read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema, registry=Registry().with_resources(resources))


def import_plan(name: str, columns: list[ColumnSpec] | None = None) -> BuildPlan:
    folder = CSV_IMPORT / name
    if columns is None:
        columns = legacy_columns(json.loads((folder / "mapping.json").read_text(encoding="utf-8")))
    return BuildPlan(meta=meta(name=name), columns=columns, sources=[SourceFile(1, "", folder / "data.csv")])


ITALIAN = [
    col("id", "id", legacy_key=True),
    col("amount", "amount", "float", "value"),
    col("date", "date", "date", "date:generic"),
    col("to", "to_label"),
]


@pytest.mark.shared
def test_the_legacy_bad_inputs_give_problems_not_crashes(tmp_path):
    # erroneous_values: row 2 three times (an upsert), row 3 with a bad amount and a bad date.
    report, rows, _ = built(tmp_path / "e", import_plan("erroneous_values", ITALIAN))
    assert [row["id"] for row in rows] == ["1", "2"]
    assert (report.rows_read, report.overwritten, report.rows_rejected) == (5, 2, 1)
    assert [(p.row, p.field, p.value) for p in report.problems] == [(5, "amount", "3.135.000.00"),
                                                                   (5, "date", "2010-2012")]  # fmt: skip
    # malformed: the last row lacks its date cell.
    report, rows, _ = built(tmp_path / "m", import_plan("malformed", ITALIAN))
    assert len(rows) == 1 and report.problems[0].problem == "Column is empty (the row has only 12 of 13 cells)"
    # import_errors: dates 0 and 22, and a line break outside quotes that splits a row in two.
    report, rows, _ = built(tmp_path / "i", import_plan("import_errors", ITALIAN))
    assert rows == [] and (report.rows_read, report.rows_rejected) == (4, 4)


@pytest.mark.shared
def test_the_legacy_quoting_and_empty_date_inputs_load_as_the_legacy_loader_did(tmp_path):
    report, rows, _ = built(tmp_path / "q", import_plan("quoting"))
    assert [row["amount"] for row in rows] == ["32000000", "100", "100", "100", "100"]
    assert rows[0]["to_label"] == 'Test \n\n"EAT"\n\nTo'
    report, rows, _ = built(tmp_path / "d", import_plan("empty_additional_date"))
    assert len(rows) == 4
    assert [(p.row, p.field, p.problem) for p in report.problems] == [(1, "additionaldate", "Column is empty")]


def test_a_rejected_value_with_a_decimal_comma_is_a_row_problem_not_a_crash(tmp_path):
    """'45.120,50' (a comma after the point) was refused by the legacy loader; it must not reach the quirk note."""
    source = tmp_path / "src.csv"
    source.write_text('amount,year\n"45.120,50",2013\n"1,200.5",2013\n"5784688,08",2013\n', encoding="utf-8")
    meta = PackageMeta(
        name="commas", title="Commas", description="", legacy_name="commas", legacy_url="", currency="EUR",
        category="spending", territories=["DE"], languages=["de"], owner="me", author="me", contributors=[],
        sources=[{"id": 1, "url": "http://example.org/src.csv"}],
    )  # fmt: skip
    columns = [
        ColumnSpec(path="amount", kind="measure", field="amount", column_type="value", title="Amount",
                   source_column="amount", datatype="float", options={"currency": "EUR"}),
        ColumnSpec(path="time", kind="date", field="time", column_type="date:fiscal-year", title="Year",
                   source_column="year", datatype="date"),
    ]  # fmt: skip
    plan = BuildPlan(meta=meta, columns=columns, sources=[SourceFile(1, "http://example.org/src.csv", source)])
    report = build_package(plan, tmp_path / "out")
    assert report.rows_read == 3
    assert report.rows_written == 2 and report.rows_rejected == 1
    assert report.problems[0].value == "45.120,50"
    assert any("decimal comma" in note and "5784688,08" in note for note in report.notes)
