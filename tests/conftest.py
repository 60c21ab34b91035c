"""Test-wide setup: development settings, loopback allowed for the legacy client, the ../shared marker."""

import os
from pathlib import Path

import pytest

SHARED_DIR = Path(__file__).resolve().parent.parent.parent / "shared"


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
    """Every test gets its own local storage folder unless it configures S3 itself."""
    if "FileSystemStorage" in settings.STORAGES["default"]["BACKEND"]:
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(tmp_path / "storage")},
            },
        }
    settings.LEGACY_ALLOW_PRIVATE_ADDRESSES = True
