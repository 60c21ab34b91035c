"""Two storages: the working one (archived sources, every conversion's output, private datasets' packages) and the
public one (what the site serves). Publishing writes only public material, only to the public storage; a withdrawal,
a move to another owner or a new version leaves no copy of what is not public any more, bulk zips included.

Every check of the public side reads every object, zips unpacked, for a value of the rows that must not be there."""

import io
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from conversion.models import DatasetDecision, DimensionMapping
from conversion.review import services as conversion_services
from conversion.review.services import dataset_decide, dataset_set_owner
from publishing import bulk, memory, runs
from publishing.models import PublicationRun, PublishedPackage
from tests.publishing.conftest import body, keys, new_version, publish

pytestmark = pytest.mark.django_db
Status = PublicationRun.Status
# From the rows of the sample's private dataset (hafnarvik-utgjold-2013) and of lindenau-haushalt.
PRIVATE_ROW = "Leikskólinn Sólborg".encode()
LINDENAU_ROW = "Bürgerdienste und Ordnung".encode()


def readable(content: bytes) -> bytes:
    """An object's bytes as a reader gets them: a zip's members unpacked, since deflated rows hide from a search."""
    if not content.startswith(b"PK\x03\x04"):
        return content
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return b"".join(archive.read(info) for info in archive.infolist())


def bucket_objects(client, bucket=None) -> dict[str, bytes]:
    return {key: readable(body(client, key, bucket=bucket)) for key in keys(client, bucket=bucket)}


def folder_objects(root: Path) -> dict[str, bytes]:
    files = (path for path in root.rglob("*") if path.is_file())
    return {path.relative_to(root).as_posix(): readable(path.read_bytes()) for path in files}


def naming(objects: dict[str, bytes], *needles: bytes) -> list[str]:
    """The objects whose key or content holds any of the needles."""
    return [key for key, content in objects.items() if any(n in key.encode() or n in content for n in needles)]


def assert_public_only(objects: dict[str, bytes]) -> None:
    assert objects, "the public storage holds the published packages"
    assert not [key for key in objects if key.startswith(("legacy/", "packages/"))]
    assert naming(objects, LINDENAU_ROW), "the search reads the rows of what is published"
    assert naming(objects, PRIVATE_ROW, b"hafnarvik") == []


def bulk_urls(package) -> list[str]:
    segments = bulk.package_segments(package)
    return [f"/bulk/{s.year}/{package.owner}/{package.name}-part-{s.part}.zip" for s in segments]


def decide_private(dataset, admin, capture) -> None:
    with capture(execute=True):  # the withdrawal it starts runs inline (no REDIS_URL)
        dataset_decide(dataset=dataset, decision=DatasetDecision.Choice.MIGRATE_PRIVATE, admin=admin, reason="test")


@pytest.fixture
def inline(settings):
    settings.REDIS_URL = ""


def test_publishing_writes_nothing_to_the_working_bucket_and_nothing_private_to_the_public_one(converted, s3_storage):
    working_before = bucket_objects(s3_storage, s3_storage.bucket)
    assert naming(working_before, PRIVATE_ROW), "the private dataset's package is in the working bucket"

    publish("--all-ready")
    with pytest.raises(ValidationError, match="may not be public"):
        runs.publication_request(dataset=converted["hafnarvik-utgjold-2013"], sync=True)

    assert bucket_objects(s3_storage, s3_storage.bucket) == working_before
    public = bucket_objects(s3_storage)
    assert_public_only(public)
    assert sorted({key.split("/")[0] for key in public}) == ["bulk", "kmueller", "openspending", "pwright", "registry"]


def test_embedded_mode_keeps_the_same_split_in_two_folders(proposed, curator, settings):
    for item in DimensionMapping.objects.open():
        conversion_services.mapping_approve(mapping=item, reviewer=curator)
    call_command("convert", "--all-approved", "--sync", stdout=StringIO())
    working_root = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    public_root = Path(settings.STORAGES["public"]["OPTIONS"]["location"])
    working_before = folder_objects(working_root)
    assert naming(working_before, PRIVATE_ROW) and not public_root.exists()

    publish("--all-ready")

    assert folder_objects(working_root) == working_before
    assert_public_only(folder_objects(public_root))


def test_a_withdrawal_deletes_every_public_copy_bulk_zips_and_cached_documents_included(
    converted, s3_storage, client, migration_admin, django_capture_on_commit_callbacks, inline
):
    publish("lindenau-haushalt", "northfield-spending-2014")
    package = PublishedPackage.objects.get(name="lindenau-haushalt")
    base = "/packages/kmueller/lindenau-haushalt/"
    urls = [base, f"{base}datapackage.json", f"{base}data/{package.data_keys[0].rsplit('/', 1)[1]}"]
    urls += bulk_urls(package)
    for url in [*urls, "/bulk/", "/data.json"]:
        assert client.get(url).status_code == 200, url
    assert naming(bucket_objects(s3_storage), b"lindenau") and keys(s3_storage, "bulk/kmueller/lindenau-haushalt/")
    assert [key for key in keys(s3_storage, "bulk/") if key.startswith("bulk/index-")]
    assert any(b"lindenau" in repr(entry).encode() for entry in memory.documents.items.items())

    decide_private(converted["lindenau-haushalt"], migration_admin, django_capture_on_commit_callbacks)

    assert not any(b"lindenau" in repr(entry).encode() for entry in memory.documents.items.items())
    public = bucket_objects(s3_storage)
    assert naming(public, b"lindenau", LINDENAU_ROW) == []
    assert keys(s3_storage, "bulk/pwright/northfield-spending-2014/"), "the other package keeps its bulk files"
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert b"lindenau" not in client.get("/bulk/").content and b"lindenau" not in client.get("/data.json").content
    run = PublicationRun.objects.get(action=PublicationRun.Action.WITHDRAW)
    assert run.status == Status.SUCCEEDED, run.error
    assert f"bulk/kmueller/lindenau-haushalt/{bulk.digest(package)}/manifest.json" in run.log
    assert "kmueller/lindenau-haushalt/datapackage.json" in run.log and "bulk/index-" in run.log


def test_an_owner_change_purges_the_old_folder_and_its_bulk_files(converted, s3_storage, client, migration_admin):
    publish("lindenau-haushalt")
    old_urls = bulk_urls(PublishedPackage.objects.get())
    assert client.get("/bulk/").status_code == 200 and client.get(old_urls[0]).status_code == 200
    dataset_set_owner(dataset=converted["lindenau-haushalt"], owner="pwright", admin=migration_admin, reason="moved")

    publish("lindenau-haushalt")

    package = PublishedPackage.objects.get()
    assert package.owner == "pwright"
    assert [key for key in keys(s3_storage) if "kmueller" in key] == []
    assert b"kmueller/lindenau-haushalt" not in body(s3_storage, "registry/packages.csv")
    assert keys(s3_storage, f"bulk/pwright/lindenau-haushalt/{bulk.digest(package)}/")
    assert [client.get(url).status_code for url in old_urls] == [404] * len(old_urls)
    assert client.get(bulk_urls(package)[0]).status_code == 200
    assert "bulk/kmueller/lindenau-haushalt/" in PublicationRun.objects.first().log


def test_a_new_version_deletes_the_bulk_files_of_the_one_before(converted, s3_storage):
    publish("lindenau-haushalt")
    old = PublishedPackage.objects.get()
    old_keys = keys(s3_storage, f"bulk/kmueller/lindenau-haushalt/{bulk.digest(old)}/")
    assert old_keys
    new_version(converted["lindenau-haushalt"])

    publish("lindenau-haushalt")

    new = PublishedPackage.objects.get()
    assert bulk.digest(new) != bulk.digest(old)
    remaining = keys(s3_storage, "bulk/kmueller/lindenau-haushalt/")
    assert remaining and {key.split("/")[3] for key in remaining} == {bulk.digest(new)}
    log = PublicationRun.objects.first().log
    assert all(key in log for key in old_keys)


def test_a_decision_during_the_upload_after_an_owner_change_takes_down_both_places(
    converted, s3_storage, migration_admin, monkeypatch
):
    from publishing import store

    dataset = converted["lindenau-haushalt"]
    publish("lindenau-haushalt")
    dataset_set_owner(dataset=dataset, owner="pwright", admin=migration_admin, reason="moved")
    real_put = store.package_put

    def put_then_decide(package):
        written = real_put(package)
        DatasetDecision.objects.update_or_create(
            dataset=dataset, defaults={"decision": DatasetDecision.Choice.MIGRATE_PRIVATE}
        )
        return written

    monkeypatch.setattr(store, "package_put", put_then_decide)
    run = runs.publication_request(dataset=dataset, sync=True)

    assert run.status == Status.FAILED and "may not be public any more" in run.error
    assert naming(bucket_objects(s3_storage), b"lindenau", LINDENAU_ROW) == []
    assert PublishedPackage.objects.get().purged_at is not None
