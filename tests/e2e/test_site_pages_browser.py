"""A visitor meets the site's own pages in a real browser: an old link to a dataset left out of the migration, the
404 page's search, the registry past its last page, the feed page, and the icon. Screenshots land in
test-artifacts/e2e/<test name>/."""

import pytest

from conversion.models import DatasetDecision
from datasets.models import LegacyDataset
from publishing.views import PAGE_SIZE
from tests.factories import make_package

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site_with_history(live_server):
    for n in range(PAGE_SIZE + 2):
        make_package("town", f"budget-{n:02d}", title=f"Town budget {n:02d}", country="KE")
    make_package("leeds", "spend", title="Leeds council spending", country="GB", category="procurement")
    excluded = LegacyDataset.objects.create(name="kenya-budget-2012", label="Not for the public")
    DatasetDecision.objects.create(dataset=excluded, decision=DatasetDecision.Choice.EXCLUDE, reason="duplicate")


def test_a_visitor_follows_old_links_searches_from_an_error_page_and_reads_the_registry(
    page, live_server, site_with_history
):
    response = page.goto(live_server.url + "/kenya-budget-2012/entries")
    assert response.status == 410
    assert page.locator("h1").inner_text() == "This dataset was not migrated"
    assert "Not for the public" not in page.content() and "duplicate" not in page.content()
    page.shots.take("not-migrated")

    page.goto(live_server.url + "/no-such-dataset")
    assert page.locator("h1").inner_text() == "Page not found"
    # The stylesheet and the icon are served and applied on an error page too.
    assert page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor") == "rgb(8, 63, 96)"
    icon = page.evaluate(
        "fetch(document.querySelector('link[rel=icon]').href).then(r => r.headers.get('content-type'))"
    )
    assert icon.startswith("image/svg+xml")
    page.shots.take("not-found")
    page.fill("#error-search", "united kingdom")
    page.press("#error-search", "Enter")
    page.wait_for_url("**/packages/?q=united+kingdom")
    assert page.locator(".package-card h3 a").all_inner_texts() == ["Leeds council spending"]
    page.shots.take("searched-a-country")

    page.click("header nav >> text=Registry")
    page.wait_for_url("**/registry/")
    assert f"lists {PAGE_SIZE + 3} packages" in page.locator("#rows-title").inner_text()
    page.goto(live_server.url + "/registry/?page=12")
    assert page.locator(".notice").inner_text() == "Page 12 does not exist; showing the last page, 2."
    assert page.locator(".registry-table tbody tr").count() == 3
    page.shots.take("registry-past-the-end")

    page.click("header nav >> text=Feed")
    page.wait_for_url("**/feeds/")
    assert page.locator("h1").inner_text() == "Atom feed"
    assert page.locator(".feed-address").inner_text().endswith("/feeds/packages.atom")
    page.set_viewport_size({"width": 420, "height": 900})
    page.shots.take("feed-page-narrow")
