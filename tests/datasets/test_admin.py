"""The datasets admin: list, filters, search, the change page with its inlines, the archived file."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from datasets.models import LegacyDataset, Source

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(sample_dump):
    call_command("import_legacy", str(sample_dump), stdout=StringIO())


@pytest.fixture
def staff(admin_client):
    return admin_client


def changelist(client, **params):
    return client.get(reverse("admin:datasets_legacydataset_changelist"), params)


def test_the_changelist_lists_every_dataset_with_its_state(staff, imported):
    response = changelist(staff)
    assert response.status_code == 200
    page = response.content.decode()
    for dataset in LegacyDataset.objects.all():
        assert dataset.name in page
    assert "jonina" in page
    assert "1 / 2 / 3" in page or "2 / 1 / 3" in page  # lagoon: fetched / unreachable / all


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"private__exact": "1"}, {"hafnarvik-utgjold-2013"}),
        ({"incomplete": "no_model"}, {"riverton-draft-budget-2015"}),
        ({"incomplete": "any"}, {"riverton-draft-budget-2015", "kestrel-bay-budget-2016"}),
        ({"territory": "IS"}, {"hafnarvik-utgjold-2013"}),
        ({"q": "Lindqvist"}, set()),
        ({"q": "kmueller"}, {"lindenau-haushalt"}),
    ],
)
def test_filters_and_search_narrow_the_list(staff, imported, params, expected):
    response = changelist(staff, **params)
    assert response.status_code == 200
    shown = {row.name for row in response.context["cl"].result_list}
    assert shown == expected


def test_the_problems_filter_finds_datasets_with_model_problems(staff, imported):
    response = changelist(staff, problems="any")
    shown = {row.name for row in response.context["cl"].result_list}
    assert shown == set(LegacyDataset.objects.filter(model_problem_count__gt=0).values_list("name", flat=True))
    assert "wdmmg-regional-2009" in shown


def test_the_changelist_runs_a_bounded_number_of_queries(staff, imported, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        assert changelist(staff).status_code == 200


def test_the_change_page_shows_model_problems_and_both_models(staff, imported):
    dataset = LegacyDataset.objects.get(name="wdmmg-regional-2009")
    response = staff.get(reverse("admin:datasets_legacydataset_change", args=[dataset.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "raw model (as fetched)" in page.lower() and "normalised model" in page.lower()
    for problem in dataset.model_problems:
        assert problem["path"] in page
    assert "pwright" in page
    assert "import history" in page.lower()


def test_the_archived_file_downloads_from_storage(staff, imported):
    source = Source.objects.get(dataset__name="lindenau-haushalt", legacy_id=4101)
    url = reverse("admin:datasets_source_file", args=[source.dataset_id, source.pk])
    response = staff.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == source.archived_file.open("rb").read()
    assert 'filename="lindenau-haushalt-4101.csv"' in response["Content-Disposition"]


def test_anonymous_visitors_are_sent_to_the_login(client, imported):
    source = Source.objects.get(dataset__name="lindenau-haushalt", legacy_id=4101)
    url = reverse("admin:datasets_source_file", args=[source.dataset_id, source.pk])
    assert client.get(url).status_code == 302
    assert changelist(client).status_code == 302
