"""The public site under load: 10,000 published packages served by gunicorn on loopback, measured with wrk.

    DEBUG=0 python bench/publish_http.py [--packages 10000] [--database-url URL] [--workers 2] [--connections 8]
                                         [--duration 10] [--keep]

Steps, all in one run:
1. a fresh site in a temporary folder (SQLite there, or the empty PostgreSQL database given): migrate, collectstatic,
   then N published packages (each with its legacy dataset and conversion run, realistic descriptors) plus N/50
   packages a migration admin made private, which every document must filter out;
2. every document fetched once in this process (Django's test client) to time a cold rendering and to write a
   static file with the same bytes into STATIC_ROOT, which WhiteNoise serves from the same gunicorn;
3. gunicorn (sync workers, DEBUG off, persistent database connections) on 127.0.0.1, and for each document: a warm-up
   run of wrk (fills each worker's document cache), then wrk for `--duration` seconds: requests per second and
   p50/p99 latency; the same for the conditional GET answered 304; the same for its static twin.

The target (issue 5): every document at least half the static file's rate once cached. wrk must be installed
(`apt-get install wrk`). Results print as a table and are saved as JSON next to the site (see --keep).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
COUNTRIES = ["DE", "GB", "UG", "MX", "BA", "IS", "TN", "BR", "IN", "KE", "FR", "US"]
CURRENCIES = {"DE": "EUR", "GB": "GBP", "UG": "UGX", "MX": "MXN", "BA": "BAM", "IS": "ISK", "TN": "TND",
              "BR": "BRL", "IN": "INR", "KE": "KES", "FR": "EUR", "US": "USD"}  # fmt: skip
CATEGORIES = ["budget", "spending", "other"]


def main() -> None:
    options = _arguments()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    folder = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    port = _free_port()
    _configure(folder, port, options.database_url)
    import django

    django.setup()
    print(f"{platform.platform()}, {os.cpu_count()} CPUs; Python {platform.python_version()}; site in {folder}")
    try:
        _prepare(options.packages)
        documents = _documents()
        _print_cold(documents)
        results = _serve_and_measure(documents, port, options)
        _print_results(results, options)
        (folder / "results.json").write_text(json.dumps(results, indent=2))
    finally:
        if not options.keep:
            shutil.rmtree(folder, ignore_errors=True)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packages", type=int, default=10_000)
    parser.add_argument(
        "--database-url", default="", help="An empty PostgreSQL database; default SQLite in the folder."
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn sync workers")
    parser.add_argument("--connections", type=int, default=8, help="wrk's concurrent connections")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per measurement")
    parser.add_argument("--keep", action="store_true", help="keep the temporary site and results.json")
    return parser.parse_args()


def _configure(folder: Path, port: int, database_url: str) -> None:
    """The environment of this process and of gunicorn: production settings, everything under `folder`."""
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "migration_site.settings", "DEBUG": "0", "SECRET_KEY": "bench-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,testserver", "VAR_DIR": str(folder),
        "DATABASE_URL": database_url or f"sqlite:///{folder / 'db.sqlite3'}", "DATABASE_CONN_MAX_AGE": "600",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    })  # fmt: skip
    for name in ("REDIS_URL", "S3_BUCKET", "S3_PUBLIC_BUCKET", "STORAGE_ROOT", "PUBLIC_STORAGE_ROOT"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(PROJECT))


# -- the site ---------------------------------------------------------------------------------------------------------


def _prepare(count: int) -> None:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", "--noinput", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    _fill(count)
    print(f"site ready in {time.perf_counter() - started:.1f} s: {count:,} published packages, {count // 50:,} private")


def _fill(count: int) -> None:
    from django.db import transaction

    from conversion.models import ConversionRun, DatasetDecision
    from datasets.models import LegacyDataset
    from publishing.models import PublishedPackage

    hidden = count // 50
    base = datetime(2012, 1, 1, tzinfo=UTC)
    with transaction.atomic():
        datasets = LegacyDataset.objects.bulk_create(
            LegacyDataset(name=_name(n), label=_title(n), private=n >= count) for n in range(count + hidden)
        )
        DatasetDecision.objects.bulk_create(
            DatasetDecision(dataset=dataset, decision=DatasetDecision.Choice.MIGRATE_PRIVATE)
            for dataset in datasets[count:]
        )
        runs = ConversionRun.objects.bulk_create(
            ConversionRun(
                dataset=dataset,
                status=ConversionRun.Status.SUCCEEDED,
                valid=True,
                rows_written=1000 + n,
                reconciliation_status=ConversionRun.Reconciliation.MATCH,
                reconciliation={"status": "match", "rows": {"package": 1000 + n, "legacy": 1000 + n}},
            )
            for n, dataset in enumerate(datasets)
        )
        PublishedPackage.objects.bulk_create(
            _package(n, dataset, run, base + timedelta(hours=n))
            for n, (dataset, run) in enumerate(zip(datasets, runs, strict=True))
        )


def _name(n: int) -> str:
    return f"budget-{n:05d}"


def _title(n: int) -> str:
    return f"Municipal budget {n:05d}, {COUNTRIES[n % len(COUNTRIES)]}"


def _package(n: int, dataset: Any, run: Any, moment: datetime) -> Any:
    from publishing.models import PublishedPackage

    owner, name = f"team-{n % 400:03d}", _name(n)
    country = COUNTRIES[n % len(COUNTRIES)]
    years = [2010 + n % 6, 2011 + n % 6]
    sha = hashlib.sha256(name.encode()).hexdigest()
    descriptor = _descriptor(name, _title(n), country, CURRENCIES[country], years, sha)
    return PublishedPackage(
        dataset=dataset, run=run, owner=owner, name=name, title=_title(n),
        description=f"Approved and executed budget of municipality {n}, by functional classification.",
        country=country, currency=CURRENCIES[country], category=CATEGORIES[n % 3], years=years, rows=1000 + n,
        bytes=80_000 + n, data_sha256=sha, descriptor_sha256=hashlib.sha256(sha.encode()).hexdigest(),
        descriptor=descriptor, data_keys=[f"{owner}/{name}/data/{name}-{sha[:12]}.csv"], legacy_name=name,
        legacy_url=f"https://openspending.org/{name}", published_at=moment, modified_at=moment,
    )  # fmt: skip


def _descriptor(name: str, title: str, country: str, currency: str, years: list[int], sha: str) -> dict[str, Any]:
    columns = [
        ("amount", "number", "value"), ("year", "integer", "date:fiscal-year"),
        ("admin_id", "string", "administrative-classification:generic:level1:code"),
        ("admin_label", "string", "administrative-classification:generic:level1:label"),
        ("cofog_code", "string", "functional-classification:cofog:group:code"),
        ("cofog_label", "string", "functional-classification:cofog:group:label"),
        ("recipient", "string", "recipient:generic:name"), ("notes", "string", "unknown:string"),
    ]  # fmt: skip
    fields = [{"name": c, "title": c.replace("_", " ").title(), "type": t, "columnType": k} for c, t, k in columns]
    return {
        "name": name, "title": title, "countryCode": country, "currency": currency, "profile": "tabular-data-package",
        "fiscalPeriod": {"start": f"{years[0]}-01-01", "end": f"{years[-1]}-12-31"},
        "sources": [{"title": f"{name}.csv", "path": f"https://openspending.org/{name}/sources/1.csv"}],
        "provenance": {"built_from": "sources", "rows_written": 1000, "review": {"approved": 8}},
        "resources": [{"name": name, "path": f"data/{name}-{sha[:12]}.csv", "format": "csv", "bytes": 80_000,
                       "hash": f"sha256:{sha}", "schema": {"fields": fields, "primaryKey": ["admin_id", "year"]}}],
        "model": {
            "measures": {"amount": {"source": "amount", "currency": currency, "direction": "expenditure"}},
            "dimensions": {
                "date": _dimension("datetime", "year"),
                "administrator": _dimension("classification", "admin_id", "admin_label"),
                "function": _dimension("classification", "cofog_code", "cofog_label"),
                "recipient": _dimension("entity", "recipient"),
            },
        },
    }  # fmt: skip


def _dimension(kind: str, key: str, label: str = "") -> dict[str, Any]:
    attributes: dict[str, Any] = {key: {"source": key}}
    if label:
        attributes[label] = {"source": label, "labelfor": key}
    return {"dimensionType": kind, "primaryKey": [key], "attributes": attributes}


# -- the documents ----------------------------------------------------------------------------------------------------


def _documents() -> list[dict[str, Any]]:
    """Each measured URL with its bytes, ETag and a cold rendering time; its static twin written to STATIC_ROOT."""
    from django.conf import settings
    from django.test import Client

    from publishing import memory

    client = Client(HTTP_HOST="127.0.0.1")
    urls = [
        ("data.json", "/data.json"), ("feed", "/feeds/packages.atom"), ("package list", "/packages/"),
        ("filtered list", "/packages/?country=DE&year=2013&page=2"),
        ("package page", f"/packages/team-007/{_name(7)}/"),
    ]  # fmt: skip
    found = []
    static = Path(settings.STATIC_ROOT) / "bench"
    static.mkdir(parents=True, exist_ok=True)
    for label, url in urls:
        memory.documents.clear()
        started = time.perf_counter()
        response = client.get(url)
        cold = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        body = response.content
        twin = static / f"{re.sub(r'[^a-z]+', '-', label)}.bin"
        twin.write_bytes(body)
        found.append({"label": label, "url": url, "bytes": len(body), "etag": response["ETag"], "cold_s": cold,
                      "static": f"/static/bench/{twin.name}"})  # fmt: skip
    return found


def _print_cold(documents: list[dict[str, Any]]) -> None:
    print("\ncold rendering in-process (cache empty):")
    for item in documents:
        print(f"  {item['label']:<14} {item['bytes']:>11,} bytes  {item['cold_s'] * 1000:8.1f} ms")


# -- load -------------------------------------------------------------------------------------------------------------


def _serve_and_measure(documents: list[dict[str, Any]], port: int, options: argparse.Namespace) -> dict[str, Any]:
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "migration_site.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(options.workers), "--worker-class", "sync", "--log-level", "warning"],
        cwd=PROJECT, env=os.environ.copy(),
    )  # fmt: skip
    try:
        _wait_for(port)
        base = f"http://127.0.0.1:{port}"
        measured = []
        for item in documents:
            static_etag = _etag_of(base + item["static"])
            row = {
                **item,
                "document": _wrk(base + item["url"], options),
                "document_304": _wrk(base + item["url"], options, etag=item["etag"]),
                "static": _wrk(base + item["static"], options),
                "static_304": _wrk(base + item["static"], options, etag=static_etag),
            }
            measured.append(row)
            print(f"  measured {item['label']}", flush=True)
        return {"when": datetime.now(UTC).isoformat(timespec="seconds"), "options": vars(options), "rows": measured}
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wrk(url: str, options: argparse.Namespace, *, etag: str | None = None) -> dict[str, Any]:
    header = ["-H", f"If-None-Match: {etag}"] if etag else []
    command = ["wrk", "-t1", f"-c{options.connections}", "--latency", "--timeout", "10s", *header, url]
    subprocess.run([*command[:-1], "-d2s", url], check=True, capture_output=True)  # warm-up: every worker's cache
    output = subprocess.run([*command[:-1], f"-d{options.duration}s", url], check=True, capture_output=True, text=True)
    return _parse_wrk(output.stdout)


def _parse_wrk(text: str) -> dict[str, Any]:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    percentiles = {p: _ms(v) for p, v in re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", text, re.MULTILINE)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sockets = re.search(r"Socket errors: (.*)", text)
    if rate is None or "50" not in percentiles:
        raise RuntimeError(f"unexpected wrk output:\n{text}")
    return {
        "rps": float(rate.group(1)), "p50_ms": percentiles["50"], "p99_ms": percentiles.get("99"),
        "errors": int(errors.group(1)) if errors else 0, "socket_errors": sockets.group(1) if sockets else "",
    }  # fmt: skip


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _etag_of(url: str) -> str:
    from urllib.request import urlopen

    with urlopen(url) as response:  # loopback
        return str(response.headers["ETag"])


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


# -- report -----------------------------------------------------------------------------------------------------------


def _print_results(results: dict[str, Any], options: argparse.Namespace) -> None:
    print(f"\ngunicorn {options.workers} sync workers, wrk 1 thread {options.connections} connections, "
          f"{options.duration} s per line")  # fmt: skip
    print(f"{'document':<14} {'bytes':>11} | {'rps':>7} {'p50 ms':>7} {'p99 ms':>7} | {'static rps':>10} "
          f"{'p50 ms':>7} {'p99 ms':>7} | ratio")  # fmt: skip
    for row in results["rows"]:
        for kind in ("", "_304"):
            ours, static = row["document" + kind], row["static" + kind]
            label = row["label"] + (" 304" if kind else "")
            flag = "" if not (ours["errors"] or static["errors"]) else f"  errors {ours['errors']}/{static['errors']}"
            print(f"{label:<14} {row['bytes'] if not kind else 0:>11,} | {ours['rps']:>7.0f} {ours['p50_ms']:>7.2f} "
                  f"{ours['p99_ms'] or 0:>7.2f} | {static['rps']:>10.0f} {static['p50_ms']:>7.2f} "
                  f"{static['p99_ms'] or 0:>7.2f} | {ours['rps'] / static['rps']:.2f}{flag}")  # fmt: skip
    worst = min(row[k]["rps"] / row[s]["rps"] for row in results["rows"] for k, s in (("document", "static"),))
    print(f"\nlowest document / static ratio: {worst:.2f} (target 0.50)")


if __name__ == "__main__":
    main()
