"""manage.py publish_osdp: any valid package folder or zip is published; an invalid one is refused with exit 1."""

import hashlib
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from datasets.models import LegacyDataset
from publishing.models import PublicationRun, PublishedPackage, package_page_url
from tests.conversion.test_validate_osdp_command import (
    REFUSED,
    TOO_BIG,
    TOO_DEEP,
    lower_currency,
    with_300_mb_descriptor,
    with_deep_descriptor,
    zip_with_300_mb_descriptor,
)
from tests.conversion.test_validation import write_package, zip_folder
from tests.factories import converted_package
from tests.publishing.conftest import body, keys, registry_ids, registry_rows

pytestmark = pytest.mark.django_db
PROJECT = Path(__file__).resolve().parents[2]


def publish_osdp(*args):
    out = StringIO()
    call_command("publish_osdp", *args, stdout=out)
    return out.getvalue()


def publish_osdp_failing(*args):
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("publish_osdp", *args, stdout=out)
    return out.getvalue(), caught.value


def test_a_valid_folder_is_published_without_any_legacy_dataset(s3_storage, tmp_path):
    folder = write_package(tmp_path / "package")
    data = (folder / "data" / "budget.csv").read_bytes()
    data_key = f"alice/city-budget/data/budget-{hashlib.sha256(data).hexdigest()[:12]}.csv"

    output = publish_osdp(str(folder), "--owner", "alice", "--name", "city-budget")

    assert output == "alice/city-budget: published (valid (1 resource, 3 data rows read); 6 object(s) written)\n"
    assert not LegacyDataset.objects.exists()
    parquet = json.loads(body(s3_storage, "alice/city-budget/datapackage.json"))["resources"][0]["alternates"][0]
    parquet_key = "alice/city-budget/" + parquet["path"]
    assert keys(s3_storage, "alice/") == sorted(["alice/city-budget/datapackage.json", data_key, parquet_key])
    assert body(s3_storage, data_key) == data
    descriptor = json.loads(body(s3_storage, "alice/city-budget/datapackage.json"))
    assert (descriptor["id"], descriptor["owner"]) == ("alice/city-budget", "alice")
    assert descriptor["resources"][0]["path"] == data_key.removeprefix("alice/city-budget/")
    package = PublishedPackage.objects.get()
    assert (package.dataset, package.run, package.rows) == (None, None, 3)
    assert registry_ids(s3_storage) == ["alice/city-budget"]
    assert registry_rows(s3_storage)[0]["legacy_name"] == ""
    assert PublicationRun.objects.get().source == str(folder)


def test_a_zip_is_published_under_the_descriptors_name_and_again_unchanged(s3_storage, tmp_path):
    archive = zip_folder(write_package(tmp_path / "package"), tmp_path / "budget.zip", prefix="test-budget/")
    name = json.loads((tmp_path / "package" / "datapackage.json").read_text())["name"]

    publish_osdp(str(archive), "--owner", "bob")
    again = publish_osdp(str(archive), "--owner", "bob")

    assert f"bob/{name}/datapackage.json" in keys(s3_storage, "bob/")
    assert again.startswith(f"bob/{name}: unchanged, nothing uploaded")


def test_an_invalid_package_is_refused_with_its_problems(s3_storage, tmp_path):
    folder = write_package(tmp_path / "bad", edit=lower_currency)

    output, error = publish_osdp_failing(str(folder), "--owner", "alice")

    assert "model.measures.amount.currency: 'eur' does not match '^[A-Z]{3}$'" in output
    assert str(error) == "not published: invalid: 1 problem (schema 1); 1 resource, 3 data rows read"
    assert error.returncode == 1
    assert keys(s3_storage) == []
    assert not PublishedPackage.objects.exists() and not PublicationRun.objects.exists()


@pytest.mark.parametrize(
    ("owner", "message"),
    [
        ("registry", "owner 'registry' is reserved"),
        ("bulk", "owner 'bulk' is reserved"),
        ("../etc", "owner '../etc' cannot be a storage folder"),
    ],
)
def test_an_unusable_owner_is_refused(s3_storage, tmp_path, owner, message):
    _, error = publish_osdp_failing(str(write_package(tmp_path / "package")), "--owner", owner)
    assert message in str(error) and keys(s3_storage) == []


@pytest.fixture
def lindenau_converted(s3_storage):
    """lindenau-haushalt converted (a factory's tiny package), owned by kmueller: all this test needs of a dataset."""
    return converted_package("lindenau-haushalt", owner="kmueller")


def test_a_path_held_by_a_datasets_package_is_refused(lindenau_converted, s3_storage, tmp_path):
    call_command("publish", "lindenau-haushalt", "--sync", stdout=StringIO())
    before = keys(s3_storage, "kmueller/")

    _, error = publish_osdp_failing(
        str(write_package(tmp_path / "package")), "--owner", "kmueller", "--name", "lindenau-haushalt"
    )

    assert "kmueller/lindenau-haushalt holds the package of dataset lindenau-haushalt" in str(error)
    assert keys(s3_storage, "kmueller/") == before


def test_exit_status_from_the_shell(tmp_path):
    """An invalid package never reaches the database or the store: exit status 1 and the reasons, from a shell."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DEBUG": "1", "VAR_DIR": str(tmp_path)}
    bad = write_package(tmp_path / "bad", edit=lower_currency)
    command = [sys.executable, "manage.py", "publish_osdp", str(bad), "--owner", "alice"]
    done = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 1 and "'eur' does not match" in done.stdout
    summary = "invalid: 1 problem (schema 1); 1 resource, 3 data rows read"
    assert done.stderr.strip() == f"CommandError: not published: {summary}"


# Hostile packages ---------------------------------------------------------------------------------------------------


def nothing_stored(s3_storage):
    return keys(s3_storage) == [] and keys(s3_storage, bucket=s3_storage.bucket) == []


@pytest.mark.parametrize("form", ["folder", "zip"])
def test_a_300_mb_descriptor_is_refused_and_nothing_is_stored(s3_storage, tmp_path, form):
    package = (
        with_300_mb_descriptor(tmp_path / "big")
        if form == "folder"
        else zip_with_300_mb_descriptor(tmp_path / "big", tmp_path / "big.zip")
    )

    output, error = publish_osdp_failing(str(package), "--owner", "alice")

    assert output.splitlines() == [TOO_BIG, REFUSED]
    assert str(error) == f"not published: {REFUSED}" and error.returncode == 1
    assert nothing_stored(s3_storage)
    assert not PublicationRun.objects.exists() and not PublishedPackage.objects.exists()


def test_a_descriptor_nested_100000_levels_is_refused_from_the_shell_without_a_traceback(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DEBUG": "1", "VAR_DIR": str(tmp_path)}
    for name in ("STORAGE_ROOT", "PUBLIC_STORAGE_ROOT", "S3_BUCKET", "DATABASE_URL"):
        env.pop(name, None)
    deep = with_deep_descriptor(tmp_path / "deep")
    command = [sys.executable, "manage.py", "publish_osdp", str(deep), "--owner", "alice"]
    done = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 1 and done.stdout.splitlines() == [TOO_DEEP, REFUSED]
    assert done.stderr.strip() == f"CommandError: not published: {REFUSED}"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["deep"]  # no storage folder, no database


def claims_to_be_the_victims(descriptor):
    descriptor.update(id="victim/other", name="other", owner="victim", homepage="https://victim.example/other/")


def test_the_store_sets_the_identity_whatever_the_descriptor_claims(s3_storage, tmp_path, client):
    folder = write_package(tmp_path / "package", edit=claims_to_be_the_victims)

    publish_osdp(str(folder), "--owner", "alice")

    assert keys(s3_storage, "victim/") == [] and keys(s3_storage, "alice/other/")
    stored = json.loads(body(s3_storage, "alice/other/datapackage.json"))
    identity = {key: stored[key] for key in ("id", "name", "owner", "homepage")}
    home = package_page_url("alice", "other")
    assert identity == {"id": "alice/other", "name": "other", "owner": "alice", "homepage": home}
    assert "victim" not in json.dumps(stored)
    package = PublishedPackage.objects.get()
    assert (package.package_id, package.descriptor["id"]) == ("alice/other", "alice/other")
    assert registry_ids(s3_storage) == ["alice/other"] and registry_rows(s3_storage)[0]["owner"] == "alice"
    assert json.loads(client.get("/packages/alice/other/datapackage.json").content)["id"] == "alice/other"


def test_the_name_given_on_the_command_line_is_the_descriptors_name(s3_storage, tmp_path):
    folder = write_package(tmp_path / "package", edit=claims_to_be_the_victims)

    publish_osdp(str(folder), "--owner", "alice", "--name", "city-budget")

    stored = json.loads(body(s3_storage, "alice/city-budget/datapackage.json"))
    assert (stored["id"], stored["name"], stored["owner"]) == ("alice/city-budget", "city-budget", "alice")
    assert keys(s3_storage, "alice/other/") == [] and registry_ids(s3_storage) == ["alice/city-budget"]


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd"])
def test_a_resource_path_outside_the_package_is_refused_and_nothing_is_stored(s3_storage, tmp_path, path):
    def outside(descriptor):
        descriptor["resources"][0]["path"] = path

    output, error = publish_osdp_failing(str(write_package(tmp_path / "package", edit=outside)), "--owner", "alice")

    assert f"resources.budget.path: {path} points outside the package" in output and error.returncode == 1
    assert nothing_stored(s3_storage) and not PublicationRun.objects.exists()


def test_a_name_the_package_profile_refuses_is_refused_before_anything_is_stored(s3_storage, tmp_path):
    folder = write_package(tmp_path / "package")
    _, error = publish_osdp_failing(str(folder), "--owner", "alice", "--name", "City_Budget")
    assert "is not a package name" in str(error)
    assert keys(s3_storage, "alice/") == []
    assert not PublishedPackage.objects.exists()
