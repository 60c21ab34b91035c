"""Conversion runs: a package built from the approved mapping, validated, reconciled, stored; faults handled."""

import json
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from conversion import runs
from conversion.models import ConversionRun, DimensionMapping
from conversion.review import services
from datasets.models import LegacyDataset
from tests.factories import mapping

pytestmark = pytest.mark.django_db
Status = ConversionRun.Status


def approve_everything(dataset, reviewer):
    for item in DimensionMapping.objects.filter(dataset=dataset).open():
        services.mapping_approve(mapping=item, reviewer=reviewer)


@pytest.fixture
def approved(proposed, curator):
    approve_everything(proposed, curator)
    return proposed


def convert(*names, sync=True):
    out = StringIO()
    call_command("convert", *names, *(["--sync"] if sync else []), stdout=out)
    return out.getvalue()


def latest(dataset):
    return ConversionRun.objects.filter(dataset=dataset).first()


def test_a_reviewed_dataset_becomes_a_valid_package_that_matches_the_cube(approved):
    output = convert("lindenau-haushalt")
    run = latest(approved)
    assert run.status == Status.SUCCEEDED, run.error
    assert run.valid, run.validation
    assert run.reconciliation_status == ConversionRun.Reconciliation.MATCH, run.reconciliation
    assert run.rows_written == approved.entry_count == 24
    assert run.publishable
    assert "lindenau-haushalt: built from sources, 24 rows" in output
    descriptor = json.loads(default_storage.open(f"{run.package_path}/datapackage.json").read())
    fields = descriptor["resources"][0]["schema"]["fields"]
    assert all(field.get("columnType") for field in fields)
    assert descriptor["model"]["measures"]["amount"]["currency"] == "EUR"
    assert descriptor["author"].endswith("(kmueller)") or descriptor["author"] == "kmueller"
    data_path = f"{run.package_path}/{descriptor['resources'][0]['path']}"
    assert default_storage.exists(data_path)


def test_a_conversion_stores_its_package_in_the_working_storage_only(approved, settings):
    """Every conversion's output, a private dataset's too, stays out of the public storage until it is published."""
    convert("lindenau-haushalt")
    run = latest(approved)
    working = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    public = Path(settings.STORAGES["public"]["OPTIONS"]["location"])
    assert (working / run.package_path / "datapackage.json").is_file()
    assert not public.exists() or not any(path.is_file() for path in public.rglob("*"))


def test_the_same_inputs_give_a_byte_identical_package(approved):
    convert("lindenau-haushalt")
    first = latest(approved)
    convert("lindenau-haushalt")
    second = latest(approved)
    assert first.pk != second.pk
    for name in ("datapackage.json", "data/lindenau-haushalt.csv"):
        assert (
            default_storage.open(f"{first.package_path}/{name}").read()
            == default_storage.open(f"{second.package_path}/{name}").read()
        ), name


def test_datasets_that_cannot_be_converted_say_why(proposed):
    DimensionMapping.objects.filter(dataset__name="riverton-draft-budget-2015").delete()  # nothing proposed yet
    output = convert("lindenau-haushalt", "riverton-draft-budget-2015")
    assert "lindenau-haushalt: not convertible" in output and "wait for a curator" in output
    assert "riverton-draft-budget-2015: not convertible: " in output and "no mapping" in output
    assert not ConversionRun.objects.exists()


def test_all_approved_takes_only_fully_reviewed_datasets(approved):
    output = convert("--all-approved")
    assert "lindenau-haushalt" in output
    assert ConversionRun.objects.values_list("dataset__name", flat=True).distinct().count() == 1


def test_a_mismatch_blocks_publication_until_an_admin_accepts_it(approved, curator, migration_admin):
    aggregates = approved.aggregates
    aggregates["measures"]["amount"]["total"] += 1000
    LegacyDataset.objects.filter(pk=approved.pk).update(aggregates=aggregates)
    convert("lindenau-haushalt")
    run = latest(approved)
    assert run.reconciliation_status == ConversionRun.Reconciliation.MISMATCH
    assert not run.publishable
    assert any(d["measure"] == "amount" for d in run.reconciliation["differences"])
    with pytest.raises(PermissionDenied):
        runs.reconciliation_accept(run=run, admin=curator, reason="fine")
    with pytest.raises(ValidationError):
        runs.reconciliation_accept(run=run, admin=migration_admin, reason="")
    runs.reconciliation_accept(run=run, admin=migration_admin, reason="the legacy total double-counted a row")
    run.refresh_from_db()
    assert run.publishable and run.accepted_by == migration_admin


class FlakyStorage:
    """The real storage, but the first save fails the way a dropped connection does."""

    def __init__(self, storage):
        self.storage = storage
        self.failures = 1

    def save(self, name, content, max_length=None):
        if self.failures:
            self.failures -= 1
            raise OSError("connection reset by peer")
        return self.storage.save(name, content, max_length=max_length)


def test_a_transient_storage_error_is_retried(approved, settings, monkeypatch):
    settings.CONVERSION_RETRY_BACKOFF = 0
    monkeypatch.setattr("conversion.runs.default_storage", FlakyStorage(default_storage))
    convert("lindenau-haushalt")
    run = latest(approved)
    assert run.status == Status.SUCCEEDED
    assert run.attempts == 2
    assert "connection reset by peer" in run.log


def test_a_data_error_fails_the_run_with_the_reason_and_keeps_the_last_package(approved, monkeypatch):
    convert("lindenau-haushalt")
    good = latest(approved)

    def broken(*args, **kwargs):
        raise ValueError("the archived file is unreadable")

    monkeypatch.setattr("conversion.runs.build_package", broken)
    with pytest.raises(CommandError, match=r"^1 of 1 dataset failed \(see above\)$") as failure:
        convert("lindenau-haushalt")
    assert failure.value.returncode == 2, "the run went through: exit status 2, some datasets failed"
    failed = latest(approved)
    assert failed.status == Status.FAILED and "unreadable" in failed.error
    assert ConversionRun.objects.filter(dataset=approved).succeeded().first() == good


def test_a_stale_running_run_is_replaced(approved, settings):
    stale = ConversionRun.objects.create(
        dataset=approved, status=Status.RUNNING, started_at=timezone.now() - timedelta(hours=1),
        heartbeat_at=timezone.now() - timedelta(seconds=settings.CONVERSION_HEARTBEAT_TIMEOUT + 5),
    )  # fmt: skip
    convert("lindenau-haushalt")
    stale.refresh_from_db()
    assert stale.status == Status.FAILED and "stopped before finishing" in stale.error
    assert latest(approved).status == Status.SUCCEEDED


def test_a_live_running_run_is_not_duplicated(approved):
    live = ConversionRun.objects.create(
        dataset=approved, status=Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    assert runs.conversion_request(dataset=approved) == live
    assert ConversionRun.objects.count() == 1


def test_running_a_job_twice_does_nothing_the_second_time(approved):
    convert("lindenau-haushalt")
    run = latest(approved)
    runs.conversion_execute(run_id=run.pk)
    assert ConversionRun.objects.get(pk=run.pk).finished_at == run.finished_at


def test_migration_status_json_gains_the_conversion_columns(approved):
    convert("lindenau-haushalt")
    out = StringIO()
    call_command("migration_status", "--json", stdout=out)
    row = next(row for row in json.loads(out.getvalue()) if row["name"] == "lindenau-haushalt")
    assert row["conversion_status"] == "succeeded"
    assert row["rows"] == 24
    assert row["reconciliation"] == "match"
    assert row["package_path"].startswith("packages/lindenau-haushalt/runs/")
    assert mapping(approved, "amount").status == DimensionMapping.Status.APPROVED
