"""Scratch folders of conversion runs: removed when the run ends, when a stale run is replaced, and by the sweep."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from conversion import runs, workdirs
from conversion.models import ConversionRun
from tests.conversion.test_runs import approve_everything

pytestmark = pytest.mark.django_db
Status = ConversionRun.Status


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def plant(settings, run_id: int, pid: int, tag: str = "x"):
    folder = settings.CONVERSION_SCRATCH_DIR / f"conversion-{run_id}-{pid}-{tag}"
    (folder / "inputs").mkdir(parents=True)
    (folder / "inputs" / "source.csv").write_bytes(b"a,b\n" * 1000)
    return folder


def test_a_run_folder_is_removed_even_when_the_build_fails(settings):
    with pytest.raises(RuntimeError), workdirs.run_folder(7) as folder:
        (folder / "half-built.csv").write_text("x")
        raise RuntimeError("the build failed")
    assert not folder.exists()
    assert folder.parent == settings.CONVERSION_SCRATCH_DIR
    assert folder.name.startswith(f"conversion-7-{os.getpid()}-")


def test_the_sweep_keeps_live_runs_and_removes_the_rest(settings, proposed):
    running = ConversionRun.objects.create(dataset=proposed, status=Status.RUNNING)
    done = ConversionRun.objects.create(dataset=proposed, status=Status.SUCCEEDED)
    live = plant(settings, running.pk, os.getpid(), "live")
    killed = plant(settings, running.pk, dead_pid(), "killed")
    finished = plant(settings, done.pk, os.getpid(), "finished")
    vanished_run = plant(settings, 999_999, os.getpid(), "no-such-run")
    other = settings.CONVERSION_SCRATCH_DIR / "conversion-notes"
    other.mkdir()

    removed = workdirs.sweep()

    assert sorted(removed) == sorted([killed, finished, vanished_run])
    assert live.is_dir() and other.is_dir()


def test_replacing_a_stale_run_removes_its_scratch_folder(settings, proposed, curator):
    approve_everything(proposed, curator)
    stale_since = timezone.now() - timedelta(seconds=settings.CONVERSION_HEARTBEAT_TIMEOUT + 60)
    stale = ConversionRun.objects.create(
        dataset=proposed, status=Status.RUNNING, started_at=stale_since, heartbeat_at=stale_since
    )
    left_behind = plant(settings, stale.pk, dead_pid())
    fresh = runs.conversion_request(dataset=proposed, sync=True)
    assert fresh.pk != stale.pk
    assert not left_behind.exists()
    assert fresh.status == Status.SUCCEEDED, fresh.error
    assert list(settings.CONVERSION_SCRATCH_DIR.iterdir()) == [], "the new run removed its own folder too"
