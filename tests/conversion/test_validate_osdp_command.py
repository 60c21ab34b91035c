"""manage.py validate_osdp: readable problems and exit status 1 for an invalid package, 0 for a valid one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.conversion.test_validation import write_package, zip_folder

PROJECT = Path(__file__).resolve().parents[2]


def lower_currency(descriptor: dict[str, Any]) -> None:
    descriptor["model"]["measures"]["amount"]["currency"] = "eur"


def run(*args: str) -> str:
    out = StringIO()
    call_command("validate_osdp", *args, stdout=out)
    return out.getvalue()


def run_failing(*args: str) -> tuple[str, CommandError]:
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("validate_osdp", *args, stdout=out)
    return out.getvalue(), caught.value


def test_valid_package_prints_valid(tmp_path: Path) -> None:
    assert run(str(write_package(tmp_path))) == "valid (1 resource, 3 data rows read)\n"


def test_invalid_package_prints_its_problems_and_fails(tmp_path: Path) -> None:
    out, error = run_failing(str(write_package(tmp_path, edit=lower_currency)))

    assert "model.measures.amount.currency: 'eur' does not match '^[A-Z]{3}$'" in out
    assert out.splitlines()[-1] == str(error) == "invalid: 1 problem (schema 1); 1 resource, 3 data rows read"
    assert error.returncode == 1


def test_zip_form(tmp_path: Path) -> None:
    valid = zip_folder(write_package(tmp_path / "good"), tmp_path / "good.zip")
    invalid = zip_folder(write_package(tmp_path / "bad", edit=lower_currency), tmp_path / "bad.zip")

    assert run(str(valid)).startswith("valid")
    assert "'eur' does not match" in run_failing(str(invalid))[0]


def test_json_output(tmp_path: Path) -> None:
    out, _ = run_failing(str(write_package(tmp_path, edit=lower_currency)), "--json")

    document = json.loads(out)
    assert document["valid"] is False and document["counts"] == {"schema": 1}
    assert document["problems"][0]["where"] == "model.measures.amount.currency"
    assert json.loads(run(str(write_package(tmp_path / "good")), "--json"))["valid"] is True


def test_missing_path_and_broken_zip_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "broken.zip").write_bytes(b"not a zip")

    assert "does not exist" in str(run_failing(str(tmp_path / "nowhere"))[1])
    assert "neither a package folder nor a readable zip" in str(run_failing(str(tmp_path / "broken.zip"))[1])


def manage(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DEBUG": "1"}
    command = [sys.executable, "manage.py", "validate_osdp", *args]
    return subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_exit_status_from_the_shell(tmp_path: Path) -> None:
    good = manage(str(write_package(tmp_path / "good")))
    bad = manage(str(write_package(tmp_path / "bad", edit=lower_currency)))
    missing = manage(str(tmp_path / "nowhere"))

    assert (good.returncode, good.stdout.strip()) == (0, "valid (1 resource, 3 data rows read)")
    assert bad.returncode == 1 and "'eur' does not match" in bad.stdout
    assert bad.stderr.strip() == "CommandError: invalid: 1 problem (schema 1); 1 resource, 3 data rows read"
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert missing.stderr.strip() == f"CommandError: {tmp_path / 'nowhere'} does not exist"


def test_frictionless_rows_still_finds_a_bad_cell_after_the_sample(tmp_path: Path) -> None:
    rows = [[str(n), str(2000 + n), "a", "Agency A"] for n in range(20)] + [["oops", "2100", "a", "Agency A"]]

    out, error = run_failing(str(write_package(tmp_path, rows=rows)), "--frictionless-rows", "3")

    assert 'data/budget.csv, row 22, field amount: "oops" is not a number' in out
    assert "note: data/budget.csv: reached row limit: 3" in out
    assert str(error) == "invalid: 1 problem (type-error 1); 1 resource, 21 data rows read"
