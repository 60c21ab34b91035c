"""/data.json: a DCAT-US v1.1 (non-federal) catalogue that validates offline against the schemas in ../shared."""

import json

import pytest
from jsonschema import Draft4Validator, FormatChecker  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.conftest import SHARED_DIR
from tests.factories import make_package, when

pytestmark = pytest.mark.django_db
SCHEMAS = SHARED_DIR / "specs" / "dcat-us" / "non-federal-v1.1"


def validator(schema_file: str) -> Draft4Validator:
    """The folder's schemas registered under their own ids, so every `$ref` resolves locally (never the network)."""
    resources = []
    for path in sorted(SCHEMAS.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        resources.append((document["id"].rstrip("#"), Resource.from_contents(document, default_specification=DRAFT4)))
    schema = json.loads((SCHEMAS / schema_file).read_text(encoding="utf-8"))
    checker = FormatChecker()
    assert "uri" in checker.checkers, "install rfc3987, or format: uri is silently not checked"
    return Draft4Validator(schema, registry=Registry().with_resources(resources), format_checker=checker)


def catalogue_validator() -> Draft4Validator:
    return validator("catalog.json")


def dataset_validator() -> Draft4Validator:
    """The per-dataset check data.gov's harvester runs (ckanext-datajson `_validate_dataset`)."""
    return validator("dataset-non-federal.json")


def problems(validator, document):
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def get_catalogue(client, url="/data.json"):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response, json.loads(response.content)


@pytest.fixture
def packages():
    return [
        make_package("berlin", "budget", description="Berlin's budget, 2014-2015.", category="budget"),
        make_package(
            "leeds", "spend", country="GB", currency="GBP", category="spending", years=[2015], modified_at=when(2024, 5)
        ),
        make_package("paris", "depenses", description="", country="", category="", years=[]),
    ]


@pytest.mark.shared
def test_data_json_validates_against_the_non_federal_v1_1_schema(client, packages):
    _, catalogue = get_catalogue(client)
    assert problems(catalogue_validator(), catalogue) == []
    each = dataset_validator()
    for dataset in catalogue["dataset"]:
        assert problems(each, dataset) == [], dataset["identifier"]


@pytest.mark.shared
def test_an_empty_catalogue_is_valid_too(client):
    _, catalogue = get_catalogue(client)
    assert problems(catalogue_validator(), catalogue) == []
    assert [d["identifier"].rsplit("/", 2)[-2] for d in catalogue["dataset"]] == ["feeds", "bulk"]


@pytest.mark.shared
def test_the_validator_would_catch_a_broken_catalogue(client, packages):
    _, catalogue = get_catalogue(client)
    broken = json.loads(json.dumps(catalogue))
    broken["dataset"][0]["accessLevel"] = "open"
    broken["dataset"][0]["distribution"][1].pop("mediaType")
    broken["dataset"][0]["landingPage"] = "not a uri"
    assert len(problems(catalogue_validator(), broken)) == 3


def test_the_catalogue_header_is_what_harvesters_require(client, packages):
    _, catalogue = get_catalogue(client)
    assert catalogue["conformsTo"] == "https://project-open-data.cio.gov/v1.1/schema"
    assert catalogue["@type"] == "dcat:Catalog"
    assert catalogue["@id"].endswith("/data.json")
    identifiers = [dataset["identifier"] for dataset in catalogue["dataset"]]
    assert len(identifiers) == len(set(identifiers))


def test_each_package_is_a_dataset_with_its_permanent_url_keywords_and_distributions(client, packages, settings):
    settings.PUBLIC_BASE_URL = "https://data.example.org"
    _, catalogue = get_catalogue(client)
    berlin = catalogue["dataset"][0]
    url = "https://data.example.org/packages/berlin/budget/"
    assert berlin["identifier"] == url and berlin["landingPage"] == url
    assert berlin["keyword"] == ["fiscal-data-package", "openspending", "budget", "DE", "EUR"]
    assert berlin["modified"] == "2024-03-15T12:00:00Z" and berlin["accessLevel"] == "public"
    assert berlin["temporal"] == "2014-01-01/2015-12-31" and berlin["spatial"] == "DE"
    assert berlin["describedBy"] == url + "datapackage.json"
    page, data = berlin["distribution"]
    assert page["accessURL"] == url and page["mediaType"] == "text/html"
    key = packages[0].data_keys[0].rsplit("/", 1)[1]
    assert data["downloadURL"] == f"{url}data/{key}" and data["mediaType"] == "text/csv"
    assert data["describedBy"] == url + "datapackage.json"
    assert berlin["references"] == ["https://openspending.org/berlin-budget"]


def test_missing_descriptions_and_years_still_give_a_complete_dataset(client, packages):
    _, catalogue = get_catalogue(client)
    paris = next(d for d in catalogue["dataset"] if d["identifier"].endswith("/paris/depenses/"))
    assert paris["description"] == paris["title"]
    assert paris["keyword"] == ["fiscal-data-package", "openspending", "EUR"]
    assert paris["temporal"] == "2014-01-01/2015-12-31"  # the descriptor's fiscal period


def test_the_feed_is_a_dataset_with_the_feed_keyword(client, packages):
    _, catalogue = get_catalogue(client)
    feed = next(d for d in catalogue["dataset"] if "fiscal-data-package-feed" in d["keyword"])
    assert feed["distribution"][0]["accessURL"].endswith("/feeds/packages.atom")
    assert feed["distribution"][0]["mediaType"] == "application/atom+xml"
    assert feed["modified"] == "2024-05-15T12:00:00Z"  # the newest package change


def test_the_document_is_deterministic_and_ignores_paging(client, packages):
    first, _ = get_catalogue(client)
    second, _ = get_catalogue(client)
    paged, _ = get_catalogue(client, "/data.json?page=2")
    assert first.content == second.content == paged.content


def test_data_json_costs_four_queries(client, packages, django_assert_num_queries):
    # The catalogue version (read once for every value remembered per version), its validators, the organisations
    # (the publishers), the packages (no descriptor).
    with django_assert_num_queries(4):
        client.get("/data.json")


def test_head_gives_the_headers_without_a_body(client, packages):
    response = client.head("/data.json")
    assert response.status_code == 200 and response.content == b""
    assert response["ETag"] and response["Last-Modified"]


@pytest.mark.shared
def test_data_json_of_the_published_sample_instance_validates(client, converted):
    from tests.publishing.conftest import PUBLIC, publish

    publish("--all-ready")
    _, catalogue = get_catalogue(client)
    assert problems(catalogue_validator(), catalogue) == []
    assert len([d for d in catalogue["dataset"] if "/packages/" in d["identifier"]]) == len(PUBLIC)
