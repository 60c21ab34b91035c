"""data.json against what data.gov's harvester checks today: GSA/datagov-harvester validates every dataset of a
"dcatus1.1: non-federal" source with its `schemas/dcatus1.1/non-federal_dataset.json` (JSON Schema 2020-12, with a
FormatChecker), which, unlike the 2014 non-federal schemas in ../shared/specs/dcat-us/, requires `keyword`,
`modified` and `contactPoint.hasEmail`.

Third-party schema files stay out of the project (../shared/README.md), and ../shared holds only the 2014 ones, so
the harvester's rules that bear on what we write are stated here in our own words (read from the harvester at commit
e04f7de82a54817f18d1a03d66b983c858318ca8, a US government work dedicated to the public domain, CC0 1.0).
"""

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]

from conversion.organisations import Organisation, OrganisationOwner
from publishing.models import PublishedPackage
from tests.publishing.conftest import PUBLIC, publish

pytestmark = pytest.mark.django_db

URI = {"type": "string", "format": "uri"}
TEXT = {"type": "string", "minLength": 1}
# ISO 8601 as data.json writes it: a date, or a date and time with seconds and a zone.
ISO_8601 = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2}))?$"
HARVESTER_RULES: dict[str, Any] = {
    "type": "object",
    "required": [
        "title",
        "description",
        "keyword",
        "modified",
        "publisher",
        "contactPoint",
        "identifier",
        "accessLevel",
    ],
    "properties": {
        "@type": {"const": "dcat:Dataset"},
        "title": TEXT,
        "description": {"type": "string", "minLength": 1, "maxLength": 10000},
        "keyword": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        "modified": {"type": "string", "pattern": ISO_8601},
        "issued": {"type": "string", "pattern": ISO_8601},
        "publisher": {
            "type": "object",
            "required": ["name"],
            "properties": {"@type": {"const": "org:Organization"}, "name": TEXT},
        },
        "contactPoint": {
            "type": "object",
            "required": ["fn", "hasEmail"],
            "properties": {
                "@type": {"const": "vcard:Contact"},
                "fn": TEXT,
                "hasEmail": {"type": "string", "pattern": r"^mailto:[^@\s]+@[^@\s]+\.[^@\s]+$"},
            },
        },
        "identifier": TEXT,
        "accessLevel": {"enum": ["public", "restricted public", "non-public"]},
        "license": URI,
        "landingPage": URI,
        "describedBy": URI,
        "conformsTo": URI,
        "references": {"type": "array", "items": URI, "minItems": 1},
        "temporal": {"type": "string", "pattern": r"^[^/]+/[^/]+$"},
        "theme": {"type": "array", "items": TEXT, "minItems": 1},
        "distribution": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"@type": {"const": "dcat:Distribution"}, "downloadURL": URI, "accessURL": URI},
                "dependentRequired": {"downloadURL": ["mediaType"]},
            },
        },
    },
}
CATALOGUE_RULES: dict[str, Any] = {
    "type": "object",
    "required": ["conformsTo", "dataset"],
    "properties": {
        "@type": {"const": "dcat:Catalog"},
        "conformsTo": {"const": "https://project-open-data.cio.gov/v1.1/schema"},
        "dataset": {"type": "array", "items": HARVESTER_RULES},
    },
}


def problems(schema: dict[str, Any], document: Any) -> list[str]:
    checker = FormatChecker()
    assert "uri" in checker.checkers, "install rfc3987, or format: uri is silently not checked"
    validator = Draft202012Validator(schema, format_checker=checker)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


@pytest.fixture
def catalogue(client, converted, settings) -> dict[str, Any]:
    """The data.json of the published sample instance; one owner publishes as an organisation without an e-mail
    (PUBLIC_CONTACT_EMAIL stands in), the others as the default organisation."""
    settings.PUBLIC_BASE_URL = "https://data.example.org"
    settings.ALLOWED_HOSTS = ["testserver", "data.example.org"]
    settings.PUBLIC_CONTACT_EMAIL = "data@example.org"
    Organisation.objects.create(name="Open Knowledge", email="info@example.org", is_default=True)
    council = Organisation.objects.create(name="Lindenau council", url="https://lindenau.example.org")
    OrganisationOwner.objects.create(organisation=council, owner="kmueller")
    publish("--all-ready")
    response = client.get("/data.json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_published_sample_meets_the_harvester_rules(catalogue):
    assert problems(CATALOGUE_RULES, catalogue) == []
    packages = [dataset for dataset in catalogue["dataset"] if "/packages/" in dataset["identifier"]]
    assert len(packages) >= len(PUBLIC)
    publishers = {dataset["identifier"].split("/")[4]: dataset["publisher"]["name"] for dataset in packages}
    assert publishers["kmueller"] == "Lindenau council"
    assert {name for owner, name in publishers.items() if owner != "kmueller"} == {"Open Knowledge"}
    contacts = {dataset["contactPoint"]["hasEmail"] for dataset in catalogue["dataset"]}
    assert contacts == {"mailto:data@example.org", "mailto:info@example.org"}
    assert {dataset["license"] for dataset in packages} == {"https://opendatacommons.org/licenses/pddl/1-0/"}


def test_the_converted_descriptors_state_their_licence_and_publisher(catalogue):
    for package in PublishedPackage.objects.published():
        assert [licence["name"] for licence in package.descriptor["licenses"]] == ["ODC-PDDL-1.0"], package
        publishers = [person for person in package.descriptor["contributors"] if person["role"] == "publisher"]
        assert [person["title"] for person in publishers] == ["OpenSpending"], "converted before any organisation"


def test_an_empty_catalogue_meets_the_harvester_rules_too(client, settings):
    settings.PUBLIC_CONTACT_EMAIL = "data@example.org"
    catalogue = json.loads(client.get("/data.json").content)
    assert problems(CATALOGUE_RULES, catalogue) == []
    assert {dataset["modified"] for dataset in catalogue["dataset"]} == {"2000-01-01T00:00:00Z"}


@pytest.mark.parametrize("field", ["keyword", "modified", "publisher"])
def test_the_rules_refuse_a_dataset_without_a_required_field(catalogue, field):
    broken = copy.deepcopy(catalogue)
    del broken["dataset"][0][field]
    assert problems(CATALOGUE_RULES, broken) == [f"dataset/0: '{field}' is a required property"]


def test_the_rules_refuse_a_contact_without_an_email_and_a_licence_that_is_no_uri(catalogue):
    broken = copy.deepcopy(catalogue)
    del broken["dataset"][0]["contactPoint"]["hasEmail"]
    broken["dataset"][1]["license"] = "ODC-PDDL-1.0"
    assert problems(CATALOGUE_RULES, broken) == [
        "dataset/0/contactPoint: 'hasEmail' is a required property",
        "dataset/1/license: 'ODC-PDDL-1.0' is not a 'uri'",
    ]
