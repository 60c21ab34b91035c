"""The package page's preview of its rows and its top ten, read through the read API from the package's Parquet copy:
the same rows as the CSV, page by page, each page its own cached document; the top ten equal to sums of the CSV; a
missing copy or a failed query leaves the page standing and is not cached."""

import csv
import hashlib
import io
import json
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from django.core.files.base import ContentFile
from lxml import html  # type: ignore[import-untyped]

from publishing.formats import PARQUET_MEDIATYPE
from publishing.models import PublishedPackage
from publishing.parquet import parquet_write
from publishing.store import public_storage
from tests.factories import csv_bytes, make_package
from tests.publishing.conftest import publish

pytestmark = pytest.mark.django_db

URL = "/packages/berlin/budget/"
ROWS = 45  # three pages of twenty: 20, 20 and 5


def sample_rows(count=ROWS):
    """Amounts with cents and without, over three years and thirteen regions of different sizes."""
    return [[f"{(n * 397) % 1000 + n}.{(n * 7) % 100:02d}", str(2014 + n % 3), f"Region {n % 13:02d}"]
            for n in range(count)]  # fmt: skip


def add_parquet(package, tmp_path: Path):
    """The Parquet copy publication writes (publishing/parquet.py), in the store and listed on the resource."""
    storage = public_storage()
    resource = package.descriptor["resources"][0]
    source = tmp_path / "data.csv"
    source.write_bytes(storage.open(package.data_keys[0]).read())
    target = tmp_path / "data.parquet"
    totals = parquet_write(source, resource, target, where=package.name)
    content = target.read_bytes()
    sha256 = hashlib.sha256(content).hexdigest()
    path = f"data/{package.name}-{sha256[:12]}.parquet"
    key = storage.save(f"{package.owner}/{package.name}/{path}", ContentFile(content))
    resource["alternates"] = [{"format": "parquet", "mediatype": PARQUET_MEDIATYPE, "path": path,
                               "bytes": len(content), "hash": f"sha256:{sha256}", "rows": totals.rows}]  # fmt: skip
    package.descriptor_sha256 = hashlib.sha256(json.dumps(package.descriptor).encode()).hexdigest()
    package.data_keys = [*package.data_keys, key]
    package.save(update_fields=["descriptor", "descriptor_sha256", "data_keys"])
    return key


def widen(package, header, rows, fields, dimensions):
    """The package with more columns than the factory's three: its CSV, schema and model."""
    content = csv_bytes(rows, header)
    storage = public_storage()
    storage.delete(package.data_keys[0])
    storage.save(package.data_keys[0], ContentFile(content))
    resource = package.descriptor["resources"][0]
    resource["schema"]["fields"] += fields
    resource.update(bytes=len(content), hash=f"sha256:{hashlib.sha256(content).hexdigest()}")
    package.descriptor["model"]["dimensions"].update(dimensions)
    package.save(update_fields=["descriptor"])


@pytest.fixture
def package(tmp_path):
    found = make_package("berlin", "budget", years=[2014, 2015, 2016], rows=sample_rows())
    add_parquet(found, tmp_path)
    return found


def csv_rows(package):
    text = public_storage().open(package.data_keys[0]).read().decode()
    return list(csv.reader(io.StringIO(text)))[1:]


def get(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return response, html.fromstring(response.content)


def preview_table(tree):
    table = tree.xpath("//section[@id='preview']//table")[0]
    headings = [cell.text_content().strip() for cell in table.xpath("./thead/tr/th")]
    rows = [[cell.text_content().strip() for cell in row.xpath("./td")] for row in table.xpath("./tbody/tr")]
    return headings, rows


def number(text):
    return Decimal(text.replace(",", ""))


def same_row(shown, row):
    """A row of the page is the CSV's row: the amount as a number (the page groups and pads it), the rest as text."""
    return number(shown[0]) == Decimal(row[0]) and shown[1:] == row[1:]


def section_text(tree, name):
    return " ".join(tree.xpath(f"//section[@id='{name}']")[0].text_content().split())


def test_the_preview_shows_the_first_rows_of_the_csv_under_the_field_titles(client, package):
    tree = get(client, URL)[1]
    headings, rows = preview_table(tree)
    assert headings == ["Amount", "Year", "Region"]  # the package's titles, not the API's references
    expected = csv_rows(package)[:20]
    assert len(rows) == 20 and all(same_row(shown, row) for shown, row in zip(rows, expected, strict=True))
    assert "Rows 1 to 20 of 45" in section_text(tree, "preview")
    amounts = tree.xpath("//section[@id='preview']//tbody/tr/td[1]")
    assert all("number" in cell.classes for cell in amounts)  # right-aligned by the stylesheet
    assert re.fullmatch(r"[0-9,]+\.[0-9]{2}", amounts[0].text_content().strip())  # as the page writes amounts


def test_the_preview_links_the_same_rows_in_the_read_api(client, package):
    tree = get(client, URL)[1]
    link = tree.xpath("//section[@id='preview']//p[contains(@class, 'api-link')]/a/@href")[0]
    assert link == "/api/3/cubes/berlin:budget/facts?page=1&pagesize=20"
    answer = client.get(link).json()
    assert answer["total_fact_count"] == ROWS
    assert [[str(row["date.year"]), row["administrative_classification.region"]] for row in answer["data"]] == [
        row[1:] for row in csv_rows(package)[:20]
    ]


def test_page_two_shows_the_next_rows_and_is_a_document_of_its_own(client, package):
    first, first_tree = get(client, URL)
    second, second_tree = get(client, URL + "?rows=2")
    rows = preview_table(second_tree)[1]
    assert all(same_row(shown, row) for shown, row in zip(rows, csv_rows(package)[20:40], strict=True))
    assert rows != preview_table(first_tree)[1]
    assert "Rows 21 to 40 of 45" in section_text(second_tree, "preview")
    assert second["ETag"] != first["ETag"]
    # The cached first page is not served for the second, nor the second for the first.
    assert client.get(URL + "?rows=2", headers={"if-none-match": first["ETag"]}).status_code == 200
    assert preview_table(get(client, URL)[1])[1] == preview_table(first_tree)[1]
    api = second_tree.xpath("//section[@id='preview']//p[contains(@class, 'api-link')]/a/@href")[0]
    assert api == "/api/3/cubes/berlin:budget/facts?page=2&pagesize=20"
    links = second_tree.xpath("//section[@id='preview']//nav[contains(@class, 'pagination')]//a/@href")
    assert links == ["?rows=1#preview", "?rows=3#preview"]


def test_the_page_links_carry_the_rows_parameter_alone(client, package):
    tree = get(client, URL + "?rows=2&utm_source=elsewhere")[1]
    links = tree.xpath("//section[@id='preview']//nav[contains(@class, 'pagination')]//a/@href")
    assert links and not any("utm_source" in link for link in links)


def test_a_page_past_the_end_shows_the_last_page_with_a_notice(client, package):
    tree = get(client, URL + "?rows=99")[1]
    assert "Page 99 does not exist; showing the last page, 3." in section_text(tree, "preview")
    rows = preview_table(tree)[1]
    assert all(same_row(shown, row) for shown, row in zip(rows, csv_rows(package)[40:], strict=True))
    assert "Rows 41 to 45 of 45" in section_text(tree, "preview")


def test_a_junk_page_shows_the_first_page_with_a_notice(client, package):
    tree = get(client, URL + "?rows=two")[1]
    assert "That is not a page number; showing the first page." in section_text(tree, "preview")
    assert "Rows 1 to 20 of 45" in section_text(tree, "preview")


def expected_top_ten(package):
    sums: defaultdict[str, Decimal] = defaultdict(Decimal)
    for amount, _year, region in csv_rows(package):
        sums[region] += Decimal(amount)
    total = sum(sums.values())
    largest = sorted(sums.items(), key=lambda item: item[1], reverse=True)[:10]
    return largest, total, len(sums)


def test_the_top_ten_are_the_largest_regions_by_the_sum_of_the_amounts_in_the_csv(client, package):
    tree = get(client, URL)[1]
    largest, total, count = expected_top_ten(package)
    rows = tree.xpath("//section[@id='top-members']//tbody/tr")
    shown = [
        (row.xpath("./th")[0].text_content().strip(), *[cell.text_content().strip() for cell in row.xpath("./td")[:2]])
        for row in rows
    ]
    assert [label for label, _, _ in shown] == [region for region, _ in largest]
    assert [number(amount) for _, amount, _ in shown] == [value.quantize(Decimal("0.01")) for _, value in largest]
    assert [share for _, _, share in shown] == [f"{value * 100 / total:.1f}%" for _, value in largest]
    text = section_text(tree, "top-members")
    assert f"The 10 largest of the {count} members of Administrative classification (a classification)" in text
    assert "by their total of Amount in EUR" in text
    assert f"{total.quantize(Decimal('0.01')):,}" in text
    bars = tree.xpath("//section[@id='top-members']//meter/@value")
    assert [Decimal(bar) for bar in bars] == [(value / total).quantize(Decimal("0.0001")) for _, value in largest]


def test_the_top_ten_take_the_classification_with_the_most_members_else_the_largest_entity(client, tmp_path):
    header = ["amount", "year", "region", "programme", "payee"]
    rows = [[*row, f"Programme {n % 3}", f"Payee {n}"] for n, row in enumerate(sample_rows())]
    fields = [{"name": "programme", "title": "Programme", "type": "string"},
              {"name": "payee", "title": "Payee", "type": "string"}]  # fmt: skip
    dimensions = {
        "programme": {"dimensionType": "classification", "primaryKey": ["programme"],
                      "attributes": {"programme": {"source": "programme"}}},
        "payee": {"dimensionType": "entity", "primaryKey": ["payee"], "attributes": {"payee": {"source": "payee"}}},
    }  # fmt: skip
    package = make_package("berlin", "budget", years=[2014, 2015, 2016], rows=sample_rows())
    widen(package, header, rows, fields, dimensions)
    add_parquet(package, tmp_path)
    tree = get(client, URL)[1]
    text = section_text(tree, "top-members")
    assert "The 10 largest of the 13 members of Administrative classification (a classification)" in text
    assert preview_table(tree)[0] == ["Amount", "Year", "Region", "Programme", "Payee"]

    # Without classifications, the entity with the most members.
    package.descriptor["model"]["dimensions"] = {
        name: spec for name, spec in package.descriptor["model"]["dimensions"].items() if name in ("date", "payee")
    }
    package.descriptor_sha256 = "changed"
    package.save(update_fields=["descriptor", "descriptor_sha256"])
    text = section_text(get(client, URL)[1], "top-members")
    assert "The 10 largest of the 45 members of Payee (an entity)" in text


def test_a_published_sample_package_previews_its_csv_and_sums_its_largest_classification(converted, client):
    """A package as publication leaves it, its Parquet copy written by the publication: seven columns, two measures."""
    publish("lindenau-haushalt")
    package = PublishedPackage.objects.get(name="lindenau-haushalt")
    fields = package.descriptor["resources"][0]["schema"]["fields"]
    tree = get(client, f"/packages/{package.owner}/{package.name}/")[1]
    headings, rows = preview_table(tree)
    assert headings == [field.get("title") or field["name"] for field in fields]
    records = list(csv.DictReader(io.StringIO(public_storage().open(package.data_keys[0]).read().decode())))
    numeric = {field["name"] for field in fields if field["type"] == "number"}
    for shown, record in zip(rows, records[:20], strict=True):
        expected = [Decimal(record[f["name"]]) if f["name"] in numeric else record[f["name"]] for f in fields]
        assert [
            number(text) if f["name"] in numeric else text for text, f in zip(shown, fields, strict=True)
        ] == expected

    # The largest classification: Produktbereich, by the first measure (Ansatz); its key beside its label.
    sums: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for record in records:
        sums[(record["produktbereich_label"], record["produktbereich_name"])] += Decimal(record["amount"])
    largest = sorted(sums.items(), key=lambda item: item[1], reverse=True)[:10]
    shown = [
        (" ".join(row.xpath("./th")[0].text_content().split()), number(row.xpath("./td")[0].text_content().strip()))
        for row in tree.xpath("//section[@id='top-members']//tbody/tr")
    ]
    assert shown == [(f"{label} {key}", value) for (label, key), value in largest]
    assert "by their total of Ansatz in EUR" in section_text(tree, "top-members")


def test_without_a_parquet_copy_the_page_says_so_and_offers_the_csv(client):
    package = make_package("berlin", "budget")
    response, tree = get(client, URL)
    text = section_text(tree, "preview")
    assert "No preview: this package has no Parquet copy" in text
    csv_name = package.data_keys[0].rsplit("/", 1)[1]
    assert tree.xpath("//section[@id='preview']//a/@href") == [f"/packages/berlin/budget/data/{csv_name}"]
    assert not tree.xpath("//section[@id='top-members']")
    assert response["ETag"]  # nothing failed: the page is cached as usual


def test_a_parquet_copy_missing_from_the_store_leaves_the_page_standing_and_uncached(client, package):
    key = package.data_keys[-1]
    content = public_storage().open(key).read()
    public_storage().delete(key)
    response, tree = get(client, URL)
    assert "The preview is not available now" in section_text(tree, "preview")
    assert "ETag" not in response and response["Cache-Control"] == "no-store"
    assert tree.xpath("//h1")[0].text_content() == package.title  # the rest of the page is there

    public_storage().save(key, ContentFile(content))  # the copy is back: the next request shows the preview
    response, tree = get(client, URL)
    assert len(preview_table(tree)[1]) == 20 and response["ETag"]


def test_a_query_past_the_time_limit_leaves_the_page_standing_and_uncached(client, settings, tmp_path):
    """A real timeout: a few million rows and a time limit of a millisecond."""
    package = make_package("berlin", "budget")
    big = tmp_path / "big.parquet"
    with duckdb.connect() as connection:
        connection.execute(
            "COPY (SELECT (i % 1000) + 0.5 AS amount, 2014 + i % 3 AS year, 'Region ' || (i % 100003) AS region "
            "FROM range(3000000) t(i)) TO ? (FORMAT parquet)",
            [str(big)],
        )
    content = big.read_bytes()
    sha256 = hashlib.sha256(content).hexdigest()
    key = public_storage().save(f"berlin/budget/data/budget-{sha256[:12]}.parquet", ContentFile(content))
    package.descriptor["resources"][0]["alternates"] = [
        {"format": "parquet", "path": key.split("/", 2)[2], "bytes": len(content), "hash": f"sha256:{sha256}"}
    ]
    package.descriptor_sha256 = "with a parquet copy"
    package.save(update_fields=["descriptor", "descriptor_sha256"])
    settings.API_QUERY_TIMEOUT_SECONDS = 0.001
    response, tree = get(client, URL)
    assert "not available now" in section_text(tree, "top-members")
    assert "ETag" not in response and response["Cache-Control"] == "no-store"

    settings.API_QUERY_TIMEOUT_SECONDS = 60  # the failure was not remembered: the next request has the top ten
    response, tree = get(client, URL)
    assert "The 10 largest of the 100,003 members" in section_text(tree, "top-members") and response["ETag"]


def test_a_withdrawn_package_is_a_404_with_or_without_its_preview_cached(client, package, tmp_path):
    assert client.get(URL + "?rows=2").status_code == 200
    package.withdraw()
    assert client.get(URL).status_code == 404
    assert client.get(URL + "?rows=2").status_code == 404
    other = make_package("leeds", "spend", withdrawn=True)
    add_parquet(other, tmp_path)
    assert client.get("/packages/leeds/spend/").status_code == 404
    assert PublishedPackage.objects.published().filter(name="spend").count() == 0
