"""/feeds/packages.atom and its monthly archives: the RFC 4287 and RFC 5005 rules of research
publishing-and-discovery.md §2, asserted on the XML itself, and what a reader (feedparser) makes of it."""

import re

import feedparser  # type: ignore[import-untyped]
import pytest
from lxml import etree  # type: ignore[import-untyped]

from tests.factories import make_package, when

pytestmark = pytest.mark.django_db
NS = {"a": "http://www.w3.org/2005/Atom", "fh": "http://purl.org/syndication/history/1.0"}
BASE = "https://data.example.org"
FEED = f"{BASE}/feeds/packages.atom"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
PAGING = {"first", "last", "previous", "prev", "next"}
HISTORY = {"current", "prev-archive", "next-archive"}


@pytest.fixture(autouse=True)
def _base(settings):
    settings.PUBLIC_BASE_URL = BASE
    settings.FEED_SUBSCRIPTION_SIZE = 1


@pytest.fixture
def history():
    """Two closed months with publications (January, February 2024), an empty March, and April still open."""
    return {
        "jan-a": make_package("jan", "a", published_at=when(2024, 1, 5), country="DE", category="budget"),
        "jan-b": make_package("jan", "b", published_at=when(2024, 1, 20), country="FR", category="spending"),
        "feb": make_package("feb", "c", published_at=when(2024, 2, 10), country="GB"),
        "apr": make_package("apr", "d", published_at=when(2024, 4, 2)),
    }


def fetch(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    return response, etree.fromstring(response.content)


def links(node, rel):
    return node.xpath(f"a:link[@rel='{rel}']/@href", namespaces=NS)


def entry_ids(feed):
    return feed.xpath("a:entry/a:id/text()", namespaces=NS)


def assert_rfc4287(feed, self_url):
    """The feed-level and entry-level must-haves of RFC 4287 §4.1-4.2 (research §2.4)."""
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    for name in ("id", "title", "updated"):
        assert len(feed.xpath(f"a:{name}", namespaces=NS)) == 1, name
    assert feed.xpath("a:id/text()", namespaces=NS)[0].startswith("https://")
    assert RFC3339.match(feed.xpath("a:updated/text()", namespaces=NS)[0])
    assert feed.xpath("a:author/a:name/text()", namespaces=NS)
    assert links(feed, "self") == [self_url]
    alternates = [
        (link.get("type"), link.get("hreflang")) for link in feed.xpath("a:link[@rel='alternate']", namespaces=NS)
    ]
    assert len(alternates) == len(set(alternates))
    assert not PAGING & set(feed.xpath("a:link/@rel", namespaces=NS)), "an archived feed is not a paged feed"
    ids = entry_ids(feed)
    assert len(ids) == len(set(ids))
    for entry in feed.xpath("a:entry", namespaces=NS):
        assert_entry(entry)


def assert_entry(entry):
    for name in ("id", "title", "updated"):
        assert len(entry.xpath(f"a:{name}", namespaces=NS)) == 1, name
    entry_id = entry.xpath("a:id/text()", namespaces=NS)[0]
    assert re.match(rf"^{BASE}/packages/[^/]+/[^/]+/$", entry_id), "the permanent package URL"
    assert RFC3339.match(entry.xpath("a:updated/text()", namespaces=NS)[0])
    alternate = entry.xpath("a:link[@rel='alternate']", namespaces=NS)
    assert len(alternate) == 1 and alternate[0].get("type") == "text/html" and alternate[0].get("href") == entry_id
    for link in entry.xpath("a:link", namespaces=NS):
        assert link.get("rel") and link.get("type"), "rel and type kept on every entry link (feedgen #135)"
        assert link.get("rel") not in HISTORY | PAGING, "no RFC 5005 relation inside an entry"
    for category in entry.xpath("a:category", namespaces=NS):
        assert category.get("term") and category.get("scheme").startswith(BASE) and category.get("label")


def test_the_subscription_document_is_valid_atom_with_a_prev_archive_link(client, history):
    _, feed = fetch(client, "/feeds/packages.atom")
    assert_rfc4287(feed, FEED)
    assert feed.xpath("a:id/text()", namespaces=NS) == [FEED]
    assert links(feed, "prev-archive") == [f"{BASE}/feeds/archive/2024-02.atom"]
    assert not links(feed, "next-archive") and not links(feed, "current")
    assert not feed.xpath("fh:archive | fh:complete", namespaces=NS)
    assert entry_ids(feed) == [f"{BASE}/packages/apr/d/"]


def test_entries_carry_links_with_rel_and_type_and_a_category_per_country_and_category(client, history):
    _, feed = fetch(client, "/feeds/archive/2024-01.atom")
    entry = feed.xpath("a:entry[a:id='https://data.example.org/packages/jan/a/']", namespaces=NS)[0]
    enclosure = entry.xpath("a:link[@rel='enclosure']", namespaces=NS)[0]
    package = history["jan-a"]
    assert enclosure.get("type") == "text/csv" and enclosure.get("length") == str(package.bytes)
    assert enclosure.get("href").startswith(f"{BASE}/packages/jan/a/data/")
    categories = {(c.get("term"), c.get("scheme")) for c in entry.xpath("a:category", namespaces=NS)}
    assert categories == {("DE", f"{BASE}/packages/?country="), ("budget", f"{BASE}/packages/?category=")}
    assert entry.xpath("a:published/text()", namespaces=NS) == ["2024-01-05T12:00:00+00:00"]


def test_archives_are_months_linked_to_their_neighbours_and_to_the_current_document(client, history):
    _, january = fetch(client, "/feeds/archive/2024-01.atom")
    _, february = fetch(client, "/feeds/archive/2024-02.atom")
    for month, feed in (("2024-01", january), ("2024-02", february)):
        assert_rfc4287(feed, f"{BASE}/feeds/archive/{month}.atom")
        assert len(feed.xpath("fh:archive", namespaces=NS)) == 1
        assert links(feed, "current") == [FEED]
        assert feed.xpath("a:id/text()", namespaces=NS) == [FEED], "one logical feed, one id"
    assert links(january, "prev-archive") == [] and links(january, "next-archive") == [
        f"{BASE}/feeds/archive/2024-02.atom"
    ]
    assert (
        links(february, "prev-archive") == [f"{BASE}/feeds/archive/2024-01.atom"]
        and links(february, "next-archive") == []
    )
    assert sorted(entry_ids(january)) == [f"{BASE}/packages/jan/a/", f"{BASE}/packages/jan/b/"]


def test_only_closed_months_with_publications_are_archives(client, history):
    assert client.get("/feeds/archive/2024-03.atom").status_code == 404  # nothing published in March
    assert client.get("/feeds/archive/2024-04.atom").status_code == 404  # still open: in the subscription document
    assert client.get("/feeds/archive/2024-13.atom").status_code == 404
    assert client.get("/feeds/archive/latest.atom").status_code == 404


def test_walking_prev_archive_from_the_subscription_document_finds_every_package(client, history):
    """RFC 5005 §4.2: follow prev-archive to the start; the union of entries is the logical feed."""
    found, url, seen = set(), FEED, []
    while url:
        _, feed = fetch(client, url.removeprefix(BASE))
        seen.append(url)
        found |= set(entry_ids(feed))
        url = (links(feed, "prev-archive") or [None])[0]
    assert len(seen) == 3
    assert found == {f"{BASE}/packages/{p.owner}/{p.name}/" for p in history.values()}


def test_a_closed_archive_keeps_its_entries_when_later_packages_are_published(client, history):
    before = fetch(client, "/feeds/archive/2024-02.atom")[0]
    make_package("may", "e", published_at=when(2024, 5, 1))
    _, after = fetch(client, "/feeds/archive/2024-02.atom")
    assert entry_ids(after) == entry_ids(etree.fromstring(before.content))
    assert links(after, "next-archive") == [f"{BASE}/feeds/archive/2024-04.atom"]  # April closed when May opened
    assert fetch(client, "/feeds/archive/2024-04.atom")[1] is not None


def test_an_updated_package_reappears_in_the_subscription_document(client, history):
    package = history["jan-a"]
    package.modified_at = when(2024, 6, 1)
    package.save()
    _, feed = fetch(client, "/feeds/packages.atom")
    assert entry_ids(feed) == [f"{BASE}/packages/jan/a/", f"{BASE}/packages/apr/d/"]
    assert feed.xpath("a:updated/text()", namespaces=NS) == ["2024-06-01T12:00:00+00:00"]


def test_an_empty_feed_is_stable(client):
    first, feed = fetch(client, "/feeds/packages.atom")
    assert_rfc4287(feed, FEED)
    assert client.get("/feeds/packages.atom").content == first.content
    assert not links(feed, "prev-archive")


def test_feedparser_reads_the_documents_as_well_formed_atom_with_their_history(client, history):
    parsed = feedparser.parse(client.get("/feeds/archive/2024-02.atom").content)
    assert parsed.bozo == 0 and parsed.version == "atom10"
    assert "fh_archive" in parsed.feed
    rels = {(link["rel"], link["href"]) for link in parsed.feed.links}
    assert ("current", FEED) in rels and ("prev-archive", f"{BASE}/feeds/archive/2024-01.atom") in rels
    entry = parsed.entries[0]
    assert entry.id == f"{BASE}/packages/feb/c/" and entry.link == entry.id
    assert (entry.tags[0].term, entry.tags[0].scheme) == ("GB", f"{BASE}/packages/?country=")
    assert any(link["rel"] == "enclosure" and link["type"] == "text/csv" for link in entry.links)
    subscription = feedparser.parse(client.get("/feeds/packages.atom").content)
    assert subscription.bozo == 0 and "fh_archive" not in subscription.feed
