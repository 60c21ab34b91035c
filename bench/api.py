"""The read API (publishing/api/) on a 10M-row package, next to DuckDB alone and PostgreSQL on the same rows.

    .venv/bin/python bench/api.py [--rows 10000000] [--reps 30] [--warm-up 3] [--skip-postgres]

Steps, all in one run:
1. the package, made once and reused (under var/bench/api-<rows>/): a CSV of realistic fiscal rows (a transaction
   id, a date over ten years, 50 administrative units, 100 functional codes, 50,000 suppliers, an amount), written
   to Parquet by publishing/parquet.py as publication writes it, and its FDP descriptor with the Parquet alternate;
2. a site in a temporary folder (SQLite) with that package published, its copy in API_CACHE_DIR as <sha256>.parquet;
3. each query (an aggregate with a year drilldown, with and without a cut; a facts page, with and without the cut)
   timed `--reps` times after `--warm-up` runs, p50 and p95, through five paths:
   - ours in-process: publishing/api/cubes.py over the CubeModel of model.cube_model, in a fresh child process
     (spawned, so its peak RSS is its own), with the project's settings (API_MEMORY_LIMIT, API_THREADS);
   - ours over HTTP: gunicorn (one sync worker, production settings) on 127.0.0.1, a new connection per request,
     the JSON read whole; cold (a harmless `_bench=<n>` parameter makes every URL new to the ETag cache) and cached
     (the same URL again);
   - (a) DuckDB alone in its own child: a plain `duckdb.connect()` with the same threads, the same SQL by hand;
   - (b) PostgreSQL: the same rows COPYed into a table of a scratch database, an index on the cut column, ANALYZE;
     the same GROUP BY, and the facts page with its count(*) as OpenSpending's API asked for it.

Goals (issue 13): ours p50 within 1.5x of (a), and at least 10x faster than (b). Results print as tables and are
saved as JSON next to the package.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import math
import multiprocessing
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

OWNER, NAME = "bench", "national-spending"
CUBE = f"{OWNER}:{NAME}"
CUT_CODE = "A12"
PG_TABLE = "facts"
ADMIN_UNITS = 50
FUNCTIONS = 100
SUPPLIERS = 50_000
YEARS = 10
FIRST_DAY = "2010-01-01"
MINISTRIES = [
    "Health", "Education", "Defence", "Finance", "Interior", "Justice", "Foreign Affairs", "Agriculture",
    "Transport", "Energy", "Environment", "Labour", "Culture", "Tourism", "Housing", "Water", "Fisheries",
    "Science", "Trade", "Industry", "Social Affairs", "Youth and Sport", "Local Government", "Public Works",
    "Communications",
]  # fmt: skip
DIVISIONS = [
    "General public services", "Defence", "Public order and safety", "Economic affairs", "Environmental protection",
    "Housing and community amenities", "Health", "Recreation, culture and religion", "Education", "Social protection",
]  # fmt: skip
SUPPLIER_WORDS = ["Northern", "Allied", "Civic", "Atlantic", "Union", "Metro", "Prime", "Delta", "Crown", "Summit"]
FIELDS = [
    ("transaction_id", "string", "transaction-id:code", "Transaction"),
    ("date", "date", "date:generic", "Payment date"),
    ("admin_code", "string", "administrative-classification:generic:code", "Administrative unit (code)"),
    ("admin_label", "string", "administrative-classification:generic:label", "Administrative unit"),
    ("function_code", "string", "functional-classification:cofog:group:code", "Function (code)"),
    ("function_label", "string", "functional-classification:cofog:group:label", "Function"),
    ("supplier_id", "string", "supplier:generic:id", "Supplier (code)"),
    ("supplier_name", "string", "supplier:generic:name", "Supplier"),
    ("amount", "number", "value", "Amount"),
]  # fmt: skip


@dataclass(frozen=True)
class Query:
    label: str
    params: dict[str, str]  # of our API
    duckdb: list[str]  # (a): the same answer by hand, {source} for read_parquet(?), ? for the cut
    postgres: list[str]  # (b)
    cut: bool
    path: str  # of our API


QUERIES = [
    Query(
        "aggregate, year drilldown, cut",
        {"drilldown": "date.year", "cut": f"administrative_classification.admin_code:{CUT_CODE}"},
        ["SELECT CAST(year(date) AS INTEGER) AS y, sum(amount), count(*) FROM {source} WHERE admin_code = ? "
         "GROUP BY 1 ORDER BY 1"],
        ["SELECT extract(year FROM date)::int AS y, sum(amount), count(*) FROM facts WHERE admin_code = %s "
         "GROUP BY 1 ORDER BY 1"],
        True, "aggregate",
    ),
    Query(
        "aggregate, year drilldown, all rows",
        {"drilldown": "date.year"},
        ["SELECT CAST(year(date) AS INTEGER) AS y, sum(amount), count(*) FROM {source} GROUP BY 1 ORDER BY 1"],
        ["SELECT extract(year FROM date)::int AS y, sum(amount), count(*) FROM facts GROUP BY 1 ORDER BY 1"],
        False, "aggregate",
    ),
    Query(
        "facts, page 1 of 100",
        {"page": "1", "pagesize": "100"},
        ["SELECT * FROM {source} LIMIT 100", "SELECT count(*) FROM {source}"],
        ["SELECT * FROM facts LIMIT 100", "SELECT count(*) FROM facts"],
        False, "facts",
    ),
    Query(
        "facts, page 1 of 100, cut",
        {"page": "1", "pagesize": "100", "cut": f"administrative_classification.admin_code:{CUT_CODE}"},
        ["SELECT * FROM {source} WHERE admin_code = ? LIMIT 100", "SELECT count(*) FROM {source} WHERE admin_code = ?"],
        ["SELECT * FROM facts WHERE admin_code = %s LIMIT 100", "SELECT count(*) FROM facts WHERE admin_code = %s"],
        True, "facts",
    ),
]  # fmt: skip


def main() -> None:
    options = _arguments()
    folder = PROJECT / "var" / "bench" / f"api-{options.rows}"
    site = Path(tempfile.mkdtemp(prefix="bench-api-"))
    (site / "static").mkdir()  # STATIC_ROOT: nothing is served from it, but WhiteNoise wants it to exist
    port = _free_port()
    _configure(site, folder, port)
    print(_machine(), flush=True)
    closers: list[Callable[[], object]] = []
    try:
        package = _package(folder, options.rows)
        _cache_copy(package)
        paths, reporters = _paths(package, port, options, closers)
        results: dict[str, Any] = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": _machine(), "options": vars(options),
            "load_before": os.getloadavg(), "package": package,
        }  # fmt: skip
        results["timings"] = _measure(paths, options)
        results["load_after"] = os.getloadavg()
        results["memory"] = {name: report() for name, report in reporters.items()}
        _report(results)
        (folder / "results.json").write_text(json.dumps(results, indent=2, default=str))
        print(f"\nresults saved to {folder / 'results.json'}")
    finally:
        for close in reversed(closers):
            close()
        shutil.rmtree(site, ignore_errors=True)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the package (default 10,000,000)")
    parser.add_argument("--reps", type=int, default=30, help="timed runs of each query on each path (default 30)")
    parser.add_argument("--warm-up", type=int, default=3, help="untimed runs first (default 3)")
    parser.add_argument("--skip-postgres", action="store_true", help="leave out (b)")
    parser.add_argument(
        "--postgres", default="postgresql://postgres@127.0.0.1:5432/", help="a server where a scratch database "
        "bench_api_<rows> is made once and reused (default postgres on 127.0.0.1, trust auth)"
    )  # fmt: skip
    options = parser.parse_args()
    if options.rows < 1000 or options.reps < 2:
        parser.error("--rows must be at least 1000 and --reps at least 2")
    return options


def _configure(site: Path, folder: Path, port: int) -> None:
    """The environment of this process, its children and gunicorn: production settings, the site under `site`."""
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "migration_site.settings", "DEBUG": "0", "SECRET_KEY": "bench-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,testserver", "VAR_DIR": str(site),
        "DATABASE_URL": f"sqlite:///{site / 'db.sqlite3'}", "DATABASE_CONN_MAX_AGE": "600",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "API_CACHE_DIR": str(folder / "api-cache"),
    })  # fmt: skip
    for name in ("REDIS_URL", "S3_BUCKET", "S3_PUBLIC_BUCKET", "STORAGE_ROOT", "PUBLIC_STORAGE_ROOT"):
        os.environ.pop(name, None)


def _machine() -> str:
    import duckdb

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.platform()}, {os.cpu_count()} CPUs, {memory:.1f} GiB RAM; Python "
            f"{platform.python_version()}, DuckDB {duckdb.__version__}")  # fmt: skip


# -- the package ------------------------------------------------------------------------------------------------------


def _package(folder: Path, rows: int) -> dict[str, Any]:
    """The package's files and descriptor, made when `folder` does not hold them yet."""
    from publishing.parquet import PARQUET_OPTIONS

    made = folder / "package.json"
    if made.exists() and json.loads(made.read_text()).get("parquet_options") == PARQUET_OPTIONS:
        print(f"package reused from {folder}")
        return dict(json.loads(made.read_text()))
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, parquet_path = folder / "data.csv", folder / "data.parquet"
    started = time.perf_counter()
    _write_csv(csv_path, rows)
    csv_seconds = time.perf_counter() - started
    resource = _resource(csv_path)
    _write_parquet(csv_path, resource, parquet_path)
    sha = _sha256(parquet_path)
    resource["alternates"] = [{
        "format": "parquet", "mediatype": "application/vnd.apache.parquet", "path": f"data/{NAME}-{sha[:12]}.parquet",
        "bytes": parquet_path.stat().st_size, "hash": f"sha256:{sha}", "rows": rows,
    }]  # fmt: skip
    package: dict[str, Any] = {
        "rows": rows, "csv": str(csv_path), "csv_bytes": csv_path.stat().st_size, "parquet": str(parquet_path),
        "parquet_bytes": parquet_path.stat().st_size, "sha256": sha, "descriptor": _descriptor(resource),
        "csv_seconds": csv_seconds, "parquet_seconds": time.perf_counter() - started - csv_seconds,
        "parquet_options": PARQUET_OPTIONS,  # a change of the way publication writes Parquet makes the package again
    }  # fmt: skip
    made.write_text(json.dumps(package, indent=1))
    print(f"package made in {time.perf_counter() - started:.1f} s: CSV {package['csv_bytes'] / 2**20:,.0f} MiB, "
          f"Parquet {package['parquet_bytes'] / 2**20:,.0f} MiB")  # fmt: skip
    return package


def _cache_copy(package: dict[str, Any]) -> None:
    """The copy the API reads, named as the API cache names it: a hard link to the package's Parquet file."""
    cache = Path(os.environ["API_CACHE_DIR"])
    cache.mkdir(exist_ok=True)
    copy = cache / f"{package['sha256']}.parquet"
    if not copy.exists():
        os.link(package["parquet"], copy)


def _write_csv(path: Path, rows: int) -> None:
    """Realistic fiscal rows from a hash of the row number: the same rows on every run, in any thread order."""
    import duckdb

    admin = [f"Ministry of {MINISTRIES[n % len(MINISTRIES)]}" + (" (regional office)" if n >= 25 else "")
             for n in range(ADMIN_UNITS)]  # fmt: skip
    functions = [f"{DIVISIONS[n // 10]}: group {n % 10}" for n in range(FUNCTIONS)]
    u = "(hash(i, {k}) % 1000000) / 1000000.0"  # uniform in [0, 1), one stream per k
    sql = f"""
        COPY (SELECT
            printf('TX-%010d', i) AS transaction_id,
            DATE '{FIRST_DAY}' + CAST(floor({u.format(k=1)} * {YEARS * 365}) AS INTEGER) AS date,
            printf('A%02d', a + 1) AS admin_code, $admin[a + 1] AS admin_label,
            printf('%02d.%d', f // 10 + 1, f % 10) AS function_code, $functions[f + 1] AS function_label,
            printf('S%05d', s + 1) AS supplier_id,
            $words[s % 10 + 1] || ' ' || $words[s // 10 % 10 + 1] || ' Supplies ' || (s + 1) || ' Ltd' AS supplier_name,
            round(CASE WHEN {u.format(k=5)} < 0.03 THEN -1 ELSE 1 END * pow(10, 1 + 5 * {u.format(k=6)}), 2) AS amount
        FROM (SELECT i,
                CAST(floor({u.format(k=2)} * {ADMIN_UNITS}) AS INTEGER) AS a,
                CAST(floor({u.format(k=3)} * {FUNCTIONS}) AS INTEGER) AS f,
                CAST(floor(pow({u.format(k=4)}, 3) * {SUPPLIERS}) AS INTEGER) AS s  -- a few suppliers get most rows
              FROM range({rows}) AS t(i))
        ) TO $path (FORMAT csv, HEADER true)
    """
    with duckdb.connect() as connection:
        connection.execute(sql, {"admin": admin, "functions": functions, "words": SUPPLIER_WORDS, "path": str(path)})


def _resource(csv_path: Path) -> dict[str, Any]:
    fields = [{"name": name, "title": title, "type": kind, "columnType": column, "conceptType": column.split(":")[0]}
              for name, kind, column, title in FIELDS]  # fmt: skip
    for field in fields:
        if field["type"] == "date":
            field["format"] = "%Y-%m-%d"
        if field["type"] == "number":
            field.update(decimalChar=".", groupChar="")
    return {
        "name": NAME, "path": f"data/{NAME}.csv", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
        "profile": "tabular-data-resource", "bytes": csv_path.stat().st_size,
        "schema": {"fields": fields, "primaryKey": ["transaction_id"]},
    }  # fmt: skip


def _write_parquet(csv_path: Path, resource: dict[str, Any], target: Path) -> None:
    """As publication writes it: publishing/parquet.py (LZ4, pages of 1 MiB, row groups of a million, one thread)."""
    from publishing.parquet import parquet_write

    started = time.perf_counter()
    totals = parquet_write(csv_path, resource, target, where=NAME)
    print(f"Parquet written by publishing/parquet.py in {time.perf_counter() - started:.1f} s: {totals.rows:,} rows")


def _descriptor(resource: dict[str, Any]) -> dict[str, Any]:
    def dimension(kind: str, key: str, label: str = "", **extra: str) -> dict[str, Any]:
        titles = {name: title for name, _, _, title in FIELDS}
        attributes: dict[str, Any] = {key: {"source": key, "title": titles[key]}}
        if label:
            attributes[label] = {"source": label, "title": titles[label], "labelfor": key}
        return {"dimensionType": kind, "primaryKey": [key], "attributes": attributes, **extra}

    return {
        "name": NAME, "title": "National government spending, 2010-2019", "countryCode": "GB", "currency": "GBP",
        "profile": "fiscal-data-package", "granularity": "transactional",
        "fiscalPeriod": {"start": FIRST_DAY, "end": f"{2010 + YEARS - 1}-12-31"},
        "resources": [resource],
        "model": {
            "measures": {"amount": {"source": "amount", "currency": "GBP", "title": "Amount"}},
            "dimensions": {
                "date": dimension("datetime", "date"),
                "transaction": dimension("other", "transaction_id"),
                "administrative-classification": dimension("administrative", "admin_code", "admin_label"),
                "functional-classification": dimension(
                    "classification", "function_code", "function_label", classificationType="functional"
                ),
                "supplier": dimension("entity", "supplier_id", "supplier_name"),
            },
        },
    }  # fmt: skip


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# -- timing -----------------------------------------------------------------------------------------------------------

Report = Callable[[], dict[str, Any]]
# Runs one query once: its time in ms, the answer's shape, and for ours in-process the ms DuckDB took.
Measured = Callable[["Query"], tuple[float, object, float | None]]


def _paths(package: dict[str, Any], port: int, options: argparse.Namespace,
           closers: list[Callable[[], object]]) -> tuple[dict[str, Measured], dict[str, Report]]:  # fmt: skip
    """Every path, up and waiting (they are measured in turn, round by round), and what each process reports."""
    paths: dict[str, Measured] = {}
    reporters: dict[str, Report] = {}
    for name, setup in (("ours", _ours_setup), ("(a) DuckDB", _duckdb_setup)):
        child = Child(setup, package)
        closers.append(child.close)
        paths[name], reporters[name] = child, child.info
    gunicorn = Gunicorn(package, port)
    closers.append(gunicorn.close)
    paths["HTTP cold"], paths["HTTP cached"] = gunicorn.cold, gunicorn.cached
    reporters["gunicorn worker"] = gunicorn.info
    if not options.skip_postgres:
        postgres = Postgres(package, options.postgres)
        closers.append(postgres.close)
        paths["(b) PostgreSQL"], reporters["(b) PostgreSQL"] = postgres, postgres.info
    return paths, reporters


def _measure(paths: dict[str, Measured], options: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Each query on every path: warm-up runs, then `reps` rounds in which every path runs it once, each path first
    in turn, so that what else the machine does at a moment weighs on all paths alike."""
    timings: dict[str, dict[str, Any]] = {}
    names = list(paths)
    for query in QUERIES:
        for _ in range(options.warm_up):
            for name in names:
                paths[name](query)
        samples: dict[str, list[float]] = {name: [] for name in names}
        engine: list[float] = []
        answers: dict[str, object] = {}
        for rep in range(options.reps):
            for name in names[rep % len(names) :] + names[: rep % len(names)]:
                ms, answers[name], in_engine = paths[name](query)
                samples[name].append(ms)
                if in_engine is not None:
                    engine.append(in_engine)
        timings[query.label] = {name: _summary(samples[name]) | {"answer": answers[name]} for name in names}
        timings[query.label]["ours"]["engine_p50_ms"] = statistics.median(engine)
        print(f"measured {query.label}", flush=True)
    return timings


def _summary(times: list[float]) -> dict[str, Any]:
    ranked = sorted(times)
    return {"p50_ms": statistics.median(ranked), "p95_ms": ranked[math.ceil(0.95 * len(ranked)) - 1],
            "min_ms": ranked[0], "max_ms": ranked[-1], "n": len(ranked)}  # fmt: skip


def _shape(answer: object) -> object:
    """Enough of an answer to see that every path answered the same: counts and the first cell or row."""
    if isinstance(answer, dict):
        keys = ("total_cell_count", "total_fact_count", "bytes")
        found = {key: answer[key] for key in keys if key in answer}
        items = answer.get("cells") or answer.get("data") or []
        return found | {"items": len(items), "first": items[0] if items else None}
    if isinstance(answer, list):
        return {"items": len(answer[0]), "first": list(answer[0][0]) if answer[0] else None,
                "count": answer[1][0][0] if len(answer) > 1 else None}  # fmt: skip
    return answer


def _timed(run: Callable[[], object]) -> tuple[float, object, None]:
    started = time.perf_counter()
    answer = run()
    return (time.perf_counter() - started) * 1000, _shape(answer), None


def _peak_rss_mib(pid: int | str = "self") -> float:
    """VmHWM: the highest resident set of the process so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- paths in a child process -----------------------------------------------------------------------------------------

# What a child's setup gives: a runner per query label, what it reports at the end, the ms DuckDB took last.
Setup = tuple[dict[str, Callable[[], object]], Callable[[], dict[str, Any]], Callable[[], float | None]]


class Child:
    """A path served by a spawned interpreter, so that its imports, its DuckDB and its peak RSS are its own."""

    def __init__(self, setup: Callable[[dict[str, Any]], Setup], package: dict[str, Any]) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipe, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(theirs, setup, package), daemon=True)
        self.process.start()
        theirs.close()
        self._receive()  # ready

    def __call__(self, query: Query) -> tuple[float, object, float | None]:
        self.pipe.send(query.label)
        ms, shape, in_engine = self._receive()
        return ms, shape, in_engine

    def info(self) -> dict[str, Any]:
        self.pipe.send("info")
        return dict(self._receive())

    def close(self) -> None:
        if self.process.is_alive():
            self.pipe.send(None)
        self.process.join(timeout=30)

    def _receive(self) -> Any:
        found = self.pipe.recv()
        if isinstance(found, dict) and "error" in found:
            raise RuntimeError(f"a child process failed:\n{found['error']}")
        return found


def _serve(pipe: Connection, setup: Callable[[dict[str, Any]], Setup], package: dict[str, Any]) -> None:
    import traceback

    try:
        runners, info, in_engine = setup(package)
        pipe.send("ready")
        while (label := pipe.recv()) is not None:
            if label == "info":
                pipe.send(info())
                continue
            ms, shape, _ = _timed(runners[label])
            pipe.send((ms, shape, in_engine()))
    except BaseException:  # reported to the parent, which stops the run
        pipe.send({"error": traceback.format_exc()})
    finally:
        pipe.close()


def _ours_setup(package: dict[str, Any]) -> Setup:
    """publishing/api/cubes.py over the model the API builds, with the project's settings, loaded as the web has
    them; the time inside DuckDB (engine.run: execute and fetch) is kept apart from the rest."""
    import django

    django.setup()
    from django.conf import settings

    from publishing.api import cubes, engine
    from publishing.api.model import cube_model

    path = Path(settings.API_CACHE_DIR) / f"{package['sha256']}.parquet"
    model = cube_model(CUBE, package["descriptor"])
    spent: list[float] = []

    def timed_run(sql: str, parameters: Any) -> engine.Result:
        started = time.perf_counter()
        try:
            return engine.run(sql, parameters)
        finally:
            spent.append((time.perf_counter() - started) * 1000)

    cubes.run = timed_run  # type: ignore[attr-defined]  # only to time DuckDB's part apart

    def runner(query: Query) -> Callable[[], object]:
        answer = cubes.aggregate if query.path == "aggregate" else cubes.facts

        def run() -> object:
            spent.clear()
            return answer(model, path, query.params)

        return run

    before = _peak_rss_mib()

    def info() -> dict[str, Any]:
        limit, threads = engine.run("SELECT current_setting('memory_limit'), current_setting('threads')", []).rows[0]
        return {"rss_before_mib": before, "rss_peak_mib": _peak_rss_mib(), "threads": threads,
                "memory_limit": f"API_MEMORY_LIMIT={settings.API_MEMORY_LIMIT} (DuckDB: {limit})"}  # fmt: skip

    return {query.label: runner(query) for query in QUERIES}, info, lambda: sum(spent)


def _duckdb_setup(package: dict[str, Any]) -> Setup:
    """(a), the limit: the same answer in SQL by hand, a plain connection with the threads the API uses."""
    import django
    import duckdb

    django.setup()  # for the settings, and so that both children carry the same imports
    from django.conf import settings

    connection = duckdb.connect(config={"threads": settings.API_THREADS})

    def runner(query: Query) -> Callable[[], object]:
        statements = [sql.replace("{source}", "read_parquet(?)") for sql in query.duckdb]
        values = [package["parquet"], CUT_CODE] if query.cut else [package["parquet"]]
        return lambda: [connection.execute(sql, values).fetchall() for sql in statements]

    before = _peak_rss_mib()

    def info() -> dict[str, Any]:
        return {"rss_before_mib": before, "rss_peak_mib": _peak_rss_mib(), "threads": settings.API_THREADS}

    return {query.label: runner(query) for query in QUERIES}, info, lambda: None


# -- ours over HTTP ---------------------------------------------------------------------------------------------------


class Gunicorn:
    """One sync worker on 127.0.0.1, so every request meets the same process, its DuckDB and its ETag cache; a new
    connection per request, the body read whole and parsed."""

    def __init__(self, package: dict[str, Any], port: int) -> None:
        _publish(package)
        self.port = port
        self.numbers = iter(range(10**9))
        self.server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "migration_site.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--worker-class", "sync", "--timeout", "120", "--log-level", "warning"],
            cwd=PROJECT, env=os.environ.copy(),
        )  # fmt: skip
        _wait_for(port)
        self.worker = _worker_of(self.server.pid)
        self.before = _peak_rss_mib(self.worker)

    def cold(self, query: Query) -> tuple[float, object, None]:
        """A URL the worker has not answered before (a harmless `_bench` parameter): its ETag cache cannot help."""
        params = query.params | {"_bench": f"{time.time_ns()}-{next(self.numbers)}"}
        return _timed(lambda: _get(self.port, f"/api/3/cubes/{CUBE}/{query.path}?{urlencode(params)}"))

    def cached(self, query: Query) -> tuple[float, object, None]:
        return _timed(lambda: _get(self.port, f"/api/3/cubes/{CUBE}/{query.path}?{urlencode(query.params)}"))

    def info(self) -> dict[str, Any]:
        return {"rss_before_mib": self.before, "rss_peak_mib": _peak_rss_mib(self.worker)}

    def close(self) -> None:
        self.server.terminate()
        self.server.wait(timeout=30)


def _publish(package: dict[str, Any]) -> None:
    """The site's database with the package published, as `publish_osdp` leaves one (no legacy dataset, no run)."""
    import django

    django.setup()
    from django.core.management import call_command

    from publishing.models import PublishedPackage

    call_command("migrate", "--noinput", verbosity=0)
    descriptor = package["descriptor"]
    parquet_key = f"{OWNER}/{NAME}/{descriptor['resources'][0]['alternates'][0]['path']}"
    PublishedPackage.objects.create(
        owner=OWNER, name=NAME, title=descriptor["title"], country="GB", currency="GBP", category="spending",
        years=list(range(2010, 2010 + YEARS)), rows=package["rows"], bytes=package["csv_bytes"],
        data_sha256=package["sha256"], descriptor_sha256=hashlib.sha256(json.dumps(descriptor).encode()).hexdigest(),
        descriptor=descriptor, data_keys=[f"{OWNER}/{NAME}/data/{NAME}.csv", parquet_key],
    )  # fmt: skip


def _get(port: int, url: str) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", url)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"{url}: {response.status} {body[:300]!r}")
    document = json.loads(body)
    return dict(document) | {"bytes": len(body)}


def _worker_of(master: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- (b) PostgreSQL ---------------------------------------------------------------------------------------------------


class Postgres:
    """The rows in a table (see _postgres_load), queried over one connection on loopback."""

    def __init__(self, package: dict[str, Any], server: str) -> None:
        import psycopg

        database = f"bench_api_{package['rows']}"
        _postgres_load(server, database, package)
        self.connection = psycopg.connect(server + database, autocommit=True)
        self.backend = self._one("SELECT pg_backend_pid()")

    def __call__(self, query: Query) -> tuple[float, object, None]:
        values = [CUT_CODE] if query.cut else []
        return _timed(lambda: [self.connection.execute(sql, values).fetchall() for sql in query.postgres])

    def info(self) -> dict[str, Any]:
        names = ("server_version", "shared_buffers", "work_mem", "max_parallel_workers_per_gather")
        return {"backend_peak_rss_mib": _peak_rss_mib(self.backend),
                "settings": {name: self._one(f"SHOW {name}") for name in names},
                "table_bytes": self._one(f"SELECT pg_total_relation_size('{PG_TABLE}')")}  # fmt: skip

    def close(self) -> None:
        self.connection.close()

    def _one(self, sql: str) -> Any:
        row = self.connection.execute(sql).fetchone()
        return row[0] if row else None


def _postgres_load(server: str, database: str, package: dict[str, Any]) -> None:
    """The rows in a table of a scratch database, an index on the cut column, ANALYZE; reused when already there."""
    import psycopg

    with psycopg.connect(server + "postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{database}"')
    with psycopg.connect(server + database, autocommit=True) as connection:
        loaded = connection.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", [PG_TABLE]).fetchone()
        if loaded and loaded[0] == package["sha256"]:
            print(f"PostgreSQL table reused from database {database}")
            return
        started = time.perf_counter()
        connection.execute(f"DROP TABLE IF EXISTS {PG_TABLE}")
        connection.execute(
            f"CREATE TABLE {PG_TABLE} (transaction_id text PRIMARY KEY, date date, admin_code text, admin_label text, "
            "function_code text, function_label text, supplier_id text, supplier_name text, amount double precision)"
        )
        with (
            connection.cursor().copy(f"COPY {PG_TABLE} FROM STDIN (FORMAT csv, HEADER true)") as copy,
            Path(package["csv"]).open("rb") as source,
        ):
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        connection.execute(f"CREATE INDEX ON {PG_TABLE} (admin_code)")
        connection.execute(f"VACUUM ANALYZE {PG_TABLE}")
        connection.execute(f"COMMENT ON TABLE {PG_TABLE} IS '{package['sha256']}'")
        print(f"PostgreSQL table loaded in {time.perf_counter() - started:.1f} s")


# -- report -----------------------------------------------------------------------------------------------------------


def _report(results: dict[str, Any]) -> None:
    options, package = results["options"], results["package"]
    print(f"\n{package['rows']:,} rows, Parquet {package['parquet_bytes'] / 2**20:,.0f} MiB; {options['reps']} rounds "
          f"after {options['warm_up']} warm-up; load {results['load_before'][0]:.2f} before, "
          f"{results['load_after'][0]:.2f} after; ms")  # fmt: skip
    print(f"{'query':<36} {'path':<16} {'p50':>9} {'p95':>9}")
    for query in QUERIES:
        timings = results["timings"][query.label]
        for name, timing in timings.items():
            print(f"{query.label:<36} {name:<16} {timing['p50_ms']:>9.2f} {timing['p95_ms']:>9.2f}")
        print(_ratios(timings))
        print(f"  answers agree: {_agree(query, timings)}")
    for name, info in results["memory"].items():
        print(f"{name}: {info}")


def _agree(query: Query, timings: dict[str, Any]) -> str:
    """Every path's count (of the first year's rows, or of the facts) against (a)'s."""
    limit = timings["(a) DuckDB"]["answer"]
    expected = limit["first"][2] if query.path == "aggregate" else limit["count"]
    counts = {}
    for name, timing in timings.items():
        answer = timing["answer"]
        if "first" in answer and isinstance(answer["first"], dict):
            counts[name] = answer["first"]["_count"] if query.path == "aggregate" else answer["total_fact_count"]
        elif name == "(b) PostgreSQL":
            counts[name] = answer["first"][2] if query.path == "aggregate" else answer["count"]
    differ = {name: count for name, count in counts.items() if count != expected}
    return f"yes ({expected:,})" if not differ else f"NO: (a) {expected}, {differ}"


def _ratios(timings: dict[str, Any]) -> str:
    ours, cold, limit = (timings[name]["p50_ms"] for name in ("ours", "HTTP cold", "(a) DuckDB"))
    text = (f"  ours/(a) {ours / limit:.2f}, HTTP cold/(a) {cold / limit:.2f} (goal <= 1.5); ours spent "
            f"{timings['ours']['engine_p50_ms']:.1f} ms in DuckDB")  # fmt: skip
    if "(b) PostgreSQL" in timings:
        theirs = timings["(b) PostgreSQL"]["p50_ms"]
        text += f"; (b)/ours {theirs / ours:.1f}, (b)/HTTP cold {theirs / cold:.1f} (goal >= 10)"
    return text


if __name__ == "__main__":
    main()
