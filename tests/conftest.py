"""Test-wide setup: development settings, loopback allowed for the legacy client, the ../shared marker; the fixtures
every test package shares (users in each role, the sample instance exported, imported and proposed, converted)."""

import os
import shutil
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import override_settings

from datasets.models import LegacyDataset
from datasets.sample_legacy.instance import load_instance
from datasets.sample_legacy.server import ADMIN_API_KEY, SampleLegacyServer
from migration_site.lib import roles
from tests.factories import make_user
from tests.sample import CURATOR, SampleSnapshots, take_snapshots

SHARED_DIR = Path(__file__).resolve().parent.parent.parent / "shared"
# The sample instance's datasets by name, read from its folder so that a dataset added there counts everywhere:
# `exported_sample` holds them all, an export without the admin's key (or --include-private) the public ones.
_SAMPLE = load_instance()
SAMPLE_DATASETS = sorted(_SAMPLE.datasets)
SAMPLE_PUBLIC = sorted(name for name, dataset in _SAMPLE.datasets.items() if not dataset.private)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `shared` need ../shared: skipped on a bare clone, a failure when REQUIRE_SHARED=1 (CI)."""
    if SHARED_DIR.is_dir():
        return
    if os.environ.get("REQUIRE_SHARED") == "1":
        raise pytest.UsageError(f"REQUIRE_SHARED=1 but {SHARED_DIR} is missing")
    skip = pytest.mark.skip(reason=f"{SHARED_DIR} is missing")
    for item in items:
        if "shared" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _storage_in_tmp(settings, tmp_path: Path) -> None:
    """Every test gets its own local folders, working and public, unless it configures S3 itself."""
    if "FileSystemStorage" in settings.STORAGES["default"]["BACKEND"]:
        local = "django.core.files.storage.FileSystemStorage"
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {"BACKEND": local, "OPTIONS": {"location": str(tmp_path / "storage")}},
            "public": {"BACKEND": local, "OPTIONS": {"location": str(tmp_path / "public")}},
        }
    settings.LEGACY_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture(autouse=True)
def _scratch_in_tmp(settings, tmp_path: Path) -> None:
    """Each test's conversions build in a folder of its own: a sweep must never reach another test's runs."""
    settings.CONVERSION_SCRATCH_DIR = tmp_path / "scratch"
    settings.API_CACHE_DIR = tmp_path / "api-cache"  # the read API's Parquet copies, too


@pytest.fixture(autouse=True)
def _empty_caches() -> Iterator[None]:
    """Rendered documents are cached per process by their ETag; a test starts from none, as a fresh worker does."""
    from django.core.cache import caches

    from publishing import caching, memory

    for cache in caches.all():
        cache.clear()
    memory.documents.clear()
    caching.forget_versions()
    yield


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on loopback, reached over real HTTP by boto3 and django-storages."""
    import logging
    import socket

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_storage(settings, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Both storages on fresh buckets of the loopback S3 server, the working one ("default") and the public one;
    yields a boto3 client for assertions, with the bucket names as `bucket` (working) and `public_bucket`."""
    import uuid

    import boto3
    from botocore.config import Config

    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.setenv(name, "/dev/null")
    bucket, public_bucket = f"test-{uuid.uuid4().hex[:12]}", f"test-public-{uuid.uuid4().hex[:12]}"
    config = Config(retries={"total_max_attempts": 2}, connect_timeout=2, read_timeout=5)
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
        config=config,
    )
    client.create_bucket(Bucket=bucket)
    client.create_bucket(Bucket=public_bucket)
    options = {
        "endpoint_url": s3_endpoint,
        "access_key": "testing",
        "secret_key": "testing",
        "region_name": "us-east-1",
        "addressing_style": "path",
        "signature_version": "s3v4",
        "file_overwrite": True,
        "default_acl": None,
        "client_config": config,
    }
    s3 = "storages.backends.s3.S3Storage"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": s3, "OPTIONS": {**options, "bucket_name": bucket}},
        "public": {"BACKEND": s3, "OPTIONS": {**options, "bucket_name": public_bucket}},
    }
    client.bucket, client.public_bucket = bucket, public_bucket
    yield client


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


@pytest.fixture
def curator(db) -> User:
    return make_user(CURATOR, group=roles.CURATORS)


@pytest.fixture
def migration_admin(db) -> User:
    return make_user("max", group=roles.MIGRATION_ADMINS)


@pytest.fixture
def outsider(db) -> User:
    return make_user("otto")


@pytest.fixture(scope="session")
def sample_snapshots(
    django_db_setup: None, django_db_blocker: Any, exported_sample: Path, tmp_path_factory: pytest.TempPathFactory
) -> SampleSnapshots:
    """The sample instance through the real pipeline, once per session (per xdist worker): see tests/sample.py."""
    with django_db_blocker.unblock():
        return take_snapshots(exported_sample, tmp_path_factory.mktemp("sample-snapshots"))


@pytest.fixture
def proposed(db, sample_snapshots: SampleSnapshots) -> LegacyDataset:
    """The sample instance imported and proposed (the session's run, restored); returns its Lindenau budget dataset.

    The restored rows keep the ids the session's run gave them: a test creates its own datasets after this fixture."""
    sample_snapshots.proposed.restore()
    return LegacyDataset.objects.get(name="lindenau-haushalt")
