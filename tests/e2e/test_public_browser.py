"""A visitor browses the public site in a real browser: the list, a filter, a package page, a download, and an old
openspending.org link. Screenshots of each step land in test-artifacts/e2e/<test name>/."""

import pytest

from publishing.store import public_storage
from tests.factories import make_package

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def public_site(live_server):
    make_package("berlin", "haushalt", title="Berlin Haushalt", description="Der Haushalt der Stadt Berlin.")
    make_package("leeds", "spend", title="Leeds council spending", country="GB", currency="GBP", category="spending",
                 years=[2015], description="Payments over 500 pounds.")  # fmt: skip
    hidden = make_package("paris", "depenses", title="Paris dépenses", country="FR", category="spending",
                          legacy_name="paris-depenses", description="Les dépenses de la ville de Paris.")  # fmt: skip
    make_package("secret", "budget", title="A Secret budget", public=False)
    return hidden


def card_titles(page):
    return [text.strip() for text in page.locator(".package-card h3 a").all_inner_texts()]


def test_a_visitor_lists_filters_opens_a_package_and_downloads_its_data(page, live_server, public_site):
    page.goto(live_server.url + "/")
    assert card_titles(page) == ["Berlin Haushalt", "Leeds council spending", "Paris dépenses"]
    assert "3 packages" in page.locator(".results-count").inner_text()
    assert page.locator("link[rel=alternate][type='application/atom+xml']").count() == 1
    # The stylesheet is served and applied (no external assets): the header has its dark background.
    assert page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor") == "rgb(8, 63, 96)"
    page.shots.take("home")

    page.select_option("#filter-category", "spending")
    page.click("text=Apply filters")
    page.wait_for_url("**/packages/?*category=spending*")
    assert card_titles(page) == ["Leeds council spending", "Paris dépenses"]
    page.select_option("#filter-country", "FR")
    page.click("text=Apply filters")
    page.wait_for_url("**country=FR*")
    assert card_titles(page) == ["Paris dépenses"]
    assert "1 package found" in page.locator(".results-count").inner_text()
    page.shots.take("filtered")

    page.click("text=Paris dépenses")
    page.wait_for_url("**/packages/paris/depenses/")
    assert page.locator("h1").inner_text() == "Paris dépenses"
    assert "date:fiscal-year" in page.locator("#fields-title + .table-scroll").inner_text()
    assert "paris-depenses" in page.locator("#legacy-title + p").inner_text()
    page.shots.take("package")

    with page.expect_download() as download_info:
        page.locator(".downloads a.button").first.click()
    download = download_info.value
    assert download.suggested_filename.startswith("depenses-") and download.suggested_filename.endswith(".csv")
    with open(download.path(), "rb") as handle:
        assert handle.read() == public_storage().open(public_site.data_keys[0]).read()
    page.shots.take("downloaded")


def test_a_visitor_searches_and_follows_an_old_openspending_link(page, live_server, public_site):
    page.goto(live_server.url + "/packages/")
    page.fill("#site-search", "ville")
    page.press("#site-search", "Enter")
    page.wait_for_url("**q=ville*")
    assert card_titles(page) == ["Paris dépenses"]
    page.shots.take("search")

    page.fill("#site-search", "secret")
    page.press("#site-search", "Enter")
    page.wait_for_url("**q=secret*")
    assert card_titles(page) == [] and "No package matches" in page.locator(".empty").inner_text()
    page.shots.take("nothing-hidden")

    page.click("nav >> text=Bulk downloads")
    page.wait_for_url("**/bulk/")
    assert page.locator("main table a").first.inner_text().endswith("-part-1.zip")
    assert "Secret" not in page.locator("main").inner_text()
    page.shots.take("bulk")

    page.goto(live_server.url + "/paris-depenses/entries")
    assert page.url == live_server.url + "/packages/paris/depenses/"
    assert page.locator("h1").inner_text() == "Paris dépenses"
    page.shots.take("legacy-redirect")


def test_the_public_pages_are_usable_from_the_keyboard_and_every_control_has_a_label(page, live_server, public_site):
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    page.wait_for_url("**/#main", timeout=5000)  # the hash changes a moment after the key press
    assert page.url.endswith("#main")
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('input, select')].filter(
             el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.name)"""
    )
    assert unlabelled == []
    assert page.locator("html").get_attribute("lang") == "en"
    page.set_viewport_size({"width": 420, "height": 900})
    page.shots.take("narrow")
