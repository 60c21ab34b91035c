"""Background jobs: django-rq when REDIS_URL is set, inline otherwise. Jobs are enqueued only once the transaction
that created their run commits, so a worker never looks for a row that is not there yet."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import transaction


def has_workers() -> bool:
    """Jobs go to rq workers when Redis is configured; embedded mode runs them inline."""
    return bool(settings.REDIS_URL)


def dispatch(queue_name: str, function: str, run: Any, *, sync: bool, job_timeout: int) -> bool:
    """Enqueue `function(run.pk)` once the transaction commits, unless `sync` or embedded mode: then True, and the
    caller runs the job itself once its transaction is over (the run row must exist for the job to claim it).
    rq stops the job after `job_timeout` seconds: each queue has its own (settings.py)."""
    inline = sync or not has_workers()
    if not inline:
        enqueue_on_commit(queue_name, function, run.pk, run=run, job_timeout=job_timeout)
    return inline


def enqueue_on_commit(queue_name: str, function: str, *args: Any, run: Any, job_timeout: int) -> None:
    """Put `function(*args)` on the named rq queue once the current transaction commits.

    `run` is the row tracking the job: it gets the job id before the job exists, so a later look can find it.
    """
    run.job_id = uuid.uuid4().hex
    run.save(update_fields=["job_id"])
    transaction.on_commit(lambda: _enqueue(queue_name, function, args, run.job_id, job_timeout))


def _enqueue(queue_name: str, function: str, args: tuple[Any, ...], job_id: str, job_timeout: int) -> None:
    import django_rq

    django_rq.get_queue(queue_name).enqueue(
        function, *args, job_id=job_id, job_timeout=job_timeout, failure_ttl=7 * 24 * 3600
    )


def job_is_dead(queue_name: str, job_id: str) -> bool:
    """Whether rq says the job failed, stopped or vanished (a killed work-horse's job is marked failed). Asked on
    the job's own queue's connection: queues may live on different Redis servers."""
    if not settings.REDIS_URL:
        return False
    import django_rq
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        job = Job.fetch(job_id, connection=django_rq.get_connection(queue_name))
    except NoSuchJobError:
        return True
    return job.get_status(refresh=True) in {JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}
