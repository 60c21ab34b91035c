"""The Content-Security-Policy, in a real browser: a violation fails a browser test, and the admin pages a migration
admin uses (the datasets, the review page with its live preview, a conversion run, the job dashboard) break none."""

import importlib
import os
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from conversion.models import ConversionRun, DimensionMapping
from datasets.models import LegacyDataset
from migration_site.lib import roles

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a-long-admin-password"


@pytest.fixture
def admin_site(sample_dump, live_server):
    from django.apps import apps

    for module, function in (("0002_review_groups", "create_groups"), ("0004_run_permissions", "grant"),
                             ("0005_job_dashboard_permission", "grant")):  # fmt: skip
        getattr(importlib.import_module(f"conversion.migrations.{module}"), function)(apps, None)
    call_command("import_legacy", str(sample_dump), stdout=StringIO())
    call_command("propose_mappings", stdout=StringIO())
    user = User.objects.create_user("maxine", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=roles.MIGRATION_ADMINS))
    return LegacyDataset.objects.get(name="lindenau-haushalt")


def login(page, live_server) -> None:
    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", "maxine")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("input[type=submit]")


def test_an_inline_script_is_reported_as_a_violation(page, live_server):
    """The check itself: a page with an inline script under the site's policy is caught (then forgiven here)."""
    page.route(
        "**/csp-probe",
        lambda route: route.fulfill(
            status=200,
            headers={"Content-Type": "text/html", "Content-Security-Policy": "script-src 'self'"},
            body="<p>probe</p><script>document.title = 'ran'</script>",
        ),
    )
    page.goto(live_server.url + "/csp-probe")
    assert page.title() != "ran"
    assert any("Content Security Policy" in text for text in page.csp_violations)
    page.csp_violations.clear()


def test_a_migration_admin_works_through_the_admin_without_a_violation(page, live_server, admin_site):
    dataset = admin_site
    login(page, live_server)
    page.goto(live_server.url + reverse("admin:datasets_legacydataset_change", args=[dataset.pk]))
    expect(page.locator("pre.pretty-json").first).to_be_visible()
    page.shots.take("dataset")

    page.goto(live_server.url + reverse("admin:conversion_dimensionmapping_changelist"))
    page.shots.take("queue")
    page.goto(live_server.url + reverse("admin:conversion_dataset_review", args=[dataset.pk]))
    kind = DimensionMapping.objects.get(dataset=dataset, legacy_path="ergebnisart")
    page.fill(f"#m{kind.pk}-field", "account_kind")
    expect(page.locator("#preview-table thead")).to_contain_text("account_kind")  # the preview's script runs
    page.shots.take("review-preview")

    run = ConversionRun.objects.create(dataset=dataset, status=ConversionRun.Status.FAILED, error="a test failure")
    page.goto(live_server.url + reverse("admin:conversion_conversionrun_change", args=[run.pk]))
    expect(page.locator("#content")).to_contain_text("a test failure")
    page.shots.take("conversion-run")
    assert page.csp_violations == []


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")
def test_the_job_dashboard_works_under_the_policy(page, live_server, admin_site):
    login(page, live_server)
    page.goto(live_server.url + "/admin/django_rq/dashboard/")
    expect(page.locator("#content")).to_contain_text("conversion")
    page.goto(live_server.url + "/admin/django_rq/dashboard/queues/0/")  # its one inline script, allowed by hash
    page.shots.take("job-dashboard")
    assert page.csp_violations == []
