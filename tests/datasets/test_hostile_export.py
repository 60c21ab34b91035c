"""export_legacy against a hostile legacy instance on loopback: bad names in its listing, answers that break one
dataset, and an instance that echoes the API key it was sent into every field it can."""

import dataclasses
import json
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from datasets import export, export_steps
from datasets.models import LegacyDataset, Source
from datasets.sample_legacy.app import Request, Response
from datasets.sample_legacy.instance import load_instance
from datasets.sample_legacy.server import ADMIN_API_KEY, SampleLegacyServer
from migration_site.lib.hashing import file_sha256
from tests.conftest import run_import

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_client")]

PUBLIC = sorted(dataset.name for dataset in load_instance().datasets.values() if not dataset.private)
LONG_NAME = "a" * 300
TARGET = "lindenau-haushalt"


def hostile(legacy: SampleLegacyServer, change: Callable[[Request, Response], Response]) -> None:
    """Let `change` rewrite every answer of the sample instance."""
    answer = legacy.app.handle
    legacy.app.handle = lambda request: change(request, answer(request))  # type: ignore[method-assign]


def export_failing(legacy: SampleLegacyServer, dump: Path, *args: str) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("export_legacy", "--url", legacy.base_url, "--to", str(dump), *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def with_json(response: Response, change: Callable[[Any], None]) -> Response:
    document = json.loads(response.body)
    change(document)
    return dataclasses.replace(response, body=json.dumps(document).encode())


def report(dump: Path) -> dict[str, Any]:
    return json.loads((dump / "export-report.json").read_text(encoding="utf-8"))


# -- names --------------------------------------------------------------------------------------------------------


def listing_with(*names: str) -> Callable[[Request, Response], Response]:
    def change(request: Request, response: Response) -> Response:
        if request.path != "/datasets.json":
            return response
        return with_json(response, lambda document: document["datasets"].extend({"name": name} for name in names))

    return change


def test_hostile_names_in_the_listing_fail_alone_and_every_other_dataset_is_exported(legacy, tmp_path):
    hostile(legacy, listing_with("../x", LONG_NAME, "..", ".hidden"))
    dump = tmp_path / "dump"
    output, failed = export_failing(legacy, dump)
    assert failed is not None and f"4 of {len(PUBLIC) + 4} datasets failed" in str(failed)
    assert "../x: FAILED" in output and "holds a path separator" in output
    assert f"{LONG_NAME}: FAILED" in output and "longer than 200 bytes" in output
    assert f"Exported {len(PUBLIC) + 4} datasets" in output and "4 failed" in output
    outcomes = {outcome["name"]: outcome for outcome in report(dump)["datasets"]}
    assert not outcomes["../x"]["ok"] and "refused" in outcomes["../x"]["problems"][0]
    assert [name for name, outcome in outcomes.items() if outcome["ok"]] == PUBLIC
    assert sorted(path.name for path in tmp_path.iterdir()) == ["dump"], "nothing written beside the dump"
    assert sorted(path.name for path in dump.iterdir()) == sorted([*PUBLIC, "export-report.json"])
    assert f"{len(PUBLIC)} created" in run_import(dump)


def test_a_hostile_dataset_name_is_refused_before_any_request(legacy, tmp_path):
    with pytest.raises(CommandError, match=r"refused --dataset: .*path separator"):
        call_command(
            "export_legacy", "--url", legacy.base_url, "--to", str(tmp_path), "--dataset", "../etc", stdout=StringIO()
        )
    assert legacy.requests == []


def test_a_dataset_answer_naming_another_dataset_cannot_rename_its_folder(legacy, tmp_path):
    def rename(request: Request, response: Response) -> Response:
        if request.path != f"/{TARGET}.json":
            return response
        return with_json(response, lambda document: document.update(name="../../evil", languages=5))

    hostile(legacy, rename)
    output, failed = export_failing(legacy, tmp_path, "--dataset", TARGET)
    assert failed is None, output
    document = json.loads((tmp_path / TARGET / "dataset.json").read_text(encoding="utf-8"))
    assert document["name"] == TARGET and document["languages"] == []
    assert any("../../evil" in problem["problem"] for problem in document["export"]["problems"])
    assert not (tmp_path.parent / "evil").exists()


def test_an_unexpected_error_in_one_dataset_is_recorded_with_its_type_and_the_run_goes_on(
    legacy, tmp_path, monkeypatch
):
    editor = export_steps.fetch_editor

    def broken(work):  # a bug that only one dataset's data reaches
        if work.name == TARGET:
            raise RuntimeError("a bug met in one dataset")
        return editor(work)

    monkeypatch.setattr(export, "fetch_editor", broken)
    output, failed = export_failing(legacy, tmp_path)
    assert failed is not None and f"1 of {len(PUBLIC)} datasets failed" in str(failed)
    assert f"{TARGET}: FAILED" in output and "RuntimeError: a bug met in one dataset" in output
    outcome = next(outcome for outcome in report(tmp_path)["datasets"] if outcome["name"] == TARGET)
    assert outcome["problems"] == ["RuntimeError: a bug met in one dataset"]
    assert all((tmp_path / name / "dataset.json").is_file() for name in PUBLIC if name != TARGET)


# -- the API key, echoed back -------------------------------------------------------------------------------------

ECHOED_FIELDS = ("description", "label", "url", "html_url")


def _echo_into(value: Any, key: str) -> None:
    """Append the key to every description, label and URL of a JSON answer, at any depth."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for field, item in list(items):
        if field in ECHOED_FIELDS and isinstance(item, str):
            value[field] = f"{item}?echo={key}" if "url" in str(field) else f"{item} {key}"
        else:
            _echo_into(item, key)


def _echo_extras(path: str, document: Any, key: str) -> None:
    if path == "/datasets.json":
        document["datasets"].append({"name": f"leak-{key}"})
    elif path == "/api/2/search":
        for result in document.get("results", []):
            result.update({"note": key, key: "a column named by the key"})
    elif path == "/api/2/aggregate":
        document["drilldown"].append({"year": key})
    elif path.endswith("/analysis.json"):
        document["echo"] = key


def echo_the_key(request: Request, response: Response) -> Response:
    """The instance puts the key it was sent into its answers: fields, cube rows, totals, even a source file."""
    key = request.api_key
    if key is None or response.status != 200:
        return response
    if request.path.startswith("/files/"):
        return dataclasses.replace(response, body=response.body + f"{key},0\n".encode())
    if "json" not in response.content_type:
        return response

    def change(document: Any) -> None:
        _echo_into(document, key)
        _echo_extras(request.path, document, key)

    return with_json(response, change)


def test_an_api_key_echoed_into_every_field_is_written_nowhere(legacy, tmp_path):
    hostile(legacy, echo_the_key)
    dump = tmp_path / "dump"
    output, failed = export_failing(legacy, dump, "--api-key", ADMIN_API_KEY)
    assert failed is not None and f"1 of {len(PUBLIC) + 1} datasets failed" in str(failed), output  # and leak-***
    assert "leak-***: FAILED" in output and "holds the API key" in output
    assert ADMIN_API_KEY not in output + str(failed)
    for path in dump.rglob("*"):
        assert ADMIN_API_KEY not in str(path.relative_to(dump))
        if path.is_file():
            assert ADMIN_API_KEY.encode() not in path.read_bytes(), path
    folder = dump / TARGET
    document = json.loads((folder / "dataset.json").read_text(encoding="utf-8"))
    assert document["description"].endswith(" ***")
    assert all(source["url"].endswith("?echo=***") for source in document["sources"])
    assert all('"echo": "***"' in source["analysis"] for source in document["sources"])
    assert b"***" in (folder / "entries.csv").read_bytes() and b"***" in (folder / "aggregates.json").read_bytes()
    for source in document["sources"]:
        archived = folder / source["archive"]["path"]
        assert archived.read_bytes().endswith(b"***,0\n")
        assert source["archive"]["sha256"] == file_sha256(archived), "the record describes the redacted file"
    assert any("held the API key" in problem["problem"] for problem in document["export"]["problems"])
    run_import(dump)
    assert Source.objects.filter(dataset__name=TARGET, archive_status=Source.ArchiveStatus.FETCHED).count() == 2
    assert LegacyDataset.objects.filter(description__contains=ADMIN_API_KEY).count() == 0
