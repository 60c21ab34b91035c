"""import_legacy on crafted dump folders: paths that leave the dump, symbolic links, damaged files, hostile names.

Each test plays the hostile dump and checks the refusal, that the other datasets were still imported, that the
command printed its report (and exited non-zero when a dataset failed), and that storage holds nothing refused.
"""

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from datasets.models import LegacyDataset, Source
from tests.conftest import SAMPLE_DATASETS

pytestmark = pytest.mark.django_db

TARGET = "lindenau-haushalt"
SOURCE_ID = 4101
OTHERS = len(SAMPLE_DATASETS) - 1  # the sample export holds every dataset of the instance, TARGET among them
SECRET = b"root:x:0:0:this file lives outside the dump\n"


# -- helpers ----------------------------------------------------------------------------------------------------


def run_import(dump: Path) -> tuple[str, CommandError | None]:
    """The command's output, and the CommandError it ended with (None when every dataset came through)."""
    out = StringIO()
    try:
        call_command("import_legacy", str(dump), stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def edit(dump: Path, change, name: str = TARGET) -> None:
    path = dump / name / "dataset.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def set_archive(dump: Path, **values) -> None:
    def change(document):
        source = next(source for source in document["sources"] if source["id"] == SOURCE_ID)
        source["archive"].update(values)

    edit(dump, change)


def archive_path(dump: Path) -> Path:
    return dump / TARGET / "archive" / f"{SOURCE_ID}.csv"


def stored(tmp_path: Path) -> dict[str, bytes]:
    """Every file in storage (the test settings keep it in tmp_path/storage), by its path there."""
    root = tmp_path / "storage"
    return {str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def outside_file(tmp_path: Path, content: bytes = SECRET) -> Path:
    path = tmp_path / "outside.csv"
    path.write_bytes(content)
    return path


def fetched_count() -> int:
    """The dataset's sources fetched, as `migration_status` reports them."""
    out = StringIO()
    call_command("migration_status", "--json", stdout=out)
    return int(next(row for row in json.loads(out.getvalue()) if row["name"] == TARGET)["sources_fetched"])


def assert_source_refused(tmp_path: Path, reason: str) -> Source:
    source = Source.objects.get(dataset__name=TARGET, legacy_id=SOURCE_ID)
    assert source.archive_status == Source.ArchiveStatus.UNREACHABLE
    assert reason in source.archive_error
    assert source.archived_file.name == "" and source.sha256 == ""
    assert not any(f"/sources/{SOURCE_ID}-" in name for name in stored(tmp_path)), "the refused file is not stored"
    assert SECRET not in stored(tmp_path).values()
    assert fetched_count() == 1, "only the other source counts as fetched (as migration_status shows it)"
    dataset = LegacyDataset.objects.get(name=TARGET)
    assert any(f"source {SOURCE_ID}: " in problem["problem"] for problem in dataset.harvest_problems)
    return source


def assert_the_rest_imported(output: str, failed: CommandError | None, created: int = OTHERS + 1) -> None:
    assert f"{created} created" in output, output
    assert LegacyDataset.objects.count() == created
    assert failed is None


def assert_failed(output: str, failed: CommandError | None, reason: str, name: str = TARGET) -> None:
    """The dataset failed with its reason on its progress line, the others were imported, the exit is non-zero."""
    assert failed is not None and "1 of" in str(failed)
    assert f"{name}: failed" in output and reason in output, output
    assert f"{OTHERS} created" in output
    assert LegacyDataset.objects.count() == OTHERS


# -- archived source files ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/etc/passwd", "is an absolute path"),
        ("../../outside.csv", "climbs out with '..'"),
        ("archive/../../../outside.csv", "climbs out with '..'"),
        ("archive/../archive/4101.csv", "climbs out with '..'"),  # even when it would land inside
        ("C:/outside.csv", "is an absolute path"),
        ("archive\\..\\..\\outside.csv", "backslash"),
        ("archive", "is not a regular file"),
    ],
)
def test_an_archive_path_that_is_not_plainly_inside_the_dataset_folder_is_refused(sample_dump, tmp_path, path, reason):
    outside_file(tmp_path)
    set_archive(sample_dump, path=path, sha256=None, size=None)
    output, failed = run_import(sample_dump)
    assert_the_rest_imported(output, failed)
    assert_source_refused(tmp_path, reason)


def test_an_archived_file_that_is_a_symlink_to_a_file_outside_is_refused(sample_dump, tmp_path):
    # The outside file holds exactly the recorded bytes: the link alone is what is refused.
    original = archive_path(sample_dump)
    outside = outside_file(tmp_path, original.read_bytes())
    original.unlink()
    original.symlink_to(outside)
    output, failed = run_import(sample_dump)
    assert_the_rest_imported(output, failed)
    assert_source_refused(tmp_path, "is or passes through a symbolic link")
    assert outside.read_bytes() not in stored(tmp_path).values()


def test_a_symlinked_archive_folder_is_refused_for_every_source_in_it(sample_dump, tmp_path):
    archive = sample_dump / TARGET / "archive"
    elsewhere = tmp_path / "elsewhere"
    shutil.move(archive, elsewhere)
    archive.symlink_to(elsewhere, target_is_directory=True)
    output, failed = run_import(sample_dump)
    assert_the_rest_imported(output, failed)
    assert fetched_count() == 0
    for source in Source.objects.filter(dataset__name=TARGET):
        assert source.archive_status == Source.ArchiveStatus.UNREACHABLE
        assert "symbolic link" in source.archive_error
    assert not any(name.startswith(f"legacy/{TARGET}/sources/") for name in stored(tmp_path))


def test_a_truncated_file_is_refused_with_the_recorded_size_and_hash(sample_dump, tmp_path):
    path = archive_path(sample_dump)
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    output, failed = run_import(sample_dump)
    assert_the_rest_imported(output, failed)
    source = assert_source_refused(tmp_path, "truncated or altered")
    assert f"the dump records {len(content)} bytes and sha256 " in source.archive_error
    assert f"the file has {len(content) // 2} bytes" in source.archive_error


def test_a_file_altered_to_the_same_size_is_refused_by_its_hash(sample_dump, tmp_path):
    path = archive_path(sample_dump)
    content = bytearray(path.read_bytes())
    content[-2] = ord("9") if content[-2] != ord("9") else ord("8")
    path.write_bytes(bytes(content))
    output, failed = run_import(sample_dump)
    assert_the_rest_imported(output, failed)
    assert_source_refused(tmp_path, "truncated or altered")


def test_a_file_recorded_as_fetched_but_missing_is_reported_and_not_counted(sample_dump, tmp_path):
    archive_path(sample_dump).unlink()
    output, failed = run_import(sample_dump)
    assert_the_rest_imported(output, failed)
    assert_source_refused(tmp_path, "recorded as fetched but the file is missing from the dump")


def test_a_2015_dump_whose_archived_file_is_a_symlink_is_refused(tmp_path):
    folder = tmp_path / "dump" / "old-2015"
    (folder / "archive").mkdir(parents=True)
    (folder / "archive" / "7.csv").symlink_to(outside_file(tmp_path))
    (folder / "archive" / "8.csv").write_bytes(b"amount\n1\n")
    document = {"id": 1, "name": "old-2015", "sources": [{"id": 7, "url": "http://a.example/7.csv"}, {"id": 8}]}
    (folder / "dataset.json").write_text(json.dumps(document), encoding="utf-8")
    output, failed = run_import(tmp_path / "dump")
    assert failed is None and "1 created" in output
    refused, kept = Source.objects.get(legacy_id=7), Source.objects.get(legacy_id=8)
    assert refused.archive_status == Source.ArchiveStatus.UNREACHABLE and "symbolic link" in refused.archive_error
    assert kept.archive_status == Source.ArchiveStatus.FETCHED
    assert list(stored(tmp_path).values()) == [b"amount\n1\n"]


# -- the dataset's own files --------------------------------------------------------------------------------------


def test_a_symlinked_entries_and_aggregates_file_are_refused_as_problems(sample_dump, tmp_path):
    for name in ("entries.csv", "aggregates.json"):
        path = sample_dump / TARGET / name
        outside = tmp_path / f"outside-{name}"
        shutil.copy(path, outside)
        path.unlink()
        path.symlink_to(outside)
    output, failed = run_import(sample_dump)
    assert_the_rest_imported(output, failed)
    dataset = LegacyDataset.objects.get(name=TARGET)
    assert dataset.entries_file.name == "" and dataset.aggregates is None
    problems = " ".join(problem["problem"] for problem in dataset.harvest_problems)
    assert "entries.csv not read" in problems and "aggregates.json not read" in problems
    assert not any(name.startswith(f"legacy/{TARGET}/entries") for name in stored(tmp_path))


def test_a_dataset_json_that_is_a_symlink_is_refused(sample_dump, tmp_path):
    path = sample_dump / TARGET / "dataset.json"
    outside = tmp_path / "outside.json"
    shutil.copy(path, outside)
    path.unlink()
    path.symlink_to(outside)
    output, failed = run_import(sample_dump)
    assert_failed(output, failed, "symbolic link")
    assert not LegacyDataset.objects.filter(name=TARGET).exists()


def test_a_dataset_folder_that_is_a_symlink_is_refused(sample_dump, tmp_path):
    elsewhere = tmp_path / "elsewhere" / "evil"
    shutil.copytree(sample_dump / TARGET, elsewhere)
    edit(elsewhere.parent, lambda document: document.update(name="evil"), name="evil")
    (sample_dump / "evil").symlink_to(elsewhere, target_is_directory=True)
    output, failed = run_import(sample_dump)
    assert failed is not None and "evil: failed" in output and "is a symbolic link" in output
    assert f"{OTHERS + 1} created" in output
    assert not LegacyDataset.objects.filter(name="evil").exists()
    assert not any(name.startswith("legacy/evil/") for name in stored(tmp_path))


def test_a_dataset_json_over_the_size_cap_is_refused_unread(sample_dump, tmp_path, settings):
    settings.DUMP_MAX_JSON_BYTES = 64 * 1024
    edit(sample_dump, lambda document: document.update(padding="x" * 100_000))
    output, failed = run_import(sample_dump)
    assert_failed(output, failed, "larger than DUMP_MAX_JSON_BYTES (65536 bytes)")


def test_an_aggregates_file_over_the_size_cap_is_a_problem_not_a_failure(sample_dump, tmp_path, settings):
    settings.DUMP_MAX_JSON_BYTES = 64 * 1024
    (sample_dump / TARGET / "aggregates.json").write_text(json.dumps({"padding": "x" * 100_000}), encoding="utf-8")
    output, failed = run_import(sample_dump)
    assert_the_rest_imported(output, failed)
    dataset = LegacyDataset.objects.get(name=TARGET)
    assert dataset.aggregates is None
    assert any("larger than DUMP_MAX_JSON_BYTES" in problem["problem"] for problem in dataset.harvest_problems)


# -- names --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("x" * 300, "longer than 200 bytes"),
        ("ð" * 101, "longer than 200 bytes"),
        ("../../outside", "path separator"),
        ("..", "starts with a dot"),
        (".hidden", "starts with a dot"),
        ("a\\b", "path separator"),
        ("a\x00b", "control or invisible character"),
        ("tab\there", "control or invisible character"),
        ("bidi\u202eoverride", "control or invisible character"),
    ],
)
def test_a_hostile_name_in_dataset_json_fails_that_dataset_only(sample_dump, tmp_path, name, reason):
    before = sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*"))
    edit(sample_dump, lambda document: document.update(name=name))
    output, failed = run_import(sample_dump)
    assert_failed(output, failed, reason)
    after = sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*"))
    assert [path for path in after if path not in before and path.parts[0] != "storage"] == []
    assert not any(TARGET in key or "outside" in key for key in stored(tmp_path))


def test_a_dump_folder_name_that_is_hidden_is_refused(sample_dump):
    shutil.move(sample_dump / TARGET, sample_dump / ".sneaky")
    output, failed = run_import(sample_dump)
    assert_failed(output, failed, "starts with a dot", name=".sneaky")


def test_an_unexpected_error_in_one_dataset_is_recorded_with_its_type_and_the_run_goes_on(sample_dump):
    edit(sample_dump, lambda document: document.update(id=10**30))  # no database integer holds it
    output, failed = run_import(sample_dump)
    # The database driver says it: sqlite3 raises OverflowError, PostgreSQL answers "bigint out of range".
    expected = "DataError: bigint out of range" if connection.vendor == "postgresql" else "OverflowError: "
    assert_failed(output, failed, expected)
    assert not LegacyDataset.objects.filter(name=TARGET).exists()
