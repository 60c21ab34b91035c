"""A curator and a superuser click every link of a dataset's admin page whose legacy page and source are
`javascript:` URLs: no script runs (no dialog opens), and the addresses read as text.

The clicks run with the site's Content-Security-Policy bypassed: the policy would block a `javascript:` URL too, and
this test is about the markup, which must be safe on its own (a policy can be loosened, or served by a proxy without
it). Screenshots land in test-artifacts/e2e/<test name>/.
"""

from collections.abc import Iterator
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Error as PlaywrightError

from datasets.models import LegacyDataset
from migration_site.lib import roles
from tests.datasets.hostile_links import DATASET, LEGACY_PAGE, SOURCE, poison
from tests.e2e.conftest import ARTIFACTS, Shots
from tests.e2e.test_review_browser import PASSWORD, ensure_review_groups, login

pytestmark = pytest.mark.django_db(transaction=True)
# What the browser resolved every link's target to: the scheme of a web page, never a script.
LINK_SCHEMES = "() => [...document.querySelectorAll('a[href], area[href]')].map(a => a.protocol)"
# One link of each kind: links alike in address, target and class (the admin's scripts hook links by class) do the
# same when followed, so following the first of each is following them all.
DISTINCT_LINKS = """() => {
  const seen = new Set();
  return [...document.querySelectorAll('a[href]')].flatMap((a, index) => {
    const kind = [a.getAttribute('href'), a.target, a.className].join(' ');
    if (seen.has(kind)) return [];
    seen.add(kind);
    return [index];
  });
}"""


@pytest.fixture
def hostile_site(sample_dump, live_server):
    ensure_review_groups()
    poison(sample_dump)
    call_command("import_legacy", str(sample_dump), stdout=StringIO())
    curator = User.objects.create_user("carla", password=PASSWORD, is_staff=True)
    curator.groups.add(Group.objects.get(name=roles.CURATORS))
    User.objects.create_superuser("root", password=PASSWORD)
    return LegacyDataset.objects.get(name=DATASET)


@pytest.fixture
def bare_page(browser, request) -> Iterator[object]:
    """A page on which the site's Content-Security-Policy is not enforced."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.shots = Shots(page, ARTIFACTS / request.node.name)
    yield page
    context.close()


class Dialogs:
    """Every dialog (alert, confirm, prompt, beforeunload) any page of the context opens, dismissed and recorded."""

    def __init__(self, context):
        self.seen = []
        context.on("page", self.watch)
        for page in context.pages:
            self.watch(page)

    def watch(self, page):
        page.on("dialog", self.record)

    def record(self, dialog):
        self.seen.append((dialog.type, dialog.message))
        dialog.dismiss()


def settle(page):
    """Let a followed link finish: a navigation loads, a `javascript:` URL has run its script (its task comes
    before the evaluate's, which only answers once the page is idle again). A navigation that starts while we wait
    destroys the page we asked: wait for the new one instead."""
    for _ in range(10):
        try:
            page.wait_for_load_state("load")
            page.evaluate("() => new Promise(resolve => setTimeout(resolve, 50))")
            return
        except PlaywrightError as error:
            if "context was destroyed" not in error.message:
                raise
    raise AssertionError(f"{page.url} kept navigating")


def on_the_page(link):
    box = link.bounding_box() if link.is_visible() else None
    return box is not None and box["x"] + box["width"] > 0 and box["y"] + box["height"] > 0


def follow(page, change_url, index, how):
    page.goto(change_url)
    link = page.locator("a[href]").nth(index)
    if how == "enter":
        link.focus()
        page.keyboard.press("Enter")
    elif on_the_page(link):
        link.click(no_wait_after=True)
    else:  # hidden, or placed off the page until focused (the skip link): the DOM click a script would make
        link.evaluate("a => a.click()")
    settle(page)
    for popup in page.context.pages[1:]:  # a link that opened a window: let it run, then close it
        settle(popup)
        popup.close()


def test_the_recorder_sees_a_dialog_when_a_script_url_runs(bare_page, live_server, hostile_site):
    """The control: the same click and wait on a planted `javascript:` link does open a dialog."""
    page = bare_page
    dialogs = Dialogs(page.context)
    login(page, live_server, "carla")
    page.goto(live_server.url + reverse("admin:datasets_legacydataset_change", args=[hostile_site.pk]))
    page.evaluate("() => { const a = document.createElement('a'); a.href = 'javascript:alert(\"planted\")';"
                  " a.id = 'planted'; a.textContent = 'planted'; document.body.prepend(a); }")  # fmt: skip
    page.click("#planted", no_wait_after=True)
    settle(page)
    assert dialogs.seen == [("alert", "planted")]


@pytest.mark.parametrize(("username", "sees_sources"), [("carla", False), ("root", True)])
def test_no_link_of_the_change_page_runs_a_script_url(bare_page, live_server, hostile_site, username, sees_sources):
    page = bare_page
    dialogs = Dialogs(page.context)
    login(page, live_server, username)
    change_url = live_server.url + reverse("admin:datasets_legacydataset_change", args=[hostile_site.pk])
    page.goto(change_url)
    assert set(page.evaluate(LINK_SCHEMES)) <= {"http:", "https:"}
    legacy = page.locator(".field-legacy_link .readonly")
    assert legacy.inner_text() == f"{LEGACY_PAGE} (not a web link)" and legacy.locator("a").count() == 0
    assert "never as a link" in page.locator(".field-harvest_problems_list").inner_text()
    source = page.locator("td.field-source_url", has_text=SOURCE)
    if sees_sources:  # the inlines need the view permission of their own models, which curators do not have
        assert source.is_visible() and source.locator("a").count() == 0
        assert page.locator("td.field-source_url a").count() > 0, "the other sources' web addresses stay links"
    else:
        assert source.count() == 0
    page.shots.take(f"{username}-addresses-as-text")
    page.locator(".field-legacy_link").screenshot(path=str(page.shots.folder / "legacy-page-field.png"))
    page.locator(".field-harvest_problems_list").screenshot(path=str(page.shots.folder / "harvest-problems.png"))
    if sees_sources:
        page.locator("#sources-group").screenshot(path=str(page.shots.folder / "sources-inline.png"))

    count = page.locator("a[href]").count()
    assert count > 10  # the whole page: header, navigation, breadcrumbs, history (and the inlines for root)
    distinct = page.evaluate(DISTINCT_LINKS)
    assert 10 < len(distinct) <= count
    for index in distinct:
        for how in ("click", "enter"):
            follow(page, change_url, index, how)
            assert dialogs.seen == [], f"link {index} ({how}) opened a dialog"
    page.goto(change_url)
    assert page.locator(".field-legacy_link").is_visible()
    page.shots.take(f"{username}-after-every-click")
