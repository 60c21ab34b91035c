"""The site's pages about itself: the registry page, the feed page, robots.txt, sitemap.xml and the icon; and pages
past the end of a list, which say so instead of changing page in silence."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import URLPattern, resolve
from lxml import etree, html  # type: ignore[import-untyped]

from migration_site.lib.jsondata import iso
from publishing import urls
from publishing.views import PAGE_SIZE
from tests.factories import hidden_packages, make_package, when

pytestmark = pytest.mark.django_db
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return html.fromstring(response.content)


def notice(tree) -> str:
    found = tree.xpath("//p[@class='notice']")
    return found[0].text_content().strip() if found else ""


def titles(tree):
    return [link.text_content().strip() for link in tree.xpath("//li[@class='package-card']/h3/a")]


def many_packages(count: int) -> None:
    for n in range(count):
        make_package("town", f"budget-{n:02d}", title=f"Town budget {n:02d}", years=[2010 + n % 3])


# -- the registry page -------------------------------------------------------------------------------------------------


def test_the_registry_page_says_what_the_registry_is_and_links_its_files(client):
    make_package("berlin", "budget", title="Berlin budget", years=[2014, 2015])
    tree = page(client, "/registry/")
    assert tree.xpath("//h1")[0].text_content() == "Registry"
    assert "data package that lists every published package" in tree.xpath("//p[@class='lead']")[0].text_content()
    hrefs = tree.xpath("//main//a/@href")
    assert "/registry/datapackage.json" in hrefs and "/registry/packages.csv" in hrefs
    assert "The registry lists 1 package" in tree.xpath("//h2[@id='rows-title']")[0].text_content()
    cells = [cell.text_content().strip() for cell in tree.xpath("//table[@class='registry-table']/tbody/tr[1]/*")]
    assert cells == ["berlin", "budget", "Berlin budget", "2014, 2015"]
    assert tree.xpath("//table[@class='registry-table']//a/@href") == ["/packages/berlin/budget/"]
    assert tree.xpath("//nav//a[@aria-current='page']")[0].text_content() == "Registry"


def test_the_registry_page_lists_published_packages_only(client):
    make_package("berlin", "budget", title="Berlin budget")
    hidden_packages()
    tree = page(client, "/registry/")
    assert "The registry lists 1 package" in tree.text_content()
    assert "Secret" not in tree.text_content() and "secret" not in tree.text_content()


def test_the_registry_page_is_paginated_like_the_package_list(client):
    many_packages(PAGE_SIZE + 3)
    first = page(client, "/registry/")
    assert len(first.xpath("//table[@class='registry-table']/tbody/tr")) == PAGE_SIZE
    assert f"lists {PAGE_SIZE + 3} packages" in first.text_content()
    second = page(client, "/registry/" + first.xpath("//nav[@class='pagination']/a[@rel='next']/@href")[0])
    names = [cell.text_content() for cell in second.xpath("//table[@class='registry-table']/tbody/tr/td[2]")]
    assert names == ["budget-20", "budget-21", "budget-22"] and notice(second) == ""
    past = page(client, "/registry/?page=7")
    assert notice(past) == "Page 7 does not exist; showing the last page, 2."
    assert "Page 2 of 2" in past.xpath("//nav[@class='pagination']")[0].text_content()
    assert notice(page(client, "/registry/?page=two")) == "That is not a page number; showing the first page."


def test_the_registry_page_answers_conditional_requests_and_changes_when_a_package_is_hidden(client):
    package = make_package("berlin", "budget")
    make_package("leeds", "spend")
    response = client.get("/registry/")
    etag = response["ETag"]
    assert client.get("/registry/", headers={"if-none-match": etag}).status_code == 304
    package.withdraw()
    fresh = client.get("/registry/", headers={"if-none-match": etag})
    assert fresh.status_code == 200 and fresh["ETag"] != etag
    assert "/packages/berlin/budget/" not in fresh.content.decode()


# -- pages past the end ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "expected_notice", "shown"),
    [
        ("9", "Page 9 does not exist; showing the last page, 3.", "Page 3 of 3"),
        ("0009", "Page 9 does not exist; showing the last page, 3.", "Page 3 of 3"),
        ("abc", "That is not a page number; showing the first page.", "Page 1 of 3"),
        ("-1", "That is not a page number; showing the first page.", "Page 1 of 3"),
        ("1.5", "That is not a page number; showing the first page.", "Page 1 of 3"),
        ("0", "Page 0 does not exist; showing the first page.", "Page 1 of 3"),
        ("9" * 5000, "Page 999999999999… does not exist; showing the last page, 3.", "Page 3 of 3"),
        ("%F0%9F%92%A5", "That is not a page number; showing the first page.", "Page 1 of 3"),
        ("%D9%A3", "That is not a page number; showing the first page.", "Page 1 of 3"),  # Arabic-Indic 3
        ("2", "", "Page 2 of 3"),
        ("", "", "Page 1 of 3"),
    ],
)
def test_a_page_that_does_not_exist_shows_a_notice_never_another_page_in_silence(client, asked, expected_notice, shown):
    many_packages(2 * PAGE_SIZE + 1)
    tree = page(client, f"/packages/?page={asked}")
    assert notice(tree) == expected_notice
    assert shown in tree.xpath("//nav[@class='pagination']")[0].text_content()
    assert len(titles(tree)) == (1 if shown == "Page 3 of 3" else PAGE_SIZE)


def test_the_pages_links_replace_a_bad_page_number(client):
    many_packages(PAGE_SIZE + 1)
    tree = page(client, "/packages/?page=99&country=DE")
    previous = tree.xpath("//nav[@class='pagination']/a[@rel='prev']/@href")[0]
    assert "page=1" in previous and "99" not in previous and "country=DE" in previous


def test_an_empty_result_past_its_end_says_so_too(client):
    tree = page(client, "/packages/?q=nothing-like-this&page=4")
    assert notice(tree) == "Page 4 does not exist; showing the last page, 1."
    assert "No package matches" in tree.text_content()


# -- the feed page -----------------------------------------------------------------------------------------------------


def test_the_feed_page_explains_the_feed_and_lists_its_archives(client, settings):
    settings.PUBLIC_BASE_URL = "https://data.example.org"
    make_package("berlin", "budget", published_at=when(2023, 11))
    make_package("paris", "depenses", published_at=when(2024, 1))
    make_package("rome", "bilancio", published_at=when(2024, 1, 20))
    make_package("leeds", "spend", published_at=when(2024, 3))
    tree = page(client, "/feeds/")
    text = " ".join(tree.text_content().split())
    assert "One entry per published package" in text and "again whenever it is updated" in text
    assert "https://data.example.org/feeds/packages.atom" in text
    assert "/feeds/packages.atom" in tree.xpath("//main//a/@href")
    assert "latest month with publications (2024-03)" in text and "prev-archive" in text
    archives = [
        (row.xpath("th/a/@href")[0], row.xpath("td")[0].text_content())
        for row in tree.xpath("//section[@aria-labelledby='archives-title']//tbody/tr")
    ]
    assert archives == [("/feeds/archive/2024-01.atom", "2"), ("/feeds/archive/2023-11.atom", "1")]
    for href, _ in archives:
        assert client.get(href).status_code == 200, href
    assert client.get("/feeds/archive/2024-03.atom").status_code == 404  # the open month is no archive: not listed


def test_the_feed_page_lists_no_archive_of_hidden_packages(client):
    make_package("leeds", "spend", published_at=when(2024, 3))
    make_package("secret", "old", published_at=when(2023, 5), withdrawn=True)
    tree = page(client, "/feeds/")
    assert not tree.xpath("//section[@aria-labelledby='archives-title']//tbody/tr")
    assert "No archive yet" in tree.text_content()


def test_every_page_links_the_feed_page_from_its_navigation(client):
    make_package("berlin", "budget")
    for url in ("/", "/packages/berlin/budget/", "/bulk/", "/registry/", "/feeds/"):
        assert "/feeds/" in page(client, url).xpath("//header//nav//a/@href"), url


# -- robots.txt, sitemap.xml, the icon ---------------------------------------------------------------------------------


def test_robots_txt_allows_the_public_pages_and_names_the_sitemap(client, settings):
    settings.PUBLIC_BASE_URL = "https://data.example.org"
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    assert {"Disallow: /admin/", "Disallow: /django-rq/", "Allow: /"} <= set(lines)
    assert "Sitemap: https://data.example.org/sitemap.xml" in lines
    assert not [line for line in lines if line.startswith("Disallow:") and line.split()[1] in {"/", "/packages/"}]


def test_the_sitemap_lists_every_published_package_with_its_last_change_and_the_sites_pages(client, settings):
    settings.PUBLIC_BASE_URL = "https://data.example.org"
    berlin = make_package("berlin", "budget", modified_at=when(2024, 5, 2))
    make_package("leeds", "spend", modified_at=when(2024, 7, 9))
    hidden_packages()
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    root = etree.fromstring(response.content)
    assert root.tag == f"{SITEMAP}urlset"
    entries = {url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod") for url in root}
    base = "https://data.example.org"
    assert entries[f"{base}/packages/berlin/budget/"] == iso(berlin.modified_at) == "2024-05-02T12:00:00Z"
    assert entries[f"{base}/packages/leeds/spend/"] == "2024-07-09T12:00:00Z"
    for site_page in ("/", "/registry/", "/bulk/", "/feeds/"):
        assert entries[f"{base}{site_page}"] == "2024-07-09T12:00:00Z", site_page
    assert len(entries) == 6 and not [loc for loc in entries if "secret" in loc]
    for loc in entries:  # every address is one of this site's pages
        assert client.get(loc.removeprefix(base)).status_code == 200, loc


def test_the_sitemap_answers_conditional_requests(client):
    package = make_package("berlin", "budget")
    etag = client.get("/sitemap.xml")["ETag"]
    assert client.get("/sitemap.xml", headers={"if-none-match": etag}).status_code == 304
    package.withdraw()
    assert client.get("/sitemap.xml", headers={"if-none-match": etag}).status_code == 200


def test_the_icon_is_an_svg_linked_from_every_page_and_answered_at_favicon_ico(client):
    make_package("berlin", "budget")
    for url in ("/", "/registry/", "/feeds/", "/packages/berlin/budget/"):
        icon = page(client, url).xpath("//head/link[@rel='icon']")[0]
        assert icon.get("type") == "image/svg+xml" and icon.get("href").endswith("publishing/favicon.svg"), url
    path = finders.find("publishing/favicon.svg")
    assert isinstance(path, str)
    with open(path, "rb") as handle:
        stored = handle.read()
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response.content == stored and etree.fromstring(stored).tag == "{http://www.w3.org/2000/svg}svg"
    assert client.head("/favicon.ico").content == b""


def test_every_top_level_path_of_the_site_is_reserved_from_the_legacy_redirects():
    """A new top-level page missing from RESERVED would still resolve (it comes first), but the legacy catch-all
    would take its sub-paths: /feeds/x must 404 here, not look for a legacy dataset called "feeds"."""
    first_segments = {
        re.split(r"[/<]", str(pattern.pattern), maxsplit=1)[0]
        for pattern in urls.urlpatterns
        if isinstance(pattern, URLPattern) and pattern.name not in {"home", "legacy_redirect"}
    }
    first_segments = {segment.lstrip("^").replace("\\", "") for segment in first_segments}
    assert first_segments <= set(urls.RESERVED), first_segments - set(urls.RESERVED)
    for path in ("/robots.txt", "/sitemap.xml", "/favicon.ico", "/registry/", "/feeds/"):
        assert resolve(path).url_name != "legacy_redirect", path


@pytest.mark.parametrize("url", ["/registry/", "/feeds/", "/robots.txt", "/sitemap.xml", "/favicon.ico"])
def test_the_new_documents_answer_head_and_refuse_other_methods(client, url):
    make_package("berlin", "budget")
    get, head = client.get(url), client.head(url)
    assert head.status_code == 200 and head.content == b"" and head["Content-Type"] == get["Content-Type"]
    assert client.post(url).status_code == 405 and client.options(url).status_code == 405
