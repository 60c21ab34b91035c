"""Issue 12, item 5: the legacy reading a curator can see and change. A column's default for empty cells and a
measure's number format show on the review page, can be edited with the preview following and counting the cells
each changes, are validated, and reach the build."""

import pytest
from django.urls import reverse
from lxml import html  # type: ignore[import-untyped]

from conversion.models import DimensionMapping
from conversion.packaging.number_formats import rewrite
from conversion.plan import columns_of
from conversion.review import services
from tests.conversion.test_build import AMOUNT, COLUMNS, built, plan
from tests.conversion.test_review_admin import _form_data, page_url
from tests.factories import mapping

pytestmark = pytest.mark.django_db
Status = DimensionMapping.Status


@pytest.mark.parametrize(
    ("text", "decimal", "group", "legacy"),
    [
        ("45.120,50", ",", ".", "45120.50"),
        ("1 234,5", ",", " ", "1234.5"),
        ("1\u00a0234,5", ",", " ", "1234.5"),
        ("1'234.5", ".", "'", "1234.5"),
        ("1234,5", ",", "", "1234.5"),
        ("1,234.5", ".", ",", "1234.5"),
    ],
)
def test_a_number_format_rewrites_values_into_the_legacy_reading(text, decimal, group, legacy):
    assert rewrite(text, decimal, group) == legacy


def test_the_build_reads_a_measure_in_the_chosen_format_and_counts_what_it_rewrote(tmp_path):
    amount = AMOUNT.__class__(**{**AMOUNT.__dict__, "number_format": (",", ".")})
    content = 'amount,year,agency\n"45.120,50",2012,Health\n7,2012,Roads\n"1.000",2013,Parks\n'
    report, rows, _ = built(tmp_path, plan(tmp_path, content, columns=[amount, *COLUMNS[1:]]))
    assert [row["amount"] for row in rows] == ["45120.5", "7", "1000"]
    assert report.rows_rejected == 0
    assert any(note.startswith("amount: 2 value(s) written in the format a curator chose") for note in report.notes)

    (tmp_path / "legacy").mkdir()
    legacy_report, _, _ = built(tmp_path / "legacy", plan(tmp_path / "legacy", content))
    assert legacy_report.rows_rejected == 1  # the legacy loader refused 45.120,50


def test_the_page_shows_the_legacy_default_and_the_number_format(client, curator, proposed):
    client.force_login(curator)
    document = html.fromstring(client.get(page_url(proposed)).content)
    ergebnis, label = mapping(proposed, "ergebnis"), mapping(proposed, "produktbereich.label")
    card = document.get_element_by_id(f"mapping-{ergebnis.pk}")
    assert card.xpath(f".//input[@name='m{ergebnis.pk}-fill_empty']/@checked") == ["checked"]
    assert card.xpath(f".//input[@name='m{ergebnis.pk}-default_value']/@value") == ["0"]
    assert card.xpath(f".//select[@name='m{ergebnis.pk}-number_format']/option[@selected]/@value") == [".,"]
    assert 'legacy: "0"' in card.text_content()
    other = document.get_element_by_id(f"mapping-{label.pk}")  # text: no number format to choose
    assert not other.xpath(".//select[contains(@name, 'number_format')]")


def test_the_preview_follows_a_new_default_and_counts_the_cells_it_fills(client, curator, proposed):
    client.force_login(curator)
    ergebnis = mapping(proposed, "ergebnis")
    data = _form_data(client, proposed)
    data[f"m{ergebnis.pk}-default_value"] = "-1"
    response = client.post(reverse("admin:conversion_dataset_preview", args=[proposed.pk]), data)
    document = html.fromstring(response.content)
    fields = [str(th.text).strip() for th in document.xpath("//table[@id='preview-table']/thead/tr[1]/th")]
    changes = [td.text_content() for td in document.xpath("//table[@id='preview-table']/thead/tr[@class='changes']/td")]
    column = fields.index(ergebnis.field_name)
    assert changes[column] == "8 filled by the default"  # the 2014 rows among the first 20 previewed
    values = [
        row.xpath("./td")[column].text_content() for row in document.xpath("//table[@id='preview-table']/tbody/tr")
    ]
    assert values.count("-1") == 8 and "0" not in values


def test_a_default_the_legacy_reading_refuses_is_an_error_and_saves_nothing(client, curator, proposed):
    client.force_login(curator)
    ergebnis = mapping(proposed, "ergebnis")
    data = _form_data(client, proposed)
    data[f"m{ergebnis.pk}-default_value"] = "n/a"
    data["reason"] = "unknown"
    response = client.post(page_url(proposed), data)
    assert response.status_code == 200
    assert "Column is empty and its default value is invalid" in response.content.decode()
    assert mapping(proposed, "ergebnis").status == Status.PROPOSED


def test_a_new_default_and_format_are_saved_and_reach_the_plan_and_back_to_legacy_removes_them(curator, proposed):
    ergebnis = mapping(proposed, "ergebnis")
    services.mapping_update(
        mapping=ergebnis,
        data={"default_value": None, "number_format": [",", "."]},
        editor=curator,
        reason="an empty cell is unknown; the 2014 file uses German numbers",
    )
    ergebnis = mapping(proposed, "ergebnis")
    assert ergebnis.current_target["default_value"] is None
    assert ergebnis.current_target["number_format"] == [",", "."]
    [column] = [c for c in columns_of(proposed, [ergebnis]) if c.path == "ergebnis"]
    assert column.default_value is None and column.number_format == (",", ".")

    services.mapping_update(
        mapping=ergebnis, data={"default_value": "0", "number_format": [".", ","]}, editor=curator, reason="undo"
    )
    ergebnis = mapping(proposed, "ergebnis")
    assert "default_value" not in ergebnis.current_target and "number_format" not in ergebnis.current_target
    [column] = [c for c in columns_of(proposed, [ergebnis]) if c.path == "ergebnis"]
    assert column.default_value == "0" and column.number_format is None


def test_keeping_empty_cells_needs_a_default_to_keep_out(curator, proposed):
    ergebnis = mapping(proposed, "ergebnis")
    services.mapping_update(
        mapping=ergebnis, data={"keep_empty": True, "default_value": None}, editor=curator, reason="unknown"
    )
    [column] = [c for c in columns_of(proposed, [mapping(proposed, "ergebnis")]) if c.path == "ergebnis"]
    assert column.default_value is None and not column.keep_empty  # empty cells refuse the row, as in the legacy
