"""The read API in babbage's shapes (/api/3/cubes/...), over the sample instance as the pipeline published it: every
answer is checked against sums worked out here from the package's own CSV."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from decimal import Decimal

import pytest

from conversion.models import ConversionRun
from publishing.models import PublishedPackage
from publishing.store import public_storage
from tests.sample import CONVERTED, SampleSnapshots

pytestmark = pytest.mark.django_db

CUBE = "pwright:northfield-spending-2014"
BASE = f"/api/3/cubes/{CUBE}"
REF = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*[a-zA-Z0-9]$")


@pytest.fixture
def published(settings, tmp_path, curator, sample_snapshots: SampleSnapshots):
    """The converted sample with lindenau-haushalt and northfield-spending-2014 published, in local storage."""
    settings.REDIS_URL = ""
    settings.API_CACHE_DIR = tmp_path / "api-cache"
    sample_snapshots.published.restore()
    assert ConversionRun.objects.succeeded().count() == CONVERTED
    return PublishedPackage.objects.get(name="northfield-spending-2014")


def rows_of(package: PublishedPackage) -> list[dict[str, str]]:
    path = package.descriptor["resources"][0]["path"]
    with public_storage().open(f"{package.owner}/{package.name}/{path}", "rb") as handle:
        return list(csv.DictReader(io.StringIO(handle.read().decode())))


def get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.content[:300])
    return response.json()


def close(a: float, b: Decimal) -> bool:
    return abs(Decimal(str(a)) - b) < Decimal("0.005")


def test_the_cube_list_names_each_published_package_as_owner_colon_dataset(client, published):
    answer = get(client, "/api/3/cubes/")

    assert answer == {
        "status": "ok",
        "data": [{"name": "kmueller:lindenau-haushalt"}, {"name": "pwright:northfield-spending-2014"}],
    }
    assert client.get("/api/3/cubes").status_code == 200  # babbage's URLs, with or without their trailing slash


def test_the_model_offers_babbage_references_for_every_measure_dimension_and_attribute(client, published):
    answer = get(client, f"{BASE}/model")
    model = answer["model"]

    assert answer["status"] == "ok" and answer["name"] == CUBE
    assert set(model["measures"]) == {"amount"} and model["measures"]["amount"]["ref"] == "amount"
    assert set(model["aggregates"]) == {"_count", "amount.sum"}
    classification = model["dimensions"]["functional_classification"]  # FDP's functional-classification
    assert classification["dimensionType"] == "classification"
    assert classification["key_ref"] == "functional_classification.cofog1_name"
    assert classification["label_ref"] == "functional_classification.cofog1_label"
    assert {"year", "month", "time"} <= set(model["dimensions"]["date"]["attributes"])
    for name, dimension in model["dimensions"].items():
        assert REF.match(name), name
        for attribute in dimension["attributes"].values():
            assert attribute["ref"].startswith(f"{name}.") and REF.match(attribute["ref"].split(".")[1])


def test_an_aggregate_without_drilldown_is_the_package_total(client, published):
    rows = rows_of(published)
    answer = get(client, f"{BASE}/aggregate")

    assert answer["total_cell_count"] == 1 and answer["page"] == 1 and answer["page_size"] == 100
    assert answer["summary"]["_count"] == len(rows)
    assert close(answer["summary"]["amount.sum"], sum((Decimal(row["amount"]) for row in rows), Decimal(0)))
    assert answer["cells"] == [answer["summary"]]
    assert answer["aggregates"] == ["_count", "amount.sum"] and answer["attributes"] == []


def test_a_drilldown_with_a_cut_groups_the_rows_the_cut_keeps(client, published):
    rows = [row for row in rows_of(published) if row["cofog1_name"] in ("05", "10")]
    expected: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        expected[(int(row["time"][:4]), row["to_name"])] += Decimal(row["amount"])

    answer = get(
        client,
        f"{BASE}/aggregate?drilldown=date.year|recipient.to_name&cut=functional_classification.cofog1_name:05;10"
        "&order=amount.sum:desc",
    )

    cells = answer["cells"]
    assert answer["total_cell_count"] == len(expected) == len(cells)
    assert {(c["date.year"], c["recipient.to_name"]) for c in cells} == set(expected)
    for cell in cells:
        assert close(cell["amount.sum"], expected[(cell["date.year"], cell["recipient.to_name"])])
    assert [c["amount.sum"] for c in cells] == sorted((c["amount.sum"] for c in cells), reverse=True)
    assert answer["cell"] == [{"ref": "functional_classification.cofog1_name", "operator": ":", "value": ["05", "10"]}]
    assert answer["summary"]["_count"] == len(rows)


def test_a_dimension_drilldown_stands_for_all_its_attributes(client, published):
    answer = get(client, f"{BASE}/aggregate?drilldown=recipient")
    names = {row["to_name"]: row["to_label"] for row in rows_of(published)}

    assert answer["attributes"] == ["recipient.to_name", "recipient.to_label"]
    assert {c["recipient.to_name"]: c["recipient.to_label"] for c in answer["cells"]} == names


def test_pages_of_cells_follow_the_order_and_a_page_past_the_end_keeps_the_totals(client, published):
    whole = get(client, f"{BASE}/aggregate?drilldown=recipient.to_name&order=amount.sum:desc,recipient.to_name")
    second = get(
        client,
        f"{BASE}/aggregate?drilldown=recipient.to_name&order=amount.sum:desc,recipient.to_name&page=2&pagesize=3",
    )
    beyond = get(client, f"{BASE}/aggregate?drilldown=recipient.to_name&page=50&pagesize=3")

    assert second["cells"] == whole["cells"][3:6] and second["page"] == 2 and second["page_size"] == 3
    assert beyond["cells"] == [] and beyond["total_cell_count"] == whole["total_cell_count"]
    assert beyond["summary"] == whole["summary"]


def test_facts_are_the_rows_with_fields_cuts_order_and_paging(client, published):
    rows = rows_of(published)
    answer = get(client, f"{BASE}/facts?fields=recipient.to_name,amount&order=amount:desc&pagesize=5&page=2")
    ordered = sorted((Decimal(row["amount"]) for row in rows), reverse=True)

    assert answer["total_fact_count"] == len(rows) and answer["fields"] == ["recipient.to_name", "amount"]
    assert [Decimal(str(row["amount"])) for row in answer["data"]] == ordered[5:10]
    assert all(set(row) == {"recipient.to_name", "amount"} for row in answer["data"])
    everything = get(client, f"{BASE}/facts?pagesize=1")
    assert everything["data"][0]["amount"] == float(rows[0]["amount"])  # unordered: the package's own row order
    cut = get(client, f"{BASE}/facts?cut=date.year:2014|administrator.from_name:env")
    assert cut["total_fact_count"] == sum(1 for row in rows if row["from_name"] == "env" and row["time"][:4] == "2014")


def test_a_quoted_cut_value_may_hold_the_separators(client, published):
    label = rows_of(published)[0]["to_label"]
    answer = get(client, f'{BASE}/facts?cut=recipient.to_label:"{label}"|amount:1.5')
    assert answer["total_fact_count"] == 0  # both cuts apply: no row of that supplier has an amount of 1.5
    answer = get(client, f'{BASE}/facts?cut=recipient.to_label:"{label}"')
    assert answer["total_fact_count"] == sum(1 for row in rows_of(published) if row["to_label"] == label)


def test_members_of_a_dimension_are_its_distinct_keys_with_their_labels(client, published):
    rows = rows_of(published)
    answer = get(client, f"{BASE}/members/administrator?pagesize=2")
    names = sorted({row["from_name"] for row in rows})

    assert answer["total_member_count"] == len(names)
    assert [member["administrator.from_name"] for member in answer["data"]] == names[:2]
    assert answer["fields"] == ["administrator.from_name", "administrator.from_label"]
    years = get(client, f"{BASE}/members/date.year")
    assert [member["date.year"] for member in years["data"]] == sorted({int(row["time"][:4]) for row in rows})


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("aggregate?drilldown=nothing", "drilldown: no dimension or attribute 'nothing'"),
        ("aggregate?cut=nothing:1", "cut: no attribute or measure 'nothing'"),
        ("aggregate?cut=date.year:twenty", "'twenty' is not a value of date.year, which holds integer values"),
        ("facts?cut=date.time:2014-02-30", "is not a value of date.time"),
        ("aggregate?cut=recipient.to_name", "is not ref:value"),
        ('facts?cut=recipient.to_name:"open', "a quoted value is not closed"),
        ("aggregate?aggregates=amount.avg", "no aggregate 'amount.avg'"),
        ("aggregate?order=amount.sum:up", "direction 'up' is neither asc nor desc"),
        ("aggregate?drilldown=date.year&order=recipient.to_name", "cannot order by 'recipient.to_name'"),
        ("facts?pagesize=10001", "pagesize: at most 10000"),
        ("facts?page=0", "page: must be 1 or more"),
        ("facts?page=two", "page: 'two' is not a whole number"),
        ("facts?pagesize=-1", "pagesize: must not be negative"),
        ('facts?fields=amount";DROP TABLE x;--', "is not a reference"),
        ("facts?order=amount desc", "is not a reference"),
        ("members/nothing", "members: no dimension or attribute 'nothing'"),
        ("members/amount", "members: no dimension or attribute 'amount'"),
    ],
)
def test_bad_parameters_get_a_400_that_says_what_is_wrong(client, published, query, says):
    answer = get(client, f"{BASE}/{query}", status=400)

    assert answer["status"] == "error" and says in answer["message"], answer["message"]


def test_a_value_is_only_ever_a_value(client, published):
    answer = get(client, f"{BASE}/facts?cut=recipient.to_name:x' OR '1'='1")
    assert answer["total_fact_count"] == 0


def test_every_api_url_of_a_withdrawn_package_is_a_404_at_once(client, published):
    urls = [f"{BASE}/model", f"{BASE}/aggregate?drilldown=date.year", f"{BASE}/facts", f"{BASE}/members/recipient"]
    etags = {url: get_etag(client, url) for url in urls}  # answered, and cached by their ETags

    published.withdraw()

    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.get(url, HTTP_IF_NONE_MATCH=etags[url]).status_code == 404, url
    assert {"name": CUBE} not in get(client, "/api/3/cubes/")["data"]


def get_etag(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.headers["ETag"]


def test_answers_carry_validators_and_a_repeat_is_a_304(client, published):
    url = f"{BASE}/aggregate?drilldown=date.year"
    first = client.get(url)

    assert first.headers["Content-Type"] == "application/json"
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get(url, HTTP_IF_NONE_MATCH=first.headers["ETag"]).status_code == 304
    other = client.get(f"{BASE}/aggregate?drilldown=recipient")
    assert other.headers["ETag"] != first.headers["ETag"]  # the query string is part of the validators
    assert client.head(url).status_code == 200
    assert client.post(url).status_code == 405


def test_unknown_cubes_and_names_without_an_owner_are_404s(client, published):
    assert get(client, "/api/3/cubes/pwright:nothing/model", status=404)["status"] == "error"
    assert client.get("/api/3/cubes/northfield-spending-2014/aggregate").status_code == 404
    assert client.get("/api/3/cubes/kmueller:northfield-spending-2014/facts").status_code == 404


def test_a_damaged_parquet_file_in_the_store_is_refused_not_served(client, published):
    resource = published.descriptor["resources"][0]
    parquet = next(item for item in resource["alternates"] if item["format"] == "parquet")
    key = f"{published.owner}/{published.name}/{parquet['path']}"
    storage = public_storage()
    storage.delete(key)
    storage.save(key, io.BytesIO(b"PAR1 not what the descriptor names PAR1"))

    answer = get(client, f"{BASE}/facts", status=503)

    assert "not the ones the descriptor names" in answer["message"]


@pytest.mark.parametrize(
    "name", ["pwright%00:northfield-spending-2014", "pwright:north%0A", "p%20w:x", "a:" + "b" * 300]
)
def test_names_no_package_can_have_are_404s_before_any_query(client, published, name, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get(f"/api/3/cubes/{name}/facts").status_code == 404
    assert client.get(f"/packages/{name.replace(':', '/')}/").status_code == 404
