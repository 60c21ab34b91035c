"""Runs: a database row for every background job, and the one lifecycle they all follow (after NetBox's Job and
JobRunner).

A run is created before its job is enqueued, inside the transaction that decided it (`run_request`), and the job is
enqueued only once that transaction commits, so a worker never looks for a row that is not there yet. The job claims
its run with a conditional UPDATE (`claim`): a job delivered twice runs once. While it works, a thread stamps the run
every `CONVERSION_HEARTBEAT_SECONDS` (`Heartbeat`); a worker killed mid-job stops stamping, and the next request for
the same work finds the run stale (`staleness`), fails it with the reason and starts a new one. Nothing half-done is
ever marked done: only the job's own end marks the run succeeded (`run_succeed`) or failed (`run_fail`).

What differs between kinds of run (conversions, publications) is a `RunKind`: their rq queue, their job, and how long
they may take, wait or stay silent. The models inherit `Run`; nothing here knows which apps they live in.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar, Generic, Self, TypeVar

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.module_loading import import_string

from migration_site.lib import queue

logger = logging.getLogger(__name__)


class RunStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"


ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)


class Run(models.Model):
    """One attempt at a background job, tracked from its request to its end; kinds of run add what they produce."""

    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    job_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of the running job.")
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the process that ran it.")
    finished_at = models.DateTimeField(null=True, blank=True)
    log = models.TextField(blank=True)
    error = models.TextField(blank=True)

    # What a job notes as it goes, saved when it ends, whether it succeeds or fails.
    progress_fields: ClassVar[tuple[str, ...]] = ("log",)
    # What a job produces, saved when it succeeds (a failed run keeps none of it).
    outcome_fields: ClassVar[tuple[str, ...]] = ()
    # Left out of listings of many runs (`latest_per`): they can be large, and a listing never shows them.
    bulky_fields: ClassVar[tuple[str, ...]] = ("log",)

    class Meta:
        abstract = True
        ordering = ["-queued_at", "-id"]

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def duration(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    def append_log(self, line: str) -> None:
        stamp = timezone.now().strftime("%H:%M:%S")
        self.log = f"{self.log}{stamp} {line}\n"


R = TypeVar("R", bound=Run)


class RunQuerySet(QuerySet[R]):
    def active(self) -> Self:
        return self.filter(status__in=ACTIVE)

    def latest_per(self, field: str) -> Self:
        """The latest of these runs for each value of `field` (runs without one are left out), in one query and
        without their bulky fields (`log`...): a status page wants the outcome of thousands of runs, not their logs.

        A correlated subquery rather than DISTINCT ON (PostgreSQL only) or a window (whose filter would apply before
        the ranking if chained after it): filters chained after this one pick among the latest runs."""
        newest = self.filter(**{field: OuterRef(field)}).order_by("-queued_at", "-id").values("pk")[:1]
        return self.filter(pk=Subquery(newest)).defer(*self.model.bulky_fields)

    def latest_per_dataset(self) -> Self:
        return self.latest_per("dataset")


@dataclass(frozen=True)
class RunKind(Generic[R]):
    """What differs between kinds of run. The durations are read from the settings on each use (seconds), so a
    change of settings (a test's) takes effect at once."""

    model: type[R]
    queue: str
    job: str  # dotted path of the rq job function, called with the run's id
    job_timeout: Callable[[], int]  # rq stops a job running for longer
    stale_after: Callable[[], float]  # a run queued for longer, never taken by a worker, is replaced
    heartbeat_timeout: Callable[[], float]  # a running run silent for longer (its worker died) is replaced


# -- requesting a run -----------------------------------------------------------------------------------------------


def run_request(
    kind: RunKind[R],
    *,
    same: QuerySet[R],
    create: Callable[[], R],
    lock: models.Model | None = None,
    replaced: Callable[[R], object] | None = None,
    sync: bool = False,
) -> R:
    """A live active run among `same` (the runs doing the same work), else a new run from `create()`, dispatched.

    `lock` (the dataset's row) is locked for the transaction, so two requests at once cannot both create a run.
    Stale runs are failed with the reason, and `replaced(run)` cleans up after each (a conversion's scratch). In
    embedded mode, or with `sync`, the job runs here once the run row is committed; otherwise it is enqueued."""
    with transaction.atomic():
        if lock is not None:
            type(lock)._default_manager.select_for_update().get(pk=lock.pk)
        for active in same.filter(status__in=ACTIVE):
            reason = staleness(kind, active)
            if not reason:
                return active
            run_fail(active, f"{reason}; a new run was started")
            if replaced is not None:
                replaced(active)
        run = create()
        inline = queue.dispatch(kind.queue, kind.job, run, sync=sync, job_timeout=kind.job_timeout())
    if inline:
        import_string(kind.job)(run.pk)  # the very function a worker would run
    run.refresh_from_db()
    return run


def staleness(kind: RunKind[Any], run: Run) -> str:
    """Why this queued or running run will never finish; empty while it may. Its job failed, stopped or vanished
    in rq (asked on the run's own queue); or it runs but went silent; or no worker took it for too long."""
    if run.job_id and queue.job_is_dead(kind.queue, run.job_id):
        return "its job stopped before finishing (rq lost it or marked it failed)"
    now = timezone.now()
    if run.status == RunStatus.RUNNING:
        silent = now - (run.heartbeat_at or run.started_at or run.queued_at)
        if silent > timedelta(seconds=kind.heartbeat_timeout()):
            seconds = int(silent.total_seconds())
            return f"its job stopped before finishing (silent for {seconds} s: its worker was killed or lost)"
        return ""
    waiting = now - run.queued_at
    if waiting > timedelta(seconds=kind.stale_after()):
        return f"no worker took it in {int(waiting.total_seconds())} s"
    return ""


# -- the job --------------------------------------------------------------------------------------------------------


def run_execute(
    kind: RunKind[R],
    run_id: int,
    body: Callable[[R], str],
    *,
    expected: tuple[type[Exception], ...] = (),
    related: Sequence[str] = (),
) -> None:
    """The job: claim the run, carry out `body` under a heartbeat, record the outcome. Safe to run twice."""
    if not claim(kind.model, run_id):
        logger.info("%s %s is not queued any more: nothing to do", kind.model._meta.verbose_name, run_id)
        return
    run = kind.model._default_manager.select_related(*related).get(pk=run_id)
    run_carry_out(run, body, expected=expected)


def claim(model: type[Run], run_id: int) -> bool:
    """Take a queued run, once: of two deliveries of one job, only the first finds it queued."""
    now = timezone.now()
    claimed = model._default_manager.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=1, worker=this_process()
    )
    return bool(claimed)


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_carry_out(run: R, body: Callable[[R], str], *, expected: tuple[type[Exception], ...] = ()) -> None:
    """Run `body` (which returns the final status) under a heartbeat. An `expected` exception fails the run with
    its message; any other with its traceback in the log, where a person sees it."""
    with Heartbeat(type(run), run.pk):
        try:
            status = body(run)
        except expected as error:
            run_fail(run, str(error))
        except Exception as error:
            run_fail(run, f"{type(error).__name__}: {error}", details=traceback.format_exc())
        else:
            run_succeed(run, status=status)


def run_succeed(run: Run, *, status: str = RunStatus.SUCCEEDED) -> None:
    run.status, run.finished_at = status, timezone.now()
    run.save(update_fields=["status", "finished_at", *run.progress_fields, *run.outcome_fields])


def run_fail(run: Run, error: str, *, details: str = "") -> None:
    run.status, run.finished_at, run.error = RunStatus.FAILED, timezone.now(), error
    run.append_log(f"failed: {error}")
    if details:
        run.append_log(details)
    run.save(update_fields=["status", "finished_at", "error", *run.progress_fields])


class Heartbeat:
    """While a job runs, a thread stamps its run every few seconds: a killed worker stops stamping."""

    def __init__(self, model: type[Run], run_id: int) -> None:
        self.runs = model._default_manager.filter(pk=run_id, status=RunStatus.RUNNING)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)

    def _beat(self) -> None:
        try:
            while not self.stop.wait(settings.CONVERSION_HEARTBEAT_SECONDS):
                self.runs.update(heartbeat_at=timezone.now())
        finally:
            connection.close()  # the thread's own connection
