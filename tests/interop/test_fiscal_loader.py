"""OpenSpending's loader (datapackage-pipelines-fiscal) loads every converted package into SQL, and the loaded fact
table has the package's rows and totals (the sum of each measure).

The loader is driven by a `fiscal` source-spec made the way os-conductor's upload makes it from an uploaded package
(openspending/os-conductor, conductor/blueprints/package/controllers.py): the descriptor's address as
`datapackage-url`, the first resource's data as the source, and for each field with a column type its name, title,
column type and, as `options`, its other properties except the ones the loader derives again. It runs the pipelines
that fill the database; the finalize flows, which only write the package back out as a zip (or to S3), are left out
for time. The database is SQLite, through DPP_DB_ENGINE, as os-conductor sets it."""

import csv
import json
import math
import re
import sqlite3
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.interop.conftest import Package

pytestmark = pytest.mark.django_db
# What os-conductor leaves out of a field's options: the loader sets these itself from the column type.
NOT_OPTIONS = ("name", "title", "columnType", "type", "slug", "conceptType", "format")
TIMEOUT = 1800


def source_spec(package: Package, owner: str) -> dict[str, Any]:
    descriptor = package.descriptor
    resource = descriptor["resources"][0]
    return {
        "dataset-name": descriptor["name"],
        "resource-name": resource["name"],
        "title": descriptor.get("title", descriptor["name"]),
        "datapackage-url": str(package.folder / "datapackage.json"),
        "owner-id": owner,
        "suppress-os": True,  # os-conductor's choice: the OpenSpending copy of the package exists already
        "sources": [{"url": str(package.folder / resource["path"]), "encoding": resource.get("encoding", "utf-8")}],
        "fields": [spec_field(field) for field in resource["schema"]["fields"] if "columnType" in field],
    }


def spec_field(field: dict[str, Any]) -> dict[str, Any]:
    """os-conductor's field, whose header is the name slugified: the names the project writes are slugs already."""
    return {
        "header": field["name"],
        "aliases": [],
        "title": field.get("title", field["name"]),
        "columnType": field["columnType"],
        "options": {key: value for key, value in field.items() if key not in NOT_OPTIONS},
    }


def owner_id(index: int) -> str:
    """An owner of its own per package (32 hex digits, like OpenSpending's): the loader names the fact table
    owner + 16 hex digits, so each package's table is found without redoing the loader's slug of the name."""
    return f"{index + 1:032x}"


def database_pipelines(folder: str) -> str:
    """dpp's pipeline ids (`%` matches a suffix): denormalized_flow, dimension_flow_*, dumper_flow*, normalized_flow."""
    return f"./{folder}/d%,./{folder}/normalized_flow"


def run_loader(venv: Path, modules: Path, root: Path, database: Path, folders: list[str]) -> str:
    """Every package in one dpp run, two pipelines at a time; the environment names only the SQL database (no
    Elasticsearch, S3 or Redis: those stay off). Returns dpp's log."""
    path = ":".join([str(venv / "bin"), str(modules / ".bin"), "/usr/local/bin", "/usr/bin", "/bin"])
    env = {"PATH": path, "HOME": str(root), "LANG": "C.UTF-8", "DPP_DB_ENGINE": f"sqlite:///{database}"}
    ids = ",".join(database_pipelines(folder) for folder in folders)
    done = subprocess.run(
        [str(venv / "bin" / "dpp"), "run", "--concurrency", "2", ids],
        cwd=root,
        env=env,
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    return (done.stdout + done.stderr).decode("utf-8", "replace")


def package_totals(package: Package) -> tuple[int, dict[str, Decimal]]:
    """The first resource's row count and the sum of each measure's column, read from its CSV."""
    resource = package.descriptor["resources"][0]
    fields = {field["name"]: field for field in resource["schema"]["fields"]}
    columns = [measure["source"] for measure in package.descriptor["model"]["measures"].values()]
    totals = dict.fromkeys(columns, Decimal(0))
    rows = 0
    with (package.folder / resource["path"]).open(encoding=resource.get("encoding", "utf-8"), newline="") as data:
        for row in csv.DictReader(data):
            rows += 1
            for column in columns:
                totals[column] += number(row[column], fields[column])
    return rows, totals


def number(text: str, field: dict[str, Any]) -> Decimal:
    """A Table Schema number as written (an empty cell is missing, and adds nothing)."""
    if not text:
        return Decimal(0)
    text = text.replace(field.get("groupChar") or "\0", "").replace(field.get("decimalChar", "."), ".")
    return Decimal(text)


def loaded_totals(database: Path, owner: str, columns: list[str]) -> tuple[int, dict[str, float]] | None:
    """The fact table's row count and column sums, or None when the loader wrote no fact table for `owner`."""
    with sqlite3.connect(database) as connection:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        facts = [name for name in tables if re.fullmatch(f"{owner}[0-9a-f]{{16}}", name)]
        if not facts:
            return None
        sums = ", ".join(f"TOTAL({quoted(column)})" for column in columns)
        rows, *totals = connection.execute(f"SELECT COUNT(*), {sums} FROM {quoted(facts[0])}").fetchone()
    return rows, dict(zip(columns, totals, strict=True))


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def failure_log(log: str, folder: str) -> str:
    """dpp's report of the package's failed pipelines, without the ones that only waited on another, and without
    traceback frames."""
    results = log.partition("RESULTS:")[2]
    blocks = re.split(r"\n(?=\S*INFO\s*:(?:SUCCESS|FAILURE): )", results)
    wanted = [block for block in blocks if f"FAILURE: ./{folder}/" in block and "Dependency unsuccessful" not in block]
    frame = re.compile(r"\|(\s{2,}| ERROR\s*:File )")  # a traceback's "File ..." lines and the code under them
    lines = [line for block in wanted for line in block.splitlines() if not frame.match(line)]
    return "\n".join(lines[:60])


def compare(package: Package, loaded: tuple[int, dict[str, float]]) -> list[str]:
    rows, totals = package_totals(package)
    loaded_rows, loaded_sums = loaded
    problems = [] if loaded_rows == rows else [f"{package.name}: {loaded_rows} rows loaded, the package has {rows}"]
    for column, total in totals.items():
        if not math.isclose(loaded_sums[column], float(total), rel_tol=1e-9, abs_tol=1e-6):
            problems.append(f"{package.name}: {column} totals {loaded_sums[column]} loaded, {total} in the package")
    return problems


def test_the_fiscal_loader_loads_every_converted_package_with_its_rows_and_totals(
    fiscal_venv, os_types_modules, converted_packages, tmp_path
):
    # The tools first: a machine without them skips before the sample migration is built.
    root, database = tmp_path / "specs", tmp_path / "loaded.sqlite"
    owners = {package.folder.name: owner_id(index) for index, package in enumerate(converted_packages)}
    for package in converted_packages:
        spec = root / package.folder.name / "fiscal.source-spec.yaml"  # JSON is YAML
        spec.parent.mkdir(parents=True)
        spec.write_text(json.dumps(source_spec(package, owners[package.folder.name]), indent=1), encoding="utf-8")

    log = run_loader(fiscal_venv, os_types_modules, root, database, list(owners))

    failures = []
    for package in converted_packages:
        columns = [measure["source"] for measure in package.descriptor["model"]["measures"].values()]
        loaded = loaded_totals(database, owners[package.folder.name], columns) if database.exists() else None
        if loaded is None:
            failures.append(f"{package.name}: not loaded\n{failure_log(log, package.folder.name) or log[-3000:]}")
        else:
            failures.extend(compare(package, loaded))
    assert not failures, "the fiscal loader:\n" + "\n\n".join(failures)
