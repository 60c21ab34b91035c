"""Conversion runs: requesting one, executing it (the job's body), and accepting a reconciliation mismatch.

A run is created before its job is enqueued. The job claims it with a conditional UPDATE, builds the package in a
scratch folder, validates and reconciles it, uploads it under a folder of its own, and only then marks the run
succeeded: a worker killed anywhere before that leaves a run that is running but stale, and the dataset ready to
convert again; nothing half-done is ever marked done.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from conversion import workdirs
from conversion.models import ConversionRun, DimensionMapping, ReviewEvent
from conversion.packaging.build import build_package
from conversion.packaging.csv_inputs import WHOLE_FILE
from conversion.packaging.legacy_values import parse_float
from conversion.packaging.package_spec import BuildPlan, BuildReport
from conversion.packaging.reconcile import KeptEmpty, Reconciliation, reconcile
from conversion.packaging.validation import ValidationResult, validate_package
from conversion.plan import NotConvertible, build_plan, no_data_problem, workflow_problem
from datasets.models import LegacyDataset
from datasets.state import NO_MODEL
from migration_site.lib import roles
from migration_site.lib.runs import RunKind, run_execute, run_request

logger = logging.getLogger(__name__)
Status = ConversionRun.Status
KIND = RunKind(
    model=ConversionRun,
    queue="conversion",
    job="conversion.jobs.convert_dataset_job",
    job_timeout=lambda: settings.CONVERSION_JOB_TIMEOUT,
    stale_after=lambda: settings.CONVERSION_STALE_AFTER,
    heartbeat_timeout=lambda: settings.CONVERSION_HEARTBEAT_TIMEOUT,
)


class TransientError(Exception):
    """A failure worth retrying (storage or network hiccup), as opposed to a problem in the data."""


def conversion_request(*, dataset: LegacyDataset, user: Any = None, sync: bool = False) -> ConversionRun:
    """Create a run and enqueue its job (on commit); an active, live run of the dataset is returned instead. A
    dataset whose lack of data the database already shows gets a run that ends "not convertible" at once, with no
    job: the outcome is a fact about the dataset, shown where every run is (admin, `migration_status`)."""
    if problem := workflow_problem(dataset):
        raise ValidationError(f"{dataset.name} cannot be converted: {problem}")
    if problem := no_data_problem(dataset):
        return _not_convertible(dataset, user, problem)
    return run_request(
        KIND,
        lock=dataset,
        same=ConversionRun.objects.filter(dataset=dataset),
        create=lambda: ConversionRun.objects.create(dataset=dataset, requested_by=roles.requester(user)),
        replaced=lambda stale: workdirs.remove_run_folders(stale.pk),
        sync=sync,
    )


def _not_convertible(dataset: LegacyDataset, user: Any, problem: str) -> ConversionRun:
    now = timezone.now()
    run = ConversionRun(dataset=dataset, requested_by=roles.requester(user), status=Status.NOT_CONVERTIBLE)
    run.started_at = run.finished_at = now
    run.error = problem
    run.append_log(f"not convertible: {problem} (known before a job was queued)")
    run.save()
    return run


def conversion_execute(*, run_id: int) -> None:
    """The job: claim the run, convert with retries on transient errors, record the outcome. Safe to run twice."""
    run_execute(KIND, run_id, _attempts, expected=(TransientError,), related=["dataset"])


def _attempts(run: ConversionRun) -> str:
    for attempt in range(1, settings.CONVERSION_MAX_ATTEMPTS + 1):
        try:
            _convert(run)
            return Status.SUCCEEDED
        except NotConvertible as problem:
            run.error = str(problem)
            run.append_log(f"not convertible: {problem}")
            run.save(update_fields=["error", "log"])
            return Status.NOT_CONVERTIBLE
        except TransientError as error:
            if attempt == settings.CONVERSION_MAX_ATTEMPTS:
                raise TransientError(f"gave up after {attempt} attempts: {error}") from error
            run.append_log(f"attempt {attempt} failed ({error}); retrying")
            run.attempts = attempt + 1
            run.save(update_fields=["log", "attempts"])
            time.sleep(settings.CONVERSION_RETRY_BACKOFF * 2 ** (attempt - 1))
    raise AssertionError("CONVERSION_MAX_ATTEMPTS is at least 1")


def _convert(run: ConversionRun) -> None:
    """Build, validate, reconcile and upload; the outcome is set on the run, which the lifecycle saves."""
    with workdirs.run_folder(run.pk) as workdir:
        plan = build_plan(run.dataset, workdir / "inputs")
        run.append_log(f"building from {len(plan.sources)} source file(s), {len(plan.columns)} columns")
        out = workdir / "package"
        report = build_package(plan, out)
        run.append_log(f"built from {report.built_from}: {report.rows_written} rows written")
        for gone in report.sources_gone:
            run.append_log(f"source {gone['id']} was loaded by the legacy platform and is gone: {gone['why']}")
        if not report.rows_written:
            raise NotConvertible(no_rows_reason(plan, report))  # no data is not a conversion: no 0-row package
        validation = validate_package(
            out,
            frictionless_rows=settings.CONVERSION_FRICTIONLESS_ROWS or None,
            descriptor_max_bytes=settings.PACKAGE_DESCRIPTOR_MAX_BYTES,
        )
        run.append_log("valid" if validation.valid else f"invalid: {validation.total} problem(s)")
        result = _reconcile(run.dataset, plan, report)
        run.append_log(f"reconciliation: {result.status}")
        package_path = _upload(run, out)
        _record(run, report, validation, result, package_path)


def _reconcile(dataset: LegacyDataset, plan: BuildPlan, report: BuildReport) -> Reconciliation:
    """Against the legacy cube; a draft the legacy platform never mapped nor loaded has none: "unavailable", and why."""
    if NO_MODEL in dataset.incomplete_reasons and not dataset.entry_count:
        reason = "the legacy platform never had a model for this dataset nor loaded it: there are no legacy totals"
        return Reconciliation("unavailable", (report.rows_written, None), notes=[reason])
    return reconcile(
        report.totals,
        report.totals_by_year,
        report.rows_written,
        _measure_names(plan.columns),
        aggregates=dataset.aggregates,
        entries_csv=plan.entries_file,
        kept_empty=kept_empty(plan, report),
    )


def kept_empty(plan: BuildPlan, report: BuildReport) -> dict[str, KeptEmpty]:
    """The measures a curator keeps empty, with the default the legacy platform put in those cells."""
    defaults = {column.field: column.default_value for column in plan.columns if column.keep_empty}
    return {
        measure: KeptEmpty(parse_float(str(defaults[measure])), by_year)
        for measure, by_year in report.kept_empty_by_year.items()
        if measure in defaults
    }


def no_rows_reason(plan: BuildPlan, report: BuildReport) -> str:
    """Why a build wrote no row, for a person: what became of the sources, then of the cube's rows."""
    unusable = [problem for problem in report.problems if problem.field == WHOLE_FILE]
    sources = "; ".join(problem.problem for problem in unusable if problem.source_id is not None)
    if report.rows_read:
        read = "the legacy cube's" if report.built_from == "cube" else "its sources'"
        first = next((problem.problem for problem in report.problems), "see the log")
        return f"no rows: none of {read} {report.rows_read} rows could be converted (first problem: {first})"
    if report.built_from == "sources" and len(plan.sources) > len(unusable):
        return "no data: its sources have a header and no rows"
    what = f"its sources could not be read ({sources})" if sources else "it has no source file"
    cube = next((problem.problem for problem in unusable if problem.source_id is None), "")
    if not cube:
        cube = "the legacy cube has no rows" if plan.entries_file is not None else "the cube's rows were not exported"
    return f"no data: {what} and {cube}"


def not_convertible_reason(run: ConversionRun) -> str:
    """Why a run found nothing it could convert; empty for a run that did, or failed otherwise."""
    return run.error if run.status == Status.NOT_CONVERTIBLE else ""


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


def _record(
    run: ConversionRun, report: BuildReport, validation: ValidationResult, result: Reconciliation, package_path: str
) -> None:
    """The outcome, set on the run all at once (the lifecycle saves it): a run that fails has none of it."""
    summary = report_summary(report)
    run.built_from, run.report = report.built_from, summary
    run.rows_read, run.rows_written = report.rows_read, report.rows_written
    run.rows_rejected, run.rows_overwritten = report.rows_rejected, report.overwritten
    run.valid, run.validation = validation.valid, validation.as_dict()
    run.reconciliation, run.reconciliation_status = result.as_dict(), result.status
    run.package_path = package_path


def report_summary(report: BuildReport) -> dict[str, Any]:
    return {
        **report.counts(),
        "overwritten_examples": report.overwritten_examples[:10],
        "problem_counts": report.problem_counts,
        "problems": [problem.__dict__ for problem in report.problems[:200]],
        "totals": {field: str(total) for field, total in report.totals.items()},
        # Per year too: the package page charts them when there is no reconciliation to take them from.
        "totals_by_year": {
            field: {year: str(total) for year, total in years.items()} for field, years in report.totals_by_year.items()
        },
        "defaults": report.defaults,
        "files": report.files,
        "notes": report.notes,
    }


def reconciliation_accept(*, run: ConversionRun, admin: Any, reason: str) -> None:
    roles.require(admin, roles.ACCEPT)
    if run.reconciliation_status != ConversionRun.Reconciliation.MISMATCH:
        raise ValidationError("only a mismatch can be accepted")
    if not reason.strip():
        raise ValidationError({"reason": "say why the difference is acceptable"})
    with transaction.atomic():
        run.reconciliation_status = ConversionRun.Reconciliation.ACCEPTED
        run.accepted_by, run.accepted_reason, run.accepted_at = admin, reason.strip(), timezone.now()
        run.save(update_fields=["reconciliation_status", "accepted_by", "accepted_reason", "accepted_at"])
        ReviewEvent.objects.create(
            dataset=run.dataset,
            subject=f"conversion run {run.pk}",
            action=ReviewEvent.Action.DECIDED,
            before={"reconciliation": "mismatch"},
            after={"reconciliation": "accepted"},
            user=admin,
            reason=reason.strip(),
        )


def approved_datasets() -> list[LegacyDataset]:
    """Datasets whose every mapping is reviewed, with at least one approved."""
    reviewed = DimensionMapping.objects.exclude(status__in=DimensionMapping.DECIDED).values("dataset_id")
    approved = DimensionMapping.objects.filter(status=DimensionMapping.Status.APPROVED).values("dataset_id")
    return list(LegacyDataset.objects.filter(pk__in=approved).exclude(pk__in=reviewed).order_by("name"))
