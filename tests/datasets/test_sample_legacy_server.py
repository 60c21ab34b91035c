"""The bundled sample legacy instance, over real HTTP: JSON shapes, permissions, paging, totals, files and faults."""

import csv
import json
from collections.abc import Iterator
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import pytest
import requests

from datasets.sample_legacy import (
    ADMIN_API_KEY,
    ADMIN_USERNAME,
    DEFAULT_INSTANCE_DIR,
    MANAGER_API_KEY,
    MANAGER_USERNAME,
    OUTSIDER_API_KEY,
    PRIVATE_DATASET,
    SampleLegacyServer,
    sample_accounts,
)

PUBLIC = {
    "lindenau-haushalt",
    "northfield-spending-2014",
    "wdmmg-regional-2009",
    "riverton-draft-budget-2015",
    "lagoon-district-expenditure",
    "saltmarsh-capital-programme",
    "kestrel-bay-budget-2016",
}
LOADED = sorted(PUBLIC - {"riverton-draft-budget-2015", "kestrel-bay-budget-2016"} | {PRIVATE_DATASET})
TIMEOUT = 5


@pytest.fixture
def server() -> Iterator[SampleLegacyServer]:
    with SampleLegacyServer(port=0) as running:
        yield running


def auth(key: str, method: str = "ApiKey") -> dict[str, str]:
    return {"Authorization": f"{method} {key}"}


def get(server: SampleLegacyServer, path: str, key: str | None = None, **params: Any) -> requests.Response:
    headers = auth(key) if key else {}
    return requests.get(server.base_url + path, params=params, headers=headers, timeout=TIMEOUT)


def cube_lines(name: str) -> list[dict[str, Any]]:
    path = DEFAULT_INSTANCE_DIR / name / "cube.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def dataset_row(name: str) -> dict[str, Any]:
    return json.loads((DEFAULT_INSTANCE_DIR / name / "dataset.json").read_text(encoding="utf-8"))


# -- accounts and permissions --------------------------------------------------------------------------------------


def test_named_keys_match_the_fixture_accounts():
    accounts = {account.name: account for account in sample_accounts()}
    assert accounts[ADMIN_USERNAME].api_key == ADMIN_API_KEY and accounts[ADMIN_USERNAME].admin
    assert accounts[MANAGER_USERNAME].api_key == MANAGER_API_KEY and not accounts[MANAGER_USERNAME].admin
    assert MANAGER_USERNAME in dataset_row(PRIVATE_DATASET)["team"]
    assert OUTSIDER_API_KEY in {account.api_key for account in accounts.values()}


@pytest.mark.parametrize("key", [None, ADMIN_API_KEY, MANAGER_API_KEY])
def test_public_listing_excludes_the_private_dataset_even_for_admins(server, key):
    listing = get(server, "/datasets.json", key, __="1700000000").json()
    assert {item["name"] for item in listing["datasets"]} == PUBLIC
    assert all("private" not in item for item in listing["datasets"])
    english = sum(1 for name in PUBLIC if "en" in dataset_row(name)["languages"])
    assert {"code": "en", "count": english, "url": "/datasets?languages=en", "label": "English"} in listing["languages"]
    assert {"IS"}.isdisjoint(item["code"] for item in listing["territories"])


def test_listing_is_newest_change_first(server):
    stamps = [item["timestamps"]["last_modified"] for item in get(server, "/datasets.json").json()["datasets"]]
    assert stamps == sorted(stamps, reverse=True)


PRIVATE_ROUTES = [
    f"/{PRIVATE_DATASET}.json",
    f"/{PRIVATE_DATASET}/model.json",
    f"/{PRIVATE_DATASET}/sources.json",
    f"/{PRIVATE_DATASET}/sources/6020/analysis.json",
    f"/{PRIVATE_DATASET}/views.json",
    f"/{PRIVATE_DATASET}/meta",
    f"/api/2/search?dataset={PRIVATE_DATASET}",
    f"/api/2/aggregate?dataset={PRIVATE_DATASET}",
]


@pytest.mark.parametrize("path", PRIVATE_ROUTES)
def test_private_dataset_needs_a_manager_or_admin_key(server, path):
    assert get(server, path).status_code == 403
    assert get(server, path, OUTSIDER_API_KEY).status_code == 403
    assert get(server, path, "not-a-key").status_code == 403
    assert get(server, path, MANAGER_API_KEY).status_code == 200
    assert get(server, path, ADMIN_API_KEY).status_code == 200


@pytest.mark.parametrize("method", ["ApiKey", "apikey", "APIKEY"])
def test_api_key_method_is_case_insensitive(server, method):
    response = requests.get(f"{server.base_url}/{PRIVATE_DATASET}.json", headers=auth(MANAGER_API_KEY, method))
    assert response.status_code == 200
    assert (
        requests.get(f"{server.base_url}/{PRIVATE_DATASET}.json", headers=auth(MANAGER_API_KEY, "Bearer")).status_code
        == 403
    )


@pytest.mark.parametrize("path", ["/no-such-dataset.json", "/no-such-dataset/model.json", "/no-such-dataset/meta"])
def test_unknown_dataset_is_404(server, path):
    assert get(server, path, ADMIN_API_KEY).status_code == 404


def test_editor_pages_need_update_permission_even_on_public_datasets(server):
    for path in (
        "/lindenau-haushalt/editor",
        "/lindenau-haushalt/editor/team",
        "/lindenau-haushalt/sources/4101/runs/9202",
    ):
        assert get(server, path).status_code == 403
        assert get(server, path, OUTSIDER_API_KEY).status_code == 403
        assert get(server, path, "efd52244-793f-488e-bfe0-6644b51de78a").status_code == 200  # kmueller, on the team
        assert get(server, path, ADMIN_API_KEY).status_code == 200


def test_permissions_answer_for_the_caller(server):
    anonymous = get(server, "/api/2/permissions", dataset=PRIVATE_DATASET).json()
    manager = get(server, "/api/2/permissions", MANAGER_API_KEY, dataset=PRIVATE_DATASET).json()
    free_name = get(server, "/api/2/permissions", OUTSIDER_API_KEY, dataset="brand-new-name").json()
    assert anonymous == {"create": False, "read": False, "update": False, "delete": False}
    assert manager == {"create": False, "read": True, "update": True, "delete": True}
    assert free_name == {"create": True, "read": False, "update": False, "delete": False}


# -- JSON shapes -------------------------------------------------------------------------------------------------


def test_dataset_json_is_as_dict_with_links_to_the_server(server):
    document = get(server, "/lindenau-haushalt.json").json()
    assert document["html_url"] == f"{server.base_url}/lindenau-haushalt"
    assert document["timestamps"] == {
        "created": "2014-02-03T09:12:44.518203",
        "last_modified": "2014-06-17T16:40:02.117395",
    }
    assert document["languages"] == ["de"] and document["category"] == "budget"
    assert not {"private", "id", "team", "sources", "created_at"} & document.keys()


def test_model_json_is_the_stored_model_with_the_dataset_block(server):
    model = get(server, "/northfield-spending-2014/model.json").json()
    row = dataset_row("northfield-spending-2014")
    assert set(model) == {"dataset", "mapping", "views"}
    assert model["mapping"] == row["data"]["mapping"] and model["views"] == row["data"]["views"]
    assert model["dataset"] == get(server, "/northfield-spending-2014.json").json()


def test_pre_2011_model_keeps_its_fields_lists_and_unique_keys(server):
    model = get(server, "/wdmmg-regional-2009/model.json").json()
    assert model["dataset"]["unique_keys"] == ["from", "region", "time"]
    assert model["dataset"]["schema_version"] is None
    assert model["mapping"]["amount"]["type"] == "value"
    assert model["mapping"]["to"]["fields"][0] == {
        "name": "name",
        "column": None,
        "datatype": "constant",
        "constant": "society",
    }
    assert "unique_keys" not in get(server, "/wdmmg-regional-2009.json").json()


def test_sources_are_newest_first_and_point_at_the_server(server):
    sources = get(server, "/lagoon-district-expenditure/sources.json").json()
    assert [source["id"] for source in sources] == [3303, 3302, 3301]
    assert set(sources[0]) == {"id", "url", "dataset", "created_at"}
    assert sources[2]["url"] == f"{server.base_url}/files/lagoon-district-expenditure/expenditure-2012.csv"
    assert get(server, "/lagoon-district-expenditure/sources/3303/analysis.json").json() == {
        "error": "HTTP Error 404: Not Found"
    }
    assert requests.get(sources[0]["url"], timeout=TIMEOUT).status_code == 404  # the dead source
    assert requests.get(sources[1]["url"], timeout=TIMEOUT).status_code == 200


def test_views_json_lists_visualisations_of_the_dataset(server):
    views = get(server, "/lindenau-haushalt/views.json").json()
    assert [(view["name"], view["dataset"], view["account"]) for view in views] == [
        ("aufwand-2014", "lindenau-haushalt", "kmueller")
    ]


# -- search and aggregate ------------------------------------------------------------------------------------------


def page_through(server: SampleLegacyServer, name: str, pagesize: int) -> tuple[list[str], set[int]]:
    ids: list[str] = []
    totals: set[int] = set()
    for page in range(1, 50):
        answer = get(server, "/api/2/search", ADMIN_API_KEY, dataset=name, page=page, pagesize=pagesize, order="id:asc")
        answer = answer.json()
        totals.add(answer["stats"]["results_count_query"])
        if not answer["results"]:
            break
        assert answer["stats"]["results_count"] == len(answer["results"])
        ids.extend(entry["id"] for entry in answer["results"])
    return ids, totals


@pytest.mark.parametrize("name", LOADED)
def test_search_pages_in_id_order_give_every_cube_row_once(server, name):
    ids, totals = page_through(server, name, pagesize=7)
    summary = get(server, "/api/2/aggregate", ADMIN_API_KEY, dataset=name).json()["summary"]
    assert ids == sorted(ids)
    assert sorted(ids) == sorted(row["id"] for row in cube_lines(name))
    assert len(set(ids)) == len(ids)
    assert totals == {len(ids)} == {summary["num_entries"]}


def test_search_without_dataset_covers_private_datasets_only_for_readers(server):
    def facet(key: str | None) -> dict[str, int]:
        answer = get(server, "/api/2/search", key, facet_field="dataset", pagesize=0).json()
        return dict(answer["facets"]["dataset"])

    assert PRIVATE_DATASET not in facet(None)
    assert facet(MANAGER_API_KEY)[PRIVATE_DATASET] == 20
    assert facet(ADMIN_API_KEY) == {name: len(cube_lines(name)) for name in LOADED}


def test_search_entries_have_the_legacy_shape(server):
    answer = get(server, "/api/2/search", dataset="northfield-spending-2014", order="id:asc", pagesize=100).json()
    entry = next(item for item in answer["results"] if item["transaction_id"] == "140199")
    assert entry["to"]["name"] == "redacted" and entry["to"]["label"] == "Redacted (personal data)"
    assert isinstance(entry["to"]["id"], int)
    assert entry["to"]["taxonomy"] == "entity"
    assert entry["to"]["html_url"] == f"{server.base_url}/northfield-spending-2014/to/redacted"
    assert entry["cofog2"]["name"] == "10-2" and entry["cofog2"]["taxonomy"] == "cofog-2"
    assert set(entry["time"]) == {
        "id",
        "name",
        "label",
        "year",
        "quarter",
        "month",
        "week",
        "day",
        "yearmonth",
        "taxonomy",
        "html_url",
    }
    assert entry["html_url"] == f"{server.base_url}/northfield-spending-2014/entries/{entry['id']}"
    assert entry["dataset"]["name"] == "northfield-spending-2014" and "private" not in entry["dataset"]


def test_dates_keep_the_legacy_quarter_bug_and_year_only_values(server):
    rows = get(server, "/api/2/search", MANAGER_API_KEY, dataset=PRIVATE_DATASET, pagesize=100).json()["results"]
    quarters = {row["time"]["name"]: row["time"]["quarter"] for row in rows}
    assert quarters == {"2013-03-31": "0", "2013-06-30": "1", "2013-09-30": "2", "2013-12-31": "3"}
    years = {
        row["time"]["name"] for row in get(server, "/api/2/search", dataset="wdmmg-regional-2009").json()["results"]
    }
    assert years == {"2007-01-01", "2008-01-01"}


def test_large_pagesize_streams_everything_in_one_response(server):
    response = get(server, "/api/2/search", dataset="lindenau-haushalt|northfield-spending-2014", pagesize=1000)
    answer = response.json()
    assert len(answer["results"]) == 24 + 18 == answer["stats"]["results_count_query"]
    assert response.headers["Content-Disposition"] == "attachment; filename=entries.json"
    assert isinstance(answer["stats"]["results_count"], dict)  # the legacy streaming bug


def test_search_rejects_unknown_datasets_with_400(server):
    response = get(server, "/api/2/search", dataset="lindenau-haushalt|nope")
    assert response.status_code == 400 and response.json()["errors"]


def source_total(name: str, filename: str, column: str, skip_rows: frozenset[int] = frozenset()) -> float:
    with (DEFAULT_INSTANCE_DIR / name / "files" / filename).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return sum(
        float(row[column].replace(",", "") or 0) for number, row in enumerate(rows, 1) if number not in skip_rows
    )


def test_aggregate_totals_match_the_source_files(server):
    answer = get(
        server, "/api/2/aggregate", dataset="lindenau-haushalt", measure="amount|ergebnis", drilldown="year"
    ).json()
    expected = source_total("lindenau-haushalt", "ergebnisplan-2013.csv", "Ansatz (€)") + source_total(
        "lindenau-haushalt", "ergebnisplan-2014.csv", "Ansatz (€)"
    )
    assert answer["summary"]["amount"] == pytest.approx(expected)
    assert answer["summary"]["currency"] == {"amount": "EUR", "ergebnis": "EUR"}
    cells = {cell["year"]: cell for cell in answer["drilldown"]}
    assert cells["2014"]["ergebnis"] == 0 and cells["2014"]["num_entries"] == 12
    assert cells["2013"]["ergebnis"] == pytest.approx(
        source_total("lindenau-haushalt", "ergebnisplan-2013.csv", "Ergebnis (€)")
    )


def test_aggregate_of_a_partly_failed_load_lacks_the_rejected_row(server):
    answer = get(server, "/api/2/aggregate", dataset="lagoon-district-expenditure").json()
    file = "expenditure-2012.csv"
    expected = source_total("lagoon-district-expenditure", file, "Amount (GH¢)") + source_total(
        "lagoon-district-expenditure", "expenditure-2013.csv", "Amount (GH¢)", skip_rows=frozenset({6})
    )
    assert answer["summary"]["num_entries"] == 23
    assert answer["summary"]["amount"] == pytest.approx(expected)


def test_aggregate_drilldown_on_a_compound_gives_members_and_cuts_filter(server):
    answer = get(
        server, "/api/2/aggregate", dataset="northfield-spending-2014", drilldown="cofog1", cut="time.month:01"
    ).json()
    members = {cell["cofog1"]["name"]: cell for cell in answer["drilldown"]}
    assert members["05"]["amount"] == 61250.0 and members["05"]["cofog1"]["label"] == "Environmental protection"
    assert sum(cell["num_entries"] for cell in answer["drilldown"]) == answer["summary"]["num_entries"] == 6


def test_aggregate_needs_a_time_dimension_and_a_real_measure(server):
    no_time = get(server, "/api/2/aggregate", dataset="riverton-draft-budget-2015")
    bad_measure = get(server, "/api/2/aggregate", dataset="lindenau-haushalt", measure="nope")
    assert no_time.status_code == 400 and no_time.json()["errors"]
    assert bad_measure.status_code == 400 and bad_measure.json()["errors"]


# -- the fixture itself -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LOADED)
def test_cube_holds_every_valid_row_of_the_imported_sources(name):
    """The static cube must stay consistent with the source files: later reconciliation depends on it."""
    row = dataset_row(name)
    imported = [run for run in row["runs"] if run["operation"] == "import" and run["status"] in ("complete", "failed")]
    expected, gone = 0, 0
    for run in imported:
        source = next(source for source in row["sources"] if source["id"] == run["source_id"])
        path = DEFAULT_INSTANCE_DIR / name / "files" / source["url"].rsplit("/", 1)[1]
        if not path.is_file():
            gone += 1
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            expected += sum(1 for _ in csv.DictReader(handle)) - len(run["records"])
    # A source taken down after it was loaded (saltmarsh-capital-programme's second) left its rows in the cube only.
    assert len(cube_lines(name)) > expected if gone else len(cube_lines(name)) == expected


# -- source files --------------------------------------------------------------------------------------------------


def test_source_files_answer_conditional_gets_with_304(server):
    url = f"{server.base_url}/files/lindenau-haushalt/ergebnisplan-2014.csv"
    first = requests.get(url, timeout=TIMEOUT)
    assert first.status_code == 200 and first.headers["Content-Type"].startswith("text/csv")
    assert int(first.headers["Content-Length"]) == len(first.content) > 0
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    by_etag = requests.get(url, headers={"If-None-Match": etag}, timeout=TIMEOUT)
    by_date = requests.get(url, headers={"If-Modified-Since": modified}, timeout=TIMEOUT)
    older = format_datetime(parsedate_to_datetime(modified).replace(year=2010), usegmt=True)
    stale = requests.get(url, headers={"If-Modified-Since": older}, timeout=TIMEOUT)
    other_tag = requests.get(url, headers={"If-None-Match": '"something-else"'}, timeout=TIMEOUT)
    assert (by_etag.status_code, by_etag.content, by_etag.headers["ETag"]) == (304, b"", etag)
    assert by_date.status_code == 304
    assert stale.status_code == 200 and other_tag.status_code == 200


# -- pages -------------------------------------------------------------------------------------------------------


def test_dashboard_needs_a_key_and_profiles_hide_private_datasets_from_others(server):
    assert get(server, "/dashboard").status_code == 403
    assert PRIVATE_DATASET in get(server, "/dashboard", MANAGER_API_KEY).text
    assert PRIVATE_DATASET in get(server, f"/account/{MANAGER_USERNAME}", ADMIN_API_KEY).text
    assert PRIVATE_DATASET not in get(server, f"/account/{MANAGER_USERNAME}").text
    assert PRIVATE_DATASET not in get(server, f"/account/{MANAGER_USERNAME}", OUTSIDER_API_KEY).text
    assert get(server, "/account/nobody").status_code == 404


# -- faults ------------------------------------------------------------------------------------------------------


def test_status_fault_fires_the_given_number_of_times_then_recovers(server):
    server.add_fault(r"^/datasets\.json$", "status", times=2, status=503, retry_after=7)
    first, second, third = (get(server, "/datasets.json") for _ in range(3))
    assert (first.status_code, first.headers["Retry-After"]) == (503, "7")
    assert second.status_code == 503 and second.json()["errors"]
    assert third.status_code == 200 and third.json()["datasets"]


def test_faults_only_touch_matching_paths(server):
    server.add_fault(r"/model\.json$", "status", status=500)
    assert get(server, "/lindenau-haushalt.json").status_code == 200
    assert get(server, "/lindenau-haushalt/model.json").status_code == 500
    assert get(server, "/lindenau-haushalt/model.json").status_code == 200


def test_delay_fault_makes_clients_time_out_once(server):
    server.add_fault(r"^/lindenau-haushalt\.json$", "delay", seconds=3)
    with pytest.raises(requests.exceptions.Timeout):
        requests.get(f"{server.base_url}/lindenau-haushalt.json", timeout=0.3)
    assert requests.get(f"{server.base_url}/lindenau-haushalt.json", timeout=2).status_code == 200


def test_truncate_fault_closes_the_connection_mid_body(server):
    server.add_fault(r"^/api/2/search$", "truncate")
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        get(server, "/api/2/search", dataset="lindenau-haushalt")
    assert len(get(server, "/api/2/search", dataset="lindenau-haushalt").json()["results"]) == 24


def test_garbage_fault_answers_json_that_is_not_json(server):
    server.add_fault(r"^/datasets\.json$", "garbage")
    response = get(server, "/datasets.json")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        response.json()
    assert get(server, "/datasets.json").json()["datasets"]


def test_html_fault_answers_an_offline_page_with_200(server):
    server.add_fault(r"/sources\.json$", "html")
    response = get(server, "/lindenau-haushalt/sources.json")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    assert "PageKite" in response.text
    assert get(server, "/lindenau-haushalt/sources.json").json()[0]["id"] == 4102


def test_clear_faults_and_unknown_kinds(server):
    server.add_fault(".*", "status", times=5, status=502)
    server.clear_faults()
    assert get(server, "/datasets.json").status_code == 200
    with pytest.raises(ValueError):
        server.add_fault(".*", "explode")


def test_requests_are_recorded_with_query_and_headers(server):
    get(server, "/datasets.json", ADMIN_API_KEY, __="42")
    method, path, headers = server.requests[-1]
    assert (method, path) == ("GET", "/datasets.json?__=42")
    assert headers["Authorization"] == f"ApiKey {ADMIN_API_KEY}"


def test_a_stopped_server_refuses_connections():
    server = SampleLegacyServer().start()
    url = server.base_url
    server.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{url}/datasets.json", timeout=2)
