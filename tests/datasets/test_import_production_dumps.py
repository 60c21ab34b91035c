"""import_legacy on the five real 2015 production dumps in ../shared, exactly as they are."""

import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from datasets.models import HarvestRecord, LegacyDataset
from tests.conftest import SHARED_DIR

pytestmark = [pytest.mark.shared, pytest.mark.django_db]

EXAMPLES = SHARED_DIR / "legacy-openspending" / "fixtures" / "openspending-migrate" / "examples"
NAMES = ["bosnia-herzegovina", "tekjur-rikissjods", "tunisia_budget", "ukgov-finances-cra", "uppgjor-rikissjods"]


def _dump(name: str) -> dict:
    return json.loads((EXAMPLES / name / "dataset.json").read_text(encoding="utf-8"))


def _import(path: Path) -> str:
    out = StringIO()
    call_command("import_legacy", str(path), stdout=out)
    return out.getvalue()


def _csv_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def test_every_production_dump_imports_with_its_sources_and_team():
    output = _import(EXAMPLES)
    assert "5 created" in output
    for name in NAMES:
        dump = _dump(name)
        dataset = LegacyDataset.objects.get(name=name)
        assert dataset.sources.count() == len(dump["sources"])
        assert dataset.team_usernames == dump["team"]
        assert dataset.legacy_id == dump["id"]
        assert dataset.raw_model == dump["data"], "the raw model is kept exactly as dumped"
        assert dataset.normalised_model["mapping"].keys() == dump["data"]["mapping"].keys()


@pytest.mark.parametrize("name", NAMES)
def test_archived_sources_are_stored_and_the_rest_are_not_tried(name):
    _import(EXAMPLES / name)
    dataset = LegacyDataset.objects.get(name=name)
    archived = {int(path.stem) for path in (EXAMPLES / name).glob("archive/*.csv")}
    fetched = set(dataset.sources.filter(archive_status="fetched").values_list("legacy_id", flat=True))
    assert fetched == archived
    assert dataset.sources.filter(archive_status="not_tried").count() == len(_dump(name)["sources"]) - len(archived)


def test_an_archived_source_is_stored_byte_for_byte():
    _import(EXAMPLES / "bosnia-herzegovina")
    dataset = LegacyDataset.objects.get(name="bosnia-herzegovina")
    fetched = dataset.sources.filter(archive_status="fetched")
    source = fetched.get(legacy_id=11325)
    original = (EXAMPLES / "bosnia-herzegovina" / "archive" / "11325.csv").read_bytes()
    with default_storage.open(source.archived_file.name) as handle:
        assert handle.read() == original
    assert source.size == len(original)
    assert source.analysis["columns"][0] == "title", "the analysis JSON string is parsed"


def test_the_cube_rows_are_counted_with_quoted_newlines():
    _import(EXAMPLES)
    for name in ["bosnia-herzegovina", "tekjur-rikissjods", "uppgjor-rikissjods"]:
        dataset = LegacyDataset.objects.get(name=name)
        assert dataset.entry_count == _csv_rows(EXAMPLES / name / "dataset.csv")
        assert dataset.entry_count > 0
    assert LegacyDataset.objects.get(name="tunisia_budget").entry_count is None, "no rows file: unknown, not zero"


def test_problems_are_recorded_not_raised():
    _import(EXAMPLES)
    ukgov = LegacyDataset.objects.get(name="ukgov-finances-cra")
    assert ukgov.model_problem_count > 0
    assert all(problem["severity"] == "warning" for problem in ukgov.model_problems)
    assert any("pog" in problem["path"] for problem in ukgov.model_problems)
    assert not ukgov.is_incomplete, "warnings alone do not make a dataset incomplete"
    tunisia = LegacyDataset.objects.get(name="tunisia_budget")
    assert tunisia.sources.count() == 5
    assert "PageKite" in json.dumps(tunisia.sources.get(legacy_id=3701).analysis)


def test_a_second_import_changes_nothing():
    _import(EXAMPLES)
    before = {d.name: (d.updated_at, d.content_hash) for d in LegacyDataset.objects.all()}
    output = _import(EXAMPLES)
    assert "5 unchanged" in output
    assert {d.name: (d.updated_at, d.content_hash) for d in LegacyDataset.objects.all()} == before
    assert HarvestRecord.objects.count() == 5


def test_the_icelandic_names_survive():
    _import(EXAMPLES / "tekjur-rikissjods")
    dataset = LegacyDataset.objects.get(name="tekjur-rikissjods")
    assert dataset.raw_model["mapping"]["amount"]["column"] == "Upphæð"
    assert dataset.languages and dataset.territories == ["IS"]
