"""The package page's totals per measure and year beside the legacy platform's: the chart on its own URL (an SVG
behind the page's privacy filter and validators) and the table beside it, from what the reconciliation compared."""

import base64
import copy
import hashlib
import re
from decimal import Decimal
from io import StringIO
from xml.etree import ElementTree

import pytest
from django.core.management import call_command
from lxml import html  # type: ignore[import-untyped]

from conversion.models import ConversionRun
from conversion.runs import reconciliation_accept
from publishing.models import PublishedPackage
from tests.factories import make_package
from tests.publishing.conftest import publish

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"
LINDENAU = "lindenau-haushalt"  # two measures (amount, ergebnis), two years


def compared(*items):
    """A reconciliation as conversion runs store it, with every comparison it made."""
    rows = [{"measure": m, "year": y, "ours": o, "legacy": lg} for m, y, o, lg in items]
    differences = [
        {**row, "diff": str(Decimal(row["ours"] or 0) - Decimal(row["legacy"] or 0))}
        for row in rows
        if Decimal(row["ours"] or 0) != Decimal(row["legacy"] or 0)
    ]
    status = "mismatch" if differences else "match"
    return {"status": status, "rows": {"ours": 6, "legacy": 6}, "source": "aggregates",
            "differences": differences, "notes": [], "compared": rows}  # fmt: skip


BERLIN = compared(
    ("amount", None, "3456.50", "3456.5"), ("amount", "2014", "1234.50", "1234.5"), ("amount", "2015", "2222", "2222.0")
)


def totals_table(client, url):
    """{(measure, year): (this package, legacy, difference, differs)} from the page's totals section."""
    response = client.get(url)
    assert response.status_code == 200
    section = html.fromstring(response.content).xpath("//section[@aria-labelledby='totals-title']")[0]
    rows = {}
    for row in section.xpath(".//table/tbody/tr"):
        measure, ours, legacy, difference = (cell.text_content().strip() for cell in row.xpath("td"))
        year = row.xpath("th[@scope='row']")[0].text_content().strip()
        rows[(measure, year)] = (ours, legacy, difference, "differs" in (row.get("class") or ""))
    return section, rows


def number(text):
    return Decimal(text.replace(",", "").replace("+", ""))


# -- the chart's URL -------------------------------------------------------------------------------------------------


def test_the_chart_is_an_svg_of_the_packages_totals_with_a_name_and_no_script(client):
    make_package(reconciliation=BERLIN)

    response = client.get("/packages/berlin/budget/totals.svg")

    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    root = ElementTree.fromstring(response.content)
    assert root.find(f"{SVG}title").text == "Amount per year"
    description = str(root.find(f"{SVG}desc").text)
    assert "2014: this package 1,234.50, legacy platform 1,234.50" in description
    assert "2015: this package 2,222.00, legacy platform 2,222.00" in description
    figures = [node.text for node in root.iter(f"{SVG}desc") if node.get("class") == "value"]
    assert figures == ["1,234.50", "2,222.00", "1,234.50", "2,222.00"]  # this package's bars, then the legacy's
    assert [node.text for node in root.iter(f"{SVG}text") if node.text in ("2014", "2015")] == ["2014", "2015"]
    assert not list(root.iter(f"{SVG}script")) and b"<script" not in response.content
    assert b"<!--" not in response.content and b"tooltip-overlay" not in response.content  # no dated comment
    assert b'style="' not in response.content  # no style attribute, which the CSP would refuse
    assert b"http://" not in response.content.replace(b"http://www.w3.org/", b"")  # nothing to fetch


def test_the_chart_allows_its_own_inline_style_by_hash_and_nothing_else(client, settings):
    make_package(reconciliation=BERLIN)

    response = client.get("/packages/berlin/budget/totals.svg")

    [style] = [node.text for node in ElementTree.fromstring(response.content).iter(f"{SVG}style")]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["style-src"] == f"'self' 'sha256-{digest}'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    page_policy = client.get("/packages/berlin/budget/")["Content-Security-Policy"]
    assert dict(part.strip().split(" ", 1) for part in page_policy.split(";"))["style-src"] == "'self'"
    assert {key: value for key, value in policy.items() if key != "style-src"} == {
        key: value for key, value in (p.strip().split(" ", 1) for p in page_policy.split(";")) if key != "style-src"
    }


def test_the_chart_answers_304_to_its_etag_and_404_once_the_package_is_withdrawn(client):
    package = make_package(reconciliation=BERLIN)
    first = client.get("/packages/berlin/budget/totals.svg")
    etag = first["ETag"]

    cached = client.get("/packages/berlin/budget/totals.svg", headers={"if-none-match": etag})
    assert cached.status_code == 304 and cached.content == b""
    assert client.head("/packages/berlin/budget/totals.svg")["ETag"] == etag
    assert client.get("/packages/berlin/budget/totals.svg").content == first.content  # the same bytes each time

    package.withdraw()
    assert client.get("/packages/berlin/budget/totals.svg", headers={"if-none-match": etag}).status_code == 404
    assert client.get("/packages/berlin/budget/totals.svg").status_code == 404


def test_a_measure_the_package_does_not_have_has_no_chart(client):
    make_package(reconciliation=BERLIN)
    assert client.get("/packages/berlin/budget/totals.svg?measure=amount").status_code == 200
    assert client.get("/packages/berlin/budget/totals.svg?measure=nothing").status_code == 404
    assert client.get("/packages/berlin/nothing/totals.svg").status_code == 404


def test_a_private_package_has_no_chart(client):
    make_package(reconciliation=BERLIN, public=False)
    assert client.get("/packages/berlin/budget/totals.svg").status_code == 404


# -- the table on the page -------------------------------------------------------------------------------------------


def test_the_page_shows_the_chart_and_a_table_of_every_figure_with_differences(client):
    reconciliation = compared(
        ("amount", None, "3456.50", "4456.5"),
        ("amount", "2014", "1234.50", "2234.5"),
        ("amount", "2015", "2222", "2222.0"),
    )
    make_package(reconciliation=reconciliation)

    section, rows = totals_table(client, "/packages/berlin/budget/")

    assert rows == {
        ("Amount", "2014"): ("1,234.50", "2,234.50", "-1,000.00", True),
        ("Amount", "2015"): ("2,222.00", "2,222.00", "none", False),
        ("Amount", "all years"): ("3,456.50", "4,456.50", "-1,000.00", True),
    }
    [image] = section.xpath(".//img")
    assert image.get("src") == "/packages/berlin/budget/totals.svg?measure=amount"
    assert "Amount per year" in image.get("alt") and "table" in image.get("alt")
    assert "Amount (EUR)" in section.xpath(".//caption")[0].text_content()
    assert [th.get("scope") for th in section.xpath(".//thead//th")] == ["col"] * 5


def test_a_run_reconciled_before_comparisons_were_kept_shows_its_own_totals_as_not_recorded(client):
    old = {key: value for key, value in BERLIN.items() if key != "compared"}
    package = make_package(reconciliation=old)
    package.run.report = {"totals": {"amount": "3456.5"}, "totals_by_year": {"amount": {"2014": "1234.5"}}}
    package.run.save(update_fields=["report"])

    section, rows = totals_table(client, "/packages/berlin/budget/")

    assert rows == {
        ("Amount", "2014"): ("1,234.5", "not recorded", "unknown", False),
        ("Amount", "all years"): ("3,456.5", "not recorded", "unknown", False),
    }
    assert "were not recorded for this package" in " ".join(section.text_content().split())


def test_without_totals_the_section_says_why(client):
    package = make_package()
    package.dataset, package.run = None, None
    package.save()

    section, rows = totals_table(client, "/packages/berlin/budget/")

    assert rows == {} and not section.xpath(".//img")
    assert "uploaded as it is, not converted here" in " ".join(section.text_content().split())
    assert client.get("/packages/berlin/budget/totals.svg").status_code == 404


# -- the sample, through the pipeline --------------------------------------------------------------------------------


def test_the_sample_packages_table_and_chart_hold_what_its_reconciliation_compared(client, converted):
    publish(LINDENAU)
    package = PublishedPackage.objects.get(name=LINDENAU)
    titles = {m["source"]: m["title"] for m in package.descriptor["model"]["measures"].values()}
    stored = package.run.reconciliation["compared"]
    assert {(item["measure"], item["year"]) for item in stored} == {
        (measure, year) for measure in ("amount", "ergebnis") for year in (None, "2013", "2014")
    }

    _, rows = totals_table(client, f"/packages/{package.owner}/{package.name}/")

    assert len(rows) == len(stored)
    for item in stored:
        ours, legacy, difference, differs = rows[(titles[item["measure"]], item["year"] or "all years")]
        assert number(ours) == Decimal(item["ours"])
        assert abs(number(legacy) - Decimal(item["legacy"])) < Decimal("0.005")
        assert (difference, differs) == ("none", False)
    chart = client.get(f"/packages/{package.owner}/{package.name}/totals.svg?measure=ergebnis")
    figures = [n.text for n in ElementTree.fromstring(chart.content).iter(f"{SVG}desc") if n.get("class") == "value"]
    assert figures == [rows[(titles["ergebnis"], year)][column] for column in (0, 1) for year in ("2013", "2014")]


def test_a_year_the_legacy_platform_summed_otherwise_shows_its_difference(client, converted, migration_admin):
    dataset = converted[LINDENAU]
    aggregates = copy.deepcopy(dataset.aggregates)
    amount = aggregates["measures"]["amount"]
    amount["by_year"]["2014"] += 1000.0
    amount["total"] += 1000.0
    dataset.aggregates = aggregates
    dataset.save(update_fields=["aggregates"])
    call_command("convert", LINDENAU, "--sync", stdout=StringIO())
    run = ConversionRun.objects.filter(dataset=dataset).latest("pk")
    assert run.reconciliation_status == ConversionRun.Reconciliation.MISMATCH
    reconciliation_accept(run=run, admin=migration_admin, reason="the legacy cube double-counted a transfer")
    publish(LINDENAU)
    package = PublishedPackage.objects.get(name=LINDENAU)
    assert package.run == run

    _, rows = totals_table(client, f"/packages/{package.owner}/{package.name}/")

    title = next(m["title"] for m in package.descriptor["model"]["measures"].values() if m["source"] == "amount")
    ours, legacy, difference, differs = rows[(title, "2014")]
    assert number(legacy) - number(ours) == 1000 and (difference, differs) == ("-1,000", True)
    assert rows[(title, "all years")][2:] == ("-1,000", True)
    assert rows[(title, "2013")][2:] == ("none", False)
    chart = client.get(f"/packages/{package.owner}/{package.name}/totals.svg?measure=amount").content
    assert re.search(rb'<desc class="value">' + legacy.encode() + rb"</desc>", chart)
