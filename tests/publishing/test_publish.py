"""Publishing to the package store on moto's S3 server: keys and bytes, the registry, re-publishing, faults."""

import hashlib
import json
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from frictionless import validate

from conversion.models import ConversionRun
from conversion.packaging.validation import validate_package
from publishing import bulk, runs
from publishing.models import PublicationRun, PublishedPackage
from publishing.store import public_storage
from tests.conftest import SAMPLE_DATASETS
from tests.conversion.test_runs import approve_everything, convert
from tests.publishing.conftest import (
    PUBLIC,
    body,
    keys,
    new_version,
    publish,
    publish_failing,
    registry_ids,
    registry_rows,
    stored_package,
)

pytestmark = pytest.mark.django_db
Status = PublicationRun.Status


def latest_run(dataset):
    return ConversionRun.objects.filter(dataset=dataset).succeeded().first()


def download(client, prefix, into: Path) -> Path:
    for key in keys(client, prefix):
        target = into / key.removeprefix(prefix)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body(client, key))
    return into


def test_a_publish_writes_data_then_descriptor_under_owner_and_dataset(converted, s3_storage, settings):
    settings.PUBLIC_BASE_URL = "https://openspending.example.org"
    lindenau = converted["lindenau-haushalt"]
    source_descriptor, data = stored_package(latest_run(lindenau))
    sha = hashlib.sha256(data).hexdigest()
    data_key = f"kmueller/lindenau-haushalt/data/lindenau-haushalt-{sha[:12]}.csv"

    output = publish("lindenau-haushalt")

    descriptor = json.loads(body(s3_storage, "kmueller/lindenau-haushalt/datapackage.json"))
    parquet_key = "kmueller/lindenau-haushalt/" + descriptor["resources"][0]["alternates"][0]["path"]
    written = ["kmueller/lindenau-haushalt/datapackage.json", data_key, parquet_key]
    assert keys(s3_storage, "kmueller/") == sorted(written)
    assert body(s3_storage, data_key) == data
    assert descriptor["id"] == "kmueller/lindenau-haushalt"
    assert descriptor["owner"] == "kmueller"
    assert descriptor["homepage"] == "https://openspending.example.org/packages/kmueller/lindenau-haushalt/"
    resource = descriptor["resources"][0]
    assert resource["path"] == f"data/lindenau-haushalt-{sha[:12]}.csv"
    assert (resource["bytes"], resource["hash"]) == (len(data), f"sha256:{sha}")
    assert descriptor["model"] == source_descriptor["model"]
    run = PublicationRun.objects.get()
    assert run.status == Status.SUCCEEDED, run.error
    assert run.uploaded[:3] == [data_key, parquet_key, "kmueller/lindenau-haushalt/datapackage.json"]  # data first
    assert output.splitlines() == [
        f"[1/1] lindenau-haushalt: published at kmueller/lindenau-haushalt (24 rows, {len(data)} bytes; "
        "6 object(s) written)",
        "1 dataset: 1 published",
    ]
    package = PublishedPackage.objects.get()
    assert (package.data_keys, package.data_sha256, package.bytes) == ([data_key, parquet_key], sha, len(data))


def test_the_published_package_validates_as_it_is_stored(converted, s3_storage, tmp_path):
    publish("northfield-spending-2014")
    package = PublishedPackage.objects.get()
    result = validate_package(download(s3_storage, f"{package.owner}/{package.name}/", tmp_path / "out"))
    assert result.valid, result.text()


def test_the_registry_is_a_valid_data_package_listing_only_public_packages(converted, s3_storage, tmp_path):
    publish("--all-ready")

    folder = download(s3_storage, "registry/", tmp_path / "registry")
    report = validate(str(folder / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])
    resource = json.loads((folder / "datapackage.json").read_text())["resources"][0]
    content = (folder / "packages.csv").read_bytes()
    assert resource["path"] == f"packages-{hashlib.sha256(content).hexdigest()[:12]}.csv"  # versioned, immutable
    assert (folder / resource["path"]).read_bytes() == content
    assert keys(s3_storage, "registry/") == sorted(
        ["registry/datapackage.json", "registry/packages.csv", f"registry/{resource['path']}"]
    )
    rows = registry_rows(s3_storage)
    assert list(rows[0]) == [
        "id", "title", "owner", "legacy_name", "legacy_url", "country", "currency", "rows", "bytes", "sha256",
        "descriptor_url", "published_at", "modified",
    ]  # fmt: skip
    assert sorted(row["legacy_name"] for row in rows) == PUBLIC
    assert "hafnarvik-utgjold-2013" not in body(s3_storage, "registry/packages.csv").decode()
    lindenau = next(row for row in rows if row["legacy_name"] == "lindenau-haushalt")
    package = PublishedPackage.objects.get(name="lindenau-haushalt")
    assert lindenau["id"] == "kmueller/lindenau-haushalt"
    assert (lindenau["rows"], lindenau["bytes"], lindenau["sha256"]) == ("24", str(package.bytes), package.data_sha256)
    assert lindenau["descriptor_url"].endswith("/packages/kmueller/lindenau-haushalt/datapackage.json")
    assert (lindenau["country"], lindenau["currency"]) == ("DE", "EUR")


def test_republishing_unchanged_content_uploads_nothing(converted, s3_storage, s3_requests):
    publish("--all-ready")
    s3_requests.clear()

    output = publish("--all-ready")

    assert s3_requests.writes() == []
    assert "lindenau-haushalt: unchanged at kmueller/lindenau-haushalt, nothing uploaded" in output
    skipped = len(SAMPLE_DATASETS) - len(PUBLIC)  # the private one and those with nothing converted: each listed
    assert output.splitlines()[-1] == f"{len(PUBLIC)} datasets: {len(PUBLIC)} unchanged; {skipped} skipped"
    assert PublicationRun.objects.filter(status=Status.UNCHANGED).count() == len(PUBLIC)


def test_a_missing_object_is_uploaded_again_and_only_that_one(converted, s3_storage, s3_requests):
    publish("lindenau-haushalt")
    data_key = PublishedPackage.objects.get().data_keys[0]
    s3_storage.delete_object(Bucket=s3_storage.public_bucket, Key=data_key)
    s3_requests.clear()

    publish("lindenau-haushalt")

    assert s3_requests.writes() == [("PUT", data_key)]
    assert PublicationRun.objects.first().status == Status.SUCCEEDED


def test_an_interrupted_publish_leaves_the_old_version_served_and_a_retry_completes_it(
    converted, s3_storage, s3_faults, s3_requests
):
    lindenau = converted["lindenau-haushalt"]
    publish("lindenau-haushalt")
    old = PublishedPackage.objects.get()
    old_descriptor = body(s3_storage, "kmueller/lindenau-haushalt/datapackage.json")
    old_registry = body(s3_storage, "registry/datapackage.json")
    new_version(lindenau)
    s3_faults.fail(lambda key: key.endswith("/datapackage.json"))

    output, error = publish_failing("lindenau-haushalt")

    failed = PublicationRun.objects.first()
    assert failed.status == Status.FAILED and "EndpointConnectionError" in failed.error
    assert "lindenau-haushalt: failed: EndpointConnectionError" in output
    assert str(error) == "1 of 1 dataset failed (see above)" and error.returncode == 2
    assert body(s3_storage, "kmueller/lindenau-haushalt/datapackage.json") == old_descriptor
    served = json.loads(old_descriptor)["resources"][0]
    data = body(s3_storage, f"kmueller/lindenau-haushalt/{served['path']}")  # still there, still matching
    assert served["hash"] == f"sha256:{hashlib.sha256(data).hexdigest()}" and served["bytes"] == len(data)
    assert len(keys(s3_storage, "kmueller/lindenau-haushalt/data/")) == 4  # the new data, beside the old (CSV, Parquet)
    assert body(s3_storage, "registry/datapackage.json") == old_registry
    assert PublishedPackage.objects.get().descriptor_sha256 == old.descriptor_sha256

    s3_faults.heal()
    s3_requests.clear()
    publish("lindenau-haushalt")

    retry = PublicationRun.objects.first()
    assert retry.status == Status.SUCCEEDED, retry.error
    new = PublishedPackage.objects.get()
    puts = [key for method, key in s3_requests.writes() if method == "PUT"]
    assert puts[0] == "kmueller/lindenau-haushalt/datapackage.json"  # the verified new data was reused
    assert all(key.startswith(("registry/", "bulk/")) for key in puts[1:])  # then the registry and the bulk files
    assert ("DELETE", old.data_keys[0]) in s3_requests.writes()
    assert keys(s3_storage, "kmueller/") == sorted(["kmueller/lindenau-haushalt/datapackage.json", *new.data_keys])
    assert registry_rows(s3_storage)[0]["sha256"] == new.data_sha256 != old.data_sha256


class CorruptingStorage:
    """The real storage, but data files arrive damaged."""

    def __init__(self, storage, damage):
        self.storage, self.damage = storage, damage

    def save(self, name, content, max_length=None):
        if "/data/" in name:
            content = ContentFile(self.damage(content.read()))
        return self.storage.save(name, content, max_length=max_length)

    def __getattr__(self, name):
        return getattr(self.storage, name)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[:-1], "the store holds {size_less} bytes, {size} were uploaded"),
        (lambda data: data[:-2] + b"9\n", "the stored bytes differ from the uploaded file (sha256 "),
    ],
)
def test_a_verification_failure_fails_the_run_with_a_clear_error(converted, s3_storage, monkeypatch, damage, message):
    _, data = stored_package(latest_run(converted["lindenau-haushalt"]))
    corrupting = CorruptingStorage(public_storage(), damage)
    monkeypatch.setattr("publishing.store.public_storage", lambda: corrupting)

    output, _ = publish_failing("lindenau-haushalt")

    run = PublicationRun.objects.get()
    assert run.status == Status.FAILED
    sha = hashlib.sha256(data).hexdigest()
    assert run.error.startswith(f"kmueller/lindenau-haushalt/data/lindenau-haushalt-{sha[:12]}.csv: ")
    assert message.format(size=len(data), size_less=len(data) - 1) in run.error
    assert f"lindenau-haushalt: failed: {run.error}" in output
    assert keys(s3_storage, "kmueller/") == [] and keys(s3_storage, "registry/") == []
    assert not PublishedPackage.objects.exists()


def test_a_changed_owner_moves_the_package(converted, s3_storage, migration_admin):
    from conversion.review.services import dataset_set_owner

    publish("lindenau-haushalt")
    dataset_set_owner(dataset=converted["lindenau-haushalt"], owner="pwright", admin=migration_admin, reason="moved")

    publish("lindenau-haushalt")

    package = PublishedPackage.objects.get()
    assert (package.owner, package.data_keys[0].split("/data/")[0]) == ("pwright", "pwright/lindenau-haushalt")
    assert keys(s3_storage, "kmueller/") == []
    assert keys(s3_storage, "pwright/") == sorted(["pwright/lindenau-haushalt/datapackage.json", *package.data_keys])
    assert registry_ids(s3_storage) == ["pwright/lindenau-haushalt"]


def test_embedded_mode_publishes_to_local_files(proposed, curator, settings):
    approve_everything(proposed, curator)
    convert("lindenau-haushalt")

    publish("lindenau-haushalt")
    publish("lindenau-haushalt")

    root = Path(settings.STORAGES["public"]["OPTIONS"]["location"])
    package = PublishedPackage.objects.get()
    assert (root / "kmueller/lindenau-haushalt/datapackage.json").is_file()
    assert (root / package.data_keys[0]).is_file()
    assert validate_package(root / "kmueller/lindenau-haushalt").valid
    assert "kmueller/lindenau-haushalt" in (root / "registry/packages.csv").read_text()
    assert [run.status for run in PublicationRun.objects.order_by("id")] == [Status.SUCCEEDED, Status.UNCHANGED]


def test_running_a_job_twice_does_nothing_the_second_time(converted):
    publish("lindenau-haushalt")
    run = PublicationRun.objects.get()
    runs.publication_execute(run_id=run.pk)
    assert PublicationRun.objects.get().finished_at == run.finished_at


def test_a_publication_builds_the_bulk_files_before_anyone_asks(converted, s3_storage, client):
    publish("lindenau-haushalt")

    stored = keys(s3_storage, "bulk/")
    assert [key for key in stored if key.endswith("/manifest.json")] and [key for key in stored if key.endswith(".zip")]
    assert "bulk files ready: " in PublicationRun.objects.get().log
    listed = client.get("/bulk/")
    assert listed.status_code == 200 and b"lindenau-haushalt-part-1.zip" in listed.content
    assert set(stored) <= set(keys(s3_storage, "bulk/"))
    assert [key for key in keys(s3_storage, "bulk/") if key not in stored] == [  # only the page's index was added
        key for key in keys(s3_storage, "bulk/") if key.startswith("bulk/index-")
    ]


def test_a_bulk_failure_does_not_undo_the_publication(converted, s3_storage, monkeypatch):
    def storage_down(package):
        raise OSError("S3 endpoint unreachable (test fault)")

    monkeypatch.setattr(bulk, "package_segments", storage_down)
    publish("lindenau-haushalt")

    run = PublicationRun.objects.get()
    assert run.status == Status.SUCCEEDED
    assert "bulk files not built (OSError: S3 endpoint unreachable (test fault))" in run.log
    assert registry_ids(s3_storage) == ["kmueller/lindenau-haushalt"]
