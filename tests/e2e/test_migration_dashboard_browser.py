"""A migration admin opens the migration dashboard from the admin index and follows "Waiting for a decision" to the
datasets that wait for them. Screenshots (1280x800) land in test-artifacts/e2e/<test name>/."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.urls import reverse

from migration_site.lib import roles
from tests.e2e.test_review_browser import PASSWORD, ensure_review_groups, login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def harvested_site(sample_dump, live_server):
    ensure_review_groups()
    call_command("import_legacy", str(sample_dump), stdout=StringIO())
    call_command("propose_mappings", stdout=StringIO())
    admin = User.objects.create_user("mia", password=PASSWORD, is_staff=True)
    admin.groups.add(Group.objects.get(name=roles.MIGRATION_ADMINS))


def test_a_migration_admin_finds_the_datasets_waiting_for_a_decision(page, live_server, harvested_site):
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, live_server, "mia")
    page.goto(live_server.url + reverse("admin:index"))
    page.shots.take("admin-index")

    page.click("#migration-dashboard-link a")
    page.wait_for_selector("#stages")
    waiting = page.locator("#stage-waiting_decision td.count").text_content().strip()
    assert waiting == "2"
    assert "kestrel-bay-budget-2016" in page.locator("#todo").text_content()
    page.shots.take("dashboard")

    page.click("#stage-waiting_decision th a")
    page.wait_for_selector("#result_list")
    names = page.locator("#result_list tbody tr").all_text_contents()
    assert len(names) == 2
    assert any("hafnarvik-utgjold-2013" in row for row in names)
    assert any("riverton-draft-budget-2015" in row for row in names)
    assert "choose to migrate publicly" in page.locator(".messagelist").text_content()
    page.shots.take("waiting-for-a-decision")
