"""`migrate_legacy`: one dataset that cannot be exported does not stop the migration of the others."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from datasets.models import LegacyDataset
from datasets.sample_legacy.server import ADMIN_API_KEY, SampleLegacyServer
from tests.conftest import SAMPLE_DATASETS

pytestmark = pytest.mark.django_db


def test_a_dataset_that_fails_to_export_is_reported_and_the_migration_goes_on(tmp_path, settings):
    settings.LEGACY_RETRIES = 0
    out = StringIO()
    with SampleLegacyServer() as legacy:
        legacy.add_fault(r"^/northfield-spending-2014\.json$", "status", times=10, status=500)
        call_command(
            "migrate_legacy", "--url", legacy.base_url, "--to", str(tmp_path), "--api-key", ADMIN_API_KEY,
            "--allow-private-addresses", "--auto-approve-confident", stdout=out,
        )  # fmt: skip
    output = out.getvalue()
    assert "northfield-spending-2014: FAILED" in output
    assert f"export_legacy: 1 of {len(SAMPLE_DATASETS)} datasets failed" in output
    assert "Summary" in output
    assert LegacyDataset.objects.count() == len(SAMPLE_DATASETS) - 1
    assert not LegacyDataset.objects.filter(name="northfield-spending-2014").exists()


def test_an_instance_that_cannot_be_listed_stops_the_migration(tmp_path, settings):
    settings.LEGACY_RETRIES = 0
    with SampleLegacyServer() as legacy:
        legacy.add_fault(r"^/datasets\.json$", "status", times=10, status=500)
        with pytest.raises(CommandError, match="cannot list datasets"):
            call_command(
                "migrate_legacy", "--url", legacy.base_url, "--to", str(tmp_path), "--allow-private-addresses",
                stdout=StringIO(),
            )  # fmt: skip
    assert not LegacyDataset.objects.exists()
