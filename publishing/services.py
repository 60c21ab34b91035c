"""Publishing: requesting a publication or a withdrawal, the job that carries it out, and uploads of any package.

A run row is created before its job is enqueued (on commit); the job claims it with a conditional UPDATE, so a job
delivered twice runs once. Everything a run does is safe to repeat: the store skips objects it already holds with the
right bytes, and the registry is rebuilt from the database every time (see `publishing/store.py` for the order of
writes that keeps the store consistent when a run stops half way).

Privacy: only datasets that `models.may_be_public` allows get a publication run; the job checks again when it starts
and once more after uploading, because a migration admin may decide while it runs. `privacy_enforce` withdraws the
packages of datasets that may not be public any more; the `publish` command calls it every time, and
`publishing.signals` calls it for one dataset the moment a decision or a re-import hides its published package.

Two runs on one package (a publication and a withdrawal) must not interleave: on PostgreSQL each holds an advisory
lock on the package while it works, and registry rebuilds hold one on the registry (always package first, then
registry). Embedded mode (SQLite) runs jobs inline in one process and needs none.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from conversion import queue, roles
from conversion.models import ConversionRun, DatasetDecision
from conversion.package_descriptor import descriptor_load
from conversion.package_files import PackageError, opened_package
from conversion.services import dataset_owner
from conversion.validation import ValidationResult, validate_package
from datasets.links import http_url
from datasets.models import LegacyDataset
from publishing import bulk, caching, store
from publishing.models import PublicationRun, PublishedPackage, may_be_public, package_page_url, public_refusal

logger = logging.getLogger(__name__)
Status = PublicationRun.Status
Action = PublicationRun.Action
JOB = "publishing.jobs.publication_job"
STALE_AFTER = timedelta(hours=1)  # a queued or running run older than this, whose job is gone, is replaced


class Refused(Exception):
    """The run must not do what it was asked: the dataset may not be public, the path belongs to another package."""


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
    latest: dict[int, ConversionRun] = {}
    for run in ConversionRun.objects.succeeded().order_by("dataset_id", "-queued_at", "-id"):
        latest.setdefault(run.dataset_id, run)
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
    dataset = fields.get("dataset")
    with transaction.atomic():
        if dataset is not None:
            LegacyDataset.objects.select_for_update().get(pk=dataset.pk)
        same = PublicationRun.objects.filter(action=fields["action"], status__in=[Status.QUEUED, Status.RUNNING])
        same = same.filter(dataset=dataset) if dataset is not None else same.filter(owner=owner, name=name)
        for active in same:
            if not _is_stale(active):
                return active
            _fail(active, "its job stopped before finishing (killed or lost); a new run was started")
        run = PublicationRun.objects.create(**fields, owner=owner, name=name, requested_by=roles.requester(user))
        inline = queue.dispatch("publishing", JOB, run, sync=sync)
    if inline:
        publication_execute(run_id=run.pk)  # embedded mode, or --sync: here and now, once the run row exists
    run.refresh_from_db()
    return run


def _is_stale(run: PublicationRun) -> bool:
    if run.job_id and queue.job_is_dead(run.job_id):
        return True
    return timezone.now() - (run.started_at or run.queued_at) > STALE_AFTER


# -- the job --------------------------------------------------------------------------------------------------------


def publication_execute(*, run_id: int) -> None:
    """The job: claim the run, publish or withdraw, record the outcome. Safe to run twice."""
    claimed = PublicationRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        logger.info("publication run %s is not queued any more: nothing to do", run_id)
        return
    run = PublicationRun.objects.select_related("dataset", "conversion_run").get(pk=run_id)
    _carry_out(run, lambda: _withdraw(run) if run.action == Action.WITHDRAW else _publish_conversion(run))


def _carry_out(run: PublicationRun, work: Callable[[], str]) -> None:
    try:
        status = work()
    except (Refused, store.StoreError, PackageError) as error:
        _fail(run, str(error))
    except Exception as error:  # storage and network errors too: recorded on the run, where a person sees them
        _fail(run, f"{type(error).__name__}: {error}", details=traceback.format_exc())
    else:
        run.status, run.finished_at = status, timezone.now()
        run.save(update_fields=["status", "finished_at", "owner", "name", "uploaded", "log"])


def _fail(run: PublicationRun, error: str, *, details: str = "") -> None:
    run.status, run.finished_at, run.error = Status.FAILED, timezone.now(), error
    run.append_log(f"failed: {error}")
    if details:
        run.append_log(details)
    run.save(update_fields=["status", "finished_at", "error", "log", "owner", "name", "uploaded"])


def _publish_conversion(run: PublicationRun) -> str:
    dataset, conversion = run.dataset, run.conversion_run
    if dataset is None or conversion is None:
        raise Refused("the conversion run to publish is gone")
    decision = DatasetDecision.objects.filter(dataset=dataset).first()
    refusal = public_refusal(dataset, decision)
    if refusal:
        raise Refused(f"{dataset.name} may not be public: {refusal}; run `publish` again to withdraw what is out")
    problem = conversion_problem(conversion) or _superseded(dataset, conversion)
    if problem:
        raise Refused(problem)
    run.owner = dataset_owner(dataset, decision)
    with _locked(f"package:{run.owner}/{run.name}"):
        package = _package_at(run.owner, run.name, dataset)
        if package is not None and _already_out(package, conversion, owner=run.owner, name=run.name):
            run.append_log(f"unchanged: conversion run {conversion.pk} is out at {run.owner}/{run.name} already")
            registry_refresh(run)
            _prune(run, package, None)
            return Status.UNCHANGED
        with tempfile.TemporaryDirectory(prefix="publish-") as scratch:
            folder = store.folder_fetch(conversion.package_path, Path(scratch))
            return _publish_folder(run, folder, dataset=dataset, conversion=conversion, rows=conversion.rows_written)


def _already_out(package: PublishedPackage, conversion: ConversionRun, *, owner: str, name: str) -> bool:
    """This conversion is published at the same place with the same links, and its objects are all there: no need
    to fetch the package from storage again and hash it (the row's hashes were verified when it was uploaded)."""
    return (
        package.run_id == conversion.pk
        and package.withdrawn_at is None
        and (package.owner, package.name) == (owner, name)
        and package.descriptor.get("homepage") == package_page_url(owner, name)
        and store.objects_present(package.descriptor_key, package.data_keys, total_bytes=package.bytes)
    )


def _superseded(dataset: LegacyDataset, conversion: ConversionRun) -> str:
    """A late job must not put an older package over a newer one."""
    current = PublishedPackage.objects.filter(dataset=dataset, withdrawn_at=None).values_list("run_id", flat=True)
    newer = [pk for pk in current if pk is not None and pk > conversion.pk]
    return f"a newer conversion (run {newer[0]}) is published already" if newer else ""


def _publish_folder(
    run: PublicationRun, folder: Path, *, dataset: LegacyDataset | None, conversion: ConversionRun | None,
    rows: int | None,
) -> str:  # fmt: skip
    """Upload (unless unchanged), record, rebuild the registry, prune. Called with the package's lock held."""
    package = _package_at(run.owner, run.name, dataset)
    prepared = store.package_prepare(
        folder, owner=run.owner, name=run.name, page_url=package_page_url(run.owner, run.name)
    )
    previous = (package.owner, package.name) if package is not None else None
    if package is not None and _unchanged(package, prepared):
        run.append_log(f"unchanged: {prepared.prefix} holds this version already; nothing uploaded")
        status = Status.UNCHANGED
    else:
        run.uploaded = store.package_put(prepared)
        run.append_log(f"stored {prepared.prefix}: {len(run.uploaded)} object(s) written, data verified")
        _recheck_privacy(run, dataset, package)
        status = Status.SUCCEEDED
    package = _package_save(package, prepared, dataset=dataset, conversion=conversion, rows=rows)
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


def _package_at(owner: str, name: str, dataset: LegacyDataset | None) -> PublishedPackage | None:
    """The dataset's record (wherever it was stored), or the upload's; refused when another package has the path."""
    mine = (
        PublishedPackage.objects.filter(dataset=dataset).first()
        if dataset is not None
        else PublishedPackage.objects.filter(owner=owner, name=name, dataset__isnull=True).first()
    )
    taken = PublishedPackage.objects.filter(owner=owner, name=name)
    if mine is not None:
        taken = taken.exclude(pk=mine.pk)
    other = taken.select_related("dataset").first()
    if other is not None:
        holder = f"the package of dataset {other.dataset.name}" if other.dataset else "an uploaded package"
        raise Refused(f"{owner}/{name} holds {holder}; choose another owner or name")
    return mine


def _unchanged(package: PublishedPackage, prepared: store.PreparedPackage) -> bool:
    """Same bytes as the record says are published, and the store still has every object."""
    return (
        package.withdrawn_at is None
        and (package.owner, package.name) == (prepared.owner, prepared.name)
        and package.descriptor_sha256 == prepared.descriptor_file.sha256
        and list(package.data_keys) == prepared.data_keys
        and store.package_is_stored(prepared)
    )


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


def _package_save(
    package: PublishedPackage | None, prepared: store.PreparedPackage, *, dataset: LegacyDataset | None,
    conversion: ConversionRun | None, rows: int | None,
) -> PublishedPackage:  # fmt: skip
    now = timezone.now()
    descriptor = prepared.descriptor
    changed = package is None or package.descriptor_sha256 != prepared.descriptor_file.sha256
    if package is None or package.withdrawn_at is not None:
        package = package or PublishedPackage(published_at=now)
        package.published_at = now
    package.dataset, package.run = dataset, conversion
    package.owner, package.name = prepared.owner, prepared.name
    package.title = str(descriptor.get("title") or prepared.name)[:500]
    package.description = str(descriptor.get("description") or "")
    package.country = str(descriptor.get("countryCode") or "")[:8]
    package.currency = str(descriptor.get("currency") or "")[:8]
    package.category = (dataset.category if dataset else str(_legacy(descriptor).get("category") or ""))[:32]
    package.years = _years(dataset, descriptor)
    package.rows = int(descriptor.get("count_of_rows") or rows or 0)
    package.bytes, package.data_sha256 = prepared.data_bytes, prepared.data_sha256
    package.descriptor_sha256, package.descriptor = prepared.descriptor_file.sha256, descriptor
    package.data_keys = prepared.data_keys
    package.legacy_name = dataset.name if dataset else ""
    package.legacy_url = (http_url(dataset.legacy_url) if dataset else None) or ""  # a link, so http(s) or nothing
    package.public, package.withdrawn_at, package.purged_at = True, None, None
    if changed:
        package.modified_at = now
    package.save()
    return package


def _legacy(descriptor: dict[str, Any]) -> dict[str, Any]:
    legacy = descriptor.get("legacy")
    return legacy if isinstance(legacy, dict) else {}


def _years(dataset: LegacyDataset | None, descriptor: dict[str, Any]) -> list[int]:
    """The years the legacy cube had totals for; else the years of the fiscal period."""
    measures = ((dataset.aggregates or {}).get("measures") or {}) if dataset else {}
    years = {int(year) for measure in measures.values() for year in (measure.get("by_year") or {}) if year.isdigit()}
    period = descriptor.get("fiscalPeriod")
    if not years and isinstance(period, dict):
        bounds = [str(period.get(key) or "")[:4] for key in ("start", "end")]
        if all(bound.isdigit() for bound in bounds):
            years = set(range(int(bounds[0]), int(bounds[1]) + 1))
    return sorted(years)


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
    with _locked(f"package:{run.owner}/{run.name}"):
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


# -- the registry ---------------------------------------------------------------------------------------------------


def registry_refresh(run: PublicationRun | None = None) -> list[str]:
    """Rebuild `registry/` from the published packages; writes nothing when it already says the same."""
    with _locked("registry"):
        # A row never needs the descriptor: leaving it out keeps a rebuild's memory flat, however big they are.
        packages = PublishedPackage.objects.published().defer("descriptor").order_by("owner", "name")
        written = store.registry_put([registry_row(package) for package in packages])
    if run is not None:
        run.append_log(f"registry rebuilt: {', '.join(written)}" if written else "registry unchanged")
        run.uploaded = [*run.uploaded, *written]
    return written


def registry_row(package: PublishedPackage) -> dict[str, Any]:
    return {
        "id": package.package_id, "title": package.title, "owner": package.owner, "legacy_name": package.legacy_name,
        "legacy_url": http_url(package.legacy_url) or "", "country": package.country, "currency": package.currency,
        "rows": package.rows, "bytes": package.bytes, "sha256": package.data_sha256,
        "descriptor_url": f"{package_page_url(package.owner, package.name)}datapackage.json",
        "published_at": _iso(package.published_at), "modified": _iso(package.modified_at),
    }  # fmt: skip


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- uploads of any package (publish_osdp) --------------------------------------------------------------------------


def package_upload(
    *, path: Path, owner: str, name: str = "", user: Any = None
) -> tuple[PublicationRun, ValidationResult]:
    """Validate a package folder or zip and publish it at `<owner>/<name>/` (name: the descriptor's, else the
    file's). No legacy dataset needed. InvalidPackage when it does not validate, PackageError when it cannot be
    opened, store.StoreError when owner or name cannot be used."""
    with opened_package(Path(path)) as folder:
        result = validate_package(folder)
        if not result.valid:
            raise InvalidPackage(result)
        name = name or _descriptor_name(folder) or Path(path).stem
        store.check_target(owner, name)
        store.check_package_name(name)
        run = PublicationRun.objects.create(
            action=Action.PUBLISH, owner=owner, name=name, source=str(path), status=Status.RUNNING,
            started_at=timezone.now(), requested_by=roles.requester(user),
        )  # fmt: skip
        rows = sum(result.rows.values())
        _carry_out(run, lambda: _upload(run, folder, rows))
    return run, result


def _upload(run: PublicationRun, folder: Path, rows: int) -> str:
    with _locked(f"package:{run.owner}/{run.name}"):
        return _publish_folder(run, folder, dataset=None, conversion=None, rows=rows)


def _descriptor_name(folder: Path) -> str:
    try:
        name = descriptor_load(folder).get("name")
    except PackageError:
        return ""
    return name if isinstance(name, str) and store.SEGMENT.match(name) else ""


# -- locks ----------------------------------------------------------------------------------------------------------


@contextmanager
def _locked(name: str) -> Iterator[None]:
    """A PostgreSQL session advisory lock while the block runs (no transaction held open during uploads)."""
    if connection.vendor != "postgresql":
        yield
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
