"""The fast full data check: every row against the table schema, as frictionless checks rows, with exact counts."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import pytest
from frictionless import Resource, Schema, validate

from conversion.packaging import data_check, key_files
from conversion.packaging.data_check import MAX_PROBLEMS_PER_FIELD, DataCheck, check_data
from conversion.packaging.validation import Problem


def write(folder: Path, header: list[str], rows: list[list[str]]) -> Path:
    path = folder / "data.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return path


def checked(folder: Path, fields: list[dict[str, Any]], rows: list[list[str]], **schema: Any) -> DataCheck:
    path = write(folder, [str(item["name"]) for item in fields], rows)
    return check_data(path, {"fields": fields, **schema}, where="data/budget.csv")


def found(check: DataCheck) -> list[tuple[str, int | None, str | None]]:
    return [(problem["code"], problem["row"], problem["field"]) for problem in check.problems]


def column(name: str, kind: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, **more}


NUMBER = column("amount", "number", decimalChar=".", groupChar="")


def test_clean_rows_have_no_problems_and_are_counted(tmp_path):
    fields = [NUMBER, column("day", "date", format="%Y-%m-%d"), column("label", "string")]
    rows = [["1234.5", "2013-01-02", "Agency, A"], ["-7", "2014-12-31", 'say "hi"'], ["", "", "x"]] * 3

    check = checked(tmp_path, fields, rows)

    assert (check.valid, check.rows, check.problems, check.counts) == (True, 9, [], {})


@pytest.mark.parametrize("value", ["12", "-0.50", " 3 ", "1e3", "12.", ".5", "NaN", "+4", ""])
def test_numbers_are_what_decimal_reads_after_stripping(tmp_path, value):
    assert checked(tmp_path, [column("code", "string"), NUMBER], [["a", value]]).valid


@pytest.mark.parametrize("value", ["1,000", "12,5x", "abc", "-", " ", "1.2.3"])
def test_other_number_cells_are_type_errors(tmp_path, value):
    assert found(checked(tmp_path, [NUMBER], [["1"], [value]])) == [("type-error", 3, "amount")]


def test_group_and_decimal_chars_are_applied(tmp_path):
    fields = [column("amount", "number", groupChar=",", decimalChar=";")]

    check = checked(tmp_path, fields, [["1,234;5"], ["1.5"]])

    assert found(check) == [("type-error", 3, "amount")]


def test_integers(tmp_path):
    check = checked(tmp_path, [column("count", "integer")], [["12"], [" -3 "], ["1.0"], ["x"]])

    assert found(check) == [("type-error", 4, "count"), ("type-error", 5, "count")]


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        (None, ["2013-01-02", "2013-1-2"], ["2013-02-30", "2013", "02.01.2013"]),
        ("default", ["2013-01-02"], ["2013-01"]),
        ("%Y", ["2013"], ["13", "2013-01", "20131"]),
        ("%Y-%m", ["2013-03", "2013-3"], ["2013-13", "2013"]),
        ("%Y-%m-%d", ["2012-02-29"], ["2013-02-29", "2013-01-02 "]),
    ],
)
def test_dates_are_what_strptime_reads_with_the_format(tmp_path, fmt, good, bad):
    field = column("day", "date", **({"format": fmt} if fmt else {}))

    check = checked(tmp_path, [field], [[value] for value in [*good, *bad]])

    assert found(check) == [("type-error", 2 + len(good) + n, "day") for n in range(len(bad))]


def test_strings_take_anything_and_booleans_their_values(tmp_path):
    fields = [column("label", "string"), column("flag", "boolean"), column("yes", "boolean", trueValues=["ja"])]
    rows = [[" ", "true", "ja"], ["x,y", "0", "false"], ["z", "yes", "nein"]]

    check = checked(tmp_path, fields, rows)

    assert found(check) == [("type-error", 4, "flag"), ("type-error", 4, "yes")]


def test_required_cells_must_not_be_missing_values(tmp_path):
    fields = [column("code", "string", constraints={"required": True}), column("amount", "number")]

    check = checked(tmp_path, fields, [["a", "NA"], ["", "1"], [" ", "x"], ["NA", "2"]], missingValues=["", "NA"])

    assert found(check) == [
        ("constraint-error", 3, "code"),
        ("constraint-error", 5, "code"),
        ("type-error", 4, "amount"),
    ]


def test_bad_cells_are_problems_with_where_row_field_and_value(tmp_path):
    check = checked(tmp_path, [column("code", "string"), NUMBER], [["a", "1"], ["b", "12,5x"]])

    problem = Problem.from_dict(check.problems[0])

    assert (problem.where, problem.row, problem.field, problem.code) == ("data/budget.csv", 3, "amount", "type-error")
    assert problem.text() == 'data/budget.csv, row 3, field amount: "12,5x" is not a number'


def test_counts_are_exact_beyond_the_cap(tmp_path):
    rows = [["x", "1"] if n % 2 else ["1", "y"] for n in range(5000)]
    fields = [column("first", "number"), column("second", "integer")]

    check = checked(tmp_path, fields, rows)

    assert check.counts == {"type-error": 5000}
    assert check.field_counts == {"first": 2500, "second": 2500}
    assert len(check.problems) == 2 * MAX_PROBLEMS_PER_FIELD  # one broken column does not hide the other
    assert check.unlisted() == {"type-error": 5000 - 2 * MAX_PROBLEMS_PER_FIELD}


def test_rows_are_numbered_across_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(data_check, "BATCH", 7)
    rows = [[str(n)] for n in range(30)]
    rows[20] = ["twenty"]

    check = checked(tmp_path, [column("n", "integer")], rows)

    assert (found(check), check.rows) == ([("type-error", 22, "n")], 30)


def test_a_line_break_inside_a_number_cell_is_not_taken_for_two_numbers(tmp_path):
    assert found(checked(tmp_path, [NUMBER], [["1"], ["2\n3"], ["4"]])) == [("type-error", 3, "amount")]


def test_short_long_and_blank_rows(tmp_path):
    fields = [column("code", "string", constraints={"required": True}), NUMBER, column("note", "string")]
    rows = [["a", "1", "x"], ["b"], ["c", "2", "y", "extra"], [], ["", "", ""], ["d", "3", "z"]]

    check = checked(tmp_path, fields, rows)

    assert sorted(found(check), key=str) == sorted(
        [("missing-cell", 3, "amount"), ("missing-cell", 3, "note"), ("extra-cell", 4, None),
         ("blank-row", 5, None), ("blank-row", 6, None)], key=str,
    )  # fmt: skip
    assert check.rows == 6


def test_a_short_row_lacking_a_required_cell_breaks_the_constraint_too(tmp_path):
    fields = [column("code", "string"), column("label", "string", constraints={"required": True})]

    check = checked(tmp_path, fields, [["a"]])

    assert sorted(found(check)) == [("constraint-error", 2, "label"), ("missing-cell", 2, "label")]


def test_an_empty_file_is_a_source_error(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"")

    check = check_data(path, {"fields": [NUMBER]})

    assert (found(check), check.rows) == ([("source-error", None, None)], 0)


def test_a_header_without_rows_is_valid(tmp_path):
    check = checked(tmp_path, [NUMBER], [])

    assert (check.valid, check.rows) == (True, 0)


def test_header_labels_are_checked_against_the_field_names(tmp_path):
    path = write(tmp_path, ["amount", "Year", "amount"], [["1", "2013", "x"]])
    fields = [NUMBER, column("year", "integer"), column("label", "string"), column("extra", "string")]

    check = check_data(path, {"fields": fields})

    assert found(check) == [
        ("incorrect-label", None, "year"), ("duplicate-label", None, "label"), ("missing-label", None, "extra"),
    ]  # fmt: skip


def test_a_file_that_is_not_utf8_is_an_encoding_error(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"label\nAl\xfeingi\n")

    check = check_data(path, {"fields": [column("label", "string")]})

    assert [problem["code"] for problem in check.problems] == ["encoding-error"]


def test_what_is_not_checked_is_said_and_not_covered(tmp_path):
    fields = [column("mail", "string", format="email"), column("n", "integer", constraints={"minimum": 0}),
              column("when", "datetime"), NUMBER]  # fmt: skip

    check = checked(tmp_path, fields, [["x", "-1", "now", "1"]])

    assert check.valid
    assert check.notes == [
        "mail: type string (format email) not checked on every row",
        "n: constraints minimum not checked on every row",
        "when: type datetime (format default) not checked on every row",
    ]
    assert check.covers("type-error", "amount") and check.covers("type-error", "n")
    assert not check.covers("type-error", "mail") and not check.covers("constraint-error", "n")
    assert check.covers("missing-cell", "when") and not check.covers("foreign-key", None)


def test_finds_the_same_cells_as_frictionless(tmp_path, monkeypatch):
    monkeypatch.setattr(data_check, "MAX_PROBLEMS", 10**6)
    monkeypatch.setattr(data_check, "MAX_PROBLEMS_PER_FIELD", 10**6)
    fields = [
        column("id", "integer", constraints={"required": True}), column("amount", "number"),
        column("day", "date", format="%Y-%m-%d"), column("year", "date", format="%Y"), column("flag", "boolean"),
        column("label", "string", constraints={"required": True}),
    ]  # fmt: skip
    # Per column, cells good and bad; int() and Decimal() also read Arabic-Indic and fullwidth digits, as here.
    values = [
        ["1", " 7 ", "+3", "x", "", "1.0", "٣"], ["1", "-1.5", "1e3", "NaN", "1,000", "12.", "", "abc", "\uff11\uff12"],
        ["2013-01-02", "2013-1-2", "2013-02-30", "2013", ""], ["2013", "13", "", "20130"],
        ["true", "yes", "0", "", "FALSE"], ["a", "", " ", "x,y", 'q"q'],
    ]  # fmt: skip
    pick = random.Random(7)
    rows = [[pick.choice(options) for options in values] for _ in range(400)]
    rows[10], rows[20], rows[30] = rows[10][:3], [*rows[20], "extra"], [""] * 6
    path = write(tmp_path, [str(item["name"]) for item in fields], rows)

    ours = check_data(path, {"fields": fields})
    table = Resource(path=path.name, basepath=str(tmp_path), schema=Schema.from_descriptor({"fields": fields}))
    report = validate(table, limit_errors=10**6)

    theirs = [
        (error.type, error.row_number, getattr(error, "field_name", None) or None) for error in report.tasks[0].errors
    ]
    assert sorted(found(ours), key=str) == sorted(theirs, key=str)
    assert ours.rows == report.tasks[0].stats["rows"]


# -- primary key ----------------------------------------------------------------------------------------------------

KEYED = [column("year", "integer"), column("code", "string"), NUMBER]


def keyed(folder: Path, rows: list[list[str]], key: list[str]) -> DataCheck:
    path = write(folder, ["year", "code", "amount"], rows)
    return check_data(path, {"fields": KEYED}, primary_key=key)


def test_a_unique_primary_key_is_told_apart_from_one_not_looked_for(tmp_path: Path) -> None:
    rows = [["2013", "a", "1"], ["2013", "b", "2"], ["2014", "a", "3"]]

    assert keyed(tmp_path, rows, ["year", "code"]).duplicate_keys is False
    assert keyed(tmp_path, rows, []).duplicate_keys is None
    assert keyed(tmp_path, rows, ["year", "nothing"]).duplicate_keys is None  # the validation reports that one
    assert keyed(tmp_path, rows, ["year"]).duplicate_keys is True


def test_keys_compare_as_the_table_reads_them(tmp_path: Path) -> None:
    """ "07" and "7" are one integer, " a" and "a" one string after frictionless strips; "7" and "7.0" too."""
    assert keyed(tmp_path, [["2013", "a", "1"], ["02013", "a", "2"]], ["year", "code"]).duplicate_keys is True
    assert keyed(tmp_path, [["2013", " a", "1"], ["2013", "a", "2"]], ["year", "code"]).duplicate_keys is True
    assert keyed(tmp_path, [["1", "a", "7"], ["2", "b", "7.0"]], ["amount"]).duplicate_keys is True
    assert keyed(tmp_path, [["1", "a", "7"], ["2", "b", "-7"]], ["amount"]).duplicate_keys is False
    assert keyed(tmp_path, [["2013", "a,b", "1"], ["2013", "a", "2"]], ["year", "code"]).duplicate_keys is False


def test_a_repeat_is_found_across_batches_and_key_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_check, "BATCH", 7)
    monkeypatch.setattr(key_files, "KEY_BUFFER", 5)
    monkeypatch.setattr(key_files, "KEY_PART_BYTES", 64)  # many part files
    rows = [[str(2000 + n), f"code-{n}", str(n)] for n in range(300)]

    assert keyed(tmp_path, rows, ["year", "code"]).duplicate_keys is False
    long_code = "x" * 100  # stored as its sha1
    rows += [["2299", "code-299", "1"], ["1", long_code, "1"], ["1", long_code, "2"]]
    assert keyed(tmp_path, rows[:-2], ["year", "code"]).duplicate_keys is True
    assert keyed(tmp_path, rows[300:301] + rows[-2:-1], ["year", "code"]).duplicate_keys is False
    assert keyed(tmp_path, rows[-2:], ["year", "code"]).duplicate_keys is True


def test_an_unreadable_file_with_a_key_reports_the_encoding_and_leaves_the_key_unknown(tmp_path: Path) -> None:
    path = write(tmp_path, ["year", "code", "amount"], [["2013", "a", "1"]] * 3)
    path.write_bytes(path.read_bytes() + b"2014,\xff\xfe,2\n")

    check = check_data(path, {"fields": KEYED}, primary_key=["year", "code"])

    assert check.counts == {"encoding-error": 1} and check.duplicate_keys is None
