"""Benchmark: our conversion + validation + reconciliation against the same work done with frictionless.

    DEBUG=1 .venv/bin/python bench/convert.py [--rows N] [--skip-10x] [--frictionless-rows N]

Generates a legacy dataset (three source CSVs in load order, the cube's totals worked out while writing them), then
runs each path in a forked child process so that its wall time and peak RSS are its own, checks that both paths
wrote the same rows and the same totals, and finally runs ours again at ten times the rows to show that its memory
stays flat. Everything goes to a temporary folder under /tmp, removed at the end.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import multiprocessing
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from importlib import metadata
from itertools import zip_longest
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `conversion` is importable when run as a script
# conversion.packaging is plain Python (an import-linter contract): no settings, no app, no database.
from conversion.packaging.package_spec import BuildPlan, ColumnSpec, PackageMeta, SourceFile

SOURCES = 3
SEED = 20_130_101
REPLACE_EVERY = 1000  # every 1000th row repeats the legacy key of the row 500 before it: a legacy upsert
REPLACE_DISTANCE = 500
# Disk per source row, with room to spare: at 1x the sources, our scratch and package and frictionless' output and
# its temporary copy; at 10x the sources and ours only (the 1x files are gone by then).
BYTES_PER_ROW_1X = 700
BYTES_PER_ROW_OURS = 450
PACKAGE = "bench-spending"
HEADER = ["Transaction ID", "Date", "Department", "COFOG Code", "COFOG Label", "Region", "Amount", "Notes"]
DEPARTMENTS = [
    "Ministry of Health", "Ministry of Education", "Ministry of Defence", "Ministry of Finance",
    "Ministère de l'Économie et des Finances", "Ministère de la Santé", "Bundesministerium für Verkehr",
    "Embætti forseta Íslands", "Alþingi", "Þjóðskrá Íslands", "Ministerstvo životního prostředí",
    "Department for Work & Pensions", "Department of Transport", "Home Office", "Cabinet Office",
    "Ministerio de Agricultura, Pesca y Alimentación", "Agência Nacional de Águas", "Statistics Office",
    "Public Prosecution Service", "Directorate of Fisheries",
]  # fmt: skip
COFOG = [
    ("01.1", "Executive and legislative organs, financial and fiscal affairs, external affairs"),
    ("01.3", "General services"), ("02.1", "Military defence"), ("03.1", "Police services"),
    ("03.3", "Law courts"), ("04.1", "General economic, commercial and labour affairs"),
    ("04.2", "Agriculture, forestry, fishing and hunting"), ("04.5", "Transport"), ("05.1", "Waste management"),
    ("06.1", "Housing development"), ("07.1", "Medical products, appliances and equipment"),
    ("07.3", "Hospital services"), ("08.2", "Cultural services"), ("09.1", "Pre-primary and primary education"),
    ("09.4", "Tertiary education"), ("10.2", "Old age"), ("10.5", "Unemployment"),
]  # fmt: skip
REGIONS = ["North", "South", "East", "West", "Capital Region", "Île-de-France", "Reykjavík", "Bavaria", "Coast"]
REGION_DEFAULT = "National"
WORDS = ["invoice", "grant", "salary", "rent", "contract", "refund", "transfer", "Q1", "Q2", "Q3", "Q4", "IT",
         "maintenance", "services", "supplies", "travel", "consulting", "fees", "équipement", "\"urgent\""]  # fmt: skip
YEARS = (2012, 2013, 2014)


# -- the legacy dataset ---------------------------------------------------------------------------------------------


@dataclass
class Legacy:
    sources: list[Path]
    rows: int  # rows in the sources
    aggregates: dict[str, Any]  # the cube's totals, as the exporter saves them (aggregates.json)


def generate(folder: Path, rows: int, seed: int = SEED) -> Legacy:
    """Source files with a realistic mix of values, and the totals the legacy cube had after its upserts."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    days = [str(datetime.date(year, 1, 1) + datetime.timedelta(n)) for year in YEARS for n in range(365)]
    cents_by_year = dict.fromkeys(map(str, YEARS), 0)
    replaced: dict[int, tuple[int, str]] = {}  # row -> (cents, year) of rows a later row will replace
    paths = []
    number = upserts = 0
    for index in range(SOURCES):
        path = folder / f"{index + 1}.csv"
        paths.append(path)
        count = rows // SOURCES + (1 if index < rows % SOURCES else 0)
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            batch = []
            for _ in range(count):
                row, cents = _row(rng, number, days)
                year = row[1][:4]
                cents_by_year[year] += cents
                if number % REPLACE_EVERY == REPLACE_EVERY - REPLACE_DISTANCE - 1:
                    replaced[number] = (cents, year)
                elif number % REPLACE_EVERY == REPLACE_EVERY - 1 and number - REPLACE_DISTANCE in replaced:
                    old_cents, old_year = replaced.pop(number - REPLACE_DISTANCE)
                    cents_by_year[old_year] -= old_cents
                    upserts += 1
                    row[0] = _key(number - REPLACE_DISTANCE)
                    row[7] = f"correction of row {number - REPLACE_DISTANCE}"
                batch.append(row)
                number += 1
                if len(batch) == 10_000:
                    writer.writerows(batch)
                    batch.clear()
            writer.writerows(batch)
    return Legacy(paths, rows, _aggregates(rows - upserts, cents_by_year))


def _row(rng: random.Random, number: int, days: list[str]) -> tuple[list[str], int]:
    department = DEPARTMENTS[int(rng.paretovariate(1.2)) % len(DEPARTMENTS)]
    code, label = COFOG[rng.randrange(len(COFOG))]
    region = "" if rng.random() < 0.1 else REGIONS[rng.randrange(len(REGIONS))]
    cents = rng.randrange(100, 10 ** rng.randrange(3, 11))
    if rng.random() < 0.2:
        cents -= cents % 100  # a whole amount, written without decimals
    if rng.random() < 0.05:
        cents = -cents
    notes = "" if rng.random() < 0.3 else " ".join(rng.choices(WORDS, k=rng.randrange(1, 5)))
    if notes and rng.random() < 0.1:
        notes += f", ref {rng.randrange(10**6)}"  # commas and quotes: some cells need CSV quoting
    return [_key(number), rng.choice(days), department, code, label, region, _amount(cents), notes], cents


def _key(number: int) -> str:
    return f"TX-{number:09d}"


def _amount(cents: int) -> str:
    """As the legacy sources wrote amounts: `12,345.67`, `-1,200`."""
    whole, fraction = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""
    return f"{sign}{whole:,}.{fraction:02d}" if fraction else f"{sign}{whole:,}"


def _aggregates(entries: int, cents_by_year: dict[str, int]) -> dict[str, Any]:
    """What the legacy API's aggregate answered, as floats."""
    by_year = {year: float(Decimal(cents) / 100) for year, cents in cents_by_year.items()}
    total = float(Decimal(sum(cents_by_year.values())) / 100)
    return {"num_entries": entries, "measures": {"amount": {"total": total, "by_year": by_year}}, "errors": []}


def build_plan(sources: list[Path]) -> BuildPlan:
    """The plan an approved mapping of this dataset gives."""
    meta = PackageMeta(
        name=PACKAGE, title="Benchmark spending", description="Generated transactions.",
        legacy_name=PACKAGE, legacy_url=f"https://openspending.org/{PACKAGE}", currency="EUR",
        category="spending", territories=["IS"], languages=["en"], owner="bench", author="bench", contributors=[],
        sources=[{"id": n, "url": f"https://example.org/{path.name}"} for n, path in enumerate(sources, start=1)],
    )  # fmt: skip
    return BuildPlan(meta=meta, columns=COLUMNS, sources=[
        SourceFile(n, f"https://example.org/{path.name}", path) for n, path in enumerate(sources, start=1)
    ])  # fmt: skip


def _column(field: str, path: str, kind: str, column_type: str, source: str, datatype: str, **more: Any) -> ColumnSpec:
    return ColumnSpec(path=path, kind=kind, field=field, column_type=column_type, title=source,
                      source_column=source, datatype=datatype, **more)  # fmt: skip


COLUMNS = [
    _column("transaction_id", "transaction_id", "attribute", "transaction-id:code", "Transaction ID", "string",
            primary_key=True, legacy_key=True),
    _column("date", "time", "date", "date:generic", "Date", "date"),
    _column("administrator_id", "from.name", "compound", "administrator:generic:id", "Department", "id"),
    _column("administrator_name", "from.label", "compound", "administrator:generic:name", "Department", "string",
            labelfor="administrator_id"),
    _column("cofog_code", "function.name", "compound", "functional-classification:cofog:group:code", "COFOG Code",
            "string"),
    _column("cofog_label", "function.label", "compound", "functional-classification:cofog:group:label",
            "COFOG Label", "string", labelfor="cofog_code"),
    _column("region", "region", "attribute", "geo-source:generic:code", "Region", "string",
            default_value=REGION_DEFAULT),
    _column("amount", "amount", "measure", "value", "Amount", "float",
            options={"currency": "EUR", "direction": "expenditure"}),
    _column("notes", "extra:Notes", "extra", "unknown:string", "Notes", "string", default_value=""),
]  # fmt: skip
MEASURE_NAMES = {"amount": "amount"}  # package field -> legacy measure, as conversion/runs.py gives them
FRICTIONLESS_SAMPLE = 10_000  # rows frictionless still reads in our validation, for what check_data leaves out


# -- ours: build_package, validation with check_data on every row, reconcile ----------------------------------------


def run_ours(legacy: Legacy, out: Path, sample_rows: int) -> dict[str, Any]:
    from conversion.packaging.build import build_package
    from conversion.packaging.reconcile import reconcile
    from conversion.packaging.validation import validate_package

    stages: dict[str, float] = {}
    with _stage(stages, "build"):
        report = build_package(build_plan(legacy.sources), out)
    with _stage(stages, "validate"):
        result = validate_package(out, frictionless_rows=sample_rows)
    with _stage(stages, "reconcile"):
        reconciliation = reconcile(report.totals, report.totals_by_year, report.rows_written, MEASURE_NAMES,
                                   aggregates=legacy.aggregates, entries_csv=None)  # fmt: skip
    return {
        "stages": stages, "rows_written": report.rows_written, "overwritten": report.overwritten,
        "totals": {name: str(total) for name, total in report.totals.items()},
        "valid": result.valid, "validation": result.summary(),
        "reconciliation": reconciliation.summary(), "csv": str(out / "data" / f"{PACKAGE}.csv"),
    }  # fmt: skip


# -- frictionless: transform, validate, sum -------------------------------------------------------------------------


def run_frictionless(legacy: Legacy, out: Path) -> dict[str, Any]:
    """The same work with frictionless' own transform and validate, and the same legacy value rules per cell."""
    import json

    from frictionless import Package, Resource, Schema, transform

    from conversion.packaging.reconcile import reconcile

    tempfile.tempdir = str(out)  # frictionless writes the whole output to a temporary file first
    data = out / "data" / f"{PACKAGE}.csv"
    data.parent.mkdir(parents=True, exist_ok=True)
    stages: dict[str, float] = {}
    with _stage(stages, "upsert keys"):
        replaced = _replaced_rows(legacy.sources)
    with _stage(stages, "transform"):
        raw = Schema.from_descriptor({"fields": [{"name": name, "type": "string"} for name in HEADER]})
        sources = [Resource(path=path.name, basepath=str(path.parent), schema=raw) for path in legacy.sources]
        target = transform(sources[0], steps=_frictionless_steps(sources[1:], replaced))
        target.write(path=str(data.relative_to(out)), basepath=str(out))
        (out / "datapackage.json").write_text(json.dumps(_frictionless_descriptor()), encoding="utf-8")
    with _stage(stages, "validate+sum"):
        # The measures are summed while frictionless validates (on_row), the rows' cells already cast: one pass.
        sums = _Sums()
        package = Package.from_descriptor(str(out / "datapackage.json"))
        report = package.get_resource(PACKAGE).validate(on_row=sums.add)
    with _stage(stages, "reconcile"):
        reconciliation = reconcile(sums.totals, sums.by_year, sums.rows, MEASURE_NAMES, aggregates=legacy.aggregates,
                                   entries_csv=None)  # fmt: skip
    return {
        "stages": stages, "rows_written": sums.rows,
        "totals": {name: str(total) for name, total in sums.totals.items()},
        "valid": report.valid, "validation": f"valid={report.valid}, errors={report.stats['errors']}",
        "reconciliation": reconciliation.summary(), "csv": str(data),
    }  # fmt: skip


def _replaced_rows(sources: list[Path]) -> set[tuple[str, int]]:
    """(key, hash of the raw row) of the rows a later row with the same key replaces. frictionless has no upsert:
    this pre-pass (stdlib csv, the cheapest way, to favour the frictionless path) holds every key in memory."""
    last: dict[str, int] = {}
    replaced: set[tuple[str, int]] = set()
    for path in sources:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            for row in reader:
                fingerprint = hash(tuple(row))
                if row[0] in last:
                    replaced.add((row[0], last[row[0]]))
                last[row[0]] = fingerprint
    return replaced


def _frictionless_steps(more: list[Any], replaced: set[tuple[str, int]]) -> list[Any]:
    """Merge the sources, drop the replaced rows, convert every cell with the legacy rules, rename to the fields.
    Renames come last, in steps of their own: stack-notes §5 (a rename with a function renames the schema only)."""
    from frictionless import steps as frictionless_steps

    from conversion.packaging.legacy_values import convert_value

    steps: Any = frictionless_steps  # star-imported without __all__: strict mypy sees no re-export

    def rule(column: ColumnSpec) -> Callable[[str], str]:
        return partial(convert_value, datatype=column.datatype, default_value=column.default_value,
                       date_format=column.date_format)  # fmt: skip

    derived = [column for column in COLUMNS if column.field == "administrator_id"]
    kept = [column for column in COLUMNS if column not in derived]
    slug = rule(derived[0])
    return [
        *(steps.table_merge(resource=source) for source in more),
        steps.row_filter(function=lambda row: (row[0], hash(tuple(row))) not in replaced),
        steps.field_add(name="administrator_id", position=COLUMNS.index(derived[0]) + 1,
                        function=lambda row: slug(row["Department"])),
        *(steps.field_update(name=column.source_column, function=rule(column)) for column in kept),
        *(steps.field_update(name=column.source_column, descriptor={"name": column.field}) for column in kept),
    ]  # fmt: skip


def _frictionless_descriptor() -> dict[str, Any]:
    types = {"date": {"type": "date", "format": "%Y-%m-%d"},
             "amount": {"type": "number", "decimalChar": ".", "groupChar": ""}}  # fmt: skip
    fields = [{"name": column.field, **types.get(column.field, {"type": "string"})} for column in COLUMNS]
    schema = {"fields": fields, "primaryKey": [column.field for column in COLUMNS if column.primary_key]}
    resource = {"name": PACKAGE, "path": f"data/{PACKAGE}.csv", "schema": schema}
    return {"name": PACKAGE, "resources": [resource]}


class _Sums:
    def __init__(self) -> None:
        self.rows = 0
        self.totals = {"amount": Decimal(0)}
        self.by_year: dict[str, dict[str, Decimal]] = {"amount": {}}

    def add(self, row: Any) -> None:
        self.rows += 1
        amount, date = row["amount"], row["date"]
        if amount is not None:
            self.totals["amount"] += amount
            if date is not None:
                years = self.by_year["amount"]
                years[str(date.year)] = years.get(str(date.year), Decimal(0)) + amount


# -- running, comparing, reporting ----------------------------------------------------------------------------------


@contextmanager
def _stage(stages: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    stages[name] = time.perf_counter() - started


def in_child(work: Callable[..., Any], *args: Any) -> dict[str, Any]:
    """Run work(*args) in a forked process: its result, with its wall time (`wall`, imports included; `work`, the
    sum of its stages when it has them, which leaves module imports out) and the process's own peak RSS."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(send, work, args))
    process.start()
    send.close()
    outcome: dict[str, Any] = receive.recv()
    process.join()
    if "error" in outcome:
        raise SystemExit(f"{work.__name__} failed in its child process:\n{outcome['error']}")
    return outcome


def _child(send: Connection, work: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        started = time.perf_counter()
        result = work(*args)
        wall = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        work_seconds = sum(result["stages"].values()) if isinstance(result, dict) and "stages" in result else wall
        send.send({"result": result, "wall": wall, "work": work_seconds, "peak_rss_mib": peak})
    except BaseException:
        send.send({"error": traceback.format_exc()})


def compare_outputs(ours: str, theirs: str) -> dict[str, Any]:
    """Row by row, after CSV parsing (frictionless writes \\r\\n line ends and may quote differently)."""
    rows = differing = 0
    first: str | None = None
    with open(ours, encoding="utf-8", newline="") as left, open(theirs, encoding="utf-8", newline="") as right:
        for a, b in zip_longest(csv.reader(left), csv.reader(right)):
            rows += 1
            if a != b:
                differing += 1
                first = first or f"line {rows}: {a} != {b}"
    return {"lines": rows, "differing": differing, "first": first}


def main() -> None:
    options = _arguments()
    folder = Path(tempfile.mkdtemp(prefix="bench-convert-", dir="/tmp"))
    try:
        _check_space(folder, options.rows, ten=not options.skip_10x)
        print(_machine())
        ours, theirs = _compare_at(folder / "1x", options.rows, options.frictionless_rows)
        if not options.skip_10x:
            shutil.rmtree(folder / "1x")
            _flat_memory(folder / "10x", options.rows * 10, options.frictionless_rows, ours, theirs)
        else:
            print("\n10x run skipped (--skip-10x).")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="source rows at 1x (default 1,000,000)")
    parser.add_argument("--skip-10x", action="store_true", help="do not repeat ours at ten times the rows")
    parser.add_argument(
        "--frictionless-rows", type=int, default=FRICTIONLESS_SAMPLE,
        help=f"rows frictionless reads in our validation (default {FRICTIONLESS_SAMPLE:,})",
    )  # fmt: skip
    options = parser.parse_args()
    if options.rows < SOURCES or options.frictionless_rows < 1:
        parser.error(f"--rows must be at least {SOURCES} and --frictionless-rows at least 1")
    return options


def _check_space(folder: Path, rows: int, *, ten: bool) -> None:
    free = shutil.disk_usage(folder).free
    needed = max(rows * BYTES_PER_ROW_1X, 10 * rows * BYTES_PER_ROW_OURS if ten else 0)
    if free < needed:
        raise SystemExit(f"{folder} has {free / 2**30:.1f} GiB free; the run needs about {needed / 2**30:.1f} GiB")


def _machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.platform()}, {os.cpu_count()} CPUs, {memory:.1f} GiB RAM; Python {platform.python_version()}, "
            f"frictionless {metadata.version('frictionless')}")  # fmt: skip


def _compare_at(folder: Path, rows: int, sample_rows: int) -> tuple[dict[str, Any], dict[str, Any]]:
    generated = in_child(generate, folder / "sources", rows)
    legacy: Legacy = generated["result"]
    print(f"\n{rows:,} source rows in {SOURCES} files, generated in {generated['wall']:.1f} s; the cube had "
          f"{legacy.aggregates['num_entries']:,} rows after its upserts")  # fmt: skip
    ours = in_child(run_ours, legacy, folder / "ours", sample_rows)
    theirs = in_child(run_frictionless, legacy, folder / "frictionless")
    _table(rows, [("ours", ours), ("frictionless", theirs)])
    print(f"speed-up: {theirs['work'] / ours['work']:.1f}x (target 10x); "
          f"ours: our data check on every row, frictionless on the first {sample_rows:,}")  # fmt: skip
    _agreement(ours["result"], theirs["result"])
    return ours, theirs


def _flat_memory(folder: Path, rows: int, sample_rows: int, one: dict[str, Any], theirs: dict[str, Any]) -> None:
    print(f"\nfrictionless is not run at 10x: at its 1x rate that would take about {10 * theirs['work'] / 60:.0f} "
          "minutes, and its upsert pre-pass and primary key check hold every key in memory.")  # fmt: skip
    generated = in_child(generate, folder / "sources", rows)
    print(f"{rows:,} source rows generated in {generated['wall']:.1f} s")
    ten = in_child(run_ours, generated["result"], folder / "ours", sample_rows)
    _table(rows, [("ours 10x", ten)])
    memory, seconds = ten["peak_rss_mib"] / one["peak_rss_mib"], ten["work"] / one["work"]
    print(f"peak RSS 10x / 1x: {ten['peak_rss_mib']:.0f} / {one['peak_rss_mib']:.0f} MiB = {memory:.2f}; "
          f"wall 10x / 1x: {seconds:.1f}")  # fmt: skip


def _table(rows: int, runs: list[tuple[str, dict[str, Any]]]) -> None:
    print(f"{'path':<14}{'work s':>8}{'rows/s':>10}{'peak RSS MiB':>14}{'process s':>11}  stages (s)")
    for name, run in runs:
        result = run["result"]
        stages = ", ".join(f"{stage} {seconds:.2f}" for stage, seconds in result["stages"].items())
        print(f"{name:<14}{run['work']:>8.1f}{rows / run['work']:>10,.0f}{run['peak_rss_mib']:>14.0f}"
              f"{run['wall']:>11.1f}  {stages}")  # fmt: skip
        print(f"{'':<14}validation: {result['validation']}; reconciliation: {result['reconciliation']}")


def _agreement(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    rows = in_child(compare_outputs, ours["csv"], theirs["csv"])["result"]
    same_totals = {k: Decimal(v) for k, v in ours["totals"].items()} == {
        k: Decimal(v) for k, v in theirs["totals"].items()
    }
    agree = not rows["differing"] and same_totals and ours["rows_written"] == theirs["rows_written"]
    print(f"outputs {'AGREE' if agree else 'DIFFER'}: {rows['lines'] - 1:,} data rows compared, "
          f"{rows['differing']} differ{'' if not rows['first'] else ' (first: ' + rows['first'] + ')'}; "
          f"totals ours {ours['totals']} vs frictionless {theirs['totals']}")  # fmt: skip


if __name__ == "__main__":
    main()
