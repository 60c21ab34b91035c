"""DuckDB, embedded: one database per process, a cursor per query, a time limit on each.

The database is in memory and reads nothing but the Parquet cache: external access is switched off except for that
folder, and the configuration is locked, so even a query we got wrong could not read another file or change a
setting. Memory and threads are capped by settings (API_MEMORY_LIMIT, API_THREADS); past the memory limit DuckDB
spills to a temporary folder inside the cache.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
from django.conf import settings

_lock = threading.Lock()
_database: duckdb.DuckDBPyConnection | None = None
_database_key: tuple[object, ...] | None = None


class QueryTimeout(Exception):
    """The query ran past API_QUERY_TIMEOUT_SECONDS and was stopped."""


@dataclass(frozen=True)
class Result:
    columns: list[str]
    rows: list[tuple[object, ...]]

    def dicts(self) -> list[dict[str, object]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def run(sql: str, parameters: Sequence[object]) -> Result:
    """Run one query with bound parameters; stopped after API_QUERY_TIMEOUT_SECONDS."""
    cursor = _connection().cursor()
    timer = threading.Timer(settings.API_QUERY_TIMEOUT_SECONDS, cursor.interrupt)
    timer.start()
    try:
        relation = cursor.execute(sql, list(parameters))
        rows = relation.fetchall()
        columns = [item[0] for item in relation.description or []]
    except duckdb.InterruptException as error:
        raise QueryTimeout(f"the query took longer than {settings.API_QUERY_TIMEOUT_SECONDS:g} seconds") from error
    finally:
        timer.cancel()
        cursor.close()
    return Result(columns, rows)


def cache_dir() -> Path:
    return Path(settings.API_CACHE_DIR)


def _connection() -> duckdb.DuckDBPyConnection:
    """The process's database, opened again when the settings it was opened with change (tests change them)."""
    global _database, _database_key
    key = (str(cache_dir()), settings.API_MEMORY_LIMIT, settings.API_THREADS)
    with _lock:
        if _database is None or _database_key != key:
            if _database is not None:
                _database.close()
            _database, _database_key = _open(cache_dir()), key
        return _database


def _open(folder: Path) -> duckdb.DuckDBPyConnection:
    folder.mkdir(parents=True, exist_ok=True)
    spill = folder / "duckdb-tmp"
    spill.mkdir(exist_ok=True)
    database = duckdb.connect(
        ":memory:",
        config={
            "memory_limit": settings.API_MEMORY_LIMIT,
            "threads": settings.API_THREADS,
            "temp_directory": str(spill),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        },
    )
    database.execute("SET parquet_metadata_cache = true")  # a file's footer is read once, not on every query
    database.execute("SET allowed_directories = ?", [[str(folder.resolve()) + "/"]])
    database.execute("SET enable_external_access = false")
    database.execute("SET lock_configuration = true")
    return database
