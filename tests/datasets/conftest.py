"""Fixtures for the datasets tests: the sample legacy instance on loopback and dumps exported from it."""

import shutil
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from datasets.sample_legacy.server import ADMIN_API_KEY, SampleLegacyServer


@pytest.fixture
def legacy() -> Iterator[SampleLegacyServer]:
    with SampleLegacyServer() as server:
        yield server


@pytest.fixture
def fast_client(settings) -> None:
    """Short timeouts and backoff, so fault tests take seconds, not minutes."""
    settings.LEGACY_CONNECT_TIMEOUT = 2
    settings.LEGACY_READ_TIMEOUT = 0.5
    settings.LEGACY_RETRIES = 2
    settings.LEGACY_BACKOFF_SECONDS = 0.01


def run_export(legacy: SampleLegacyServer, dump: Path, *args: str) -> str:
    out = StringIO()
    call_command("export_legacy", "--url", legacy.base_url, "--to", str(dump), *args, stdout=out)
    return out.getvalue()


def run_import(dump: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_legacy", str(dump), *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="session")
def exported_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export of the whole sample instance (admin key, private included), shared read-only by many tests."""
    dump = tmp_path_factory.mktemp("sample-dump")
    with SampleLegacyServer() as server, override_settings(LEGACY_ALLOW_PRIVATE_ADDRESSES=True):
        run_export(server, dump, "--api-key", ADMIN_API_KEY, "--include-private")
    return dump


@pytest.fixture
def sample_dump(exported_sample: Path, tmp_path: Path) -> Path:
    """A private copy of the shared export, for tests that edit it."""
    copy = tmp_path / "dump"
    shutil.copytree(exported_sample, copy)
    return copy
