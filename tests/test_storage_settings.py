"""The working and the public storage must be apart: settings refuse to load otherwise, before anything is stored.

Each case loads the real settings in a fresh interpreter with only these variables, as `manage.py` would."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STORAGE_VARIABLES = ("S3_BUCKET", "S3_PUBLIC_BUCKET", "STORAGE_ROOT", "PUBLIC_STORAGE_ROOT", "VAR_DIR")
PRINT_STORAGES = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps({alias: settings.STORAGES[alias] for alias in ('default', 'public')}))"
)


def load_settings(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in STORAGE_VARIABLES}
    env.update(DEBUG="1", DJANGO_SETTINGS_MODULE="migration_site.settings", VAR_DIR=str(tmp_path / "var"), **variables)
    return subprocess.run(
        [sys.executable, "-c", PRINT_STORAGES], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"S3_BUCKET": "migration-work"}, "S3_BUCKET is set but S3_PUBLIC_BUCKET is not"),
        ({"S3_BUCKET": "migration", "S3_PUBLIC_BUCKET": "Migration"}, "S3_PUBLIC_BUCKET must differ from S3_BUCKET"),
        ({"S3_PUBLIC_BUCKET": "migration-public"}, "S3_PUBLIC_BUCKET is set but S3_BUCKET is not"),
        ({"STORAGE_ROOT": "{tmp}/files", "PUBLIC_STORAGE_ROOT": "{tmp}/files"}, "neither inside the other"),
        ({"STORAGE_ROOT": "{tmp}/files", "PUBLIC_STORAGE_ROOT": "{tmp}/files/public"}, "neither inside the other"),
        ({"STORAGE_ROOT": "{tmp}/files/working", "PUBLIC_STORAGE_ROOT": "{tmp}/files"}, "neither inside the other"),
    ],
)
def test_storages_that_are_not_apart_stop_the_settings_with_a_clear_message(tmp_path, variables, message):
    result = load_settings(tmp_path, **{key: value.format(tmp=tmp_path) for key, value in variables.items()})

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: ") and message in last_line
    assert list(tmp_path.iterdir()) == [], "nothing was created"


def test_two_buckets_give_two_storages_on_the_same_endpoint(tmp_path):
    result = load_settings(
        tmp_path, S3_BUCKET="migration-work", S3_PUBLIC_BUCKET="migration-public", S3_ENDPOINT_URL="http://127.0.0.1:9"
    )

    assert result.returncode == 0, result.stderr
    storages = json.loads(result.stdout)
    assert [storages[alias]["OPTIONS"]["bucket_name"] for alias in ("default", "public")] == [
        "migration-work", "migration-public",
    ]  # fmt: skip
    assert {storages[alias]["OPTIONS"]["endpoint_url"] for alias in ("default", "public")} == {"http://127.0.0.1:9"}


def test_embedded_mode_keeps_working_and_public_files_in_two_folders(tmp_path):
    result = load_settings(tmp_path)

    assert result.returncode == 0, result.stderr
    storages = json.loads(result.stdout)
    assert storages["default"]["OPTIONS"]["location"] == str(tmp_path / "var" / "storage")
    assert storages["public"]["OPTIONS"]["location"] == str(tmp_path / "var" / "public")
