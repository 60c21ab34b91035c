"""The Parquet copy of a CSV resource, written with DuckDB (publishing/formats.py says which resources get one).

The CSV is read as text and every column converted by an expression built from the Table Schema: integer -> BIGINT,
number -> DOUBLE, boolean -> BOOLEAN, date -> DATE, datetime -> TIMESTAMP (UTC), year -> INTEGER, anything else
VARCHAR; a missing value (`missingValues`) is NULL; numbers follow `decimalChar`, `groupChar` and `bareNumber` the
way frictionless reads them. Only the field names enter the SQL text, as quoted identifiers; every other value the
schema gives (missing values, separators, formats, true and false values) and every path is a bound parameter.
A cell the schema's type cannot read stops the write with the field and the cell.

Republishing the same CSV must give the same bytes, so the same content-addressed key: one thread, insertion order
kept, fixed compression and row-group size (the bytes also carry the DuckDB version, pinned in requirements.txt).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from migration_site.lib.jsondata import as_dict, dicts_in
from publishing.formats import delimiter, field_names, missing_values

# Engines split their work by row group; a million of our rows (15-odd short columns) is some 50-100 MB before
# compression, near the 128 MB that Spark and Trino read best.
ROW_GROUP_ROWS = 1_000_000
# LZ4 (raw, the Parquet format's LZ4_RAW) and pages of at most 1 MiB: what the read API scans fastest, and read by
# DuckDB, Spark (3.4+), Trino, Athena and pyarrow. Measured on 10M rows (bench/RESULTS.md), DuckDB alone: against
# zstd with one page per column chunk, a page of facts takes 20 ms instead of 70 (the first rows no longer
# decompress a whole column chunk) and an aggregate with a cut 65 instead of 126 (decompressing the amounts is most
# of it; snappy 74), for a file 1.4 times the size (a seventh of the CSV).
PARQUET_OPTIONS = f"FORMAT parquet, COMPRESSION lz4_raw, ROW_GROUP_SIZE {ROW_GROUP_ROWS}, DATA_PAGE_SIZE_LIMIT 1048576"
DEFAULT_DATE_FORMAT = "%Y-%m-%d"  # frictionless' "default" date format
NOT_BARE_PATTERN = r"((^[^-\d]*)|(\D*$))"  # frictionless' pattern for bareNumber: false
_SPACES = r"^\s+|\s+$"
_TRUE = ["true", "True", "TRUE", "1"]
_FALSE = ["false", "False", "FALSE", "0"]
SQL_TYPES = {
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "year": "INTEGER",
}
SQL_SUMS = {"number": "fsum", "integer": "sum"}  # fsum: a compensated sum of the doubles


class ParquetError(Exception):
    """The copy could not be written, or does not hold what the CSV holds."""


@dataclass(frozen=True)
class Totals:
    """What a check compares: the rows, and the sum of each number and integer field (None: no value at all)."""

    rows: int
    sums: dict[str, Decimal | None]


def parquet_write(csv_path: Path, resource: Mapping[str, Any], target: Path, *, where: str) -> Totals:
    """Write the Parquet copy of the CSV resource at `csv_path` to `target`; its totals, read back from the file."""
    fields = dicts_in(as_dict(resource.get("schema")).get("fields"))
    names = field_names(resource)
    if not names:
        raise ParquetError(f"{where}: no Table Schema whose field names can name Parquet columns")
    csv_path, target = csv_path.resolve(), target.resolve()  # as DuckDB compares them with the allowed folders
    params: dict[str, Any] = {
        "csv": str(csv_path),
        "target": str(target),
        "delimiter": delimiter(resource),
        "columns": {name: "VARCHAR" for name in names},
        "missing": missing_values(resource),
    }
    columns = ", ".join(_column(index, field, params) for index, field in enumerate(fields))
    source = (
        "read_csv($csv, header = true, auto_detect = false, delim = $delimiter, quote = '\"', escape = '\"', "
        "columns = $columns)"
    )
    try:
        with _connection([csv_path.parent, target.parent], spill=target.parent) as connection:
            connection.execute(f"COPY (SELECT {columns} FROM {source}) TO $target ({PARQUET_OPTIONS})", params)
            return _totals(connection, target, fields)
    except duckdb.Error as error:
        raise ParquetError(f"{where}: the Parquet copy could not be written: {_reason(error)}") from error


def quoted(name: str) -> str:
    """A field name as an SQL identifier: the only schema text that enters the SQL."""
    return '"' + name.replace('"', '""') + '"'


# -- the expression of one column -----------------------------------------------------------------------------------


def _column(index: int, field: Mapping[str, Any], params: dict[str, Any]) -> str:
    """`CAST(CASE missing THEN NULL, readable THEN the value, else error(field, cell)) AS <type>) AS "<name>"`."""
    name, kind = str(field["name"]), str(field.get("type") or "string")
    cell = f"coalesce({quoted(name)}, '')"  # DuckDB reads an empty cell as NULL, the stdlib and frictionless as ""
    sql_type = SQL_TYPES.get(kind)
    value = _value(cell, index, kind, field, params) if sql_type else cell
    params[f"name{index}"], params[f"type{index}"] = name, kind
    refusal = f"error(concat('field ', $name{index}, ': \"', {cell}, '\" is not a ', $type{index}))"
    readable = f"CASE WHEN list_contains($missing, {cell}) THEN NULL WHEN ({value}) IS NOT NULL THEN ({value})"
    return f"CAST({readable} ELSE {refusal} END AS {sql_type or 'VARCHAR'}) AS {quoted(name)}"


def _value(cell: str, index: int, kind: str, field: Mapping[str, Any], params: dict[str, Any]) -> str:
    """The cell as the type reads it, NULL when it cannot."""
    fmt = str(field.get("format") or "default")
    if kind in ("number", "integer"):
        return _number(cell, index, kind, field, params)
    if kind == "boolean":
        params[f"true{index}"] = [str(value) for value in field.get("trueValues", _TRUE)]
        params[f"false{index}"] = [str(value) for value in field.get("falseValues", _FALSE)]
        truth = (
            f"WHEN list_contains($true{index}, {cell}) THEN true WHEN list_contains($false{index}, {cell}) THEN false"
        )
        return f"CASE {truth} END"
    if kind == "year":
        return f"CASE WHEN regexp_full_match({cell}, '[0-9]{{4}}') THEN TRY_CAST({cell} AS INTEGER) END"
    if kind == "date" and fmt == "any":
        return f"TRY_CAST({cell} AS DATE)"
    if kind == "date":
        params[f"format{index}"] = DEFAULT_DATE_FORMAT if fmt == "default" else fmt
        return f"CAST(try_strptime({cell}, $format{index}) AS DATE)"
    if "%" in fmt:  # datetime with a pattern; with %z DuckDB gives a TIMESTAMPTZ, cast to UTC below
        params[f"format{index}"] = fmt
        return f"CAST(try_strptime({cell}, $format{index}) AS TIMESTAMP)"
    return f"CAST(TRY_CAST({cell} AS TIMESTAMPTZ) AS TIMESTAMP)"  # ISO 8601, with or without an offset


def _number(cell: str, index: int, kind: str, field: Mapping[str, Any], params: dict[str, Any]) -> str:
    """frictionless' reading: strip, drop what is not the number (bareNumber: false), drop the group character,
    refuse a "." when another character is the decimal one, then read the decimal character as "."."""
    text = f"regexp_replace({cell}, '{_SPACES}', '', 'g')"
    if field.get("bareNumber", True) is False:
        text = f"regexp_replace({text}, '{NOT_BARE_PATTERN}', '', 'g')"
    group, decimal = str(field.get("groupChar", "")), str(field.get("decimalChar", "."))
    if group:
        params[f"group{index}"] = group
        text = f"replace({text}, $group{index}, '')"
    if kind == "integer":
        return f"CASE WHEN regexp_full_match({text}, '[+-]?[0-9]+') THEN TRY_CAST({text} AS BIGINT) END"
    if decimal != ".":
        params[f"decimal{index}"] = decimal
        text = f"CASE WHEN NOT contains({text}, '.') THEN replace({text}, $decimal{index}, '.') END"
    return f"TRY_CAST({text} AS DOUBLE)"


# -- reading the copy back ------------------------------------------------------------------------------------------


def _totals(connection: duckdb.DuckDBPyConnection, target: Path, fields: list[dict[str, Any]]) -> Totals:
    """Rows and sums as the Parquet file holds them (fsum: a compensated sum of the doubles, in file order)."""
    measured = [(str(field["name"]), field.get("type")) for field in fields if field.get("type") in SQL_SUMS]
    sums = [f"{SQL_SUMS[str(kind)]}({quoted(name)})" for name, kind in measured]
    query = f"SELECT {', '.join(['count(*)', *sums])} FROM read_parquet($target)"
    found = connection.execute(query, {"target": str(target)}).fetchone()
    if found is None:
        raise ParquetError(f"{target.name}: could not be read back")
    return Totals(int(found[0]), {name: _decimal(value) for (name, _), value in zip(measured, found[1:], strict=True)})


def _decimal(value: Any) -> Decimal | None:
    """Doubles through their shortest repr, so 0.1 stays 0.1; integers (a HUGEINT sum) as they are."""
    return None if value is None else Decimal(repr(value) if isinstance(value, float) else value)


@contextmanager
def _connection(folders: list[Path], *, spill: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB that sees these folders only, loads no extension and writes with one thread."""
    connection = duckdb.connect(
        config={
            "threads": 1,
            "preserve_insertion_order": True,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
    )
    try:
        connection.execute("SET TimeZone = 'UTC'")  # a datetime with an offset is stored as its UTC time
        connection.execute("SET temp_directory = $spill", {"spill": str(spill / "duckdb-spill")})
        allowed = sorted({str(folder) + "/" for folder in folders})
        connection.execute("SET allowed_directories = $allowed", {"allowed": allowed})
        connection.execute("SET enable_external_access = false")  # from here on, only those folders
        yield connection
    finally:
        connection.close()


def _reason(error: duckdb.Error) -> str:
    """DuckDB's message without its class prefix ("Invalid Input Error: ...")."""
    text = str(error).strip()
    head, _, rest = text.partition(": ")
    return rest if head.endswith("Error") and rest else text
