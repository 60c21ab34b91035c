"""The migration dashboard: counts per stage, each a link to a list of exactly those datasets, and who sees it."""

import pytest
from django.urls import reverse

from conversion.models import ConversionRun, DatasetDecision
from datasets.models import LegacyDataset
from publishing import todo
from tests.factories import make_user
from tests.sample import PUBLISHED, SampleSnapshots

pytestmark = pytest.mark.django_db

PRIVATE = "hafnarvik-utgjold-2013"
NO_MODEL = "riverton-draft-budget-2015"
NO_DATA = "kestrel-bay-budget-2016"


@pytest.fixture
def published(curator, sample_snapshots: SampleSnapshots) -> dict[str, LegacyDataset]:
    """The sample converted and partly published; one run's totals then differ, another's conversion failed."""
    sample_snapshots.published.restore()
    latest = {run.dataset.name: run for run in ConversionRun.objects.latest_per_dataset().select_related("dataset")}
    ConversionRun.objects.filter(pk=latest["wdmmg-regional-2009"].pk).update(
        reconciliation_status=ConversionRun.Reconciliation.MISMATCH
    )
    ConversionRun.objects.filter(pk=latest["saltmarsh-capital-programme"].pk).update(status=ConversionRun.Status.FAILED)
    return {dataset.name: dataset for dataset in LegacyDataset.objects.all()}


def listed(client, stage: str) -> list[str]:
    response = client.get(todo.stage_list_url(stage))
    assert response.status_code == 200
    return sorted(dataset.name for dataset in response.context["cl"].result_list)


def test_every_count_links_to_a_list_of_exactly_that_many_datasets(client, migration_admin, published):
    client.force_login(migration_admin)
    counts = todo.stage_counts()

    for stage in todo.STAGES:
        response = client.get(todo.stage_list_url(stage.key))
        assert response.context["cl"].result_count == counts[stage.key], stage.key

    assert counts["harvested"] == len(published)
    assert counts["published"] == len(PUBLISHED)
    assert listed(client, "waiting_decision") == sorted([PRIVATE, NO_MODEL])
    assert listed(client, "not_convertible") == [NO_DATA]
    assert listed(client, "mismatch") == ["wdmmg-regional-2009"]
    assert listed(client, "failed") == ["saltmarsh-capital-programme"]
    assert NO_DATA not in listed(client, "needs_review")


def test_the_waiting_list_says_what_the_admin_must_do(client, migration_admin, published):
    client.force_login(migration_admin)

    response = client.get(todo.stage_list_url("waiting_decision"))

    messages = [str(message) for message in response.context["messages"]]
    assert any("choose to migrate publicly, migrate but keep private, or exclude" in text for text in messages)


def test_a_decided_dataset_no_longer_waits(client, migration_admin, published):
    DatasetDecision.objects.create(dataset=published[PRIVATE], decision=DatasetDecision.Choice.MIGRATE_PRIVATE)

    assert todo.stage_counts()["waiting_decision"] == 1
    assert [item.dataset for item in todo.admin_todo() if item.task.startswith("decide")] == [NO_MODEL]


def test_the_counts_take_one_query(published, django_assert_num_queries):
    with django_assert_num_queries(1):
        todo.stage_counts()


def test_the_dashboard_takes_a_bounded_number_of_queries(client, migration_admin, published, django_assert_num_queries):
    client.force_login(migration_admin)
    client.get(reverse("migration_dashboard"))  # the session and permissions cached: count the page's own work

    # session, user, permissions (user and group), stage counts, four for the to-do: however many datasets
    with django_assert_num_queries(9):
        response = client.get(reverse("migration_dashboard"))
    assert response.status_code == 200


def test_the_dashboard_shows_counts_and_the_todo_with_its_reasons(client, migration_admin, published):
    client.force_login(migration_admin)

    page = client.get(reverse("migration_dashboard")).content.decode()

    assert f'href="{todo.stage_list_url("waiting_decision")}"' in page
    assert "Waiting for a decision" in page and "Reconciliation mismatch" in page and "Not convertible" in page
    assert reverse("admin:conversion_dataset_review", args=[published[PRIVATE].pk]) in page
    assert "private on the legacy platform" in page
    assert "incomplete (no model" in page
    assert "no data:" in page


def test_the_todo_lists_a_dataset_without_data_as_no_data(published):
    items = {item.dataset: item for item in todo.admin_todo()}

    assert items[NO_DATA].why.startswith("no data")
    assert not items[NO_DATA].task.startswith("decide")
    assert items[NO_MODEL].url.endswith(reverse("admin:conversion_dataset_review", args=[published[NO_MODEL].pk]))
    assert items["wdmmg-regional-2009"].path.startswith(reverse("admin:conversion_conversionrun_changelist"))


@pytest.mark.parametrize("group", ["Curators", "Migration admins"])
def test_curators_and_migration_admins_reach_the_dashboard_from_the_admin_index(client, group):
    client.force_login(make_user("someone", group=group))

    index = client.get(reverse("admin:index")).content.decode()

    assert reverse("migration_dashboard") in index
    assert client.get(reverse("migration_dashboard")).status_code == 200


def test_staff_without_a_review_permission_neither_see_nor_open_the_dashboard(client, outsider):
    client.force_login(outsider)

    assert reverse("migration_dashboard") not in client.get(reverse("admin:index")).content.decode()
    assert client.get(reverse("migration_dashboard")).status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(client, db):
    response = client.get(reverse("migration_dashboard"))

    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
