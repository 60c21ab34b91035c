"""export_legacy + import_legacy against the bundled sample legacy instance, over real HTTP on loopback."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from datasets import state
from datasets.models import LegacyDataset, Source
from datasets.sample_legacy.instance import load_instance
from datasets.sample_legacy.server import ADMIN_API_KEY, MANAGER_API_KEY, PRIVATE_DATASET
from tests.conftest import run_export, run_import

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_client")]

INSTANCE = load_instance()
PUBLIC = sorted(dataset.name for dataset in INSTANCE.datasets.values() if not dataset.private)
ALL = sorted(INSTANCE.datasets)


def dumped(dump: Path, name: str) -> dict:
    return json.loads((dump / name / "dataset.json").read_text(encoding="utf-8"))


# -- what comes across --------------------------------------------------------------------------------------------


def test_without_a_key_every_public_dataset_comes_across_and_no_private_one(legacy, tmp_path):
    run_export(legacy, tmp_path)
    run_import(tmp_path)
    assert sorted(LegacyDataset.objects.values_list("name", flat=True)) == PUBLIC
    assert PRIVATE_DATASET not in PUBLIC
    for name in PUBLIC:
        sample = INSTANCE.datasets[name]
        dataset = LegacyDataset.objects.get(name=name)
        assert sorted(dataset.sources.values_list("legacy_id", flat=True)) == sorted(s["id"] for s in sample.sources)
        assert dataset.team_usernames == sample.team
        assert not dataset.runs_known, "runs are only visible to the team"


def test_include_private_needs_a_key(legacy, tmp_path):
    with pytest.raises(CommandError, match="needs --api-key"):
        run_export(legacy, tmp_path, "--include-private")


@pytest.mark.parametrize("key", [ADMIN_API_KEY, MANAGER_API_KEY])
def test_with_a_key_and_include_private_the_private_dataset_comes_too(legacy, tmp_path, key):
    output = run_export(legacy, tmp_path, "--api-key", key, "--include-private")
    run_import(tmp_path)
    private = LegacyDataset.objects.get(name=PRIVATE_DATASET)
    assert private.private
    assert LegacyDataset.objects.filter(private=True).count() == 1
    assert "1 private" in output
    if key == ADMIN_API_KEY:
        assert sorted(LegacyDataset.objects.values_list("name", flat=True)) == ALL


def test_a_key_alone_does_not_export_private_datasets(legacy, tmp_path):
    run_export(legacy, tmp_path, "--api-key", ADMIN_API_KEY)
    run_import(tmp_path)
    assert not LegacyDataset.objects.filter(name=PRIVATE_DATASET).exists()


def test_with_a_key_every_run_and_team_member_comes_across(legacy, tmp_path):
    run_export(legacy, tmp_path, "--api-key", ADMIN_API_KEY, "--include-private")
    run_import(tmp_path)
    for name, sample in INSTANCE.datasets.items():
        dataset = LegacyDataset.objects.get(name=name)
        assert dataset.runs_known
        assert sorted(dataset.runs.values_list("legacy_id", flat=True)) == sorted(run["id"] for run in sample.runs)
        assert dataset.team_usernames == sample.team
    lindenau = LegacyDataset.objects.get(name="lindenau-haushalt")
    member = lindenau.team.get(username="kmueller")
    assert member.fullname == "Katrin Müller"
    assert member.legacy_admin is False


def test_incomplete_reasons_follow_the_legacy_state(legacy, tmp_path):
    run_export(legacy, tmp_path, "--api-key", ADMIN_API_KEY, "--include-private")
    run_import(tmp_path)
    reasons = dict(LegacyDataset.objects.values_list("name", "incomplete_reasons"))
    assert reasons["riverton-draft-budget-2015"] == [state.NO_MODEL, state.NO_SUCCESSFUL_IMPORT, state.NO_ENTRIES]
    for name in ["lindenau-haushalt", "northfield-spending-2014", "hafnarvik-utgjold-2013"]:
        assert reasons[name] == [], name
    # The last import failed, but an earlier one loaded rows: the legacy app called that source loaded.
    assert reasons["lagoon-district-expenditure"] == []


def test_the_cube_rows_and_totals_come_across(legacy, tmp_path):
    run_export(legacy, tmp_path, "--api-key", ADMIN_API_KEY, "--include-private")
    run_import(tmp_path)
    for name, sample in INSTANCE.datasets.items():
        dataset = LegacyDataset.objects.get(name=name)
        rows = len(sample.entries)
        assert dataset.entry_count == rows, name
        if rows:
            assert dataset.entries_complete
            assert dataset.aggregates["num_entries"] == rows
            total = sum(float(entry["amount"]) for entry in sample.entries)
            assert dataset.aggregates["measures"]["amount"]["total"] == pytest.approx(total)
            assert sum(dataset.aggregates["measures"]["amount"]["by_year"].values()) == pytest.approx(total)


def test_the_dead_source_is_unreachable_with_its_status(legacy, tmp_path):
    run_export(legacy, tmp_path)
    run_import(tmp_path)
    dead = Source.objects.get(dataset__name="northfield-spending-2014", legacy_id=5211)
    assert dead.archive_status == Source.ArchiveStatus.UNREACHABLE
    assert dead.archive_http_status == 404
    alive = Source.objects.get(dataset__name="northfield-spending-2014", legacy_id=5210)
    assert alive.archive_status == Source.ArchiveStatus.FETCHED
    assert alive.size and alive.sha256
    assert alive.archived_file.read().startswith(b"")


def test_migration_status_json_has_one_object_per_dataset(legacy, tmp_path):
    run_export(legacy, tmp_path)
    run_import(tmp_path)
    out = StringIO()
    call_command("migration_status", "--json", stdout=out)
    rows = json.loads(out.getvalue())
    assert [row["name"] for row in rows] == PUBLIC
    northfield = next(row for row in rows if row["name"] == "northfield-spending-2014")
    assert northfield["sources_fetched"] == 1
    assert northfield["sources_unreachable"] == 1
    assert northfield["team"] == ["pwright"]
    for key in ["private", "incomplete_reasons", "model_problems"]:
        assert key in northfield


# -- the API key stays secret ---------------------------------------------------------------------------------


def test_the_api_key_is_never_written_anywhere(legacy, tmp_path, caplog):
    legacy.add_fault(r"/lindenau-haushalt/model\.json", "garbage", times=10)
    legacy.add_fault(r"/files/northfield-spending-2014/.*", "status", times=10, status=500)
    output = run_export(legacy, tmp_path / "dump", "--api-key", ADMIN_API_KEY, "--include-private")
    run_import(tmp_path / "dump")
    assert ADMIN_API_KEY not in output
    assert ADMIN_API_KEY not in caplog.text
    for path in (tmp_path / "dump").rglob("*"):
        if path.is_file():
            assert ADMIN_API_KEY.encode() not in path.read_bytes(), path
    for dataset in LegacyDataset.objects.all():
        assert ADMIN_API_KEY not in json.dumps(dataset.harvest_problems)


def test_the_api_key_is_only_sent_to_the_legacy_instance(legacy, tmp_path):
    run_export(legacy, tmp_path, "--api-key", ADMIN_API_KEY)
    api_calls = [headers for method, path, headers in legacy.requests if not path.startswith("/files/")]
    assert api_calls
    assert all(headers.get("Authorization") == f"ApiKey {ADMIN_API_KEY}" for headers in api_calls)
    paths = [path for _, path, _ in legacy.requests if not path.startswith("/files/")]
    assert all("__=" in path for path in paths), "every API call carries a cache-busting parameter"


@pytest.mark.parametrize(("argument", "sent"), [((), ADMIN_API_KEY), (("--api-key", MANAGER_API_KEY), MANAGER_API_KEY)])
def test_legacy_api_key_is_the_default_key_and_the_argument_wins(legacy, tmp_path, settings, argument, sent):
    settings.LEGACY_API_KEY = ADMIN_API_KEY

    output = run_export(legacy, tmp_path, *argument, "--include-private")

    assert "1 private" in output
    assert ADMIN_API_KEY not in output and MANAGER_API_KEY not in output
    api_calls = [headers for _, path, headers in legacy.requests if not path.startswith("/files/")]
    assert api_calls and all(headers.get("Authorization") == f"ApiKey {sent}" for headers in api_calls)
