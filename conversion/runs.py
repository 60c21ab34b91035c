"""Conversion runs: requesting one, executing it (the job's body), and accepting a reconciliation mismatch.

A run is created before its job is enqueued. The job claims it with a conditional UPDATE, builds the package in a
scratch folder, validates and reconciles it, uploads it under a folder of its own, and only then marks the run
succeeded: a worker killed anywhere before that leaves a run that is running but stale, and the dataset ready to
convert again; nothing half-done is ever marked done.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from conversion import queue, roles, workdirs
from conversion.build import build_package
from conversion.models import ConversionRun, DimensionMapping, ReviewEvent
from conversion.package_spec import BuildReport
from conversion.plan import NotConvertible, build_plan, convertible_problem
from conversion.reconcile import reconcile
from conversion.validation import validate_package
from datasets.models import LegacyDataset

logger = logging.getLogger(__name__)
Status = ConversionRun.Status
JOB = "conversion.jobs.convert_dataset_job"


class TransientError(Exception):
    """A failure worth retrying (storage or network hiccup), as opposed to a problem in the data."""


def conversion_request(*, dataset: LegacyDataset, user: Any = None, sync: bool = False) -> ConversionRun:
    """Create a run and enqueue its job (on commit); an active, live run of the dataset is returned instead."""
    problem = convertible_problem(dataset)
    if problem:
        raise ValidationError(f"{dataset.name} cannot be converted: {problem}")
    with transaction.atomic():
        LegacyDataset.objects.select_for_update().get(pk=dataset.pk)
        for active in ConversionRun.objects.filter(dataset=dataset).active():
            if not _is_stale(active):
                return active
            _fail(active, "the worker stopped before finishing (killed or lost); a new run was started")
            workdirs.remove_run_folders(active.pk)
        run = ConversionRun.objects.create(dataset=dataset, requested_by=roles.requester(user))
        inline = queue.dispatch("conversion", JOB, run, sync=sync)
    if inline:
        conversion_execute(run_id=run.pk)  # embedded mode, or --sync: here and now, once the run row exists
    run.refresh_from_db()
    return run


def conversion_execute(*, run_id: int) -> None:
    """The job: claim the run, convert with retries on transient errors, record the outcome. Safe to run twice."""
    now = timezone.now()
    claimed = ConversionRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=now, heartbeat_at=now, attempts=1, worker=_this_process()
    )
    if not claimed:
        logger.info("run %s is not queued any more: nothing to do", run_id)
        return
    run = ConversionRun.objects.select_related("dataset").get(pk=run_id)
    with Heartbeat(run_id):
        _attempts(run)


def _this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _attempts(run: ConversionRun) -> None:
    for attempt in range(1, settings.CONVERSION_MAX_ATTEMPTS + 1):
        try:
            _convert(run)
            return
        except TransientError as error:
            if attempt == settings.CONVERSION_MAX_ATTEMPTS:
                _fail(run, f"gave up after {attempt} attempts: {error}")
                return
            run.append_log(f"attempt {attempt} failed ({error}); retrying")
            run.attempts = attempt + 1
            run.save(update_fields=["log", "attempts"])
            time.sleep(settings.CONVERSION_RETRY_BACKOFF * 2 ** (attempt - 1))
        except NotConvertible as error:
            _fail(run, str(error))
            return
        except Exception as error:  # anything else is recorded on the run, where a person sees it
            _fail(run, f"{type(error).__name__}: {error}", details=traceback.format_exc())
            return


def _convert(run: ConversionRun) -> None:
    with workdirs.run_folder(run.pk) as workdir:
        plan = build_plan(run.dataset, workdir / "inputs")
        run.append_log(f"building from {len(plan.sources)} source file(s), {len(plan.columns)} columns")
        out = workdir / "package"
        report = build_package(plan, out)
        run.append_log(f"built from {report.built_from}: {report.rows_written} rows written")
        validation = validate_package(out, frictionless_rows=settings.CONVERSION_FRICTIONLESS_ROWS or None)
        run.append_log("valid" if validation.valid else f"invalid: {validation.total} problem(s)")
        result = reconcile(
            report.totals, report.totals_by_year, report.rows_written, _measure_names(plan.columns),
            aggregates=run.dataset.aggregates, entries_csv=plan.entries_file,
        )  # fmt: skip
        run.append_log(f"reconciliation: {result.status}")
        package_path = _upload(run, out)
        _succeed(run, report, validation.valid, validation.as_dict(), result.as_dict(), result.status, package_path)


def _measure_names(columns: Any) -> dict[str, str]:
    return {column.field: column.path for column in columns if column.column_type == "value"}


def _upload(run: ConversionRun, folder: Path) -> str:
    """Every run gets a folder of its own, so an upload cut short never touches a package that worked."""
    prefix = f"packages/{run.dataset.name}/runs/{run.pk}"
    try:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                name = f"{prefix}/{path.relative_to(folder).as_posix()}"
                with path.open("rb") as handle:
                    default_storage.save(name, File(handle, name=path.name))
    except (OSError, BotoCoreError) as error:
        raise TransientError(f"cannot store the package: {error}") from error
    return prefix


def _succeed(
    run: ConversionRun, report: BuildReport, valid: bool, validation: dict[str, Any], reconciliation: dict[str, Any],
    status: str, package_path: str,
) -> None:  # fmt: skip
    run.status = Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.built_from = report.built_from
    run.rows_read, run.rows_written = report.rows_read, report.rows_written
    run.rows_rejected, run.rows_overwritten = report.rows_rejected, report.overwritten
    run.report = report_summary(report)
    run.valid, run.validation = valid, validation
    run.reconciliation, run.reconciliation_status = reconciliation, status
    run.package_path = package_path
    run.save()


def report_summary(report: BuildReport) -> dict[str, Any]:
    return {
        **report.counts(),
        "overwritten_examples": report.overwritten_examples[:10],
        "problem_counts": report.problem_counts,
        "problems": [problem.__dict__ for problem in report.problems[:200]],
        "totals": {field: str(total) for field, total in report.totals.items()},
        "files": report.files,
        "notes": report.notes,
    }


def _fail(run: ConversionRun, error: str, *, details: str = "") -> None:
    run.status = Status.FAILED
    run.finished_at = timezone.now()
    run.error = error
    if details:
        run.append_log(details)
    run.save(update_fields=["status", "finished_at", "error", "log"])


def _is_stale(run: ConversionRun) -> bool:
    """A queued or running run whose job is gone: failed or stopped in rq, or a running job gone silent."""
    if run.job_id and queue.job_is_dead(run.job_id):
        return True
    now = timezone.now()
    if run.status == Status.RUNNING:
        last_sign = run.heartbeat_at or run.started_at or run.queued_at
        return now - last_sign > timedelta(seconds=settings.CONVERSION_HEARTBEAT_TIMEOUT)
    return now - run.queued_at > timedelta(seconds=settings.CONVERSION_STALE_AFTER)


class Heartbeat:
    """While a job runs, a thread stamps its run every few seconds: a killed worker stops stamping."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
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
                ConversionRun.objects.filter(pk=self.run_id, status=Status.RUNNING).update(heartbeat_at=timezone.now())
        finally:
            connection.close()


def reconciliation_accept(*, run: ConversionRun, admin: Any, reason: str) -> None:
    roles.require_migration_admin(admin)
    if run.reconciliation_status != ConversionRun.Reconciliation.MISMATCH:
        raise ValidationError("only a mismatch can be accepted")
    if not reason.strip():
        raise ValidationError({"reason": "say why the difference is acceptable"})
    with transaction.atomic():
        run.reconciliation_status = ConversionRun.Reconciliation.ACCEPTED
        run.accepted_by, run.accepted_reason, run.accepted_at = admin, reason.strip(), timezone.now()
        run.save(update_fields=["reconciliation_status", "accepted_by", "accepted_reason", "accepted_at"])
        ReviewEvent.objects.create(
            dataset=run.dataset, subject=f"conversion run {run.pk}", action=ReviewEvent.Action.DECIDED,
            before={"reconciliation": "mismatch"}, after={"reconciliation": "accepted"}, user=admin,
            reason=reason.strip(),
        )  # fmt: skip


def approved_datasets() -> list[LegacyDataset]:
    """Datasets whose every mapping is reviewed, with at least one approved."""
    reviewed = DimensionMapping.objects.exclude(
        status__in=[DimensionMapping.Status.APPROVED, DimensionMapping.Status.REJECTED]
    ).values("dataset_id")
    approved = DimensionMapping.objects.filter(status=DimensionMapping.Status.APPROVED).values("dataset_id")
    return list(LegacyDataset.objects.filter(pk__in=approved).exclude(pk__in=reviewed).order_by("name"))
