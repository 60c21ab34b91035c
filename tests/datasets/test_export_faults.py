"""Faults during an export, each over real HTTP on loopback: recorded clearly, nothing else lost, the run goes on."""

import json
import re
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from datasets import state
from datasets.models import LegacyDataset, Source
from datasets.sample_legacy.instance import load_instance
from datasets.sample_legacy.server import ADMIN_API_KEY, SampleLegacyServer
from tests.conftest import SAMPLE_PUBLIC, run_export, run_import

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_client")]

LINDENAU_SOURCE = r"^/files/lindenau-haushalt/ergebnisplan-2013\.csv$"
# The public sources whose file the sample instance no longer has: its dead URLs, which answer 404.
DEAD_SOURCES = [
    source["id"]
    for name, dataset in load_instance().datasets.items()
    if name in SAMPLE_PUBLIC
    for source in dataset.sources
    if dataset.file_path(source["url"].rsplit("/", 1)[1]) is None
]


def archive_of(dump: Path, name: str, source_id: int) -> dict:
    document = json.loads((dump / name / "dataset.json").read_text(encoding="utf-8"))
    return next(source["archive"] for source in document["sources"] if source["id"] == source_id)


def requests_to(legacy, pattern: str) -> int:
    return sum(1 for _, path, _ in legacy.requests if re.search(pattern, path.split("?")[0]))


def assert_everything_else_came_across(dump: Path) -> None:
    run_import(dump)
    assert LegacyDataset.objects.count() == len(SAMPLE_PUBLIC)
    other = Source.objects.get(dataset__name="lindenau-haushalt", legacy_id=4102)
    assert other.archive_status == Source.ArchiveStatus.FETCHED
    assert LegacyDataset.objects.get(name="lindenau-haushalt").entry_count == 24


def test_a_500_then_success_is_retried(legacy, tmp_path):
    legacy.add_fault(LINDENAU_SOURCE, "status", times=1, status=500)
    run_export(legacy, tmp_path)
    assert archive_of(tmp_path, "lindenau-haushalt", 4101)["status"] == "fetched"
    assert requests_to(legacy, LINDENAU_SOURCE) == 2


def test_a_429_waits_as_long_as_retry_after_says(legacy, tmp_path, settings):
    settings.LEGACY_BACKOFF_SECONDS = 0
    legacy.add_fault(r"^/lindenau-haushalt\.json$", "status", times=1, status=429, retry_after=1)
    started = time.monotonic()
    run_export(legacy, tmp_path, "--dataset", "lindenau-haushalt", "--no-entries")
    assert time.monotonic() - started >= 1
    assert (tmp_path / "lindenau-haushalt" / "dataset.json").is_file()


def test_a_source_that_keeps_failing_is_unreachable_with_its_status(legacy, tmp_path):
    legacy.add_fault(LINDENAU_SOURCE, "status", times=10, status=503)
    output = run_export(legacy, tmp_path)
    archive = archive_of(tmp_path, "lindenau-haushalt", 4101)
    assert archive["status"] == "unreachable"
    assert archive["http_status"] == 503
    assert "3 attempts" in archive["error"]
    assert f"unreachable {len(DEAD_SOURCES) + 1}" in output  # this one plus the dead URLs of the sample instance
    assert_everything_else_came_across(tmp_path)


def test_a_timeout_is_recorded_and_the_run_goes_on(legacy, tmp_path):
    legacy.add_fault(LINDENAU_SOURCE, "delay", times=10, seconds=1.5)
    run_export(legacy, tmp_path)
    archive = archive_of(tmp_path, "lindenau-haushalt", 4101)
    assert archive["status"] == "unreachable"
    assert "timed out" in archive["error"]
    assert_everything_else_came_across(tmp_path)


def test_a_truncated_body_never_leaves_a_file_that_looks_complete(legacy, tmp_path):
    legacy.add_fault(LINDENAU_SOURCE, "truncate", times=10)
    run_export(legacy, tmp_path)
    archive = archive_of(tmp_path, "lindenau-haushalt", 4101)
    assert archive["status"] == "unreachable"
    assert "interrupted" in archive["error"]
    leftovers = list((tmp_path / "lindenau-haushalt" / "archive").glob("4101*"))
    assert leftovers == []
    assert_everything_else_came_across(tmp_path)


def test_a_truncated_body_once_is_downloaded_again(legacy, tmp_path):
    legacy.add_fault(LINDENAU_SOURCE, "truncate", times=1)
    run_export(legacy, tmp_path)
    archive = archive_of(tmp_path, "lindenau-haushalt", 4101)
    assert archive["status"] == "fetched"
    path = tmp_path / "lindenau-haushalt" / archive["path"]
    assert path.stat().st_size == archive["size"]


def test_an_html_page_instead_of_csv_is_refused(legacy, tmp_path):
    legacy.add_fault(LINDENAU_SOURCE, "html", times=10)
    run_export(legacy, tmp_path)
    archive = archive_of(tmp_path, "lindenau-haushalt", 4101)
    assert archive["status"] == "unreachable"
    assert "HTML page" in archive["error"]
    assert not (tmp_path / "lindenau-haushalt" / "archive" / "4101.csv").exists()
    assert_everything_else_came_across(tmp_path)


def test_invalid_json_from_model_json_is_recorded_as_a_model_problem(legacy, tmp_path):
    legacy.add_fault(r"^/lindenau-haushalt/model\.json$", "garbage", times=10)
    output = run_export(legacy, tmp_path)
    assert "lindenau-haushalt: ok" in output and "invalid JSON" in output
    document = json.loads((tmp_path / "lindenau-haushalt" / "dataset.json").read_text(encoding="utf-8"))
    assert "invalid JSON" in document["export"]["model_error"]
    run_import(tmp_path)
    dataset = LegacyDataset.objects.get(name="lindenau-haushalt")
    assert dataset.incomplete_reasons == [state.MODEL_PROBLEMS]
    assert "could not be read" in dataset.model_problems[0]["problem"]
    assert dataset.sources.filter(archive_status=Source.ArchiveStatus.FETCHED).count() == 2
    assert dataset.team_usernames == ["kmueller", "fbecker", "pwright"]


def test_a_model_that_fails_later_keeps_the_model_exported_earlier(legacy, tmp_path):
    run_export(legacy, tmp_path, "--dataset", "lindenau-haushalt")
    legacy.add_fault(r"^/lindenau-haushalt/model\.json$", "status", times=10, status=500)
    run_export(legacy, tmp_path, "--dataset", "lindenau-haushalt")
    document = json.loads((tmp_path / "lindenau-haushalt" / "dataset.json").read_text(encoding="utf-8"))
    assert document["data"]["mapping"]
    assert document["export"]["model_error"] is None
    assert any("kept the model exported earlier" in p["problem"] for p in document["export"]["problems"])


def test_a_source_that_fails_later_keeps_the_copy_fetched_earlier(legacy, tmp_path):
    run_export(legacy, tmp_path, "--dataset", "lindenau-haushalt")
    first = archive_of(tmp_path, "lindenau-haushalt", 4101)
    legacy.add_fault(LINDENAU_SOURCE, "status", times=10, status=500)
    run_export(legacy, tmp_path, "--dataset", "lindenau-haushalt")
    again = archive_of(tmp_path, "lindenau-haushalt", 4101)
    assert again["status"] == "fetched"
    assert again["sha256"] == first["sha256"]
    assert "HTTP 500" in again["refresh_error"]


def test_a_dataset_whose_metadata_fails_is_reported_and_the_others_exported(legacy, tmp_path):
    legacy.add_fault(r"^/northfield-spending-2014\.json$", "status", times=10, status=500)
    out = StringIO()
    with pytest.raises(CommandError, match=f"1 of {len(SAMPLE_PUBLIC)} datasets failed") as failure:
        call_command("export_legacy", "--url", legacy.base_url, "--to", str(tmp_path), stdout=out)
    assert failure.value.returncode == 2, "the run went through: exit status 2, some datasets failed"
    output = out.getvalue()
    assert "northfield-spending-2014: FAILED" in output
    assert "Failed: northfield-spending-2014" in output
    assert not (tmp_path / "northfield-spending-2014" / "dataset.json").exists()
    report = json.loads((tmp_path / "export-report.json").read_text(encoding="utf-8"))
    assert report["totals"]["failed"] == 1
    assert (tmp_path / "lindenau-haushalt" / "dataset.json").is_file()


def test_the_run_itself_fails_when_the_listing_cannot_be_had(legacy, tmp_path):
    legacy.add_fault(r"^/datasets\.json$", "garbage", times=10)
    with pytest.raises(CommandError, match="invalid JSON"):
        run_export(legacy, tmp_path)


def test_the_run_itself_fails_on_a_dead_instance(tmp_path):
    with SampleLegacyServer() as server:
        url = server.base_url
    with pytest.raises(CommandError, match="cannot list datasets"):
        call_command("export_legacy", "--url", url, "--to", str(tmp_path), stdout=StringIO())


def test_loopback_instances_are_refused_unless_allowed(legacy, tmp_path, settings):
    settings.LEGACY_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(CommandError, match="loopback or private"):
        run_export(legacy, tmp_path)


# -- resuming -------------------------------------------------------------------------------------------------------


def test_a_second_run_asks_conditionally_and_skips_the_unchanged_cube(legacy, tmp_path):
    run_export(legacy, tmp_path, "--api-key", ADMIN_API_KEY)
    first = (tmp_path / "lindenau-haushalt" / "entries.csv").read_bytes()
    legacy.requests.clear()
    run_export(legacy, tmp_path, "--api-key", ADMIN_API_KEY)
    source_requests = [headers for _, path, headers in legacy.requests if path.startswith("/files/lindenau")]
    assert source_requests and all("If-None-Match" in headers for headers in source_requests)
    assert requests_to(legacy, r"^/api/2/search$") == 0, "the cube's rows are not fetched again"
    assert requests_to(legacy, r"^/api/2/aggregate$") == 0
    assert (tmp_path / "lindenau-haushalt" / "entries.csv").read_bytes() == first
    run_import(tmp_path)
    assert LegacyDataset.objects.get(name="lindenau-haushalt").entry_count == 24
