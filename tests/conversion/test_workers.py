"""Real `rqworker` processes on Redis: a job converts a dataset; a worker killed mid-job does not stop the next try.

These need Redis (REDIS_URL) and a database the worker processes can reach, so they run transactionally against
the test database (a file for SQLite, see tests/settings.py) and skip without REDIS_URL (CI sets it).
"""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from conversion import runs
from conversion.models import ConversionRun, DimensionMapping
from datasets.models import Source
from tests.conversion.test_runs import approve_everything

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set"),
]
Status = ConversionRun.Status
ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def approved_on_queue(proposed_transactional, curator):
    """A reviewed dataset, and an empty `conversion` queue."""
    import django_rq

    django_rq.get_queue("conversion").empty()
    approve_everything(proposed_transactional, curator)
    return proposed_transactional


@pytest.fixture
def proposed_transactional(sample_dump, django_db_blocker):
    from io import StringIO

    from django.core.management import call_command

    from tests.e2e.test_review_browser import ensure_review_groups

    ensure_review_groups()
    call_command("import_legacy", str(sample_dump), stdout=StringIO())
    call_command("propose_mappings", "lindenau-haushalt", stdout=StringIO())
    from datasets.models import LegacyDataset

    return LegacyDataset.objects.get(name="lindenau-haushalt")


def worker_env() -> dict[str, str]:
    """What a worker process needs to see this test's database, storage and Redis."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        database_url = f"sqlite:///{db['NAME']}"
    else:
        database_url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    location = settings.STORAGES["default"]["OPTIONS"]["location"]
    return {
        **os.environ,
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "migration_site.settings",
        "DATABASE_URL": database_url,
        "STORAGE_ROOT": str(location),
        "PUBLIC_STORAGE_ROOT": str(settings.STORAGES["public"]["OPTIONS"]["location"]),
        "CONVERSION_HEARTBEAT_SECONDS": "0.3",
        "CONVERSION_SCRATCH_DIR": str(settings.CONVERSION_SCRATCH_DIR),
    }


def run_burst_worker() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "rqworker", "conversion", "--burst"],
        cwd=ROOT, env=worker_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_a_real_worker_converts_the_dataset(approved_on_queue):
    run = runs.conversion_request(dataset=approved_on_queue)
    assert run.status == Status.QUEUED and run.job_id, "queued for the workers, not run inline"
    result = run_burst_worker()
    assert result.returncode == 0, result.stderr[-2000:]
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED, (run.error, result.stderr[-2000:])
    assert run.valid and run.reconciliation_status == ConversionRun.Reconciliation.MATCH
    assert run.worker and run.worker.split(":")[1] != str(os.getpid()), "a worker process did the work"
    assert default_storage.exists(f"{run.package_path}/datapackage.json")


def test_a_worker_killed_mid_job_leaves_the_dataset_ready_to_convert_again(approved_on_queue, settings, tmp_path):
    _make_the_source_big(approved_on_queue, tmp_path, rows=300_000)
    settings.CONVERSION_HEARTBEAT_TIMEOUT = 2
    run = runs.conversion_request(dataset=approved_on_queue)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "conversion"],
        cwd=ROOT, env=worker_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_for(lambda: ConversionRun.objects.get(pk=run.pk).status == Status.RUNNING, seconds=60)
        time.sleep(0.5)
        horse = int(ConversionRun.objects.get(pk=run.pk).worker.split(":")[1])
        os.kill(horse, signal.SIGKILL)  # the work-horse running the job (rq starts it in a session of its own)
        os.killpg(worker.pid, signal.SIGKILL)  # and the worker itself: nothing is left to finish or report
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    killed = ConversionRun.objects.get(pk=run.pk)
    assert killed.status == Status.RUNNING and not killed.package_path, "not marked done, nothing half-published"
    left_behind = list(settings.CONVERSION_SCRATCH_DIR.glob(f"conversion-{run.pk}-{horse}-*"))
    assert left_behind and any(path.is_file() for path in left_behind[0].rglob("*")), "the killed job's scratch"

    time.sleep(settings.CONVERSION_HEARTBEAT_TIMEOUT + 0.5)
    retry = runs.conversion_request(dataset=approved_on_queue)
    assert retry.pk != run.pk
    assert not left_behind[0].exists(), "replacing the stale run removed its scratch folder"
    killed.refresh_from_db()
    assert killed.status == Status.FAILED and "stopped before finishing" in killed.error
    result = run_burst_worker()
    retry.refresh_from_db()
    assert retry.status == Status.SUCCEEDED, (retry.error, result.stderr[-2000:])
    assert retry.rows_written == 300_000


def test_a_worker_sweeps_scratch_folders_left_by_killed_jobs_when_it_starts(approved_on_queue, settings):
    finished = ConversionRun.objects.create(dataset=approved_on_queue, status=Status.FAILED)
    orphan = ConversionRun.objects.create(dataset=approved_on_queue, status=Status.RUNNING)
    settings.CONVERSION_SCRATCH_DIR.mkdir(parents=True, exist_ok=True)
    dead_pid = _a_dead_pid()
    planted = {
        "finished run": settings.CONVERSION_SCRATCH_DIR / f"conversion-{finished.pk}-{os.getpid()}-abc",
        "dead process": settings.CONVERSION_SCRATCH_DIR / f"conversion-{orphan.pk}-{dead_pid}-def",
    }
    alive = settings.CONVERSION_SCRATCH_DIR / f"conversion-{orphan.pk}-{os.getpid()}-ghi"
    unrelated = settings.CONVERSION_SCRATCH_DIR / "not-ours"
    for folder in [*planted.values(), alive, unrelated]:
        (folder / "package").mkdir(parents=True)
        (folder / "package" / "data.csv").write_text("a,b\n1,2\n")
    result = run_burst_worker()
    assert result.returncode == 0, result.stderr[-2000:]
    for why, folder in planted.items():
        assert not folder.exists(), why
    assert alive.is_dir(), "a running run whose process lives keeps its folder"
    assert unrelated.is_dir(), "only conversion folders are swept"


def _a_dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _make_the_source_big(dataset, tmp_path, *, rows):
    """Replace the dataset's archived sources by one large file with the same columns, so a job takes a while."""
    sources = list(Source.objects.filter(dataset=dataset, archive_status="fetched").order_by("legacy_id"))
    with default_storage.open(sources[0].archived_file.name, "rb") as handle:
        lines = handle.read().decode("utf-8").splitlines()
    reader = csv.reader(lines)
    header = next(reader)
    template = list(reader)
    path = tmp_path / "big.csv"
    key_columns = _key_columns(dataset, header)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for number in range(rows):
            row = list(template[number % len(template)])
            for index in key_columns:
                row[index] = f"{row[index]} {number}"  # keep legacy keys unique, so no row is overwritten
            writer.writerow(row)
    name = default_storage.save(f"legacy/{dataset.name}/sources/big.csv", ContentFile(path.read_bytes()))
    Source.objects.filter(pk=sources[0].pk).update(archived_file=name)
    # Gone, not merely unreachable: a loaded source that cannot be read makes the build use the cube's rows instead.
    Source.objects.filter(pk__in=[s.pk for s in sources[1:]]).delete()


def _key_columns(dataset, header):
    keyed = DimensionMapping.objects.filter(dataset=dataset, kind="attribute").values_list("source", flat=True)
    columns = {source.get("column") for source in keyed}
    return [index for index, name in enumerate(header) if name in columns]


def _wait_for(condition, *, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")
