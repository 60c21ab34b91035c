"""`publish --all-ready` lists every dataset it left out, with the first reason, after what it published."""

import pytest

from conversion.models import ConversionRun, DatasetDecision
from datasets.models import LegacyDataset
from publishing.runs import package_withdraw, publication_request
from tests.factories import converted_package
from tests.publishing.conftest import publish

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _jobs_in_the_request(settings):
    """Without Redis the admin's requests run in the request (embedded mode), whatever the environment says (CI sets
    REDIS_URL); a test that wants them queued says so itself."""
    settings.REDIS_URL = ""


def test_all_ready_says_why_it_skipped_each_other_dataset(db):
    converted_package("ready")
    converted_package("private-one")
    LegacyDataset.objects.filter(name="private-one").update(private=True)
    excluded = converted_package("excluded").dataset
    DatasetDecision.objects.create(dataset=excluded, decision=DatasetDecision.Choice.EXCLUDE)
    mismatched = converted_package("mismatched")
    ConversionRun.objects.filter(pk=mismatched.pk).update(reconciliation_status=ConversionRun.Reconciliation.MISMATCH)
    withdrawn = converted_package("withdrawn").dataset
    publication_request(dataset=withdrawn)
    package_withdraw(package=withdrawn.published_package, reason="a test")
    LegacyDataset.objects.create(name="unconverted")

    lines = publish("--all-ready").splitlines()

    assert lines[0].startswith("[1/1] ready: published at berlin/ready")
    assert lines[1:] == [
        "skipped 5 datasets (not ready):",
        "  excluded: may not be public: a migration admin excluded it from the migration",
        f"  mismatched: conversion run {mismatched.pk} does not match the legacy cube and no migration admin"
        " accepted why",
        "  private-one: may not be public: it is private on the legacy platform and no migration admin decided to"
        " publish it",
        "  unconverted: no conversion has succeeded yet",
        "  withdrawn: its package was withdrawn; `publish NAME` publishes it again",
        "1 dataset: 1 published; 5 skipped",
    ]


def test_with_nothing_ready_it_still_says_why(db):
    LegacyDataset.objects.create(name="unconverted")

    assert publish("--all-ready").splitlines() == [
        "nothing to publish: no converted dataset is ready, and nothing to withdraw",
        "skipped 1 dataset (not ready):",
        "  unconverted: no conversion has succeeded yet",
    ]


def test_named_datasets_list_no_skipped_ones(db):
    converted_package("ready")
    LegacyDataset.objects.create(name="unconverted")

    assert "skipped" not in publish("ready")
