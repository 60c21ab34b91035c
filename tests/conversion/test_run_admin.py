"""The conversion runs in the admin: status, reconciliation table, accept a mismatch, re-run; the dataset page."""

import pytest
from django.urls import reverse

from conversion.models import ConversionRun
from datasets.models import LegacyDataset
from tests.conversion.test_runs import approve_everything, convert, latest

pytestmark = pytest.mark.django_db


@pytest.fixture
def mismatched(proposed, curator):
    approve_everything(proposed, curator)
    aggregates = proposed.aggregates
    aggregates["measures"]["amount"]["total"] += 5
    LegacyDataset.objects.filter(pk=proposed.pk).update(aggregates=aggregates)
    convert("lindenau-haushalt")
    return latest(proposed)


def test_the_run_page_shows_the_reconciliation_table(client, curator, mismatched):
    client.force_login(curator)
    page = client.get(reverse("admin:conversion_conversionrun_change", args=[mismatched.pk])).content.decode()
    assert "differ from the legacy cube" in page
    assert "<th>difference</th>" in page and "amount" in page
    assert "Only migration admins accept a mismatch" in page


def test_a_migration_admin_accepts_the_mismatch_from_the_run_page(client, migration_admin, mismatched):
    client.force_login(migration_admin)
    url = reverse("admin:conversion_run_accept", args=[mismatched.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, {"reason": "rounding in the legacy cube"})
    assert response.status_code == 302
    mismatched.refresh_from_db()
    assert mismatched.reconciliation_status == ConversionRun.Reconciliation.ACCEPTED


def test_a_curator_cannot_accept_a_mismatch(client, curator, mismatched):
    client.force_login(curator)
    response = client.post(reverse("admin:conversion_run_accept", args=[mismatched.pk]), {"reason": "fine"})
    assert response.status_code == 403
    mismatched.refresh_from_db()
    assert mismatched.reconciliation_status == ConversionRun.Reconciliation.MISMATCH


def test_the_rerun_action_starts_a_new_run(client, curator, mismatched):
    client.force_login(curator)
    changelist = reverse("admin:conversion_conversionrun_changelist")
    response = client.post(changelist, {"action": "rerun", "_selected_action": [mismatched.pk]})
    assert response.status_code == 302
    assert ConversionRun.objects.filter(dataset=mismatched.dataset).count() == 2


def test_the_dataset_review_page_shows_the_latest_package(client, curator, mismatched):
    client.force_login(curator)
    page = client.get(reverse("admin:conversion_dataset_review", args=[mismatched.dataset_id])).content.decode()
    assert "Latest package" in page and "24 rows" in page
    assert mismatched.package_path in page
