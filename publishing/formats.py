"""The formats a published package's data comes in: the CSV the conversion wrote, and a Parquet copy of each CSV
resource that engines (DuckDB, Spark, Trino, Athena) query straight from the store.

A copy is listed on its resource as an alternate format, so the resource stays one table whatever the format:

    "alternates": [{"format": "parquet", "mediatype": "application/vnd.apache.parquet",
                    "path": "data/<stem>-<sha12>.parquet", "bytes": N, "hash": "sha256:...", "rows": R}]

Which resources get one is decided here, without DuckDB, so the web processes that only name the files (links,
data.json, the data view) and the check whether a published package lacks its copies do not load the engine
(publishing/parquet.py writes the copies).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from migration_site.lib.jsondata import as_dict, dicts_in

CSV_MEDIATYPE = "text/csv"
PARQUET_FORMAT = "parquet"
PARQUET_MEDIATYPE = "application/vnd.apache.parquet"
# A CSV dialect DuckDB and the stdlib reader both read as frictionless does: only the delimiter may differ.
_DIALECT_DEFAULTS = {"quoteChar": '"', "doubleQuote": True, "header": True, "skipInitialSpace": False}
_DIALECT_KNOWN = {*_DIALECT_DEFAULTS, "delimiter", "lineTerminator", "caseSensitiveHeader"}


def is_parquet(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() == ".parquet"


def mediatype_of(name: str) -> str:
    """What a data file is, by its name: every name the store gives keeps the extension of its content."""
    return PARQUET_MEDIATYPE if is_parquet(name) else CSV_MEDIATYPE


def format_label(name: str) -> str:
    return "Parquet" if is_parquet(name) else "CSV"


def wants_parquet(resource: Any) -> bool:
    """A local CSV resource in one file, UTF-8, a plain dialect and a Table Schema whose field names are distinct
    even ignoring case (DuckDB's column names ignore case): the resources that get a Parquet copy."""
    if not isinstance(resource, dict):
        return False
    path = resource.get("path")
    if not isinstance(path, str) or not path or "://" in path:
        return False
    kind = str(resource.get("format") or PurePosixPath(path).suffix).lower().lstrip(".")
    encoding = str(resource.get("encoding") or "utf-8").lower().replace("_", "-")
    return kind == "csv" and encoding in ("utf-8", "utf-8-sig") and _plain(resource) and bool(field_names(resource))


def field_names(resource: Mapping[str, Any]) -> list[str]:
    """The schema's field names, or [] when a Parquet copy could not name its columns after them."""
    fields = as_dict(resource.get("schema")).get("fields")
    if not isinstance(fields, list) or not fields or not all(isinstance(item, dict) for item in fields):
        return []
    names = [item.get("name") for item in fields]
    if not all(isinstance(name, str) and name for name in names):
        return []
    distinct = {str(name).casefold() for name in names}
    return [str(name) for name in names] if len(distinct) == len(names) else []


def delimiter(resource: Mapping[str, Any]) -> str:
    return str(as_dict(resource.get("dialect")).get("delimiter", ","))


def missing_values(resource: Mapping[str, Any]) -> list[str]:
    """The schema's missingValues (strings, by the Table Schema), [""] when it names none."""
    values = as_dict(resource.get("schema")).get("missingValues", [""])
    return [str(value) for value in values] if isinstance(values, list) else [""]


def _plain(resource: Mapping[str, Any]) -> bool:
    if "dialect" in resource and not isinstance(resource["dialect"], dict):
        return False  # a dialect in a file of its own: not read here
    dialect = as_dict(resource.get("dialect"))
    defaults = all(dialect[name] == value for name, value in _DIALECT_DEFAULTS.items() if name in dialect)
    separator = dialect.get("delimiter", ",")
    single = isinstance(separator, str) and len(separator) == 1 and separator not in '"\r\n'
    return defaults and set(dialect) <= _DIALECT_KNOWN and single


# -- the copies listed in a published descriptor --------------------------------------------------------------------


def parquet_alternates(resource: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [item for item in dicts_in(resource.get("alternates")) if item.get("format") == PARQUET_FORMAT]


def lacks_parquet(descriptor: Mapping[str, Any]) -> bool:
    """A published package with a CSV resource but no Parquet copy of it (published before the copies existed)."""
    return any(wants_parquet(item) and not parquet_alternates(item) for item in dicts_in(descriptor.get("resources")))


def alternates_bytes(descriptor: Mapping[str, Any]) -> int:
    """The size of the package's Parquet copies, each file once (two resources may share a file)."""
    sizes = {
        str(item.get("path")): item["bytes"]
        for resource in dicts_in(descriptor.get("resources"))
        for item in parquet_alternates(resource)
        if isinstance(item.get("bytes"), int)
    }
    return sum(sizes.values())
