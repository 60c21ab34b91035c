"""OpenSpending's own tools, installed once under var/interop/ by setup.sh, and the packages they are run on.

A missing node or pyenv skips these tests on a developer's machine; CI sets REQUIRE_INTEROP=1 and fails instead."""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from conversion.models import ConversionRun
from tests.sample import SampleSnapshots

HERE = Path(__file__).resolve().parent
SETUP = HERE / "setup.sh"
MIN_PACKAGES = 5  # the sample instance's convertible datasets; more may come, never fewer


@dataclass(frozen=True)
class Package:
    """A converted package on local disk: its folder (datapackage.json and data) and parsed descriptor."""

    name: str
    folder: Path
    descriptor: dict[str, Any]


def require(tool: str) -> None:
    """Skip when `tool` is not on PATH, or fail when REQUIRE_INTEROP=1 (CI)."""
    if shutil.which(tool):
        return
    if os.environ.get("REQUIRE_INTEROP") == "1":
        pytest.fail(f"REQUIRE_INTEROP=1 but {tool} is not on PATH")
    pytest.skip(f"{tool} is not on PATH")


def install(part: str) -> Path:
    """setup.sh's install of `part` (node or fiscal) under var/interop/; a second run finds it done at once."""
    cache = Path(settings.VAR_DIR) / "interop"
    done = subprocess.run(["bash", str(SETUP), part, str(cache)], capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        pytest.fail(f"tests/interop/setup.sh {part} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return cache


@pytest.fixture(scope="session")
def os_types_modules() -> Path:
    """The node_modules folder holding os-types, as pinned by tests/interop/package-lock.json."""
    require("node")
    require("npm")
    return install("node") / "node" / "node_modules"


@pytest.fixture(scope="session")
def fiscal_venv(os_types_modules: Path) -> Path:
    """The venv of datapackage-pipelines-fiscal (its own Python, from pyenv). The loader models with os-types, so
    it needs the node install too."""
    require("pyenv")
    return install("fiscal") / "fiscal-venv"


@pytest.fixture
def converted_packages(curator, sample_snapshots: SampleSnapshots, tmp_path: Path) -> list[Package]:
    """Every package the sample migration converted (the session's run, restored), copied out of the working
    storage into a folder of its own each, whatever storage the test runs on."""
    sample_snapshots.converted.restore()
    packages = [_copy_out(run, tmp_path / "packages") for run in ConversionRun.objects.succeeded().order_by("pk")]
    assert len(packages) >= MIN_PACKAGES, [package.name for package in packages]
    return packages


def _copy_out(run: ConversionRun, root: Path) -> Package:
    descriptor = json.loads(default_storage.open(f"{run.package_path}/datapackage.json").read())
    folder = root / f"{run.dataset.name}-{run.pk}"
    names = ["datapackage.json", *(resource["path"] for resource in descriptor["resources"])]
    for name in names:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(default_storage.open(f"{run.package_path}/{name}").read())
    return Package(name=run.dataset.name, folder=folder, descriptor=descriptor)
