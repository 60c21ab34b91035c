"""The styled 404 and 500 pages as visitors see them with DEBUG off, and old openspending.org links to datasets that
have no package: 410 for a public dataset a migration admin excluded, the unknown name's 404 for everything else."""

import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.test import Client
from lxml import html  # type: ignore[import-untyped]

from conversion.models import DatasetDecision
from datasets.models import LegacyDataset
from tests.factories import make_package

pytestmark = pytest.mark.django_db
Choice = DatasetDecision.Choice


@pytest.fixture
def visitor(settings):
    """A client as production answers it: DEBUG off, exceptions turned into the 500 page instead of raised."""
    settings.DEBUG = False
    return Client(raise_request_exception=False)


def offers_search_and_home(tree) -> None:
    form = tree.xpath("//main//form[@role='search']")[0]
    assert form.get("action") == "/packages/" and form.get("method") == "get"
    assert form.xpath(".//input[@type='search']/@name") == ["q"]  # the list's own parameter
    assert "/" in tree.xpath("//main//a/@href")
    assert tree.xpath("//head/link[@rel='stylesheet']")[0].get("href").endswith("publishing/site.css")


def test_a_missing_page_is_the_styled_404_with_a_search_form_and_a_link_home(visitor):
    response = visitor.get("/packages/nobody/nothing/")
    assert response.status_code == 404
    tree = html.fromstring(response.content)
    assert tree.xpath("//h1")[0].text_content() == "Page not found"
    offers_search_and_home(tree)
    assert "nobody" not in response.content.decode()  # nothing of the request is echoed
    head = visitor.head("/packages/nobody/nothing/")
    assert head.status_code == 404 and head.content == b""


def test_the_500_page_renders_while_the_database_is_down(visitor):
    refused = []

    def database_down(execute, sql, params, many, context):
        refused.append(sql)
        raise OperationalError("connection refused")

    with connection.execute_wrapper(database_down):
        response = visitor.get("/packages/")
    assert refused, "the page asked the database, so it met the outage"
    assert response.status_code == 500
    tree = html.fromstring(response.content)
    assert "Something went wrong" in tree.xpath("//h1")[0].text_content()
    offers_search_and_home(tree)


def test_the_404_and_500_pages_ask_the_database_nothing(visitor, django_assert_num_queries):
    from django.test import RequestFactory
    from django.views.defaults import page_not_found, server_error

    request = RequestFactory().get("/x")
    with django_assert_num_queries(0):
        assert server_error(request).status_code == 500
        assert page_not_found(request, Exception("x")).status_code == 404


# -- old openspending.org links ---------------------------------------------------------------------------------------


def legacy_dataset(name: str, *, private: bool = False, decision: str = "") -> LegacyDataset:
    """A dataset with a title, an owner and a reason that no page may show."""
    dataset = LegacyDataset.objects.create(name=name, label="Secret budget of the ministry", private=private)
    if decision:
        DatasetDecision.objects.create(dataset=dataset, decision=decision, reason="a confidential reason", owner="spy")
    return dataset


def test_a_public_dataset_excluded_from_the_migration_is_gone_with_its_name_only(visitor):
    legacy_dataset("kenya-budget-2012", decision=Choice.EXCLUDE)
    for path in ("/kenya-budget-2012", "/kenya-budget-2012/", "/kenya-budget-2012/entries?page=2"):
        response = visitor.get(path)
        assert response.status_code == 410, path
        tree = html.fromstring(response.content)
        assert tree.xpath("//h1")[0].text_content() == "This dataset was not migrated"
        assert tree.xpath("//main//code[@class='legacy-name']")[0].text_content() == "kenya-budget-2012"
        text = response.content.decode()
        for secret in ("Secret budget", "confidential", "spy"):
            assert secret not in text
        offers_search_and_home(tree)
    head = visitor.head("/kenya-budget-2012")
    assert head.status_code == 410 and head.content == b""


def test_the_gone_page_escapes_the_name(visitor):
    legacy_dataset('budget"<script>alert(1)', decision=Choice.EXCLUDE)
    response = visitor.get("/budget%22%3Cscript%3Ealert(1)")
    assert response.status_code == 410
    assert b"<script>" not in response.content and b"budget&quot;&lt;script&gt;alert(1)" in response.content


@pytest.mark.parametrize(
    ("private", "decision"),
    [
        (True, ""),  # private on the legacy platform
        (True, Choice.EXCLUDE),  # private there, and excluded
        (True, Choice.MIGRATE_PRIVATE),
        (False, Choice.MIGRATE_PRIVATE),  # public there, decided to be kept private
        (False, ""),  # public, not published yet
        (False, Choice.MIGRATE_PUBLIC),  # decided public, not published yet
    ],
)
def test_every_other_unpublished_dataset_answers_the_unknown_names_404_byte_for_byte(visitor, private, decision):
    legacy_dataset("ministry-secret", private=private, decision=decision)
    unknown = visitor.get("/no-such-dataset")
    hidden = visitor.get("/ministry-secret")
    assert unknown.status_code == hidden.status_code == 404
    assert hidden.content == unknown.content
    assert {k: v for k, v in hidden.items()} == {k: v for k, v in unknown.items()}
    unknown_deep, hidden_deep = visitor.get("/no-such-dataset/entries"), visitor.get("/ministry-secret/entries")
    assert hidden_deep.status_code == 404 and hidden_deep.content == unknown_deep.content == unknown.content


def test_a_withdrawn_package_of_a_public_dataset_answers_the_unknown_names_404(visitor):
    make_package("leeds", "spend", legacy_name="leeds-spend", withdrawn=True)
    assert visitor.get("/leeds-spend").content == visitor.get("/no-such-dataset").content


@pytest.mark.parametrize(
    "path",
    [
        "/%00budget",  # NUL: PostgreSQL refuses it in a query
        "/" + "a" * 10_000,
        "/%E2%80%AEbudget",  # a right-to-left override
        "/%20budget",
        "/..%2F..%2Fetc",
        "/.hidden",
        "/%F0%9F%92%B0",  # an emoji: a possible name, just unknown
    ],
)
def test_odd_legacy_names_answer_the_plain_404(visitor, path):
    response = visitor.get(path)
    assert response.status_code == 404
    assert response.content == visitor.get("/no-such-dataset").content
