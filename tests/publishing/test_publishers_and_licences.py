"""Who publishes a package and under which licence, as data.json, the feed and the package page say it; and the
period each feed entry states."""

import json

import pytest
from django.db import IntegrityError, transaction
from lxml import etree  # type: ignore[import-untyped]
from lxml import html as lxml_html

from conversion.organisations import Organisation, OrganisationOwner
from publishing import discovery
from publishing.caching import catalog_version, forget_all
from publishing.models import PublishedPackage
from tests.factories import make_package

pytestmark = pytest.mark.django_db
PDDL = "https://opendatacommons.org/licenses/pddl/1-0/"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
ATOM = {"a": "http://www.w3.org/2005/Atom", "dcterms": "http://purl.org/dc/terms/"}


def organisation(name: str, *owners: str, email: str = "", url: str = "", default: bool = False) -> Organisation:
    made = Organisation.objects.create(name=name, email=email, url=url, is_default=default)
    for owner in owners:
        OrganisationOwner.objects.create(organisation=made, owner=owner)
    return made


def datasets(client) -> dict[str, dict]:
    """data.json's datasets by `<owner>/<name>`, the feed's and the bulk files' by their title."""
    response = client.get("/data.json")
    assert response.status_code == 200
    found = json.loads(response.content)["dataset"]
    return {d["identifier"].partition("/packages/")[2].strip("/") or d["title"]: d for d in found}


def with_licence(package: PublishedPackage, *licences: dict[str, str]) -> PublishedPackage:
    package.descriptor = {**package.descriptor, "licenses": list(licences)}
    package.save(update_fields=["descriptor"])
    return package


def test_the_publisher_is_the_owners_organisation_else_the_setting(client, settings):
    settings.PUBLIC_PUBLISHER_NAME = "The site"
    make_package("pwright", "budget")
    make_package("kmueller", "haushalt")
    organisation("Lindenau council", "kmueller", email="data@lindenau.example.org")
    found = datasets(client)
    assert {name: d["publisher"]["name"] for name, d in found.items()} == {
        "kmueller/haushalt": "Lindenau council",
        "pwright/budget": "The site",
        "Migrated OpenSpending packages: updates feed": "The site",
        "Migrated OpenSpending packages: bulk downloads": "The site",
    }
    assert found["kmueller/haushalt"]["contactPoint"] == {
        "@type": "vcard:Contact",
        "fn": "Lindenau council",
        "hasEmail": "mailto:data@lindenau.example.org",
    }


def test_an_owner_in_no_organisation_publishes_as_the_default_one(client, settings):
    settings.PUBLIC_PUBLISHER_NAME = "The site"
    make_package("pwright", "budget")
    organisation("Open Knowledge", default=True)
    organisation("Lindenau council", "kmueller")
    found = datasets(client)
    assert found["pwright/budget"]["publisher"] == {"@type": "org:Organization", "name": "Open Knowledge"}
    assert found["Migrated OpenSpending packages: updates feed"]["publisher"]["name"] == "Open Knowledge"


def test_the_contact_email_falls_back_to_the_setting_and_is_left_out_without_one(client, settings):
    make_package("pwright", "budget")
    organisation("Open Knowledge", "pwright")
    assert "hasEmail" not in datasets(client)["pwright/budget"]["contactPoint"]
    settings.PUBLIC_CONTACT_EMAIL = "help@example.org"
    forget_all()  # a setting changes with a restart, which starts with nothing remembered
    assert datasets(client)["pwright/budget"]["contactPoint"]["hasEmail"] == "mailto:help@example.org"


def test_the_licence_is_the_descriptors_else_the_default(client, settings):
    make_package("pwright", "budget")
    with_licence(make_package("pwright", "spending"), {"name": "CC-BY-4.0", "path": CC_BY, "title": "CC BY 4.0"})
    with_licence(make_package("pwright", "odd"), {"name": "custom", "path": "javascript:alert(1)"})
    found = datasets(client)
    assert found["pwright/budget"]["license"] == PDDL
    assert found["pwright/spending"]["license"] == CC_BY
    assert "license" not in found["pwright/odd"], "a licence named without a web address is not made up"
    settings.PACKAGE_LICENSE = "CC0-1.0"
    assert discovery.licence_url(None) == "https://creativecommons.org/publicdomain/zero/1.0/"


def test_a_change_to_the_organisations_raises_the_catalogue_version():
    version = catalog_version()
    assert version is not None
    council = organisation("Lindenau council", "kmueller")
    assert catalog_version() == version + 2  # the organisation, then its owner
    council.email = "data@lindenau.example.org"
    council.save()
    OrganisationOwner.objects.filter(owner="kmueller").delete()
    assert catalog_version() == version + 4
    assert discovery.catalog_publishers().of("kmueller").name == "OpenSpending"


def test_data_json_follows_a_change_to_the_organisations_at_once(client):
    make_package("kmueller", "haushalt")
    assert datasets(client)["kmueller/haushalt"]["publisher"]["name"] == "OpenSpending"
    organisation("Lindenau council", "kmueller")
    assert datasets(client)["kmueller/haushalt"]["publisher"]["name"] == "Lindenau council"


def test_at_most_one_organisation_is_the_default():
    organisation("Open Knowledge", default=True)
    organisation("Lindenau council")
    with pytest.raises(IntegrityError), transaction.atomic():
        organisation("Another", default=True)


def test_an_owner_belongs_to_one_organisation_at_most():
    organisation("Open Knowledge", "pwright")
    with pytest.raises(IntegrityError), transaction.atomic():
        organisation("Lindenau council", "pwright")


def test_each_feed_entry_states_its_period_in_words_and_as_a_dcmi_period(client):
    make_package("berlin", "budget", description="The city budget.")
    feed = etree.fromstring(client.get("/feeds/packages.atom").content)
    entry = feed.xpath("a:entry", namespaces=ATOM)[0]
    summary = entry.xpath("a:summary/text()", namespaces=ATOM)[0]
    assert summary == "The city budget.\n\nPeriod covered: 2014-01-01 to 2015-12-31."
    period = entry.xpath("dcterms:temporal/text()", namespaces=ATOM)
    assert period == ["start=2014-01-01; end=2015-12-31; scheme=W3C-DTF"]


def test_a_feed_entry_without_a_period_states_none(client):
    package = make_package("berlin", "budget")
    package.descriptor = {key: value for key, value in package.descriptor.items() if key != "fiscalPeriod"}
    package.save(update_fields=["descriptor"])
    entry = etree.fromstring(client.get("/feeds/packages.atom").content).xpath("a:entry", namespaces=ATOM)[0]
    assert not entry.xpath("dcterms:temporal | a:summary", namespaces=ATOM)


def test_the_package_page_names_the_publisher_and_links_the_licence(client):
    package = with_licence(make_package("pwright", "budget"), {"name": "CC-BY-4.0", "path": CC_BY, "title": "CC BY"})
    package.descriptor["contributors"] = [{"title": "Open Knowledge", "role": "publisher"}]
    package.save(update_fields=["descriptor"])
    about = lxml_html.fromstring(client.get("/packages/pwright/budget/").content).xpath("//dl[@class='facts']")[0]
    facts = dict(zip(about.xpath("dt/text()"), about.xpath("dd"), strict=True))
    assert facts["Publisher"].text_content() == "Open Knowledge"
    assert [(a.text, a.get("href"), a.get("rel")) for a in facts["Licence"].xpath("a")] == [("CC BY", CC_BY, "license")]


def test_a_package_page_without_a_stated_licence_shows_the_default_and_the_owner(client):
    make_package("pwright", "budget")
    about = lxml_html.fromstring(client.get("/packages/pwright/budget/").content).xpath("//dl[@class='facts']")[0]
    facts = dict(zip(about.xpath("dt/text()"), about.xpath("dd"), strict=True))
    assert facts["Publisher"].text_content() == "pwright"
    assert facts["Licence"].xpath("a/@href") == [PDDL]
