"""A migration admin converts and publishes a dataset from its admin page, then finds the publication run in the
admin; a curator's page has no Publish button. Screenshots land in test-artifacts/e2e/<test name>/."""

import importlib
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.urls import reverse

from conversion.models import ConversionRun, DimensionMapping
from conversion.review import services
from datasets.models import LegacyDataset
from migration_site.lib import roles
from publishing.models import PublicationRun, PublishedPackage
from tests.e2e.test_review_browser import PASSWORD, login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _jobs_in_the_request(settings):
    """Without Redis the admin's requests run in the request (embedded mode), whatever the environment says (CI sets
    REDIS_URL); a test that wants them queued says so itself."""
    settings.REDIS_URL = ""


def ensure_groups() -> None:
    """Transactional tests flush the tables between tests, data-migration rows included: put the groups back."""
    from django.apps import apps

    importlib.import_module("conversion.migrations.0002_review_groups").create_groups(apps, None)
    importlib.import_module("conversion.migrations.0004_run_permissions").grant(apps, None)
    importlib.import_module("publishing.migrations.0006_pipeline_permissions").grant(apps, None)


@pytest.fixture
def approved_site(sample_dump, live_server):
    ensure_groups()
    call_command("import_legacy", str(sample_dump), stdout=StringIO())
    call_command("propose_mappings", stdout=StringIO())
    for name, group in (("mara", roles.MIGRATION_ADMINS), ("carla", roles.CURATORS)):
        user = User.objects.create_user(name, password=PASSWORD, is_staff=True)
        user.groups.add(Group.objects.get(name=group))
    dataset = LegacyDataset.objects.get(name="lindenau-haushalt")
    reviewer = User.objects.get(username="carla")
    for mapping in DimensionMapping.objects.filter(dataset=dataset).open():
        services.mapping_approve(mapping=mapping, reviewer=reviewer)
    return dataset


def test_a_migration_admin_converts_and_publishes_from_the_dataset_page(page, live_server, approved_site):
    dataset = approved_site
    login(page, live_server, "mara")
    page.goto(live_server.url + reverse("admin:datasets_legacydataset_change", args=[dataset.pk]))
    box = page.locator("#pipeline")
    assert "Never converted." in box.inner_text() and "Not published." in box.inner_text()
    assert box.locator(f'a[href$="{reverse("admin:conversion_dataset_review", args=[dataset.pk])}"]').count() == 1
    page.shots.take("before")

    with page.expect_navigation():  # a POST; the conversion runs here (no REDIS_URL), then the redirect back
        box.locator("input[value=Convert]").click()
    run = ConversionRun.objects.get(dataset=dataset)
    assert run.status == ConversionRun.Status.SUCCEEDED, run.error
    assert f"conversion run {run.pk}: succeeded" in page.locator(".messagelist").inner_text()
    page.shots.take("converted")

    with page.expect_navigation():
        page.locator("#pipeline input[value=Publish]").click()
    publication = PublicationRun.objects.get(dataset=dataset)
    assert publication.status == PublicationRun.Status.SUCCEEDED, publication.error
    package = PublishedPackage.objects.get(dataset=dataset)
    assert f"Published at {package.package_id}" in page.locator("#pipeline").inner_text()
    page.shots.take("published")
    page.screenshot(path=str(page.shots.folder / "03b-published-top.png"))  # the viewport: the pipeline box

    run_page = reverse("admin:publishing_publicationrun_change", args=[publication.pk])
    page.locator(f'#pipeline a[href="{run_page}"]').click()
    page.wait_for_selector("#content h2, #content-main")
    content = page.locator("#content-main").inner_text()
    assert "succeeded" in content and "stored " in content, "the run's log is on its page"
    assert page.locator("input[type=submit][name=_save]").count() == 0, "read-only"
    page.shots.take("publication-run")

    page.goto(live_server.url + reverse("admin:publishing_publicationrun_changelist"))
    assert page.locator("#result_list").get_by_text(package.package_id).count() == 1
    page.shots.take("publication-runs")


def test_a_curator_converts_but_gets_no_publish_button(page, live_server, approved_site):
    login(page, live_server, "carla")
    page.goto(live_server.url + reverse("admin:datasets_legacydataset_change", args=[approved_site.pk]))
    box = page.locator("#pipeline")
    assert box.locator("input[value=Convert]").count() == 1
    assert box.locator("input[value=Publish]").count() == 0 and box.locator("input[value=Withdraw]").count() == 0
    page.shots.take("curator")
