"""The legacy API's /api/2/aggregate and /api/2/search for old clients, under a migrated dataset's legacy name: each
query asked of the sample legacy instance (a real server on loopback) and of the site, over the package the pipeline
published from it, must get the same answer in everything a client reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest

from conversion.models import ConversionRun
from datasets.sample_legacy.server import PRIVATE_DATASET, SampleLegacyServer
from publishing.models import PublishedPackage
from tests.sample import CONVERTED, SampleSnapshots

pytestmark = pytest.mark.django_db

LINDENAU = "lindenau-haushalt"  # year-only dates, two measures, a compound with an extra attribute, German labels
NORTHFIELD = "northfield-spending-2014"  # days, five compound dimensions, attribute dimensions
UNREPRODUCIBLE = ("id", "taxonomy", "html_url")  # surrogate ids, the mapping's taxonomy, legacy links
AGGREGATE = "/api/2/aggregate"
SEARCH = "/api/2/search"


@pytest.fixture(scope="module")
def legacy() -> Iterator[SampleLegacyServer]:
    with SampleLegacyServer() as server:
        yield server


@pytest.fixture
def published(settings, tmp_path, curator, sample_snapshots: SampleSnapshots):
    """The converted sample with lindenau-haushalt and northfield-spending-2014 published (Parquet copies included)."""
    settings.REDIS_URL = ""
    settings.API_CACHE_DIR = tmp_path / "api-cache"
    sample_snapshots.published.restore()
    assert ConversionRun.objects.succeeded().count() == CONVERTED
    packages = {package.legacy_name: package for package in PublishedPackage.objects.published()}
    assert set(packages) == {LINDENAU, NORTHFIELD}
    assert all(p.descriptor["resources"][0].get("alternates") for p in packages.values()), "published with Parquet"
    return packages


def ask_legacy(server: SampleLegacyServer, path: str, query: dict[str, str]) -> tuple[int, Any]:
    try:
        with urlopen(f"{server.base_url}{path}?{urlencode(query)}", timeout=10) as response:
            return response.status, json.load(response)
    except HTTPError as error:
        return error.code, json.load(error)


def ask(client, path: str, query: dict[str, str]) -> tuple[int, Any]:
    response = client.get(path, query)
    assert response["Content-Type"] == "application/json", response.content[:300]
    return response.status_code, response.json()


def readable(value: Any) -> Any:
    """What a client reads of an answer: without what the package cannot give, sums to the cent's hundredth."""
    if isinstance(value, dict):
        return {key: readable(item) for key, item in value.items() if key not in UNREPRODUCIBLE}
    if isinstance(value, list):
        return [readable(item) for item in value]
    if isinstance(value, float):
        return round(value, 4)
    return value


def readable_search(answer: dict[str, Any]) -> dict[str, Any]:
    """Search results name their dataset by name, label and currency: what the package records of the legacy one."""
    shown = readable(answer)
    for entry in shown["results"]:
        entry["dataset"] = {key: entry["dataset"][key] for key in ("name", "label", "currency")}
    return shown


def same_answer(client, legacy: SampleLegacyServer, path: str, query: dict[str, str]) -> Any:
    legacy_status, legacy_answer = ask_legacy(legacy, path, query)
    status, answer = ask(client, path, query)
    assert (status, legacy_status) == (200, 200), (query, answer, legacy_answer)
    shape = readable_search if path == SEARCH else readable
    assert shape(answer) == shape(legacy_answer), query
    return answer


AGGREGATES = [
    {"dataset": LINDENAU},
    {"dataset": LINDENAU, "drilldown": "year"},
    {"dataset": LINDENAU, "drilldown": "produktbereich"},  # a compound dimension drilled whole: its member dicts
    {"dataset": LINDENAU, "drilldown": "produktbereich.dezernat|ergebnisart", "measure": "amount|ergebnis"},
    {"dataset": LINDENAU, "drilldown": "time", "measure": "ergebnis"},  # year-only dates: 1 January, as stored
    {"dataset": LINDENAU, "cut": "ergebnisart:Erträge", "drilldown": "year"},
    {"dataset": LINDENAU, "cut": "year:2014|produktbereich:01|produktbereich:06", "drilldown": "produktbereich"},
    {"dataset": LINDENAU, "drilldown": "produktbereich", "order": "amount:asc", "pagesize": "4", "page": "2"},
    {"dataset": LINDENAU, "drilldown": "produktbereich.label", "order": "produktbereich.label:desc", "pagesize": "5"},
    {"dataset": LINDENAU, "drilldown": "year|ergebnisart", "order": "year:asc|ergebnis:desc", "measure": "ergebnis"},
    {"dataset": LINDENAU, "drilldown": "produktbereich", "pagesize": "5", "page": "9"},  # past the last cell
    {"dataset": NORTHFIELD},
    {"dataset": NORTHFIELD, "drilldown": "month", "order": "month:asc"},
    {"dataset": NORTHFIELD, "drilldown": "to|cofog1", "order": "num_entries:desc|amount:asc"},
    {"dataset": NORTHFIELD, "drilldown": "from", "cut": "time.yearmonth:201401|time.yearmonth:201402"},
    {"dataset": NORTHFIELD, "drilldown": "time.quarter|expense_type", "cut": "to.supplier_type:Company"},
    {"dataset": NORTHFIELD, "drilldown": "time", "pagesize": "3", "page": "2", "order": "amount:desc"},
    {"dataset": NORTHFIELD, "cut": "from:nobody"},  # nothing matches: no cell, zero totals
]


@pytest.mark.parametrize("query", AGGREGATES, ids=lambda query: urlencode(query))
def test_aggregate_answers_as_the_legacy_instance_did(client, published, legacy, query):
    answer = same_answer(client, legacy, AGGREGATE, query)

    assert set(answer) == {"drilldown", "summary"}
    page = f"/packages/{published[query['dataset']].owner}/{query['dataset']}/"
    members = [cell[key] for cell in answer["drilldown"] for key in query.get("drilldown", "").split("|") if key]
    assert all(member["html_url"].endswith(page) for member in members if isinstance(member, dict))


def test_a_compound_drilled_whole_gives_each_member_its_name_label_and_attributes(client, published, legacy):
    answer = same_answer(client, legacy, AGGREGATE, {"dataset": LINDENAU, "drilldown": "produktbereich"})
    member = answer["drilldown"][0]["produktbereich"]

    assert set(member) == {"name", "label", "dezernat", "html_url"}
    assert member["html_url"] == f"http://127.0.0.1:8000/packages/{published[LINDENAU].owner}/{LINDENAU}/"
    assert answer["summary"]["currency"] == {"amount": "EUR"} and answer["summary"]["pagesize"] == 10_000


SEARCHES = [
    {"dataset": NORTHFIELD},
    {"dataset": LINDENAU, "pagesize": "5", "page": "3"},
    {"dataset": NORTHFIELD, "filter": "from.name:env|from.name:hwy", "order": "time.name:asc"},
    {"dataset": LINDENAU, "filter": "time.year:2014|ergebnisart:Erträge", "order": "produktbereich:desc|amount:asc"},
    {"dataset": NORTHFIELD, "facet_field": "from.name|to.supplier_type|time.yearmonth", "pagesize": "0"},
    {"dataset": LINDENAU, "facet_field": "produktbereich|ergebnisart", "facet_pagesize": "3", "order": "ergebnis"},
    {"dataset": f"{LINDENAU}|{NORTHFIELD}", "order": "amount:asc", "pagesize": "7", "page": "4"},
    {"dataset": f"{NORTHFIELD}|{LINDENAU}", "facet_field": "dataset|time.year", "filter": "time.year:2014"},
    {"dataset": f"{NORTHFIELD}|{LINDENAU}", "filter": f"dataset:{LINDENAU}", "order": "time.name:desc"},
]


@pytest.mark.parametrize("query", SEARCHES, ids=lambda query: urlencode(query))
def test_search_answers_as_the_legacy_instance_did(client, published, legacy, query):
    answer = same_answer(client, legacy, SEARCH, query)

    assert answer["stats"]["results_count"] == len(answer["results"])


def test_a_search_result_is_the_legacy_entry_less_its_ids(client, published, legacy):
    answer = same_answer(client, legacy, SEARCH, {"dataset": NORTHFIELD, "filter": "transaction_id:140115"})
    (entry,) = answer["results"]

    assert entry["transaction_id"] == "140115" and entry["amount"] == 61250
    assert entry["from"]["name"] == "env" and entry["from"]["label"] == "Environment and Waste"
    assert entry["time"]["name"] == "2014-01-14" and entry["time"]["yearmonth"] == "201401"
    assert entry["dataset"]["name"] == NORTHFIELD and entry["dataset"]["currency"] == "GBP"
    assert "id" not in entry and "id" not in entry["from"]


@pytest.mark.parametrize(
    ("path", "query", "says"),
    [
        (AGGREGATE, {}, "dataset name not provided"),
        (AGGREGATE, {"dataset": LINDENAU, "measure": "betrag"}, "no measure"),
        (AGGREGATE, {"dataset": LINDENAU, "drilldown": "haushalt"}, "Invalid drilldown"),
        (AGGREGATE, {"dataset": LINDENAU, "drilldown": "produktbereich.farbe"}, "Invalid drilldown"),
        (AGGREGATE, {"dataset": LINDENAU, "cut": "year"}, 'Wrong format for "cut"'),
        (AGGREGATE, {"dataset": LINDENAU, "cut": "farbe:rot"}, "Invalid cut"),
        (AGGREGATE, {"dataset": LINDENAU, "order": "amount:sideways"}, "Order direction"),
        (AGGREGATE, {"dataset": LINDENAU, "order": "ergebnisart:asc"}, "cannot order by"),
        (AGGREGATE, {"dataset": LINDENAU, "page": "zwei"}, '"page" has to be a number'),
        (AGGREGATE, {"dataset": LINDENAU, "pagesize": "-1"}, "must not be negative"),
        (AGGREGATE, {"dataset": LINDENAU, "pagesize": "10001"}, "pagesize: at most 10000"),
        (AGGREGATE, {"dataset": LINDENAU, "format": "csv"}, "only json"),
        (AGGREGATE, {"dataset": LINDENAU, "inflate": "2015"}, "inflation"),
        (AGGREGATE, {"dataset": LINDENAU, "cut": "x" * 5000}, "longer than"),
        (SEARCH, {}, "name the dataset to search"),
        (SEARCH, {"dataset": "|".join(f"d{n}" for n in range(11))}, "at most 10 datasets"),
        (SEARCH, {"dataset": NORTHFIELD, "q": "waste"}, "full-text search is not offered"),
        (SEARCH, {"dataset": NORTHFIELD, "filter": "colour:red"}, "not a field"),
        (SEARCH, {"dataset": NORTHFIELD, "facet_field": "to.colour"}, "not a field"),
        (SEARCH, {"dataset": f"{NORTHFIELD}|{LINDENAU}", "page": "101"}, "several datasets"),
        (SEARCH, {"dataset": NORTHFIELD, "callback": "alert(1)"}, "callback"),
    ],
)
def test_bad_parameters_get_the_legacy_400_saying_what_is_wrong(client, published, path, query, says):
    status, answer = ask(client, path, query)

    assert status == 400 and set(answer) == {"errors"}
    assert says in answer["errors"][0], answer


@pytest.mark.parametrize(
    "query",
    [
        {"dataset": LINDENAU, "measure": "betrag"},
        {"dataset": LINDENAU, "cut": "year"},
        {"dataset": LINDENAU, "page": "zwei"},
        {"dataset": LINDENAU, "drilldown": "haushalt"},
    ],
)
def test_the_legacy_instance_refused_the_same_parameters(client, published, legacy, query):
    assert ask_legacy(legacy, AGGREGATE, query)[0] == ask(client, AGGREGATE, query)[0] == 400


def unknown_name_404(client, path: str, name: str) -> bytes:
    response = client.get(path, {"dataset": name})
    assert response.status_code == 404 and response.json() == {"errors": [f"There is no dataset named {name!r}"]}
    return response.content.replace(name.encode(), b"NAME")


@pytest.mark.parametrize("path", [AGGREGATE, SEARCH])
def test_unknown_private_and_unpublished_datasets_answer_the_same_404(client, published, path):
    unknown = unknown_name_404(client, path, "no-such-dataset")

    assert unknown_name_404(client, path, PRIVATE_DATASET) == unknown  # private in the legacy instance
    assert unknown_name_404(client, path, "saltmarsh-capital-programme") == unknown  # converted, not published
    assert client.get(path, {"dataset": "x" * 300}).status_code == 404


def test_a_withdrawn_dataset_answers_the_unknown_names_404_at_once_even_to_a_cached_copy(client, published):
    query = {"dataset": NORTHFIELD, "drilldown": "from"}
    first = client.get(AGGREGATE, query)
    found = client.get(SEARCH, {"dataset": f"{LINDENAU}|{NORTHFIELD}"})
    assert first.status_code == found.status_code == 200

    published[NORTHFIELD].withdraw()

    unknown = unknown_name_404(client, AGGREGATE, "no-such-dataset")
    assert unknown_name_404(client, AGGREGATE, NORTHFIELD) == unknown
    again = client.get(AGGREGATE, query, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 404 and b"Environment" not in again.content
    both = client.get(SEARCH, {"dataset": f"{LINDENAU}|{NORTHFIELD}"})
    assert both.status_code == 404 and both.json() == {"errors": [f"There is no dataset named {NORTHFIELD!r}"]}
    assert client.get(AGGREGATE, {"dataset": LINDENAU}).status_code == 200  # the other dataset is unaffected


def test_answers_carry_validators_a_repeat_is_a_304_and_a_new_query_a_new_etag(client, published):
    query = {"dataset": LINDENAU, "drilldown": "year"}
    first = client.get(AGGREGATE, query)
    repeat = client.get(AGGREGATE, query, HTTP_IF_NONE_MATCH=first["ETag"])
    other = client.get(AGGREGATE, {**query, "drilldown": "ergebnisart"})

    assert first.status_code == 200 and first["ETag"] and first["Last-Modified"]
    assert first["Access-Control-Allow-Origin"] == "*"
    assert repeat.status_code == 304 and repeat.content == b""
    assert other["ETag"] != first["ETag"]
    assert client.get(f"{AGGREGATE}/", query).json() == first.json()  # with or without the trailing slash


def test_a_callback_wraps_the_answer_for_jsonp_clients(client, published):
    plain = client.get(SEARCH, {"dataset": NORTHFIELD, "pagesize": "2"})
    wrapped = client.get(SEARCH, {"dataset": NORTHFIELD, "pagesize": "2", "callback": "OpenSpending.got"})

    assert wrapped["Content-Type"].startswith("application/javascript")
    assert wrapped.content == b"/**/OpenSpending.got(" + plain.content + b");"


def test_a_dataset_without_a_time_dimension_cannot_be_aggregated_as_in_the_legacy_api(client, published):
    package = published[LINDENAU]
    descriptor = package.descriptor
    descriptor["legacy"]["paths"] = {k: v for k, v in descriptor["legacy"]["paths"].items() if v != "time"}
    PublishedPackage.objects.filter(pk=package.pk).update(descriptor=descriptor)

    status, answer = ask(client, AGGREGATE, {"dataset": LINDENAU})

    assert status == 400 and "no time dimension" in answer["errors"][0]
    assert ask(client, SEARCH, {"dataset": LINDENAU, "pagesize": "1"})[0] == 200  # search needs none
