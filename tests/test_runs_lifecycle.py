"""The one run lifecycle (migration_site/lib/runs.py) as both kinds of run live it: conversions and publications.

Publications used to have no heartbeat, a fixed hour of staleness and the conversion queue's timeout; each kind now
has its own settings, and asks rq about its jobs on its own queue.
"""

import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from conversion import runs as conversion_runs
from conversion.models import ConversionRun
from datasets.models import LegacyDataset
from migration_site.lib import queue
from migration_site.lib.runs import staleness, this_process
from publishing import runs as publication_runs
from publishing.jobs import publication_job
from publishing.models import PublicationRun

Status = PublicationRun.Status


@pytest.fixture
def on_workers(settings, monkeypatch):
    """Jobs go to the workers (a Redis URL is set) but are only recorded; rq says every job is alive."""
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # never reached
    enqueued = []
    monkeypatch.setattr("migration_site.lib.queue._enqueue", lambda *args: enqueued.append(args))
    monkeypatch.setattr("migration_site.lib.queue.job_is_dead", lambda queue_name, job_id: False)
    return enqueued


@pytest.fixture
def ready(db):
    """A dataset whose latest conversion may be published."""
    dataset = LegacyDataset.objects.create(name="lindenau-haushalt")
    ConversionRun.objects.create(
        dataset=dataset,
        status=ConversionRun.Status.SUCCEEDED,
        valid=True,
        reconciliation_status=ConversionRun.Reconciliation.MATCH,
        package_path="packages/lindenau-haushalt/runs/1",
    )
    return dataset


def ago(seconds):
    return timezone.now() - timedelta(seconds=seconds)


def request(dataset, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return publication_runs.publication_request(dataset=dataset)


# -- heartbeat ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the heartbeat thread has a connection of its own: it must see the run
def test_a_publication_run_gets_a_heartbeat_while_its_job_works(settings, monkeypatch):
    settings.CONVERSION_HEARTBEAT_SECONDS = 0.05
    run = PublicationRun.objects.create(action=PublicationRun.Action.WITHDRAW, owner="alice", name="budget")
    seen: dict[str, Any] = {}

    def slow_work(run):
        claimed = PublicationRun.objects.get(pk=run.pk)
        seen["claimed"] = claimed
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            beat = PublicationRun.objects.get(pk=run.pk).heartbeat_at
            assert beat is not None and claimed.heartbeat_at is not None
            if beat > claimed.heartbeat_at:
                seen["beat"] = beat
                break
            time.sleep(0.02)
        return Status.UNCHANGED

    monkeypatch.setattr("publishing.runs._work", slow_work)
    publication_job(run.pk)

    claimed = seen["claimed"]
    assert claimed.status == Status.RUNNING and claimed.attempts == 1
    assert claimed.worker == this_process() and claimed.heartbeat_at == claimed.started_at
    assert "beat" in seen, "the heartbeat thread stamped the running publication"
    run.refresh_from_db()
    assert run.status == Status.UNCHANGED and run.finished_at is not None


# -- staleness: each kind by its own settings -----------------------------------------------------------------------


def test_a_queued_publication_run_is_replaced_after_publication_stale_after(
    ready, on_workers, settings, django_capture_on_commit_callbacks
):
    settings.PUBLICATION_STALE_AFTER = 60
    settings.CONVERSION_STALE_AFTER = 10**6  # not the conversions' setting
    first = request(ready, django_capture_on_commit_callbacks)
    assert first.status == Status.QUEUED

    PublicationRun.objects.filter(pk=first.pk).update(queued_at=ago(50))
    assert request(ready, django_capture_on_commit_callbacks) == first, "still within PUBLICATION_STALE_AFTER"

    PublicationRun.objects.filter(pk=first.pk).update(queued_at=ago(70))
    second = request(ready, django_capture_on_commit_callbacks)
    assert second != first and second.status == Status.QUEUED
    first.refresh_from_db()
    assert first.status == Status.FAILED and first.error.startswith("no worker took it in 7")
    assert "a new run was started" in first.error and "failed: no worker took it" in first.log


def test_a_running_publication_run_silent_past_its_heartbeat_timeout_is_replaced(
    ready, on_workers, settings, django_capture_on_commit_callbacks
):
    settings.PUBLICATION_HEARTBEAT_TIMEOUT = 30
    settings.CONVERSION_HEARTBEAT_TIMEOUT = 10**6  # not the conversions' setting
    first = request(ready, django_capture_on_commit_callbacks)
    # a long publication that still beats is alive, however long ago it started (it used to be stale after an hour)
    PublicationRun.objects.filter(pk=first.pk).update(status=Status.RUNNING, started_at=ago(7200), heartbeat_at=ago(20))
    assert request(ready, django_capture_on_commit_callbacks) == first

    PublicationRun.objects.filter(pk=first.pk).update(heartbeat_at=ago(40))
    second = request(ready, django_capture_on_commit_callbacks)
    assert second != first
    first.refresh_from_db()
    assert first.status == Status.FAILED and "stopped before finishing" in first.error


def test_a_conversion_run_keeps_its_own_settings(ready, settings):
    settings.PUBLICATION_HEARTBEAT_TIMEOUT = 1
    settings.CONVERSION_HEARTBEAT_TIMEOUT = 60
    run = ConversionRun.objects.create(dataset=ready, status=ConversionRun.Status.RUNNING, heartbeat_at=ago(30))
    assert staleness(conversion_runs.KIND, run) == ""
    run.heartbeat_at = ago(90)
    assert "silent for 9" in staleness(conversion_runs.KIND, run)


# -- rq: each kind on its own queue ---------------------------------------------------------------------------------


def test_staleness_asks_rq_about_the_job_on_the_runs_own_queue(ready, settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    asked = []

    def job_is_dead(queue_name, job_id):
        asked.append((queue_name, job_id))
        return True

    monkeypatch.setattr("migration_site.lib.queue.job_is_dead", job_is_dead)
    publication = PublicationRun.objects.create(dataset=ready, job_id="p1")
    conversion = ConversionRun.objects.create(dataset=ready, job_id="c1")

    assert "rq" in staleness(publication_runs.KIND, publication)
    assert "rq" in staleness(conversion_runs.KIND, conversion)
    assert asked == [("publishing", "p1"), ("conversion", "c1")]


def test_job_is_dead_fetches_the_job_through_its_queues_connection(settings, monkeypatch):
    import django_rq
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    connections = []

    def get_connection(name):
        connections.append(name)
        return f"redis of {name}"

    monkeypatch.setattr(django_rq, "get_connection", get_connection)

    def fetch(job_id, connection):
        assert connection == "redis of publishing"
        raise NoSuchJobError(job_id)

    monkeypatch.setattr(Job, "fetch", fetch)
    assert queue.job_is_dead("publishing", "gone")
    assert connections == ["publishing"]


def test_each_queue_enqueues_with_its_own_job_timeout(ready, on_workers, settings, django_capture_on_commit_callbacks):
    settings.PUBLICATION_JOB_TIMEOUT = 123
    settings.CONVERSION_JOB_TIMEOUT = 456
    run = request(ready, django_capture_on_commit_callbacks)
    assert on_workers == [("publishing", "publishing.jobs.publication_job", (run.pk,), run.job_id, 123)]


# -- the latest run of each dataset ---------------------------------------------------------------------------------


def test_latest_per_dataset_is_one_query_that_leaves_the_logs_unloaded(db, django_assert_num_queries):
    first, second, never = (LegacyDataset.objects.create(name=name) for name in ("first", "second", "never"))
    Succeeded, Failed = ConversionRun.Status.SUCCEEDED, ConversionRun.Status.FAILED
    old = ConversionRun.objects.create(dataset=first, status=Succeeded, queued_at=ago(300), log="x" * 10_000)
    same_time = ago(100)
    middle = ConversionRun.objects.create(dataset=first, status=Succeeded, queued_at=same_time)
    newest = ConversionRun.objects.create(dataset=first, status=Failed, queued_at=same_time)  # a later id breaks ties
    only = ConversionRun.objects.create(dataset=second, status=Succeeded, queued_at=ago(500))

    with django_assert_num_queries(1):
        latest = {run.dataset_id: run for run in ConversionRun.objects.latest_per_dataset()}
        assert {pk: run.status for pk, run in latest.items()} == {first.pk: Failed, second.pk: Succeeded}
    assert latest[first.pk] == newest and latest[second.pk] == only and never.pk not in latest
    assert {"log", "report", "validation", "reconciliation"} <= latest[first.pk].get_deferred_fields()

    succeeded = {run.dataset_id: run.pk for run in ConversionRun.objects.succeeded().latest_per_dataset()}
    assert succeeded == {first.pk: middle.pk, second.pk: only.pk}, "the latest of the succeeded runs"
    assert old.pk not in succeeded.values()


def test_latest_publication_run_per_dataset_leaves_out_uploads(db):
    dataset = LegacyDataset.objects.create(name="first")
    PublicationRun.objects.create(dataset=dataset, queued_at=ago(60))
    latest = PublicationRun.objects.create(dataset=dataset, queued_at=ago(30))
    PublicationRun.objects.create(owner="alice", name="upload")  # publish_osdp: no dataset

    runs = list(PublicationRun.objects.latest_per_dataset())
    assert runs == [latest] and "log" in runs[0].get_deferred_fields()
