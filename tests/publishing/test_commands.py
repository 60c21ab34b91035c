"""The `publish` command's arguments and summaries, its jobs on the `publishing` queue, and migration_status."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from conversion import runs
from conversion.models import ConversionRun
from datasets.models import LegacyDataset
from publishing.jobs import publication_job
from publishing.models import PublicationRun, PublishedPackage
from tests.publishing.conftest import PUBLIC, keys, publish, publish_failing

pytestmark = pytest.mark.django_db
Status = PublicationRun.Status


def test_all_ready_publishes_every_public_converted_dataset_with_one_line_each(converted, s3_storage):
    output = publish("--all-ready")

    lines = output.splitlines()
    count = len(PUBLIC)
    assert [line.split(": ")[0] for line in lines[:count]] == [
        f"[{n}/{count}] {name}" for n, name in enumerate(PUBLIC, 1)
    ]
    assert lines[0].startswith(f"[1/{count}] lagoon-district-expenditure: published at openspending/lagoon-district-")
    assert "northfield-spending-2014: published at pwright/northfield-spending-2014 (18 rows, " in output
    assert lines[-1] == f"{count} datasets: {count} published; 3 skipped"
    assert keys(s3_storage, "openspending/lagoon-district-expenditure/")


def test_a_dataset_that_is_not_ready_says_why(converted, s3_storage, migration_admin):
    lindenau = converted["lindenau-haushalt"]
    ConversionRun.objects.filter(dataset=lindenau).update(reconciliation_status=ConversionRun.Reconciliation.MISMATCH)
    run = ConversionRun.objects.get(dataset=lindenau)

    output = publish("lindenau-haushalt", "wdmmg-regional-2009")

    assert output.splitlines()[0] == (
        f"[1/2] lindenau-haushalt: not published: lindenau-haushalt is not ready: conversion run {run.pk} does not"
        " match the legacy cube and no migration admin accepted why"
    )
    assert output.splitlines()[-1] == "2 datasets: 1 published, 1 refused"
    assert "lindenau-haushalt: published" not in publish("--all-ready")

    runs.reconciliation_accept(run=run, admin=migration_admin, reason="the legacy total double-counted a row")
    assert "lindenau-haushalt: published at kmueller/lindenau-haushalt" in publish("--all-ready")


def test_arguments_are_checked(db):
    with pytest.raises(CommandError, match="name datasets, or pass --all-ready"):
        publish()
    with pytest.raises(CommandError, match="no such dataset: nowhere"):
        publish("nowhere")


def test_with_workers_a_run_is_queued_on_commit_and_the_job_publishes_it(
    converted, s3_storage, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # never reached: the enqueue is captured below
    enqueued = []
    monkeypatch.setattr("migration_site.lib.queue._enqueue", lambda *args: enqueued.append(args))
    monkeypatch.setattr("migration_site.lib.queue.job_is_dead", lambda queue_name, job_id: False)

    with django_capture_on_commit_callbacks(execute=True):
        output = publish("lindenau-haushalt", sync=False)

    run = PublicationRun.objects.get()
    assert output.splitlines() == [
        f"[1/1] lindenau-haushalt: publish run {run.pk} queued on the workers",
        "1 dataset: 1 queued",
    ]
    timeout = settings.PUBLICATION_JOB_TIMEOUT
    assert enqueued == [("publishing", "publishing.jobs.publication_job", (run.pk,), run.job_id, timeout)]
    assert publish("lindenau-haushalt", sync=False).startswith(f"[1/1] lindenau-haushalt: publish run {run.pk} queued")
    assert keys(s3_storage, "kmueller/") == []

    publication_job(run.pk)

    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED, run.error
    assert "kmueller/lindenau-haushalt/datapackage.json" in keys(s3_storage, "kmueller/")


def test_migration_status_json_gains_the_publication_columns(converted, s3_storage, settings, migration_admin):
    from conversion.review.services import dataset_decide

    settings.MIGRATION_STATUS_EXTENSIONS = [*settings.MIGRATION_STATUS_EXTENSIONS, "publishing.status.extend_status"]
    settings.PUBLIC_BASE_URL = "https://openspending.example.org"
    publish("--all-ready")
    dataset_decide(
        dataset=converted["northfield-spending-2014"], decision="exclude", admin=migration_admin, reason="test"
    )
    PublishedPackage.objects.filter(name="wdmmg-regional-2009").update(withdrawn_at="2026-01-01T00:00:00Z")

    out = StringIO()
    call_command("migration_status", "--json", stdout=out)

    rows = {row["name"]: row for row in json.loads(out.getvalue())}
    assert {name: row["publication_status"] for name, row in rows.items()} == {
        "hafnarvik-utgjold-2013": "not_public",
        "kestrel-bay-budget-2016": "not_public",
        "lagoon-district-expenditure": "published",
        "lindenau-haushalt": "published",
        "northfield-spending-2014": "to_withdraw",
        "riverton-draft-budget-2015": "not_public",
        "saltmarsh-capital-programme": "published",
        "wdmmg-regional-2009": "to_withdraw",
    }
    assert rows["lindenau-haushalt"]["package_url"] == (
        "https://openspending.example.org/packages/kmueller/lindenau-haushalt/"
    )
    assert rows["northfield-spending-2014"]["package_url"] is None
    assert LegacyDataset.objects.count() == len(rows)


def test_a_failed_publication_exits_2_after_the_other_datasets_are_published(converted, s3_storage, s3_faults):
    s3_faults.fail(lambda key: key.startswith("kmueller/lindenau-haushalt/"))

    output, error = publish_failing("lindenau-haushalt", "wdmmg-regional-2009")

    lines = output.splitlines()
    assert lines[0].startswith("[1/2] lindenau-haushalt: failed: ")
    assert lines[1].startswith("[2/2] wdmmg-regional-2009: published at ")
    assert lines[2] == "2 datasets: 1 failed, 1 published"
    assert (str(error), error.returncode) == ("1 of 2 datasets failed (see above)", 2)
    assert PublishedPackage.objects.published().get().name == "wdmmg-regional-2009"


def test_nothing_to_publish_says_so_in_one_line(db):
    assert publish("--all-ready").splitlines() == [
        "nothing to publish: no converted dataset is ready, and nothing to withdraw"
    ]
