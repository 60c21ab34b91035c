"""The cases of issue 11 as the bundled sample instance holds them, through the real pipeline (export over HTTP,
import, propose, approve, convert, publish): a loaded source that vanished, a dataset with no data, a multi-year
dataset whose legacy default_time names one year, and a measure whose empty cells the legacy default filled."""

import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.core.management import call_command
from lxml import html  # type: ignore[import-untyped]

from conversion.models import ConversionRun, DimensionMapping, ReviewEvent
from conversion.review import services
from datasets.sample_legacy import DEFAULT_INSTANCE_DIR
from publishing.models import PublishedPackage
from tests.publishing.conftest import publish

pytestmark = pytest.mark.django_db
VANISHED = "saltmarsh-capital-programme"  # two sources loaded; the second answers 404 today
NO_DATA = "kestrel-bay-budget-2016"  # a model, one dead source whose import failed, no cube rows


def legacy(name: str) -> dict:
    return json.loads((Path(DEFAULT_INSTANCE_DIR) / name / "dataset.json").read_text(encoding="utf-8"))


def cube(name: str) -> list[dict]:
    lines = (Path(DEFAULT_INSTANCE_DIR) / name / "cube.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def status_rows() -> dict[str, dict]:
    out = StringIO()
    call_command("migration_status", "--json", stdout=out)
    return {row["name"]: row for row in json.loads(out.getvalue())}


def page_text(client, package: PublishedPackage) -> str:
    response = client.get(f"/packages/{package.owner}/{package.name}/")
    assert response.status_code == 200
    return " ".join(" ".join(html.fromstring(response.content).itertext()).split())


def test_the_sample_holds_each_case():
    vanished = legacy(VANISHED)
    files = {path.name for path in (Path(DEFAULT_INSTANCE_DIR) / VANISHED / "files").iterdir()}
    urls = [source["url"].rsplit("/", 1)[1] for source in vanished["sources"]]
    assert urls == ["capital-2014-15.csv", "capital-2015-16.csv"] and files == {"capital-2014-15.csv"}
    assert {run["source_id"] for run in vanished["runs"] if run["status"] == "complete"} == {8101, 8102}
    assert not (Path(DEFAULT_INSTANCE_DIR) / NO_DATA / "cube.jsonl").exists()
    assert legacy(NO_DATA)["data"]["mapping"]


def test_a_vanished_source_is_built_from_the_cube_and_says_so(client, converted):
    run = ConversionRun.objects.get(dataset=converted[VANISHED])
    assert run.status == ConversionRun.Status.SUCCEEDED
    assert run.reconciliation_status == ConversionRun.Reconciliation.MATCH
    entries = cube(VANISHED)
    assert run.rows_written == len(entries) == 10  # the surviving source alone has 5

    publish(VANISHED)
    package = PublishedPackage.objects.get(name=VANISHED)
    provenance = package.descriptor["provenance"]
    assert provenance["built_from"] == "cube"
    [gone] = provenance["sources_gone"]
    assert gone["id"] == 8102 and gone["url"].endswith("/capital-2015-16.csv") and "HTTP 404" in gone["why"]
    assert any("source 8102" in note and "only the cube holds all its rows" in note for note in provenance["notes"])
    assert float(run.report["totals"]["amount"]) == pytest.approx(sum(entry["amount"] for entry in entries))

    text = page_text(client, package)
    assert "The rows come from the legacy cube" in text and "a source it loaded is gone" in text
    assert "source 8102" in text and "capital-2015-16.csv" in text and "HTTP 404" in text

    row = status_rows()[VANISHED]
    assert (row["conversion_status"], row["built_from"], row["rows"], row["reconciliation"]) == (
        "succeeded",
        "cube",
        10,
        "match",
    )
    assert row["sources_unreachable"] == 1
    assert "source 8102 was loaded by the legacy platform and is gone: the export got HTTP 404" in run.log


def test_a_dataset_with_no_data_is_not_convertible(converted):
    dataset = converted[NO_DATA]
    assert not ConversionRun.objects.filter(dataset=dataset, status=ConversionRun.Status.SUCCEEDED).exists()
    row = status_rows()[NO_DATA]
    assert row["conversion_status"] == "not_convertible"
    assert row["conversion_problem"].startswith("no data: none of its source files was archived")
    assert not PublishedPackage.objects.filter(name=NO_DATA).exists()


def test_a_multi_year_dataset_takes_its_period_from_the_data(client, converted):
    assert legacy(VANISHED)["default_time"] == "2015"
    publish(VANISHED)
    package = PublishedPackage.objects.get(name=VANISHED)
    assert package.descriptor["fiscalPeriod"] == {"start": "2014-06-30", "end": "2016-03-31"}
    assert package.years == [2014, 2015, 2016]
    text = page_text(client, package)
    assert "2014-06-30 to 2016-03-31 (the first and last dates in the data)" in text


DEFAULTED = "lindenau-haushalt"  # Ergebnis (€) is empty in every row of 2014: the accounts were not closed yet


def empty_ergebnis_cells() -> int:
    files = (Path(DEFAULT_INSTANCE_DIR) / DEFAULTED / "files").glob("*.csv")
    return sum(
        not row["Ergebnis (€)"].strip()
        for path in files
        for row in csv.DictReader(path.open(encoding="utf-8", newline=""))
    )


def test_a_default_valued_measure_says_how_many_cells_the_default_filled(client, converted):
    assert legacy(DEFAULTED)["data"]["mapping"]["ergebnis"]["default_value"] == "0"
    filled = empty_ergebnis_cells()
    assert filled == 12
    run = ConversionRun.objects.get(dataset=converted[DEFAULTED])
    assert run.report["defaults"] == {"ergebnis": {"default_value": "0", "filled": filled}}
    assert run.reconciliation_status == ConversionRun.Reconciliation.MATCH

    publish(DEFAULTED)
    package = PublishedPackage.objects.get(name=DEFAULTED)
    assert package.descriptor["provenance"]["default_values"] == run.report["defaults"]
    text = page_text(client, package)
    assert "Cells filled by legacy defaults" in text and "ergebnis 0 12 filled with the default" in text


def test_a_curator_may_keep_a_measures_empty_cells_empty(client, converted, curator, migration_admin):
    ergebnis = DimensionMapping.objects.get(dataset=converted[DEFAULTED], legacy_path="ergebnis")
    services.mapping_reopen(mapping=ergebnis, admin=migration_admin, reason="unknown is not zero")
    services.mapping_update(
        mapping=ergebnis, data={"keep_empty": True}, editor=curator, reason="the 2014 accounts were not closed"
    )
    services.mapping_approve(mapping=DimensionMapping.objects.get(pk=ergebnis.pk), reviewer=curator)
    event = ReviewEvent.objects.filter(dataset=converted[DEFAULTED], action=ReviewEvent.Action.EDITED).get()
    assert event.after["keep_empty"] is True and "keep_empty" not in (event.before or {})

    call_command("convert", DEFAULTED, "--sync", stdout=StringIO())
    run = ConversionRun.objects.filter(dataset=converted[DEFAULTED]).first()
    assert run.status == ConversionRun.Status.SUCCEEDED
    assert run.report["defaults"] == {"ergebnis": {"default_value": "0", "kept_empty": empty_ergebnis_cells()}}
    assert run.reconciliation_status == ConversionRun.Reconciliation.MATCH
    notes = (run.reconciliation or {})["notes"]
    assert any("12 empty cell(s) kept empty by a curator's choice" in note for note in notes)

    publish(DEFAULTED)
    package = PublishedPackage.objects.get(name=DEFAULTED)
    data = package_rows(package)
    assert sum(row["ergebnis"] == "" for row in data) == 12 and all(row["ergebnis"] != "0" for row in data)
    assert "ergebnis 0 12 kept empty (a curator's choice)" in page_text(client, package)


def package_rows(package: PublishedPackage) -> list[dict]:
    [key] = [key for key in package.data_keys if key.endswith(".csv")]  # beside it, its Parquet copy
    content = storages["public"].open(key).read().decode("utf-8")
    return list(csv.DictReader(content.splitlines()))
