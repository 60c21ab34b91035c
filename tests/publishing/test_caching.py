"""HTTP caching: every document sends ETag and Last-Modified, answers If-None-Match / If-Modified-Since with a 304
that costs one query, answers HEAD, and changes its validators when what it shows changes."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.utils.http import http_date

from conversion.models import DatasetDecision
from publishing.models import PublishedPackage
from publishing.store import public_storage
from tests.factories import csv_bytes, make_package, when

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    """Two packages, one in a closed month (so an archive exists), and the registry objects in storage."""
    package = make_package("berlin", "budget", published_at=when(2024, 1), modified_at=when(2024, 2))
    make_package("leeds", "spend", published_at=when(2024, 3))
    registry = csv_bytes([["berlin/budget"], ["leeds/spend"]], header=["id"])
    public_storage().save("registry/packages.csv", ContentFile(registry))
    public_storage().save("registry/datapackage.json", ContentFile(b"{}\n"))
    return package


def documents(package):
    data = package.data_keys[0].rsplit("/", 1)[1]
    return [
        "/", "/packages/", "/packages/?country=DE", "/packages/berlin/budget/",
        "/packages/berlin/budget/datapackage.json", f"/packages/berlin/budget/data/{data}", "/data.json",
        "/.well-known/api-catalog", "/feeds/packages.atom",
        "/feeds/archive/2024-01.atom", "/registry/packages.csv", "/registry/datapackage.json", "/bulk/",
        "/bulk/2014/berlin/budget-part-1.zip",
    ]  # fmt: skip


def test_every_document_sends_validators_and_answers_conditional_requests_with_304(client, site):
    for url in documents(site):
        response = client.get(url)
        assert response.status_code == 200, url
        etag, modified = response["ETag"], response["Last-Modified"]
        assert etag.startswith('"') and modified.endswith("GMT"), url
        assert response["Cache-Control"].startswith("public, max-age="), url
        cached = client.get(url, headers={"if-none-match": etag})
        assert cached.status_code == 304 and cached.content == b"", url
        assert cached["ETag"] == etag and cached["Last-Modified"] == modified, url
        assert client.get(url, headers={"if-modified-since": modified}).status_code == 304, url
        assert client.get(url, headers={"if-none-match": '"stale"', "if-modified-since": modified}).status_code == 200
        head = client.head(url)
        assert head.status_code == 200 and head["ETag"] == etag and head.content == b"", url


@pytest.mark.parametrize(
    "url",
    ["/", "/packages/?year=2014", "/data.json", "/feeds/packages.atom", "/.well-known/api-catalog", "/bulk/",
     "/registry/packages.csv", "/feeds/archive/2024-01.atom", "/packages/berlin/budget/"],
)  # fmt: skip
def test_a_304_costs_one_query_and_no_rendering(client, site, url, django_assert_num_queries, monkeypatch):
    etag = client.get(url)["ETag"]
    monkeypatch.setattr("publishing.views.render", lambda *args, **kwargs: pytest.fail("rendered"))
    with django_assert_num_queries(1):
        assert client.get(url, headers={"if-none-match": etag}).status_code == 304


def test_a_304_for_a_file_does_not_touch_storage(client, site, monkeypatch):
    urls = [u for u in documents(site) if "/data/" in u or u.endswith(".zip")]
    etags = {url: client.get(url)["ETag"] for url in urls}
    monkeypatch.setattr(FileSystemStorage, "open", lambda *a, **k: pytest.fail("storage read"))
    monkeypatch.setattr(FileSystemStorage, "exists", lambda *a, **k: pytest.fail("storage read"))
    for url in urls:
        assert client.get(url, headers={"if-none-match": etags[url]}).status_code == 304


def test_last_modified_is_the_newest_change_of_a_published_package(client, site):
    make_package("secret", "newer", public=False, modified_at=when(2030, 1))  # must not show through
    assert client.get("/data.json")["Last-Modified"] == http_date(when(2024, 3).timestamp())
    assert client.get("/packages/berlin/budget/")["Last-Modified"] == http_date(when(2024, 2).timestamp())


def test_a_change_to_a_package_changes_the_validators(client, site):
    before = {
        url: client.get(url)["ETag"] for url in ("/data.json", "/packages/berlin/budget/", "/feeds/packages.atom")
    }
    PublishedPackage.objects.filter(pk=site.pk).update(modified_at=when(2024, 4), title="Berlin budget, corrected")
    for url, etag in before.items():
        response = client.get(url, headers={"if-none-match": etag})
        assert response.status_code == 200, url
        assert response["ETag"] != etag


@pytest.mark.parametrize("hide", ["withdraw", "not public", "decision"])
def test_hiding_a_package_changes_the_catalogue_validators_although_no_date_moves(client, site, hide):
    etags = {url: client.get(url)["ETag"] for url in ("/", "/data.json", "/feeds/packages.atom", "/bulk/")}
    if hide == "withdraw":
        site.withdraw()
    elif hide == "not public":
        PublishedPackage.objects.filter(pk=site.pk).update(public=False)
    else:
        DatasetDecision.objects.create(dataset=site.dataset, decision=DatasetDecision.Choice.MIGRATE_PRIVATE)
    for url, etag in etags.items():
        assert client.get(url, headers={"if-none-match": etag}).status_code == 200, url


def test_each_list_view_has_its_own_validators(client, site):
    assert client.get("/packages/")["ETag"] != client.get("/packages/?country=DE")["ETag"]
    assert client.get("/packages/")["ETag"] != client.get("/data.json")["ETag"]


def test_the_cache_lifetime_is_a_setting(client, site, settings):
    settings.PUBLIC_CACHE_SECONDS = 5
    assert client.get("/data.json")["Cache-Control"] == "public, max-age=5"


def test_responses_are_byte_stable_for_an_unchanged_catalogue(client, site):
    for url in ("/data.json", "/feeds/packages.atom", "/feeds/archive/2024-01.atom", "/.well-known/api-catalog"):
        assert client.get(url).content == client.get(url).content, url


@pytest.mark.parametrize("url", ["/", "/packages/?year=2014", "/data.json", "/feeds/packages.atom",
                                 "/feeds/archive/2024-01.atom", "/packages/berlin/budget/",
                                 "/packages/berlin/budget/datapackage.json"])  # fmt: skip
def test_a_document_is_rendered_once_per_state_of_what_it_shows(
    client, site, url, django_assert_num_queries, monkeypatch
):
    first = client.get(url)
    monkeypatch.setattr("publishing.views.render", lambda *args, **kwargs: pytest.fail("rendered again"))
    monkeypatch.setattr("publishing.discovery.data_json", lambda *args, **kwargs: pytest.fail("rendered again"))
    monkeypatch.setattr("publishing.feeds.subscription_document", lambda *a, **k: pytest.fail("rendered again"))
    monkeypatch.setattr("publishing.feeds.archive_document", lambda *a, **k: pytest.fail("rendered again"))
    monkeypatch.setattr("publishing.views.json_bytes", lambda *a, **k: pytest.fail("rendered again"))
    with django_assert_num_queries(1):
        again = client.get(url)
    assert again.status_code == 200 and again.content == first.content, url
    assert (again["ETag"], again["Content-Type"]) == (first["ETag"], first["Content-Type"])


def test_a_change_gives_a_fresh_body_not_the_cached_one(client, site):
    old = {url: client.get(url).content for url in ("/data.json", "/packages/berlin/budget/", "/")}
    PublishedPackage.objects.filter(pk=site.pk).update(modified_at=when(2024, 4), title="Berlin budget, corrected")
    for url, body in old.items():
        fresh = client.get(url).content
        assert fresh != body and b"Berlin budget, corrected" in fresh, url
    DatasetDecision.objects.create(dataset=site.dataset, decision=DatasetDecision.Choice.MIGRATE_PRIVATE)
    assert client.get("/packages/berlin/budget/").status_code == 404
    assert b"Berlin budget" not in client.get("/data.json").content


def test_documents_read_from_storage_are_not_cached(client, site):
    assert client.get("/registry/packages.csv").content.startswith(b"id\n")
    public_storage().delete("registry/packages.csv")
    public_storage().save("registry/packages.csv", ContentFile(b"id\nberlin/budget\n"))
    assert client.get("/registry/packages.csv").content == b"id\nberlin/budget\n"


def test_a_change_without_signals_still_moves_the_catalogue(client, site, django_assert_num_queries):
    """The catalogue version is raised by database triggers, so even a bulk update that sends no signal shows."""
    from datasets.models import LegacyDataset
    from publishing.models import CatalogState

    before = client.get("/data.json")
    version = CatalogState.objects.get().version
    with django_assert_num_queries(1):  # the version; the catalogue's aggregate is already known
        assert client.get("/data.json", headers={"if-none-match": before["ETag"]}).status_code == 304

    LegacyDataset.objects.filter(pk=site.dataset_id).update(private=True)

    assert CatalogState.objects.get().version > version
    after = client.get("/data.json", headers={"if-none-match": before["ETag"]})
    assert after.status_code == 200 and b"berlin/budget" not in after.content
    assert b"berlin/budget" in before.content


def test_a_process_rereads_the_catalogue_version_once_a_second(client, site, settings, monkeypatch):
    """Production default: a cached document costs no query within the second; a change shows after it."""
    from publishing import caching

    settings.PUBLIC_VERSION_CHECK_SECONDS = 1.0
    clock = [1000.0]
    monkeypatch.setattr(caching, "monotonic", lambda: clock[0])
    first = client.get("/data.json")
    DatasetDecision.objects.create(dataset=site.dataset, decision=DatasetDecision.Choice.MIGRATE_PRIVATE)

    clock[0] += 0.5
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        within = client.get("/data.json")
    assert len(queries) == 0 and within.content == first.content

    clock[0] += 0.6
    after = client.get("/data.json")
    assert b"berlin/budget" in first.content and b"berlin/budget" not in after.content


def test_what_a_process_remembered_for_an_older_catalogue_version_is_never_served_again(client, site, settings):
    """Even when the version number comes back (a database restored from a backup), and without the memory of it
    taking room: what was remembered for another version is dropped when the process reads a new one."""
    from publishing import caching, memory
    from publishing.models import CatalogState

    settings.PUBLIC_VERSION_CHECK_SECONDS = 0
    version = CatalogState.objects.get().version
    assert caching.per_version("probe", lambda: "first", size=10) == "first"
    assert caching.per_version("probe", lambda: "recomputed", size=10) == "first"

    CatalogState.objects.update(version=version + 1)
    assert caching.per_version("probe", lambda: "second", size=10) == "second"
    CatalogState.objects.update(version=version)
    assert caching.per_version("probe", lambda: "third", size=10) == "third"

    assert [value for key, (value, _) in memory.documents.items.items() if key.endswith(":probe")] == ["third"]
    assert client.get("/packages/berlin/budget/").status_code == 200
