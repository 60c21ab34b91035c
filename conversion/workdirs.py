"""Scratch folders of conversion runs, and their removal even when the process that made one was killed.

A run builds its package in `CONVERSION_SCRATCH_DIR/conversion-<run id>-<pid>-<random>/` (inputs, the package,
validation files: easily 100 MB). The folder goes when the run ends. A worker killed mid-run (SIGKILL, the OOM
killer, a lost machine) cannot remove its own, so two others do: the request that replaces the stale run removes the
folders of that run on its machine, and every worker sweeps the folders left behind when it starts. A folder is left
alone only while its run is running and its process is alive on this machine.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from conversion.models import ConversionRun

logger = logging.getLogger(__name__)
PREFIX = "conversion-"
Status = ConversionRun.Status
NAME = re.compile(r"^conversion-(?P<run>\d+)-(?P<pid>\d+)-")


def scratch_root() -> Path:
    root = Path(settings.CONVERSION_SCRATCH_DIR)
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextmanager
def run_folder(run_id: int) -> Iterator[Path]:
    """A scratch folder for one run, removed on the way out whatever happens (short of the process dying)."""
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{run_id}-{os.getpid()}-", dir=scratch_root()))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remove_run_folders(run_id: int) -> list[Path]:
    """Remove every scratch folder of a run on this machine (the run was found stale and is being replaced)."""
    return _remove(scratch_root().glob(f"{PREFIX}{run_id}-*"))


def sweep() -> list[Path]:
    """Remove the scratch folders nobody is working in: their run is over, or their process is gone."""
    candidates = {folder: NAME.match(folder.name) for folder in scratch_root().glob(f"{PREFIX}*")}
    named = {folder: match for folder, match in candidates.items() if match and folder.is_dir()}
    run_ids = {int(match["run"]) for match in named.values()}
    running = set(ConversionRun.objects.filter(pk__in=run_ids, status=Status.RUNNING).values_list("pk", flat=True))
    left_behind = [
        folder
        for folder, match in named.items()
        if int(match["run"]) not in running or not _process_alive(int(match["pid"]))
    ]
    return _remove(left_behind)


def _remove(folders: Iterable[Path]) -> list[Path]:
    removed = []
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(folder)
            logger.info("removed the scratch folder %s", folder)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True
