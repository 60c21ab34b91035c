"""`migrate_legacy` ends with the migration admins' to-do: decisions with their reasons, mismatches to accept, and
datasets that cannot be converted, each with the admin page to act on."""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from datasets.models import LegacyDataset
from datasets.sample_legacy.server import ADMIN_API_KEY, SampleLegacyServer

pytestmark = pytest.mark.django_db


def test_migrate_legacy_prints_what_waits_for_the_migration_admins(tmp_path):
    out = StringIO()
    with SampleLegacyServer() as legacy:
        call_command(
            "migrate_legacy", "--url", legacy.base_url, "--to", str(tmp_path), "--api-key", ADMIN_API_KEY,
            "--allow-private-addresses", "--auto-approve-confident", stdout=out,
        )  # fmt: skip
    output = out.getvalue()
    todo = output[output.index("To do for the migration admins") :]
    private = LegacyDataset.objects.get(name="hafnarvik-utgjold-2013")
    no_model = LegacyDataset.objects.get(name="riverton-draft-budget-2015")

    review = settings.PUBLIC_BASE_URL + reverse("admin:conversion_dataset_review", args=[private.pk])
    assert "- hafnarvik-utgjold-2013: private on the legacy platform" in todo
    assert review in todo
    assert "- riverton-draft-budget-2015: incomplete (no model" in todo
    assert reverse("admin:conversion_dataset_review", args=[no_model.pk]) in todo
    assert "- kestrel-bay-budget-2016: no data:" in todo
    curators = output[output.index("Summary") : output.index("To do for the migration admins")]
    assert "kestrel-bay-budget-2016" not in curators, "a dataset without data waits for no curator"
    assert "wdmmg-regional-2009" in curators  # its ambiguous mappings do wait for one
