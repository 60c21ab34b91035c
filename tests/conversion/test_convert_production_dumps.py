"""The five 2015 production dumps in ../shared, converted end to end: import, propose, approve, convert."""

import json
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from conversion.models import ConversionRun
from datasets.models import LegacyDataset
from tests.conftest import SHARED_DIR
from tests.conversion.test_runs import approve_everything

pytestmark = [pytest.mark.shared, pytest.mark.django_db]
EXAMPLES = SHARED_DIR / "legacy-openspending" / "fixtures" / "openspending-migrate" / "examples"
WITH_DATA = ["bosnia-herzegovina", "tekjur-rikissjods", "uppgjor-rikissjods"]


@pytest.fixture
def converted(curator):
    call_command("import_legacy", str(EXAMPLES), stdout=StringIO())
    call_command("propose_mappings", stdout=StringIO())
    for dataset in LegacyDataset.objects.all():
        approve_everything(dataset, curator)
    out = StringIO()
    call_command("convert", "--all-approved", "--sync", stdout=out)
    return out.getvalue()


def run_of(name):
    return ConversionRun.objects.filter(dataset__name=name).first()


def descriptor_of(run):
    return json.loads(default_storage.open(f"{run.package_path}/datapackage.json").read())


@pytest.mark.parametrize("name", WITH_DATA)
def test_a_dump_with_data_converts_from_its_sources_validates_and_reconciles(converted, name):
    run = run_of(name)
    assert run.status == ConversionRun.Status.SUCCEEDED, run.error
    assert run.built_from == "sources"
    assert run.valid, run.validation
    if run.reconciliation_status != ConversionRun.Reconciliation.MATCH:
        # Only a difference the build report explains (a documented legacy quirk) is acceptable here.
        assert run.report["notes"], run.reconciliation
    assert run.rows_written == LegacyDataset.objects.get(name=name).entry_count


@pytest.mark.parametrize("name", ["ukgov-finances-cra", "tunisia_budget"])
def test_a_dump_without_data_is_reported_not_convertible_with_the_reason(converted, name):
    assert f"{name}: not convertible: " in converted
    reason = converted.split(f"{name}: not convertible: ")[1].splitlines()[0]
    assert "no data" in reason
    # The outcome is recorded as a run of its own, with the reason the command printed, and no package.
    run = ConversionRun.objects.get(dataset__name=name)
    assert (run.status, run.error, run.package_path) == (ConversionRun.Status.NOT_CONVERTIBLE, reason, "")


@pytest.mark.parametrize("name", WITH_DATA)
def test_our_descriptor_keeps_what_the_2015_output_had_and_what_it_dropped(converted, name):
    ours = descriptor_of(run_of(name))
    old = json.loads((EXAMPLES / name / "datapackage.json").read_text(encoding="utf-8"))
    dump = json.loads((EXAMPLES / name / "dataset.json").read_text(encoding="utf-8"))
    assert ours["title"] == old["title"]
    assert ours.get("description", "") == old.get("description", "")
    assert ours["countryCode"] in old["countryCode"]
    old_measures = old["mapping"]["measures"]
    assert set(ours["model"]["measures"]) >= set(old_measures)
    for measure, spec in old_measures.items():
        assert ours["model"]["measures"][measure]["currency"] == spec["currency"]
    fields = {field["name"]: field for field in ours["resources"][0]["schema"]["fields"]}
    for dimension in old["mapping"]["dimensions"].values():
        if dimension.get("dimensionType") == "datetime":
            # 2015 split the date into label/year/month/day columns of the database; ours keeps the date itself.
            assert any(field["columnType"].startswith("date:") for field in fields.values())
            continue
        for attribute in dimension["attributes"].values():
            assert attribute["source"] in fields, attribute
    # What the 2015 output dropped: the legacy labels, the team and the sources.
    titles = {field["title"] for field in fields.values()}
    for entry in dump["data"]["mapping"].values():
        assert any(entry["label"] in title for title in titles), entry["label"]
    team = [ours["author"], *ours.get("contributors", [])]
    for username in dump["team"]:
        assert any(username in str(person) for person in team), username
    assert {str(source["name"]) for source in ours["sources"]} == {str(source["id"]) for source in dump["sources"]}
