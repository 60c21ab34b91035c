"""Listing the repeated values of a table's primary key, with the rows that carry them, in flat memory.

The data check (packaging.data_check) finds out fast whether a key repeats; this lists which values do and where,
for the validation's report, so it runs only when there is something to list. The keys go to an on-disk SQLite
table and SQLite sorts them there: frictionless holds every key in a dict (about 150 MB more per million rows,
stack-notes §4), and a worker's memory must stay flat on big files.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from conversion.packaging.data_check import key_value

__all__ = ["KEYS_SHOWN", "ROWS_SHOWN", "Duplicates", "MissingColumns", "listed"]

KEYS_SHOWN = 10
ROWS_SHOWN = 5


class MissingColumns(Exception):
    def __init__(self, names: list[str]) -> None:
        super().__init__(", ".join(names))
        self.names = names


@dataclass
class Duplicates:
    keys: int  # distinct key values that occur more than once
    rows: int  # rows carrying them
    examples: list[tuple[list[str], int, list[int]]]  # (values, occurrences, first rows), KEYS_SHOWN at most


def listed(file: Path, key: list[str], types: dict[str, str], *, encoding: str, delimiter: str) -> Duplicates:
    """The repeated values of `key` (field names, `types` their table types) in a CSV file. MissingColumns when the
    header lacks one; UnicodeDecodeError or csv.Error when the file cannot be read."""
    with file.open(encoding=encoding, newline="") as data:
        header = next(csv.reader(data, delimiter=delimiter), [])
    absent = [name for name in key if name not in header]
    if absent:
        raise MissingColumns(absent)
    columns = [(header.index(name), types[name]) for name in key]
    return _duplicates(_key_rows(file, columns, encoding=encoding, delimiter=delimiter))


def _key_rows(
    file: Path, columns: list[tuple[int, str]], *, encoding: str, delimiter: str
) -> Iterator[tuple[str, int]]:
    """(key as JSON, row number) for every data row, streamed; rows numbered as frictionless does (header = 1)."""
    with file.open(encoding=encoding, newline="") as data:
        reader = csv.reader(data, delimiter=delimiter)
        next(reader, None)
        for number, cells in enumerate(reader, start=2):
            values = [key_value(cells[i] if i < len(cells) else "", kind) for i, kind in columns]
            yield json.dumps(values, ensure_ascii=False), number


def _duplicates(rows: Iterator[tuple[str, int]]) -> Duplicates:
    with tempfile.TemporaryDirectory(prefix="keys-") as temporary:
        connection = sqlite3.connect(Path(temporary) / "keys.sqlite")
        try:
            connection.executescript(
                "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE; PRAGMA cache_size=-16000;"
                "CREATE TABLE keys (key TEXT NOT NULL, row INTEGER NOT NULL);"
            )
            connection.executemany("INSERT INTO keys VALUES (?, ?)", rows)
            connection.execute("CREATE INDEX keys_by_key ON keys (key, row)")
            return _query(connection)
        finally:
            connection.close()


def _query(connection: sqlite3.Connection) -> Duplicates:
    groups = "SELECT key, COUNT(*) AS n, MIN(row) AS first FROM keys GROUP BY key HAVING n > 1"
    keys, rows = connection.execute(f"SELECT COUNT(*), COALESCE(SUM(n), 0) FROM ({groups})").fetchone()
    examples = []
    for key, count, _ in connection.execute(f"{groups} ORDER BY first LIMIT ?", (KEYS_SHOWN,)).fetchall():
        found = connection.execute("SELECT row FROM keys WHERE key = ? ORDER BY row LIMIT ?", (key, ROWS_SHOWN))
        examples.append((json.loads(key), count, [row for (row,) in found]))
    return Duplicates(keys=keys, rows=rows, examples=examples)
