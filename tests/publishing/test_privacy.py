"""Only `published()` packages appear anywhere. Each test hides packages in every way there is (flagged non-public,
withdrawn, a private legacy dataset, a migration admin's decision to keep it private) and checks one surface."""

import json

import pytest
from django.core.files.base import ContentFile

from publishing import bulk
from publishing.store import public_storage
from tests.factories import csv_bytes, hidden_packages, make_package, when

pytestmark = pytest.mark.django_db
SECRET = b"Secret"


@pytest.fixture
def hidden():
    """The hidden packages, published in January 2024 (a closed month), next to one visible package in February."""
    packages = hidden_packages()
    for package in packages:
        package.published_at = package.modified_at = when(2024, 1)
        package.country = "XX"
        package.save()
    make_package("berlin", "budget", title="Berlin budget", published_at=when(2024, 2))
    return packages


def paths(package):
    data = package.data_keys[0].rsplit("/", 1)[1]
    base = f"/packages/{package.owner}/{package.name}/"
    return [base, f"{base}datapackage.json", f"{base}data/{data}"]


def test_hidden_packages_are_not_in_the_list_its_search_or_its_counts(client, hidden):
    for url in ("/", "/packages/", "/packages/?q=secret", "/packages/?country=XX", "/packages/?sort=newest"):
        response = client.get(url)
        assert SECRET not in response.content and b"/packages/secret/" not in response.content, url
    assert b">XX (" not in client.get("/packages/").content, "no count for a country only hidden packages have"
    assert b"1 package" in client.get("/packages/").content


def test_hidden_packages_have_no_page(client, hidden):
    for package in hidden:
        assert client.get(paths(package)[0]).status_code == 404, package.name
        assert client.head(paths(package)[0]).status_code == 404, package.name


def test_hidden_packages_have_no_descriptor(client, hidden):
    for package in hidden:
        assert client.get(paths(package)[1]).status_code == 404, package.name


def test_hidden_packages_have_no_data_download_though_the_file_is_still_in_storage(client, hidden):
    for package in hidden:
        assert public_storage().exists(package.data_keys[0])
        assert client.get(paths(package)[2]).status_code == 404, package.name
        assert client.head(paths(package)[2]).status_code == 404, package.name


def test_hidden_packages_are_dropped_from_a_stored_registry_that_still_lists_them(client, hidden):
    rows = [[f"{p.owner}/{p.name}", p.title] for p in hidden] + [["berlin/budget", "Berlin budget"]]
    stale = csv_bytes(rows, header=["id", "title"])
    public_storage().save("registry/packages.csv", ContentFile(stale))
    public_storage().save("registry/packages-abcdefabcdef.csv", ContentFile(stale))
    for url in ("/registry/packages.csv", "/registry/packages-abcdefabcdef.csv"):
        content = client.get(url).content
        assert content == b"id,title\nberlin/budget,Berlin budget\n", url


def test_hidden_packages_are_not_in_data_json(client, hidden):
    content = client.get("/data.json").content
    assert SECRET not in content and b"/secret/" not in content
    identifiers = [d["identifier"] for d in json.loads(content)["dataset"]]
    assert [i for i in identifiers if "/packages/" in i] == ["http://127.0.0.1:8000/packages/berlin/budget/"]


def test_hidden_packages_are_not_in_the_feed_or_its_archives(client, hidden, settings):
    feed = client.get("/feeds/packages.atom")
    assert SECRET not in feed.content and b"/secret/" not in feed.content
    # January only had hidden packages: it is no archive at all, and the feed does not point to it.
    assert client.get("/feeds/archive/2024-01.atom").status_code == 404
    assert b"prev-archive" not in feed.content
    make_package("leeds", "spend", published_at=when(2024, 3))  # February closes: an archive with Berlin alone
    archive = client.get("/feeds/archive/2024-02.atom")
    assert archive.status_code == 200 and SECRET not in archive.content and b"prev-archive" not in archive.content


def test_hidden_packages_are_not_in_the_bulk_files(client, hidden):
    index = client.get("/bulk/").content
    assert b"/secret/" not in index and SECRET not in index
    for package in hidden:
        for segment in bulk.build_segments(package):  # even with their files built earlier
            url = f"/bulk/{segment.year}/{package.owner}/{package.name}-part-{segment.part}.zip"
            assert client.get(url).status_code == 404, url


def test_a_package_hidden_after_the_bulk_index_was_cached_leaves_it(client, hidden):
    package = make_package("paris", "depenses", title="Paris Secret later")
    assert b"/paris/depenses-part-1.zip" in client.get("/bulk/").content
    package.withdraw()
    assert b"/paris/" not in client.get("/bulk/").content
    assert client.get("/bulk/2014/paris/depenses-part-1.zip").status_code == 404


def test_hidden_packages_get_no_redirect_from_their_legacy_name(client, hidden):
    for package in hidden:
        assert client.get(f"/{package.legacy_name}").status_code == 404, package.legacy_name
        assert client.get(f"/{package.legacy_name}/entries").status_code == 404, package.legacy_name


def test_the_pages_of_visible_packages_do_not_mention_hidden_ones(client, hidden):
    for url in ("/packages/berlin/budget/", "/bulk/", "/.well-known/api-catalog"):
        assert SECRET not in client.get(url).content, url
