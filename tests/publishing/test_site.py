"""The public pages: the list with search, filters, counts and pages; a package's page and files; the registry, the
api-catalog and the redirects from openspending.org paths."""

import hashlib
import json

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import Resolver404, resolve
from lxml import html  # type: ignore[import-untyped]

from publishing.models import PublishedPackage
from publishing.store import public_storage
from publishing.views import PAGE_SIZE
from tests.factories import csv_bytes, make_package, when

pytestmark = pytest.mark.django_db


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response, html.fromstring(response.content)


def titles(tree):
    return [link.text_content().strip() for link in tree.xpath("//li[@class='package-card']/h3/a")]


@pytest.fixture
def catalogue():
    return [
        make_package("berlin", "budget-2014", title="Berlin budget", country="DE", currency="EUR", years=[2014]),
        make_package(
            "paris",
            "depenses",
            title="Paris spending",
            country="FR",
            currency="EUR",
            category="spending",
            years=[2014, 2015],
            description="Dépenses de la ville",
        ),
        make_package(
            "leeds",
            "spend",
            title="Leeds council spending",
            country="GB",
            currency="GBP",
            category="spending",
            years=[2015],
            legacy_name="leeds-city-council-spend",
        ),
    ]


def test_the_home_page_lists_every_published_package_with_links_and_a_count(client, catalogue):
    tree = page(client, "/")[1]
    assert titles(tree) == ["Berlin budget", "Leeds council spending", "Paris spending"]
    assert "3 packages" in tree.xpath("//*[contains(@class, 'results-count')]")[0].text_content()
    links = tree.xpath("//li[@class='package-card']/h3/a")
    assert links[0].get("href") == "/packages/berlin/budget-2014/"
    assert page(client, "/packages/")[1].xpath("//li[@class='package-card']/h3/a")[0].get("href") == links[0].get(
        "href"
    )


def test_every_html_page_links_the_feed_and_data_json_in_its_head(client, catalogue):
    for url in ("/", "/packages/", "/packages/berlin/budget-2014/", "/bulk/"):
        tree = page(client, url)[1]
        alternates = {(link.get("type"), link.get("href")) for link in tree.xpath("//head/link[@rel='alternate']")}
        assert ("application/atom+xml", "/feeds/packages.atom") in alternates, url
        assert ("application/json", "/data.json") in alternates, url
        assert tree.xpath("//head/link[@rel='stylesheet']")[0].get("href").endswith("publishing/site.css")


def test_search_looks_in_title_description_and_legacy_name(client, catalogue):
    assert titles(page(client, "/packages/?q=berlin")[1]) == ["Berlin budget"]
    assert titles(page(client, "/packages/?q=ville")[1]) == ["Paris spending"]
    assert titles(page(client, "/packages/?q=city-council")[1]) == ["Leeds council spending"]
    tree = page(client, "/packages/?q=nothing-like-this")[1]
    assert titles(tree) == [] and "No package matches" in tree.text_content()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("country=FR", ["Paris spending"]),
        ("currency=EUR", ["Berlin budget", "Paris spending"]),
        ("category=spending", ["Leeds council spending", "Paris spending"]),
        ("year=2015", ["Leeds council spending", "Paris spending"]),
        ("year=2014&currency=EUR&category=budget", ["Berlin budget"]),
    ],
)
def test_filters_by_country_currency_category_and_year(client, catalogue, query, expected):
    assert titles(page(client, f"/packages/?{query}")[1]) == expected


def test_each_filter_value_shows_how_many_packages_it_would_give(client, catalogue):
    tree = page(client, "/packages/?currency=EUR")[1]
    options = {o.get("value"): o.text_content() for o in tree.xpath("//select[@id='filter-year']/option")}
    assert options["2014"] == "2014 (2)" and options["2015"] == "2015 (1)"
    # The currency facet ignores its own filter, so the other currencies stay visible with their counts.
    currencies = {o.get("value"): o.text_content() for o in tree.xpath("//select[@id='filter-currency']/option")}
    assert currencies["GBP"] == "GBP (1)" and currencies["EUR"] == "EUR (2)"
    assert tree.xpath("//select[@id='filter-currency']/option[@selected]")[0].get("value") == "EUR"


def test_the_list_is_paginated_and_pages_keep_the_filters(client):
    for n in range(PAGE_SIZE + 3):
        make_package("town", f"budget-{n:02d}", title=f"Town budget {n:02d}", country="IT")
    first = page(client, "/packages/?country=IT")[1]
    assert len(titles(first)) == PAGE_SIZE
    next_link = first.xpath("//nav[@class='pagination']/a[@rel='next']")[0].get("href")
    assert "country=IT" in next_link and "page=2" in next_link
    second = page(client, f"/packages/{next_link}")[1]
    assert titles(second) == ["Town budget 20", "Town budget 21", "Town budget 22"]
    assert "Page 2 of 2" in second.xpath("//nav[@class='pagination']")[0].text_content()


def test_the_list_costs_a_fixed_number_of_queries(client, catalogue, django_assert_max_num_queries):
    for n in range(10):
        make_package("town", f"budget-{n}", years=[2010 + n])
    with django_assert_max_num_queries(4):  # version, validators, the filter columns, the page's packages
        client.get("/packages/?year=2014")


def test_the_package_page_shows_metadata_model_fields_downloads_provenance_and_legacy_link(client):
    difference = {"measure": "amount", "year": "2014", "ours": "10", "legacy": "11", "diff": "-1"}
    reconciliation = {"status": "mismatch", "rows": {"ours": 6, "legacy": 7}, "source": "aggregates",
                      "differences": [difference], "notes": []}  # fmt: skip
    package = make_package(description="The city budget.", reconciliation=reconciliation)
    tree = page(client, "/packages/berlin/budget/")[1]
    text = tree.text_content()
    assert tree.xpath("//h1")[0].text_content() == package.title
    assert "The city budget." in text and "2014, 2015" in text
    fields = {row.xpath("th")[0].text_content(): row.xpath("td/code")[0].text_content()
              for row in tree.xpath("//section[h2/@id='fields-title']//tbody/tr")}  # fmt: skip
    assert fields == {"amount": "value", "year": "date:fiscal-year",
                      "region": "administrative-classification:generic:label"}  # fmt: skip
    assert "Measures" in text and "expenditure" in text and "administrative-classification" in text
    assert "mismatch" in text and "Rows on the legacy platform" in text and "-1" in text
    assert "2 rows had no region" in text
    assert tree.xpath("//section[h2/@id='provenance-title']//a/@href") == ["https://example.org/budget.csv"]
    legacy = tree.xpath("//section[h2/@id='legacy-title']/p/a")[0]
    assert legacy.get("href") == "https://openspending.org/berlin-budget"
    downloads = [a.get("href") for a in tree.xpath("//section[contains(@class, 'downloads')]//a")]
    data_name = package.data_keys[0].rsplit("/", 1)[1]
    assert f"/packages/berlin/budget/data/{data_name}" in downloads
    assert "/packages/berlin/budget/datapackage.json" in downloads


def test_the_descriptor_is_served_as_stored_and_its_paths_resolve_to_the_downloads(client):
    package = make_package()
    response = client.get("/packages/berlin/budget/datapackage.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert json.loads(response.content) == package.descriptor
    path = json.loads(response.content)["resources"][0]["path"]
    data = client.get(f"/packages/berlin/budget/{path}")
    assert data.status_code == 200
    assert b"".join(data.streaming_content) == public_storage().open(package.data_keys[0]).read()
    assert data["Content-Type"] == "text/csv; charset=utf-8"
    assert data["Content-Disposition"] == f'attachment; filename="{path.rsplit("/", 1)[1]}"'
    assert data["X-Content-Type-Options"] == "nosniff"  # a CSV is never sniffed into HTML (README, Safety)


def test_a_file_the_package_does_not_name_is_not_served(client):
    make_package()
    public_storage().save("berlin/budget/data/other.csv", ContentFile(b"a\n1\n"))
    assert client.get("/packages/berlin/budget/data/other.csv").status_code == 404
    assert client.get("/packages/berlin/budget/data/..%2Fdatapackage.json").status_code == 404
    assert client.get("/packages/berlin/nothing/").status_code == 404


def test_the_registry_objects_are_read_from_storage_and_404_when_absent(client):
    assert client.get("/registry/datapackage.json").status_code == 404
    assert client.get("/registry/packages.csv").status_code == 404
    make_package()
    registry = csv_bytes([["berlin/budget", "Berlin budget"]], header=["id", "title"])
    public_storage().save("registry/packages.csv", ContentFile(registry))
    public_storage().save("registry/packages-0123456789ab.csv", ContentFile(registry))
    public_storage().save("registry/datapackage.json", ContentFile(b'{"name": "openspending-registry"}\n'))
    assert client.get("/registry/packages.csv").content == registry  # unchanged bytes: its hash still holds
    assert client.get("/registry/packages-0123456789ab.csv").content == registry
    response = client.get("/registry/datapackage.json")
    assert b"".join(response.streaming_content) == b'{"name": "openspending-registry"}\n'


def test_the_api_catalog_is_a_linkset_of_the_machine_readable_documents(client):
    response = client.get("/.well-known/api-catalog")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/linkset+json")
    linkset = json.loads(response.content)["linkset"]
    assert linkset[0]["anchor"] == "http://127.0.0.1:8000/.well-known/api-catalog" or linkset[0]["anchor"].endswith(
        "/.well-known/api-catalog"
    )
    hrefs = {item["href"].split("/", 3)[3]: item["type"] for item in linkset[0]["item"]}
    assert hrefs["data.json"] == "application/json"
    assert hrefs["feeds/packages.atom"] == "application/atom+xml"
    assert hrefs["registry/datapackage.json"] == "application/json"
    assert hrefs["registry/packages.csv"] == "text/csv"


def test_legacy_paths_redirect_permanently_to_the_package(client):
    make_package("leeds", "spend", legacy_name="leeds-city-council-spend")
    for path in ("/leeds-city-council-spend", "/leeds-city-council-spend/", "/leeds-city-council-spend/entries"):
        response = client.get(path)
        assert response.status_code == 301, path
        assert response["Location"] == "/packages/leeds/spend/"
    assert client.get("/no-such-dataset").status_code == 404
    assert client.get("/no-such-dataset/entries").status_code == 404


def test_the_legacy_catch_all_does_not_shadow_the_sites_own_paths():
    assert resolve("/admin/").app_name == "admin"
    assert resolve("/admin/login/").url_name == "login"
    for reserved in ("/static/publishing/site.css", "/media/x", "/feeds/x", "/bulk/x", "/registry/x.csv"):
        with pytest.raises(Resolver404):
            resolve(reserved)
    if not settings.REDIS_URL:  # with Redis, /django-rq/ is the queue dashboard; without, it must not redirect
        with pytest.raises(Resolver404):
            resolve("/django-rq/")
    assert resolve("/feeds/packages.atom").url_name == "feed"
    assert resolve("/some-dataset").url_name == "legacy_redirect"


def test_a_legacy_name_of_a_hidden_package_is_not_redirected(client):
    make_package("leeds", "spend", legacy_name="leeds-spend", withdrawn=True)
    assert client.get("/leeds-spend").status_code == 404


def test_only_get_and_head_are_answered(client, catalogue):
    assert client.post("/packages/").status_code == 405
    assert client.head("/packages/").status_code == 200
    assert client.options("/data.json").status_code == 405


def test_pages_never_set_cookies_or_vary_on_them(client, catalogue):
    response = client.get("/packages/berlin/budget-2014/")
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_an_osdp_upload_without_a_dataset_or_run_has_a_page(client):
    package = make_package("uploads", "city")
    package.dataset, package.run = None, None
    package.save()
    tree = page(client, "/packages/uploads/city/")[1]
    assert "Checked against the legacy platform" not in tree.text_content()


def test_published_dates_show_on_the_page(client):
    make_package(published_at=when(2023, 5, 2), modified_at=when(2024, 1, 9))
    text = page(client, "/packages/berlin/budget/")[1].text_content()
    assert "2 May 2023" in text and "9 January 2024" in text


def test_the_sample_instance_published_to_s3_can_be_browsed_and_downloaded(client, converted):
    """The real chain: the sample instance converted and published by `publish` into the S3 bucket, then read back
    through every public surface, the registry's own data package included."""
    from tests.publishing.conftest import PUBLIC, publish

    publish("--all-ready")
    listed = page(client, "/packages/")[1].xpath("//li[@class='package-card']/h3/a/@href")
    assert sorted(href.split("/")[3] for href in listed) == PUBLIC
    for href in listed:
        tree = page(client, href)[1]
        download = tree.xpath("//section[contains(@class, 'downloads')]//a[@class='button']/@href")[0]
        stored = client.get(f"{href}datapackage.json").content
        owner, name = href.split("/")[2:4]
        assert (
            hashlib.sha256(stored).hexdigest() == PublishedPackage.objects.get(owner=owner, name=name).descriptor_sha256
        )
        descriptor = json.loads(stored)
        resource = descriptor["resources"][0]
        content = b"".join(client.get(f"{href}{resource['path']}").streaming_content)
        assert download == f"{href}{resource['path']}"
        assert resource["hash"] == f"sha256:{hashlib.sha256(content).hexdigest()}"
    registry = json.loads(b"".join(client.get("/registry/datapackage.json").streaming_content))
    table = client.get(f"/registry/{registry['resources'][0]['path']}").content
    assert registry["resources"][0]["hash"] == f"sha256:{hashlib.sha256(table).hexdigest()}"
    assert client.get("/registry/packages.csv").content == table
    assert len(json.loads(client.get("/data.json").content)["dataset"]) == len(PUBLIC) + 2
    bulk_links = html.fromstring(client.get("/bulk/").content).xpath("//main//table//th/a/@href")
    assert bulk_links and client.get(bulk_links[0]).status_code == 200
