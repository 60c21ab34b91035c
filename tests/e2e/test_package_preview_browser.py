"""A visitor reads a package's data on its page, in a real browser: the preview of its rows and its next page, the
top ten with their bars, and the totals chart, at a desktop width and a phone's. Screenshots of each step land in
test-artifacts/e2e/<test name>/."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_package
from tests.publishing.test_package_preview import add_parquet, sample_rows

pytestmark = pytest.mark.django_db(transaction=True)
WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.fixture
def package_with_data(live_server, tmp_path):
    package = make_package("berlin", "budget", title="Berlin budget", years=[2014, 2015, 2016], rows=sample_rows())
    add_parquet(package, tmp_path)
    package.run.report = {
        "totals": {"amount": "22731.5"},
        "totals_by_year": {"amount": {"2014": "7000", "2015": "8000"}},
    }
    package.run.save(update_fields=["report"])
    return package


@pytest.mark.parametrize("device", WIDTHS)
def test_a_visitor_reads_the_preview_the_top_ten_and_the_totals_chart(page, live_server, package_with_data, device):
    width = WIDTHS[device]
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + "/packages/berlin/budget/")

    preview = page.locator("#preview")
    expect(preview.locator("table")).to_be_visible()
    expect(preview.locator("tbody tr")).to_have_count(20)
    assert "Rows 1 to 20 of 45" in preview.locator(".preview-range").inner_text()
    # Amounts sit at the right edge of their column.
    assert page.evaluate("getComputedStyle(document.querySelector('#preview td.number')).textAlign") == "right"
    # The page never scrolls sideways: a wide table scrolls inside its own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.shots.take(f"{device}-preview")

    top = page.locator("#top-members")
    expect(top.locator("tbody tr")).to_have_count(10)
    if device == "desktop":
        expect(top.locator("meter").first).to_be_visible()
    top.scroll_into_view_if_needed()
    page.shots.take(f"{device}-top-ten")

    chart = page.locator(".totals-chart img").first
    chart.scroll_into_view_if_needed()
    expect(chart).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=chart.element_handle())
    page.shots.take(f"{device}-totals-chart")

    first_row = preview.locator("tbody tr").first.inner_text()
    preview.get_by_role("link", name="Next rows").click()
    page.wait_for_url("**/packages/berlin/budget/?rows=2#preview")
    assert "Rows 21 to 40 of 45" in preview.locator(".preview-range").inner_text()
    assert preview.locator("tbody tr").first.inner_text() != first_row
    page.shots.take(f"{device}-preview-page-2")
