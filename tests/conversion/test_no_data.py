"""No data is not a conversion (issue 11, item 2): a dataset with no readable source and an empty legacy cube is
"not convertible: no data", before a run is queued when the database can tell, else by the run; never a 0-row
package."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse

from conversion import plan as conversion_plan
from conversion import runs
from conversion.models import ConversionRun
from conversion.packaging.package_spec import BuildReport, RowProblem
from conversion.plan import convertible_problem
from datasets.models import LegacyDataset, Source
from tests.conversion.test_build import plan as build_plan_with
from tests.conversion.test_runs import approve_everything, convert, latest

pytestmark = pytest.mark.django_db
NAME = "lindenau-haushalt"


@pytest.fixture
def approved(proposed, curator):
    approve_everything(proposed, curator)
    return proposed


def empty_cube(dataset: LegacyDataset, *, count: int | None = 0) -> None:
    """The cube's rows file replaced by its header alone, as an export of an empty cube leaves it."""
    with default_storage.open(dataset.entries_file.name, "rb") as handle:
        header = handle.readline()
    name = default_storage.save(f"legacy/{dataset.name}/empty-entries.csv", ContentFile(header))
    LegacyDataset.objects.filter(pk=dataset.pk).update(entries_file=name, entry_count=count)


def empty_sources(dataset: LegacyDataset, *, size: int | None = 0) -> None:
    """Every archived source file emptied; `size` is what the database records of it."""
    for source in Source.objects.filter(dataset=dataset).exclude(archived_file=""):
        default_storage.delete(source.archived_file.name)
        default_storage.save(source.archived_file.name, ContentFile(b""))
    Source.objects.filter(dataset=dataset).update(size=size)


def status_row(name: str) -> dict:
    out = StringIO()
    call_command("migration_status", "--json", stdout=out)
    return next(row for row in json.loads(out.getvalue()) if row["name"] == name)


def package_files(name: str) -> list[str]:
    root = Path(default_storage.path(f"packages/{name}"))
    return [str(path) for path in root.rglob("*") if path.is_file()] if root.exists() else []


# -- caught before a run is queued -----------------------------------------------------------------------------------


def test_unreachable_sources_and_an_empty_cube_are_not_convertible_before_a_run(approved):
    Source.objects.filter(dataset=approved).update(archive_status=Source.ArchiveStatus.UNREACHABLE)
    empty_cube(approved)
    problem = convertible_problem(LegacyDataset.objects.get(pk=approved.pk))
    assert problem == "no data: none of its source files was archived and the legacy cube has no rows"
    output = convert(NAME)  # no CommandError: not convertible, not failed
    assert f"{NAME}: not convertible: " in output and "no data" in output
    assert "1 not convertible" in output
    [run] = ConversionRun.objects.all()  # recorded, as a run that found it would be; no job was queued
    assert run.status == ConversionRun.Status.NOT_CONVERTIBLE and run.error == problem and not run.job_id
    assert status_row(NAME)["conversion_problem"] == problem


def test_a_dataset_still_without_data_is_not_converted_again(approved):
    Source.objects.filter(dataset=approved).update(archive_status=Source.ArchiveStatus.UNREACHABLE)
    empty_cube(approved)
    first = convert("--all-approved")
    again = convert("--all-approved")
    assert ConversionRun.objects.count() == 1
    assert f"{NAME}: not convertible: no data: " in again and "(unchanged since run " in again
    assert "1 not convertible" in first and "1 not convertible" in again


def test_empty_archived_sources_and_no_cube_rows_are_not_convertible(approved):
    empty_sources(approved)
    LegacyDataset.objects.filter(pk=approved.pk).update(entries_file="", entry_count=None)
    dataset = LegacyDataset.objects.get(pk=approved.pk)
    run = runs.conversion_request(dataset=dataset, sync=True)
    assert run.status == ConversionRun.Status.NOT_CONVERTIBLE
    assert run.error.startswith("no data: its 2 archived source file(s) are empty")
    assert "the legacy cube's rows were not exported" in convertible_problem(dataset)


def test_a_cube_of_unknown_size_is_not_held_against_the_dataset(approved):
    Source.objects.filter(dataset=approved).update(archive_status=Source.ArchiveStatus.UNREACHABLE)
    empty_cube(approved, count=None)
    assert convertible_problem(LegacyDataset.objects.get(pk=approved.pk)) == ""


# -- found by the run ------------------------------------------------------------------------------------------------


@pytest.fixture
def found_by_the_run(approved):
    """Sources the database believes are there (their size recorded) but empty, and a cube of unknown size that
    turns out empty: only the build can tell."""
    empty_sources(approved, size=1000)
    empty_cube(approved, count=None)
    output = convert(NAME)
    return latest(approved), output


def test_a_run_that_finds_no_data_fails_as_not_convertible_and_stores_no_package(found_by_the_run):
    run, output = found_by_the_run
    assert run.status == ConversionRun.Status.NOT_CONVERTIBLE
    assert run.error.startswith("no data: its sources could not be read (source ")
    assert "the file is empty" in run.error and run.error.endswith("and the legacy cube has no rows")
    assert run.rows_written is None and not run.package_path and not run.reconciliation_status
    assert not package_files(NAME)
    assert not ConversionRun.objects.succeeded().exists()
    assert f"{NAME}: not convertible: no data: " in output and "1 not convertible" in output


def test_migration_status_shows_not_convertible_with_the_reason(found_by_the_run):
    run, _ = found_by_the_run
    row = status_row(NAME)
    assert row["conversion_status"] == "not_convertible"
    assert row["conversion_problem"] == run.error
    assert row["rows"] is None and row["reconciliation"] is None and row["package_path"] is None


def test_the_status_table_says_why_a_dataset_is_not_convertible(found_by_the_run):
    out = StringIO()
    call_command("migration_status", "--wide", stdout=out)
    header, *lines = out.getvalue().splitlines()

    assert "not convertible because" in header
    assert any(line.startswith(NAME) and "not_convertible" in line and "no data:" in line for line in lines)


def test_the_run_admin_shows_not_convertible_and_the_reason(client, curator, found_by_the_run):
    run, _ = found_by_the_run
    client.force_login(curator)
    listing = client.get(reverse("admin:conversion_conversionrun_changelist")).content.decode()
    assert "not convertible" in listing
    page = client.get(reverse("admin:conversion_conversionrun_change", args=[run.pk])).content.decode()
    assert "Not convertible because" in page and "the legacy cube has no rows" in page


def test_a_header_only_source_is_no_data_either(approved, monkeypatch):
    """Sources with a header and no row, read fine: still no package."""

    def header_only(dataset, workdir):
        plan = original(dataset, workdir)
        for source in plan.sources:
            source.path.write_bytes(source.path.read_bytes().splitlines(keepends=True)[0])
        return plan

    original = conversion_plan.build_plan
    monkeypatch.setattr("conversion.runs.build_plan", header_only)
    output = convert(NAME)
    run = latest(approved)
    assert run.status == ConversionRun.Status.NOT_CONVERTIBLE
    assert run.error == "no data: its sources have a header and no rows"
    assert "not convertible" in output and not package_files(NAME)
    assert runs.not_convertible_reason(run) == "no data: its sources have a header and no rows"


def test_a_plain_failure_is_not_read_as_not_convertible(approved):
    run = ConversionRun.objects.create(dataset=approved, status=ConversionRun.Status.FAILED, error="ValueError: x")
    assert runs.not_convertible_reason(run) == ""
    assert status_row(NAME)["conversion_status"] == "failed"


# -- the reason, from the build report -------------------------------------------------------------------------------


def test_every_row_refused_is_reported_with_the_first_problem(tmp_path):
    report = BuildReport(built_from="sources", rows_read=3, rows_rejected=3)
    report.problems.append(RowProblem(1, 1, "amount", "lots", "'lots' is not a number"))
    reason = runs.no_rows_reason(build_plan_with(tmp_path, "amount\n"), report)
    assert reason == "no rows: none of its sources' 3 rows could be converted (first problem: 'lots' is not a number)"


def test_no_source_and_no_cube_file_says_both(tmp_path):
    reason = runs.no_rows_reason(build_plan_with(tmp_path), BuildReport(built_from="sources"))
    assert reason == "no data: it has no source file and the cube's rows were not exported"
