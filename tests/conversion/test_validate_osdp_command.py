"""manage.py validate_osdp: readable problems and exit status 1 for an invalid package, 0 for a valid one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.conversion.test_validation import write_package, zip_folder

PROJECT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024
TOO_BIG = "datapackage.json: is 300 MiB, more than the 4 MiB allowed (PACKAGE_DESCRIPTOR_MAX_BYTES)"
TOO_DEEP = "datapackage.json: nests deeper than 64 levels"
REFUSED = "invalid: 1 problem (descriptor 1); 0 resources, 0 data rows read"
# manage.py, then its peak memory on stderr: what a refused descriptor cost the process that refused it. VmHWM, not
# getrusage's ru_maxrss, which Linux carries over exec from the forking process (a test worker of 600 MB).
MEASURED = (
    "import re, runpy, sys\n"
    "try:\n"
    "    runpy.run_path('manage.py', run_name='__main__')\n"
    "finally:\n"
    "    status = open('/proc/self/status').read()\n"
    "    print('peak_kib=' + re.search(r'VmHWM:\\s*(\\d+) kB', status)[1], file=sys.stderr)\n"
)


def lower_currency(descriptor: dict[str, Any]) -> None:
    descriptor["model"]["measures"]["amount"]["currency"] = "eur"


def with_300_mb_descriptor(folder: Path) -> Path:
    """A valid package whose datapackage.json is then padded to 300 MiB, sparse: nothing written, nothing held."""
    write_package(folder)
    with (folder / "datapackage.json").open("r+b") as handle:
        handle.truncate(300 * MIB)
    return folder


def zip_with_300_mb_descriptor(folder: Path, archive: Path) -> Path:
    """A zip of a few hundred KB whose datapackage.json unpacks to 300 MiB: valid JSON, then spaces, streamed."""
    text = (write_package(folder) / "datapackage.json").read_bytes()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(folder / "data" / "budget.csv", "data/budget.csv")
        with bundle.open("datapackage.json", "w") as out:
            out.write(text)
            for _ in range(299):
                out.write(b" " * MIB)
            out.write(b" " * (MIB - len(text)))
    return archive


def with_deep_descriptor(folder: Path, levels: int = 100_000) -> Path:
    write_package(folder)
    (folder / "datapackage.json").write_text('{"x": ' + "[" * levels + "]" * levels + "}", encoding="utf-8")
    return folder


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


def test_the_descriptor_size_limit_is_the_setting(tmp_path: Path, settings: Any) -> None:
    folder = write_package(tmp_path)
    size = (folder / "datapackage.json").stat().st_size
    settings.PACKAGE_DESCRIPTOR_MAX_BYTES = size - 1

    out, error = run_failing(str(folder))

    assert f"more than the {size - 1:,} bytes allowed (PACKAGE_DESCRIPTOR_MAX_BYTES)" in out
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


def test_a_300_mb_descriptor_is_refused_from_the_shell_without_being_loaded(tmp_path: Path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DEBUG": "1"}
    command = [sys.executable, "-c", MEASURED, "validate_osdp", str(with_300_mb_descriptor(tmp_path / "big"))]
    done = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 1 and done.stdout.splitlines() == [TOO_BIG, REFUSED]
    error, measured = done.stderr.strip().splitlines()
    assert error == f"CommandError: {REFUSED}"
    assert int(measured.removeprefix("peak_kib=")) < 150 * 1024  # 3.8 GB when it was parsed and validated


def test_a_zip_whose_descriptor_unpacks_to_300_mb_is_refused(tmp_path: Path) -> None:
    archive = zip_with_300_mb_descriptor(tmp_path / "package", tmp_path / "big.zip")
    assert archive.stat().st_size < 2 * MIB

    out, error = run_failing(str(archive))

    assert out.splitlines() == [TOO_BIG, REFUSED] and str(error) == REFUSED


def test_a_descriptor_nested_100000_levels_is_refused_from_the_shell_without_a_traceback(tmp_path: Path) -> None:
    done = manage(str(with_deep_descriptor(tmp_path / "deep")))

    assert done.returncode == 1 and done.stdout.splitlines() == [TOO_DEEP, REFUSED]
    assert done.stderr.strip() == f"CommandError: {REFUSED}"
