"""Publishing: requesting a publication or a withdrawal, the job that carries it out, and uploads of any package.

Runs follow the one lifecycle of migration_site/lib/runs.py: a row created before its job is enqueued (on commit),
claimed with a conditional UPDATE (a job delivered twice runs once), stamped by a heartbeat while it works, replaced
when it went stale. Everything a run does is safe to repeat: the store skips objects it already holds with the right
bytes, and the registry is rebuilt from the database every time (see `publishing/store.py` for the order of writes
that keeps the store consistent when a run stops half way).

Privacy: only datasets that `models.may_be_public` allows get a publication run; the job checks again when it starts
and once more after uploading, because a migration admin may decide while it runs. `privacy_enforce` withdraws the
packages of datasets that may not be public any more; the `publish` command calls it every time, and
`publishing.signals` calls it for one dataset the moment a decision or a re-import hides its published package.

Two runs on one package (a publication and a withdrawal) must not interleave: see publishing/locks.py.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from conversion.models import ConversionRun, DatasetDecision, dataset_owner
from conversion.packaging.package_descriptor import descriptor_load
from conversion.packaging.package_files import PackageError, opened_package
from conversion.packaging.validation import ValidationResult, validate_package
from datasets.models import LegacyDataset
from migration_site.lib import roles
from migration_site.lib.runs import RunKind, run_carry_out, run_execute, run_request, this_process
from publishing import bulk, caching, store
from publishing.locks import locked
from publishing.models import PublicationRun, PublishedPackage, may_be_public, package_page_url, public_refusal
from publishing.prepare import check_package_name, package_prepare
from publishing.records import Refused, already_out, package_at, package_save, superseded, unchanged
from publishing.registry import registry_refresh

logger = logging.getLogger(__name__)
Status = PublicationRun.Status
Action = PublicationRun.Action
KIND = RunKind(
    model=PublicationRun,
    queue="publishing",
    job="publishing.jobs.publication_job",
    job_timeout=lambda: settings.PUBLICATION_JOB_TIMEOUT,
    stale_after=lambda: settings.PUBLICATION_STALE_AFTER,
    heartbeat_timeout=lambda: settings.PUBLICATION_HEARTBEAT_TIMEOUT,
)
# What a run fails with in so many words; anything else is recorded with its traceback.
EXPECTED = (Refused, store.StoreError, PackageError)


class InvalidPackage(Exception):
    """An upload that does not validate; `result` holds the readable problems."""

    def __init__(self, result: ValidationResult) -> None:
        super().__init__(result.summary())
        self.result = result


# -- requests -------------------------------------------------------------------------------------------------------


def publication_request(*, dataset: LegacyDataset, user: Any = None, sync: bool = False) -> PublicationRun:
    """Publish the dataset's latest conversion; when it may not be public any more, withdraw its package instead.

    ValidationError says why neither can happen. An active run of the same kind for the dataset is returned.
    """
    decision = DatasetDecision.objects.filter(dataset=dataset).first()
    refusal = public_refusal(dataset, decision)
    if refusal:
        package = PublishedPackage.objects.filter(dataset=dataset, purged_at=None).first()
        if package is None:
            raise ValidationError(f"{dataset.name} may not be public: {refusal}")
        return package_withdraw(package=package, user=user, reason=f"may not be public: {refusal}", sync=sync)
    conversion = latest_conversion(dataset)
    problem = conversion_problem(conversion)
    if problem:
        raise ValidationError(f"{dataset.name} is not ready: {problem}")
    fields = {"action": Action.PUBLISH, "dataset": dataset, "conversion_run": conversion}
    return _request(fields, owner=dataset_owner(dataset, decision), name=dataset.name, user=user, sync=sync)


def package_withdraw(
    *, package: PublishedPackage, user: Any = None, reason: str = "", sync: bool = False
) -> PublicationRun:
    """Take a package out of the store and the registry, and mark it withdrawn (a job, like a publication)."""
    fields = {"action": Action.WITHDRAW, "dataset": package.dataset, "reason": reason}
    return _request(fields, owner=package.owner, name=package.name, user=user, sync=sync)


def privacy_enforce(*, user: Any = None, sync: bool = False, dataset_id: int | None = None) -> list[PublicationRun]:
    """Withdraw every package (or the one of `dataset_id`) whose dataset may not be public any more: a decision or a
    re-import changed since it was published. An active withdrawal of a package is returned, not repeated."""
    stranded = (
        PublishedPackage.objects.filter(dataset__isnull=False, purged_at=None)
        .exclude(may_be_public("dataset__"))
        .select_related("dataset", "dataset__decision")
    )
    if dataset_id is not None:
        stranded = stranded.filter(dataset_id=dataset_id)
    runs = []
    for package in stranded:
        dataset = package.dataset
        assert dataset is not None
        reason = public_refusal(dataset, getattr(dataset, "decision", None))
        runs.append(package_withdraw(package=package, user=user, reason=f"may not be public: {reason}", sync=sync))
    return runs


def ready_datasets() -> list[LegacyDataset]:
    """Datasets whose latest successful conversion is publishable and that may be public.

    A withdrawn package comes back only when someone names its dataset: `publish NAME`.
    """
    latest = {run.dataset_id: run for run in ConversionRun.objects.succeeded().latest_per_dataset()}
    withdrawn = PublishedPackage.objects.exclude(withdrawn_at=None).values("dataset_id")
    candidates = LegacyDataset.objects.filter(may_be_public(), pk__in=list(latest)).exclude(pk__in=withdrawn)
    return [dataset for dataset in candidates.order_by("name") if latest[dataset.pk].publishable]


def latest_conversion(dataset: LegacyDataset) -> ConversionRun | None:
    return ConversionRun.objects.filter(dataset=dataset).succeeded().first()


def conversion_problem(run: ConversionRun | None) -> str:
    """Why this conversion cannot be published; empty when it can."""
    if run is None:
        return "no conversion has succeeded yet"
    if not run.valid:
        return f"its latest package (conversion run {run.pk}) is not valid"
    if run.reconciliation_status == ConversionRun.Reconciliation.MISMATCH:
        return f"conversion run {run.pk} does not match the legacy cube and no migration admin accepted why"
    if not run.publishable:
        return f"conversion run {run.pk} could not be reconciled with the legacy cube"
    return ""


def _request(fields: dict[str, Any], *, owner: str, name: str, user: Any, sync: bool) -> PublicationRun:
    """A live run of the same action on the same dataset (or, for an upload, at the same place), else a new one."""
    dataset = fields.get("dataset")
    same = PublicationRun.objects.filter(action=fields["action"])
    same = same.filter(dataset=dataset) if dataset is not None else same.filter(owner=owner, name=name)
    return run_request(
        KIND,
        lock=dataset,
        same=same,
        create=lambda: PublicationRun.objects.create(
            **fields, owner=owner, name=name, requested_by=roles.requester(user)
        ),
        sync=sync,
    )


# -- the job --------------------------------------------------------------------------------------------------------


def publication_execute(*, run_id: int) -> None:
    """The job: claim the run, publish or withdraw, record the outcome. Safe to run twice."""
    run_execute(KIND, run_id, _work, expected=EXPECTED, related=["dataset", "conversion_run"])


def _work(run: PublicationRun) -> str:
    return _withdraw(run) if run.action == Action.WITHDRAW else _publish_conversion(run)


def _publish_conversion(run: PublicationRun) -> str:
    dataset, conversion = run.dataset, run.conversion_run
    if dataset is None or conversion is None:
        raise Refused("the conversion run to publish is gone")
    decision = DatasetDecision.objects.filter(dataset=dataset).first()
    refusal = public_refusal(dataset, decision)
    if refusal:
        raise Refused(f"{dataset.name} may not be public: {refusal}; run `publish` again to withdraw what is out")
    problem = conversion_problem(conversion) or superseded(dataset, conversion)
    if problem:
        raise Refused(problem)
    run.owner = dataset_owner(dataset, decision)
    with locked(f"package:{run.owner}/{run.name}"):
        package = package_at(run.owner, run.name, dataset)
        if package is not None and already_out(package, conversion, owner=run.owner, name=run.name):
            run.append_log(f"unchanged: conversion run {conversion.pk} is out at {run.owner}/{run.name} already")
            registry_refresh(run)
            _prune(run, package, None)
            return Status.UNCHANGED
        with tempfile.TemporaryDirectory(prefix="publish-") as scratch:
            folder = store.folder_fetch(conversion.package_path, Path(scratch))
            return _publish_folder(run, folder, dataset=dataset, conversion=conversion, rows=conversion.rows_written)


def _publish_folder(
    run: PublicationRun,
    folder: Path,
    *,
    dataset: LegacyDataset | None,
    conversion: ConversionRun | None,
    rows: int | None,
) -> str:
    """Upload (unless unchanged), record, rebuild the registry, prune. Called with the package's lock held."""
    package = package_at(run.owner, run.name, dataset)
    page_url = package_page_url(run.owner, run.name)
    with tempfile.TemporaryDirectory(prefix="parquet-") as scratch:  # the Parquet copies, until uploaded
        prepared = package_prepare(folder, owner=run.owner, name=run.name, page_url=page_url, scratch=Path(scratch))
        previous = (package.owner, package.name) if package is not None else None
        if package is not None and unchanged(package, prepared):
            run.append_log(f"unchanged: {prepared.prefix} holds this version already; nothing uploaded")
            status = Status.UNCHANGED
        else:
            run.uploaded = store.package_put(prepared)
            run.append_log(f"stored {prepared.prefix}: {len(run.uploaded)} object(s) written, data verified")
            _recheck_privacy(run, dataset, package)
            status = Status.SUCCEEDED
    package = package_save(package, prepared, dataset=dataset, conversion=conversion, rows=rows)
    registry_refresh(run)
    _prune(run, package, previous)
    _prebuild_bulk(run, package)
    return status


def _prebuild_bulk(run: PublicationRun, package: PublishedPackage) -> None:
    """Build the package's bulk zips now, so the first visitor does not wait for them. The package is out already:
    a failure here is logged on the run and the files are built on the first request instead."""
    try:
        segments = bulk.package_segments(package)
    except Exception as error:  # storage errors: the publication stands
        run.append_log(f"bulk files not built ({type(error).__name__}: {error}); they will be built on first request")
        logger.warning("bulk files of %s not built: %s", package.package_id, error)
    else:
        run.append_log(f"bulk files ready: {len(segments)} zip file(s)")


def _recheck_privacy(run: PublicationRun, dataset: LegacyDataset | None, package: PublishedPackage | None) -> None:
    """A migration admin may have made the dataset private while the files went up: take them down again, here and
    where the package was before (another owner), bulk files too; hidden first, as in a withdrawal."""
    if dataset is None:
        return
    refusal = public_refusal(dataset, DatasetDecision.objects.filter(dataset=dataset).first())
    if refusal:
        PublishedPackage.objects.filter(dataset=dataset).update(withdrawn_at=timezone.now())
        registry_refresh(run)
        places = {(run.owner, run.name)} | ({(package.owner, package.name)} if package is not None else set())
        deleted, indexes = _take_down(*sorted(places))
        PublishedPackage.objects.filter(dataset=dataset).update(purged_at=timezone.now())
        run.append_log(f"taken down again, the dataset may not be public any more: {_deleted(deleted + indexes)}")
        raise Refused(f"{dataset.name} may not be public any more: {refusal}")


def _prune(run: PublicationRun, package: PublishedPackage, previous: tuple[str, str] | None) -> None:
    """Last: files the descriptor no longer names, bulk files of other versions, and the old folder with its bulk
    files when the owner changed."""
    deleted = store.package_prune(package.owner, package.name, keep=package.data_keys)
    deleted += bulk.superseded_purge(package)
    if previous is not None and previous != (package.owner, package.name):
        moved, indexes = _take_down(previous)
        deleted += moved + indexes
    if deleted:
        run.append_log(f"deleted {len(deleted)} superseded object(s): {', '.join(deleted)}")


# -- withdrawal -----------------------------------------------------------------------------------------------------


def _withdraw(run: PublicationRun) -> str:
    """Hidden first (row withdrawn, registry rebuilt without it), then every public copy deleted: its files
    (descriptor first), its bulk files and the bulk index documents that list it; then this process's cached
    documents (other processes drop theirs when they read the new catalogue version: publishing/caching.py)."""
    with locked(f"package:{run.owner}/{run.name}"):
        package = PublishedPackage.objects.filter(owner=run.owner, name=run.name).first()
        if package is None:
            raise Refused(f"nothing is published at {run.owner}/{run.name}")
        if package.withdrawn_at is None:
            package.withdraw()
        registry_refresh(run)
        deleted, indexes = _take_down((package.owner, package.name))
        package.mark_purged()
    run.append_log(f"withdrawn{f' ({run.reason})' if run.reason else ''}: {_deleted(deleted + indexes)}")
    return Status.SUCCEEDED if deleted else Status.UNCHANGED


def _take_down(*places: tuple[str, str]) -> tuple[list[str], list[str]]:
    """Every public copy of the packages at these `(owner, name)` places, and what this process has cached: the keys
    of their files and bulk files deleted, and of the bulk index documents deleted (each lists every package)."""
    deleted = [
        key for owner, name in places for key in store.package_purge(owner, name) + bulk.package_purge(owner, name)
    ]
    indexes = bulk.index_purge()
    caching.forget_all()
    return deleted, indexes


def _deleted(keys: list[str]) -> str:
    return f"{len(keys)} object(s) deleted: {', '.join(keys)}" if keys else "nothing left to delete"


# -- uploads of any package (publish_osdp) --------------------------------------------------------------------------


def package_upload(
    *, path: Path, owner: str, name: str = "", user: Any = None
) -> tuple[PublicationRun, ValidationResult]:
    """Validate a package folder or zip and publish it at `<owner>/<name>/` (name: the descriptor's, else the
    file's). No legacy dataset needed. InvalidPackage when it does not validate, PackageError when it cannot be
    opened, store.StoreError when owner or name cannot be used. Here and now: the caller waits for the result."""
    with opened_package(Path(path)) as folder:
        result = validate_package(folder, descriptor_max_bytes=settings.PACKAGE_DESCRIPTOR_MAX_BYTES)
        if not result.valid:
            raise InvalidPackage(result)
        name = name or _descriptor_name(folder) or Path(path).stem
        store.check_target(owner, name)
        check_package_name(name)
        now = timezone.now()
        run = PublicationRun.objects.create(
            action=Action.PUBLISH,
            owner=owner,
            name=name,
            source=str(path),
            status=Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=1,
            worker=this_process(),
            requested_by=roles.requester(user),
        )
        rows = sum(result.rows.values())
        run_carry_out(run, lambda run: _upload(run, folder, rows), expected=EXPECTED)
    return run, result


def _upload(run: PublicationRun, folder: Path, rows: int) -> str:
    with locked(f"package:{run.owner}/{run.name}"):
        return _publish_folder(run, folder, dataset=None, conversion=None, rows=rows)


def _descriptor_name(folder: Path) -> str:
    try:
        name = descriptor_load(folder, max_bytes=settings.PACKAGE_DESCRIPTOR_MAX_BYTES).get("name")
    except PackageError:
        return ""
    return name if isinstance(name, str) and store.SEGMENT.match(name) else ""
