"""Only http(s) URLs become links: the shared check, and the datasets admin fed a dump with script URLs."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from lxml import html  # type: ignore[import-untyped]

from datasets.links import link_or_text
from datasets.models import LegacyDataset
from migration_site.lib.web_links import http_url
from tests.datasets.hostile_links import DATASET, LEGACY_PAGE, SOURCE, first_source_id, poison

NOT_WEB_LINKS = [
    "javascript:alert(document.cookie)",
    "JAVASCRIPT:alert(1)",
    " javascript:alert(1)",
    "\x01javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "javascript\u200b:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://ftp.example.org/budget.csv",
    "//evil.example/budget.csv",
    "/budget.csv",
    "budget.csv",
    "http:/budget.csv",
    "http://",
    "https:evil.example",
    "http:\\\\evil.example",
    "https://example.org/budget\n.csv",
    "https://example.org/bud get.csv",
    "https://example.org/\u202ecsv.exe",
    "http://[::1/",
    "",
    "   ",
    None,
    42,
]


@pytest.mark.parametrize("value", NOT_WEB_LINKS)
def test_anything_but_an_absolute_http_url_with_a_host_is_refused(value):
    assert http_url(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://openspending.org/lindenau-haushalt", "https://openspending.org/lindenau-haushalt"),
        (" http://example.org/a.csv?year=2012&x=1\n", "http://example.org/a.csv?year=2012&x=1"),
        ("HTTPS://Example.org/A.csv", "HTTPS://Example.org/A.csv"),
        ("http://127.0.0.1:5000/files/a.csv", "http://127.0.0.1:5000/files/a.csv"),
        ("https://[2001:db8::1]/a.csv", "https://[2001:db8::1]/a.csv"),
    ],
)
def test_an_absolute_http_url_is_accepted_stripped(value, expected):
    assert http_url(value) == expected


@pytest.mark.parametrize("value", [v for v in NOT_WEB_LINKS if isinstance(v, str) and v.strip()])
def test_a_value_that_is_not_a_web_link_is_shown_as_escaped_text(value):
    shown = str(link_or_text(value))
    assert "<a" not in shown and "href" not in shown
    assert "not a web link" in shown
    assert "<script>" not in shown  # the data: URL's markup is escaped, not injected


def test_a_web_link_is_an_anchor_that_sends_no_referrer():
    shown = str(link_or_text('https://example.org/a.csv?x=1&y="2"'))
    assert shown == (
        '<a href="https://example.org/a.csv?x=1&amp;y=&quot;2&quot;" rel="noreferrer noopener">'
        "https://example.org/a.csv?x=1&amp;y=&quot;2&quot;</a>"
    )
    assert str(link_or_text("", "nothing")) == "nothing" and str(link_or_text(None)) == "-"


# -- the datasets admin ---------------------------------------------------------------------------------------------


def import_dump(dump):
    call_command("import_legacy", str(dump), stdout=StringIO())


def change_page(client, dataset):
    response = client.get(reverse("admin:datasets_legacydataset_change", args=[dataset.pk]))
    assert response.status_code == 200
    return response.content.decode(), html.fromstring(response.content)


def unsafe_targets(tree):
    """Every href/src/action on the page that is neither an http(s) URL nor a path on this site."""
    targets = [str(value) for value in tree.xpath("//@href | //@src | //@action | //@formaction")]
    return [t for t in targets if not (http_url(t) or (t.startswith(("/", "#", "?")) and not t.startswith("//")))]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "hostile",
    [LEGACY_PAGE, " JavaScript:alert(1)", "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>"],
)
def test_a_script_url_in_the_legacy_page_or_a_source_is_never_a_link_on_the_change_page(
    admin_client, sample_dump, hostile
):
    poison(sample_dump, legacy_page=hostile, source=hostile)
    import_dump(sample_dump)
    dataset = LegacyDataset.objects.get(name=DATASET)
    assert dataset.legacy_url == hostile  # stored as harvested: nothing is lost

    page, tree = change_page(admin_client, dataset)

    assert unsafe_targets(tree) == []
    assert not [a for a in tree.xpath("//a") if "script" in a.get("href", "").lower()]
    legacy_field = tree.xpath("//div[contains(@class, 'field-legacy_link')]")[0].text_content()
    assert hostile.strip() in legacy_field and "not a web link" in legacy_field
    source_cell = tree.xpath("//td[contains(@class, 'field-source_url')]")[0].text_content()
    assert hostile.strip() in source_cell and "not a web link" in source_cell
    assert "<script>" not in page


@pytest.mark.django_db
def test_the_import_records_each_address_that_is_not_a_web_link_as_a_harvest_problem(admin_client, sample_dump):
    poison(sample_dump)
    import_dump(sample_dump)
    dataset = LegacyDataset.objects.get(name=DATASET)

    problems = [p["problem"] for p in dataset.harvest_problems if p["step"] == "links"]
    assert problems == [
        f"the legacy page address {LEGACY_PAGE!r} is not an http(s) URL: it is shown as text, never as a link",
        f"source {first_source_id(sample_dump)}: its address {SOURCE!r} is not an http(s) URL: it is shown as text, "
        "never as a link",
    ]
    harvest = change_page(admin_client, dataset)[1].xpath("//div[contains(@class, 'field-harvest_problems_list')]")
    assert all(problem in harvest[0].text_content() for problem in problems)
    others = LegacyDataset.objects.exclude(name=DATASET)
    assert not [d.name for d in others if any(p.get("step") == "links" for p in d.harvest_problems)]


@pytest.mark.django_db
def test_a_web_address_stays_a_link_and_a_fixed_address_clears_the_problem(admin_client, sample_dump):
    document = sample_dump / DATASET / "dataset.json"
    original = document.read_text(encoding="utf-8")
    poison(sample_dump)
    import_dump(sample_dump)
    assert [p for p in LegacyDataset.objects.get(name=DATASET).harvest_problems if p["step"] == "links"]
    document.write_text(original, encoding="utf-8")  # the next harvest finds web addresses again

    import_dump(sample_dump)

    dataset = LegacyDataset.objects.get(name=DATASET)
    assert not [p for p in dataset.harvest_problems if p["step"] == "links"]
    tree = change_page(admin_client, dataset)[1]
    links = tree.xpath("//div[contains(@class, 'field-legacy_link')]//a")
    assert [(a.get("href"), a.get("rel")) for a in links] == [(dataset.legacy_url, "noreferrer noopener")]
    assert dataset.legacy_url.startswith("http://127.0.0.1:")
    source_links = tree.xpath("//td[contains(@class, 'field-source_url')]//a/@href")
    assert source_links and all(http_url(href) for href in source_links)
