import csv
import datetime
import json
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conversion.packaging.legacy_values import (
    LegacyDate,
    ValueProblem,
    convert_value,
    format_date,
    format_number,
    parse_date,
    parse_float,
    slugify_id,
)
from tests.conftest import SHARED_DIR

FIXTURES = SHARED_DIR / "legacy-openspending" / "fixtures"
CSV_IMPORT = FIXTURES / "openspending" / "csv_import"
EXAMPLES = FIXTURES / "openspending-migrate" / "examples"


def read_rows(path: Path) -> list[dict[str | None, Any]]:
    """Rows the way the legacy importer saw them: a DictReader, short rows padded with None."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def problem_of(raw: str | None, **options: Any) -> str:
    with pytest.raises(ValueProblem) as caught:
        convert_value(raw, **options)
    return caught.value.message


# slugify_id


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Embætti forseta Íslands", "embaetti-forseta-islands"),
        ("01.1.1", "01-1-1"),
        ("Skattar á launagr. og vinnuafl", "skattar-a-launagr-og-vinnuafl"),
        ("  --Hello,  World!! ", "hello-world"),
        ("cedat_65_srl_|progetto_lavoro_soc._coop._|", "cedat-65-srl-progetto-lavoro-soc-coop"),
        ("Tekjuskattur, einstaklingar", "tekjuskattur-einstaklingar"),
        ("line\nbreak\ttab", "line-break-tab"),
        ("Æðsta stjórn ríkisins", "aedsta-stjorn-rikisins"),
        ("Þjóðleikhúsið", "thjodleikhusid"),
        ("Straße", "strasse"),
        ("", ""),
        ("...", ""),
    ],
)
def test_slugify_id_matches_the_legacy_slugs(text, slug):
    assert slugify_id(text) == slug


def test_slugify_id_keeps_punctuation_outside_the_legacy_separator_list():
    # The legacy separators are a fixed ASCII list; `+ : ; ~` were never in it.
    assert slugify_id("A+B: c;d~e") == "a+b:-c;d~e"


def test_slugify_id_keeps_what_transliteration_produces():
    # unidecode ran after lower() and after the split, so its upper case and its dashes stay.
    assert slugify_id("100 €") == "100-EUR"
    assert slugify_id("Zürich \u2013 Genève") == "zurich---geneve"
    assert slugify_id("中国") == "Zhong-Guo"


# parse_float and format_number


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("66,097.77", "66097.77"),
        ("2,869,548.00", "2869548.00"),
        ("-12", "-12"),
        ("-1,234.5", "-1234.5"),
        ("3.20E+07", "3.20E+7"),
        ("1.5e3", "1.5E+3"),
        ("1.", "1"),
        (".5", "0.5"),
        ("007", "7"),
        ("12345678901234567890.123456789", "12345678901234567890.123456789"),
        ("12\n", "12"),  # `$` matches before a final newline, as it did in the legacy regex
    ],
)
def test_parse_float_accepts_the_legacy_number_forms(text, number):
    assert parse_float(text) == Decimal(number)


def test_parse_float_reads_a_decimal_comma_as_a_thousands_separator():
    # What the legacy loader did to Bosnia's "5784688,08": it stored 578468808.
    assert parse_float("5784688,08") == Decimal("578468808")


@pytest.mark.parametrize(
    "text",
    ["3.135.000.00", " 12", "12 ", "1.5E-3", "1E5", "1-2", "--1", "-", "", ".", "1.5+3", "1.E", "abc", "€12", "١٢"],
)
def test_parse_float_rejects_what_the_legacy_loader_rejected(text):
    with pytest.raises(ValueProblem) as caught:
        parse_float(text)
    assert f"'{text}' is not a number" in caught.value.message


def test_parse_float_rejects_numbers_beyond_the_float_range():
    with pytest.raises(ValueProblem, match="too large"):
        parse_float("1.5E+400")
    assert parse_float("1.5E+300") == Decimal("1.5E+300")


@pytest.mark.parametrize(
    ("number", "text"),
    [
        ("3.20E+7", "32000000"),
        ("66097.77", "66097.77"),
        ("100.50", "100.5"),
        ("-12.000", "-12"),
        ("-0", "0"),
        ("-0.00", "0"),
        ("0E+5", "0"),
        ("1E-7", "0.0000001"),
        ("1234567890123456789012345678901234.5", "1234567890123456789012345678901234.5"),
    ],
)
def test_format_number_writes_plain_decimal_text(number, text):
    assert format_number(Decimal(number)) == text


def test_format_number_refuses_non_finite_numbers():
    with pytest.raises(ValueProblem):
        format_number(Decimal("NaN"))


# parse_date


@pytest.mark.parametrize(
    ("text", "value", "granularity"),
    [
        ("2010-03-31Z", datetime.date(2010, 3, 31), "day"),
        ("2010-03-31z", datetime.date(2010, 3, 31), "day"),
        ("2010-03-31", datetime.date(2010, 3, 31), "day"),
        ("2010-3-5", datetime.date(2010, 3, 5), "day"),
        ("2010-01- 5", datetime.date(2010, 1, 5), "day"),  # strptime's %d allows a leading space
        ("2010-03", datetime.date(2010, 3, 1), "month"),
        ("2010-3", datetime.date(2010, 3, 1), "month"),
        ("2010", datetime.date(2010, 1, 1), "year"),
        ("0001", datetime.date(1, 1, 1), "year"),
    ],
)
def test_parse_date_reads_the_default_forms_and_keeps_granularity(text, value, granularity):
    assert parse_date(text, None) == LegacyDate(value, granularity)


@pytest.mark.parametrize(
    "text",
    ["2010-2012", "2010-02-30", "2010-13", "0000", "10", "20100", " 2010", "2010 ", "2010\n", "31/12/2010", "٢٠١٠", ""],
)
def test_parse_date_rejects_other_text_without_a_format(text):
    with pytest.raises(ValueProblem) as caught:
        parse_date(text, None)
    assert f"'{text}' is not a date" in caught.value.message


@pytest.mark.parametrize(
    ("text", "fmt", "value", "granularity"),
    [
        ("1/1/2010", "%d/%m/%Y", datetime.date(2010, 1, 1), "day"),
        ("31.12.2010 23:59", "%d.%m.%Y %H:%M", datetime.date(2010, 12, 31), "day"),
        ("03/2010", "%m/%Y", datetime.date(2010, 3, 1), "month"),
        ("Mar 2010", "%b %Y", datetime.date(2010, 3, 1), "month"),
        ("FY2010", "FY%Y", datetime.date(2010, 1, 1), "year"),
        ("2010%", "%Y%%", datetime.date(2010, 1, 1), "year"),
    ],
)
def test_parse_date_uses_a_given_format(text, fmt, value, granularity):
    assert parse_date(text, fmt) == LegacyDate(value, granularity)


def test_parse_date_with_a_format_does_not_fall_back_to_the_default_forms():
    with pytest.raises(ValueProblem, match="does not match the date format '%d/%m/%Y'"):
        parse_date("2010-01-01", "%d/%m/%Y")


def test_parse_date_treats_an_empty_format_as_no_format():
    assert parse_date("2010", "") == LegacyDate(datetime.date(2010, 1, 1), "year")


def test_format_date_writes_the_kept_granularity():
    assert format_date(LegacyDate(datetime.date(2010, 3, 5), "day")) == "2010-03-05"
    assert format_date(LegacyDate(datetime.date(2010, 3, 1), "month")) == "2010-03"
    assert format_date(LegacyDate(datetime.date(987, 1, 1), "year")) == "0987"


# convert_value


@pytest.mark.parametrize(
    ("raw", "datatype", "out"),
    [
        ("Eignarskattar ", "string", "Eignarskattar "),
        ("http://example.org/a b", "url", "http://example.org/a b"),
        ("#555555", "colour", "#555555"),
        ("Embætti forseta Íslands", "id", "embaetti-forseta-islands"),
        ("66,097.77", "float", "66097.77"),
        ("3.20E+07", "float", "32000000"),
        ("-0", "float", "0"),
        ("0042", "float", "42"),
        ("2010", "date", "2010"),
        ("2010-3", "date", "2010-03"),
        ("2010-3-5", "date", "2010-03-05"),
        ("2010-03-05Z", "date", "2010-03-05"),
        ("01.1", " ID ", "01-1"),
        ("1,000", "Float", "1000"),
    ],
)
def test_convert_value_by_datatype(raw, datatype, out):
    assert convert_value(raw, datatype=datatype) == out


def test_convert_value_uses_the_date_format():
    assert convert_value("03/2010", datatype="date", date_format="%m/%Y") == "2010-03"


@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n"])
def test_convert_value_fills_missing_and_blank_cells_with_the_default(raw):
    assert convert_value(raw, datatype="float", default_value="0") == "0"
    assert convert_value(raw, datatype="id", default_value="Government") == "government"
    assert convert_value(raw, datatype="date", default_value="2010") == "2010"
    assert convert_value(raw, datatype="string", default_value="(Unnamed)") == "(Unnamed)"


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_convert_value_without_default_says_the_column_is_empty(raw):
    assert problem_of(raw, datatype="string") == "Column is empty"


def test_convert_value_uses_an_empty_default_as_a_value():
    # Legacy models set default_value "" everywhere; it counted as set, so empty names and labels were stored.
    assert convert_value("", datatype="string", default_value="") == ""
    assert convert_value("", datatype="id", default_value="") == ""
    assert "'' is not a number" in problem_of("", datatype="float", default_value="")


def test_convert_value_rejects_an_invalid_default_when_it_is_needed():
    message = problem_of("", datatype="date", default_value="1/1/2010")
    assert message.startswith("Column is empty and its default value is invalid")
    assert "'1/1/2010' is not a date" in message


def test_convert_value_does_not_use_the_default_for_an_invalid_value():
    message = problem_of("3.135.000.00", datatype="float", default_value="0")
    assert "'3.135.000.00' is not a number" in message
    assert "default" not in message


def test_convert_value_returns_the_constant_whatever_the_cell():
    assert convert_value(None, datatype="constant", constant="Society (the General Public)") == (
        "Society (the General Public)"
    )
    assert convert_value("ignored", datatype="id", constant="Not A Slug") == "Not A Slug"


def test_convert_value_rejects_an_empty_constant():
    assert problem_of(None, datatype="constant", constant="") == "The constant value is empty"


def test_convert_value_reports_the_value_for_a_person():
    assert "'2010-2012' is not a date: expected YYYY-MM-DD, YYYY-MM or YYYY" in problem_of("2010-2012", datatype="date")


# The real legacy files


def mapping_of(example: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / example / "dataset.json").read_text(encoding="utf-8"))["data"]["mapping"]


def archive_rows(example: str) -> Iterator[dict[str | None, Any]]:
    for path in sorted((EXAMPLES / example / "archive").glob("*.csv")):
        yield from read_rows(path)


def stored_columns(mapping: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """dataset.csv column and mapping entry of every value the conversion decides alone.

    Compound labels are left out: the legacy loader kept one label per member name, whichever row came first.
    """
    for name, entry in mapping.items():
        if "attributes" in entry:
            yield f"{name.lower()}_name", entry["attributes"]["name"]
        elif entry["datatype"] == "date":
            yield f"{name.lower()}_name", entry
        else:
            yield name.lower(), entry


def converted(row: dict[str | None, Any], entry: dict[str, Any]) -> str:
    return convert_value(
        row.get(entry["column"]),
        datatype=entry["datatype"],
        default_value=entry.get("default_value"),
        constant=entry.get("constant"),
        date_format=entry.get("format"),
    )


def comparable(entry: dict[str, Any], text: str) -> object:
    """The legacy database stored floats (`2792748.0`) and widened dates to days (`2013-01-01`)."""
    if entry["datatype"] == "float":
        return Decimal(text)
    if entry["datatype"] == "date":
        return parse_date(text, None).value
    return text


@pytest.mark.shared
@pytest.mark.parametrize("example", ["bosnia-herzegovina", "tekjur-rikissjods", "uppgjor-rikissjods"])
def test_converting_the_archives_reproduces_every_row_of_the_legacy_database(example):
    columns = list(stored_columns(mapping_of(example)))
    ours = Counter(
        tuple(comparable(entry, converted(row, entry)) for _, entry in columns) for row in archive_rows(example)
    )
    stored = Counter(
        tuple(comparable(entry, row[column]) for column, entry in columns)
        for row in read_rows(EXAMPLES / example / "dataset.csv")
    )
    # The archives may hold more: rows sharing a key overwrote each other (uppgjor has one such pair).
    assert not stored - ours
    assert sum(ours.values()) - sum(stored.values()) <= 1


@pytest.mark.shared
def test_every_bosnian_amount_parses():
    amounts = [row["amount"] for row in archive_rows("bosnia-herzegovina")]
    assert len(amounts) == 1341
    for amount in amounts:
        parse_float(amount)


@pytest.mark.shared
def test_bosnian_decimal_commas_became_hundredfold_amounts_in_the_legacy_database():
    rows = read_rows(EXAMPLES / "bosnia-herzegovina" / "archive" / "11328.csv")
    assert rows[0]["amount"] == "5784688,08"
    assert convert_value(rows[0]["amount"], datatype="float") == "578468808"
    stored = {row["amount"] for row in read_rows(EXAMPLES / "bosnia-herzegovina" / "dataset.csv")}
    assert "578468808.0" in stored


@pytest.mark.shared
def test_icelandic_category_slugs_equal_the_names_in_the_legacy_database():
    archive = read_rows(EXAMPLES / "tekjur-rikissjods" / "archive" / "2156.csv")
    stored = read_rows(EXAMPLES / "tekjur-rikissjods" / "dataset.csv")
    assert len(archive) == len(stored) == 480
    for source, row in zip(archive, stored, strict=True):
        assert convert_value(source["Upphæð"], datatype="float") == format_number(Decimal(row["amount"]))
        assert slugify_id(source["Tekjuflokkur"]) == row["category_name"]
        assert slugify_id(source["Undirflokkur"]) == row["subcategory_name"]


@pytest.mark.shared
def test_known_bad_values_of_the_erroneous_values_case_are_rejected():
    rows = read_rows(CSV_IMPORT / "erroneous_values" / "data.csv")
    good, bad = rows[:-1], rows[-1]
    assert [convert_value(row["amount"], datatype="float") for row in good] == ["66097.77"] + ["130000"] * 3
    assert {convert_value(row["date"], datatype="date") for row in good} == {"2010"}
    amount_problem = problem_of(bad["amount"], datatype="float")
    assert amount_problem.startswith("'3.135.000.00' is not a number: numbers must only contain digits")
    assert problem_of(bad["date"], datatype="date").startswith("'2010-2012' is not a date")


@pytest.mark.shared
def test_import_errors_dates_are_rejected_and_broken_rows_are_empty():
    rows = read_rows(CSV_IMPORT / "import_errors" / "data.csv")
    assert [row["date"] for row in rows] == ["0", None, None, "22"]
    assert "'0' is not a date" in problem_of(rows[0]["date"], datatype="date")
    assert "'22' is not a date" in problem_of(rows[3]["date"], datatype="date")
    # The unquoted line break split row 2 in two short rows.
    assert problem_of(rows[1]["date"], datatype="date") == "Column is empty"
    assert problem_of(rows[2]["amount"], datatype="float") == "Column is empty"


@pytest.mark.shared
def test_a_short_row_has_empty_columns():
    last = read_rows(CSV_IMPORT / "malformed" / "data.csv")[-1]
    assert convert_value(last["amount"], datatype="float") == "130000"
    assert problem_of(last["date"], datatype="date") == "Column is empty"


@pytest.mark.shared
def test_quoted_values_and_exponents_convert():
    first = read_rows(CSV_IMPORT / "quoting" / "data.csv")[0]
    assert convert_value(first["amount"], datatype="float") == "32000000"
    assert convert_value(first["paid_to"], datatype="string") == 'Test \n\n"EAT"\n\nTo'
    assert convert_value(first["paid_to"], datatype="id") == "test-eat-to"


@pytest.mark.shared
def test_mexico_defaults_fill_short_rows_but_its_date_default_is_invalid():
    mapping = json.loads((CSV_IMPORT / "mexico" / "mapping.json").read_text(encoding="utf-8"))
    spender = mapping["from"]["attributes"]
    rows = read_rows(CSV_IMPORT / "mexico" / "data.csv")
    assert {converted(row, spender["name"]) for row in rows} == {"government"}
    assert {converted(row, spender["label"]) for row in rows} == {"Government"}
    assert {converted(row, mapping["time"]) for row in rows} == {"2011-01-01"}
    message = problem_of(None, datatype="date", default_value=mapping["time"]["default_value"])
    assert message == (
        "Column is empty and its default value is invalid: "
        "'1/1/2010' is not a date: expected YYYY-MM-DD, YYYY-MM or YYYY"
    )


@pytest.mark.shared
def test_an_empty_additional_date_without_default_is_rejected():
    mapping = json.loads((CSV_IMPORT / "empty_additional_date" / "mapping.json").read_text(encoding="utf-8"))
    rows = read_rows(CSV_IMPORT / "empty_additional_date" / "data.csv")
    entry = mapping["additionaldate"]
    with pytest.raises(ValueProblem, match="Column is empty"):
        converted(rows[0], entry)
    assert [converted(row, entry) for row in rows[1:]] == ["2010-01-01"] * 4
