"""The pipeline from the admin: convert, publish and withdraw from a dataset's page and its list, permission-checked
POSTs; publication runs and packages in the admin, read-only, with their logs and errors."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from conversion.models import ConversionRun, DatasetDecision
from datasets.models import LegacyDataset
from publishing.dataset_admin import PUBLISH, PipelineDatasetAdmin
from publishing.models import PublicationRun, PublishedPackage
from publishing.runs import publication_request
from tests.conversion.test_runs import approve_everything
from tests.factories import converted_package, make_user
from tests.test_permissions import user_with

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _jobs_in_the_request(settings):
    """Without Redis the admin's requests run in the request (embedded mode), whatever the environment says (CI sets
    REDIS_URL); a test that wants them queued says so itself."""
    settings.REDIS_URL = ""


Status = PublicationRun.Status


def page_of(dataset: LegacyDataset) -> str:
    return reverse("admin:datasets_legacydataset_change", args=[dataset.pk])


def step_url(step: str, dataset: LegacyDataset) -> str:
    return reverse(f"admin:dataset_{step}", args=[dataset.pk])


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def act(client, action: str, *datasets: LegacyDataset):
    changelist = reverse("admin:datasets_legacydataset_changelist")
    data = {"action": action, "_selected_action": [dataset.pk for dataset in datasets]}
    return client.post(changelist, data)


@pytest.fixture
def budget() -> LegacyDataset:
    return converted_package("budget").dataset


# -- the dataset page -----------------------------------------------------------------------------------------------


def test_the_dataset_admin_is_the_pipeline_one():
    from django.contrib import admin

    assert isinstance(admin.site._registry[LegacyDataset], PipelineDatasetAdmin)  # lint-imports keeps datasets below


def test_a_migration_admin_converts_from_the_dataset_page(client, migration_admin, proposed, curator):
    approve_everything(proposed, curator)
    client.force_login(migration_admin)
    page = client.get(page_of(proposed)).content.decode()
    assert 'value="Convert"' in page and 'value="Publish"' in page
    assert reverse("admin:conversion_dataset_review", args=[proposed.pk]) in page

    response = client.post(step_url("convert", proposed), follow=True)

    run = ConversionRun.objects.get(dataset=proposed)
    assert run.status == ConversionRun.Status.SUCCEEDED, run.error
    assert run.requested_by == migration_admin
    link = reverse("admin:conversion_conversionrun_change", args=[run.pk])
    assert texts(response) == [f'<a href="{link}">conversion run {run.pk}: succeeded</a>']
    assert link in response.content.decode(), "the page links to its latest conversion"


def test_a_migration_admin_publishes_then_withdraws_from_the_dataset_page(client, migration_admin, budget):
    client.force_login(migration_admin)
    response = client.post(step_url("publish", budget), follow=True)

    run = PublicationRun.objects.get()
    assert run.status == Status.SUCCEEDED, run.error
    link = reverse("admin:publishing_publicationrun_change", args=[run.pk])
    assert texts(response) == [f'<a href="{link}">publication run {run.pk} (publish): succeeded</a>']
    page = response.content.decode()
    assert "Published at" in page and "/packages/berlin/budget/" in page and 'value="Withdraw"' in page

    response = client.post(step_url("withdraw", budget), {"reason": "a duplicate of another dataset"}, follow=True)

    withdrawal = PublicationRun.objects.get(action=PublicationRun.Action.WITHDRAW)
    assert withdrawal.reason == "a duplicate of another dataset"
    assert PublishedPackage.objects.get().withdrawn_at is not None
    assert "Not published." in response.content.decode()


def test_the_page_says_why_a_dataset_is_not_ready(client, migration_admin, budget):
    DatasetDecision.objects.create(dataset=budget, decision=DatasetDecision.Choice.MIGRATE_PRIVATE)
    client.force_login(migration_admin)
    page = client.get(page_of(budget)).content.decode()
    assert "Not ready to publish: may not be public: a migration admin decided to keep it private." in page

    response = client.post(step_url("publish", budget), follow=True)

    assert texts(response) == ["budget may not be public: a migration admin decided to keep it private"]
    assert not PublicationRun.objects.exists()


def test_the_buttons_are_posts_that_check_permissions(client, curator, budget):
    client.force_login(curator)
    page = client.get(page_of(budget)).content.decode()
    assert 'value="Convert"' in page and 'value="Publish"' not in page, "a curator converts but does not publish"
    assert client.get(step_url("publish", budget)).status_code == 405
    assert client.post(step_url("publish", budget)).status_code == 403
    assert client.post(step_url("withdraw", budget)).status_code == 403
    assert not PublicationRun.objects.exists()


def test_a_user_granted_only_the_publish_permission_publishes_outside_any_group(client, budget):
    publisher = user_with("pia", PUBLISH, "datasets.view_legacydataset")
    client.force_login(publisher)
    assert client.post(step_url("convert", budget)).status_code == 403
    assert client.post(step_url("publish", budget)).status_code == 302
    assert PublicationRun.objects.get().status == Status.SUCCEEDED


def test_anonymous_posts_go_to_the_login(client, budget):
    response = client.post(step_url("publish", budget))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# -- the list actions -----------------------------------------------------------------------------------------------


def test_the_publish_action_reports_refusals_row_by_row_and_one_count(client, migration_admin, budget):
    mismatched = converted_package("spending").dataset
    ConversionRun.objects.filter(dataset=mismatched).update(reconciliation_status=ConversionRun.Reconciliation.MISMATCH)
    never = LegacyDataset.objects.create(name="unconverted")
    client.force_login(migration_admin)

    response = act(client, "publish", budget, mismatched, never)

    assert response.status_code == 302
    run = ConversionRun.objects.get(dataset=mismatched)
    assert texts(response) == [
        f"spending: spending is not ready: conversion run {run.pk} does not match the legacy cube and no migration"
        " admin accepted why",
        "unconverted: unconverted is not ready: no conversion has succeeded yet",
        "3 publication(s) asked for: 2 refused, 1 succeeded.",
    ]
    assert PublishedPackage.objects.get().dataset == budget


def test_the_withdraw_action_withdraws_what_is_out_and_says_what_is_not(client, migration_admin, budget):
    publication_request(dataset=budget)
    other = converted_package("spending").dataset
    client.force_login(migration_admin)

    response = act(client, "withdraw", budget, other)

    assert texts(response) == ["spending: nothing is published", "2 withdrawal(s) asked for: 1 refused, 1 succeeded."]
    assert PublishedPackage.objects.get().withdrawn_at is not None


def test_a_curator_gets_the_convert_action_only(client, curator, budget):
    client.force_login(curator)
    page = client.get(reverse("admin:datasets_legacydataset_changelist")).content.decode()
    assert 'value="convert"' in page and 'value="publish"' not in page and 'value="withdraw"' not in page
    act(client, "publish", budget)
    assert not PublicationRun.objects.exists()


# -- publication runs and packages ----------------------------------------------------------------------------------


def failed_run(dataset: LegacyDataset) -> PublicationRun:
    run = PublicationRun.objects.create(
        dataset=dataset,
        conversion_run=ConversionRun.objects.get(dataset=dataset),
        owner="berlin",
        name=dataset.name,
        status=Status.FAILED,
        error="berlin/budget holds an uploaded package; choose another owner or name",
    )
    run.append_log("claimed")
    run.save()
    return run


def test_a_failed_publication_shows_its_error_and_log_with_links(client, curator, budget):
    run = failed_run(budget)
    client.force_login(curator)

    listing = client.get(reverse("admin:publishing_publicationrun_changelist"), {"status__exact": "failed"})
    assert "holds an uploaded package" in listing.content.decode()

    page = client.get(reverse("admin:publishing_publicationrun_change", args=[run.pk])).content.decode()
    assert "holds an uploaded package" in page and "claimed" in page
    assert page_of(budget) in page
    assert reverse("admin:conversion_conversionrun_change", args=[run.conversion_run_id]) in page
    assert 'name="_save"' not in page, "read-only"


def test_the_package_page_links_to_its_public_page_dataset_and_conversion(client, curator, budget):
    publication_request(dataset=budget)
    package = PublishedPackage.objects.get()
    client.force_login(curator)

    page = client.get(reverse("admin:publishing_publishedpackage_change", args=[package.pk])).content.decode()

    assert "/packages/berlin/budget/" in page and page_of(budget) in page
    assert reverse("admin:conversion_conversionrun_change", args=[package.run_id]) in page
    listing = client.get(reverse("admin:publishing_publicationrun_changelist"), {"owner": "berlin", "name": "budget"})
    assert listing.status_code == 200 and "berlin/budget" in listing.content.decode()


def test_the_changelists_cost_the_same_whatever_the_number_of_rows(client, migration_admin, django_assert_num_queries):
    for name in ("a-budget", "b-budget"):
        publication_request(dataset=converted_package(name).dataset)
    client.force_login(migration_admin)
    for page in ("publicationrun", "publishedpackage"):
        with django_assert_num_queries(QUERIES[page]):
            assert client.get(reverse(f"admin:publishing_{page}_changelist")).status_code == 200
    for name in ("c-budget", "d-budget", "e-budget"):
        publication_request(dataset=converted_package(name).dataset)
    for page in ("publicationrun", "publishedpackage"):
        with django_assert_num_queries(QUERIES[page]):
            client.get(reverse(f"admin:publishing_{page}_changelist"))


# Session, user, the user's two permission lists, two counts, the rows, the date hierarchy's two; none per row (the
# packages' filters list their categories and countries: two more).
QUERIES = {"publicationrun": 9, "publishedpackage": 11}


def test_curators_see_the_runs_and_packages_but_outsiders_do_not(client, curator, budget):
    outsider = make_user("olga")
    client.force_login(outsider)
    assert client.get(reverse("admin:publishing_publicationrun_changelist")).status_code == 403
    client.force_login(curator)
    assert client.get(reverse("admin:publishing_publicationrun_changelist")).status_code == 200
    assert client.get(reverse("admin:publishing_publishedpackage_changelist")).status_code == 200


def test_with_workers_the_buttons_queue_the_job_on_commit(
    client, migration_admin, budget, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # never reached: the enqueue is captured below
    enqueued = []
    monkeypatch.setattr("migration_site.lib.queue._enqueue", lambda *args: enqueued.append(args))
    client.force_login(migration_admin)

    with django_capture_on_commit_callbacks(execute=True):
        response = act(client, "publish", budget)

    run = PublicationRun.objects.get()
    assert run.status == Status.QUEUED and [job[1:3] for job in enqueued] == [
        ("publishing.jobs.publication_job", (run.pk,))
    ]
    assert texts(response) == ["1 publication(s) asked for: 1 queued."]
