"""The list's text search also finds a package by its category, its country's name and its publisher."""

import pytest
from lxml import html  # type: ignore[import-untyped]

from conversion.organisations import Organisation, OrganisationOwner
from publishing.countries import codes_named
from tests.factories import hidden_packages, make_package

pytestmark = pytest.mark.django_db


def found(client, query: str) -> list[str]:
    response = client.get("/packages/", {"q": query})
    assert response.status_code == 200
    tree = html.fromstring(response.content)
    return [link.text_content().strip() for link in tree.xpath("//li[@class='package-card']/h3/a")]


@pytest.fixture
def catalogue():
    make_package("nairobi", "budget", title="County budget 2013", country="KE", category="budget")
    make_package("leeds", "spend", title="Council payments", country="GB", category="procurement")
    make_package("abidjan", "budget", title="Budget de la ville", country="CI", category="budget")
    make_package("sucre", "gastos", title="Gastos municipales", country="BO", category="spending")


def test_the_text_finds_the_category(client, catalogue, settings):
    assert found(client, "procure") == ["Council payments"]
    # Not every package: the site's publisher is "OpenSpending", and publishers match at a word's start only.
    assert settings.PUBLIC_PUBLISHER_NAME == "OpenSpending"
    assert found(client, "SPENDING") == ["Gastos municipales"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Kenya", ["County budget 2013"]),
        ("kingdom", ["Council payments"]),
        ("great britain", ["Council payments"]),  # the official name
        ("Bolivia", ["Gastos municipales"]),  # the common name of "Bolivia, Plurinational State of"
        ("cote d'ivoire", ["Budget de la ville"]),  # accents do not count
        ("Côte", ["Budget de la ville"]),
    ],
)
def test_the_text_finds_the_countrys_name(client, catalogue, query, expected):
    assert found(client, query) == expected


def test_country_names_come_from_iso_3166():
    assert codes_named("kenya") == {"KE"}
    assert codes_named("  ") == frozenset()
    assert {"GB", "US"} <= codes_named("united")
    assert "FI" not in codes_named("land") and "FI" in codes_named("fin")  # at the start of a word


def test_the_text_finds_the_publishing_organisation(client, catalogue):
    organisation = Organisation.objects.create(name="Yorkshire Open Data Office")
    OrganisationOwner.objects.create(organisation=organisation, owner="leeds")
    assert found(client, "yorkshire open data") == ["Council payments"]
    assert found(client, "yorkshire") == ["Council payments"]


def test_the_sites_publisher_finds_the_packages_of_owners_in_no_organisation(client, catalogue, settings):
    settings.PUBLIC_PUBLISHER_NAME = "Global Fiscal Archive"
    organisation = Organisation.objects.create(name="Yorkshire Open Data Office")
    OrganisationOwner.objects.create(organisation=organisation, owner="leeds")
    assert found(client, "fiscal archive") == ["Budget de la ville", "County budget 2013", "Gastos municipales"]
    Organisation.objects.create(name="Default Publisher Trust", is_default=True)
    assert found(client, "publisher trust") == ["Budget de la ville", "County budget 2013", "Gastos municipales"]
    assert found(client, "fiscal archive") == []


def test_a_change_of_organisation_changes_what_a_search_finds_and_its_etag(client, catalogue):
    first = client.get("/packages/", {"q": "yorkshire"})
    assert "Council payments" not in first.content.decode()
    organisation = Organisation.objects.create(name="Yorkshire Open Data Office")
    OrganisationOwner.objects.create(organisation=organisation, owner="leeds")
    again = client.get("/packages/", {"q": "yorkshire"}, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 200 and again["ETag"] != first["ETag"]
    assert "Council payments" in again.content.decode()


def test_the_new_fields_find_no_hidden_package(client, catalogue):
    for package in hidden_packages():
        package.country, package.category = "KE", "budget"
        package.save()
    organisation = Organisation.objects.create(name="Secret Service")
    OrganisationOwner.objects.create(organisation=organisation, owner="secret")
    assert found(client, "Kenya") == ["County budget 2013"]
    assert found(client, "secret service") == []


def test_a_search_costs_a_fixed_number_of_queries(client, catalogue, django_assert_max_num_queries):
    client.get("/packages/?q=kenya")  # publishers, remembered per catalogue version
    with django_assert_max_num_queries(4):  # version, validators, the filter columns, the page's packages
        client.get("/packages/?q=kenya&page=1")


def test_control_characters_in_the_search_are_dropped_not_sent_to_the_database(client, catalogue):
    # PostgreSQL refuses a NUL in a query: the page would be a 500 there.
    assert found(client, "Ken\x00ya") == ["County budget 2013"]
    response = client.get("/packages/", {"q": "\x00", "category": "bud\x00get"})
    assert response.status_code == 200
