"""A legacy dataset with script URLs goes through conversion and publishing: no published document, page or registry
row links them; the package page shows them as text."""

import json

import pytest
from lxml import html  # type: ignore[import-untyped]

from migration_site.lib.web_links import http_url
from publishing import registry
from publishing.models import PublishedPackage
from tests.datasets.hostile_links import DATASET, LEGACY_PAGE, SOURCE, first_source_id, poison
from tests.factories import make_package
from tests.publishing.conftest import body, publish, registry_rows
from tests.sample import migrate_sample

pytestmark = pytest.mark.django_db
OWNER = "kmueller"


@pytest.fixture
def sample_dump(sample_dump):
    """The shared sample export, with lindenau-haushalt's legacy page and first source turned into script URLs."""
    poison(sample_dump)
    return sample_dump


@pytest.fixture
def converted(s3_storage, sample_dump, curator):
    """The poisoned export through the whole pipeline, here: the session's converted sample is of the clean one."""
    return migrate_sample(sample_dump, curator)


def page_links(client, url):
    response = client.get(url)
    assert response.status_code == 200
    tree = html.fromstring(response.content)
    return tree, [str(href) for href in tree.xpath("//a/@href | //link/@href")]


def is_safe(href):
    return bool(http_url(href)) or (href.startswith("/") and not href.startswith("//")) or href.startswith(("#", "?"))


def test_a_published_package_links_no_script_url_anywhere(converted, s3_storage, client, sample_dump):
    publish(DATASET)

    descriptor = json.loads(body(s3_storage, f"{OWNER}/{DATASET}/datapackage.json"))
    assert "url" not in descriptor["legacy"] and descriptor["legacy"]["url_as_recorded"] == LEGACY_PAGE
    source = next(s for s in descriptor["sources"] if s["name"] == str(first_source_id(sample_dump)))
    assert source == {"name": source["name"], "title": f"Legacy source {source['name']}", "url_as_recorded": SOURCE}
    package = PublishedPackage.objects.get(name=DATASET)
    assert package.legacy_url == ""
    row = next(row for row in registry_rows(s3_storage) if row["legacy_name"] == DATASET)
    assert row["legacy_url"] == ""

    tree, links = page_links(client, f"/packages/{OWNER}/{DATASET}/")
    assert [href for href in links if not is_safe(href)] == []
    text = tree.text_content()
    assert f"not a web link: {LEGACY_PAGE}" in " ".join(text.split())
    assert f"not a web link: {SOURCE}" in " ".join(text.split())
    catalogue = client.get("/data.json").json()
    entry = next(d for d in catalogue["dataset"] if d["identifier"].endswith(f"/{OWNER}/{DATASET}/"))
    assert "references" not in entry
    assert "javascript" not in client.get("/feeds/packages.atom").content.decode().lower()


def test_a_row_stored_before_the_check_is_not_linked_by_the_registry_or_the_page(client):
    """Rows and descriptors published before (or uploaded by publish_osdp) may hold anything: read sides check too."""
    package = make_package("berlin", "budget")
    package.legacy_url = LEGACY_PAGE
    package.descriptor["sources"] = [{"name": "1", "title": "budget.csv", "path": SOURCE, "web": " javascript:x"}]
    package.save()

    assert registry.registry_row(package)["legacy_url"] == ""
    tree, links = page_links(client, "/packages/berlin/budget/")
    assert [href for href in links if not is_safe(href)] == []
    assert "budget.csv" in tree.xpath("//h2[@id='provenance-title']/..")[0].text_content()
    assert "references" not in client.get("/data.json").json()["dataset"][0]
