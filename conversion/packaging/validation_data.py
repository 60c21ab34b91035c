"""Layer 3 of the package validation: the data. Every row of each CSV through `packaging.data_check`, the repeated
primary keys listed with their rows (`packaging.duplicate_keys`), then frictionless, strictly offline, for what that
leaves out (other formats and constraints)."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import requests
from frictionless import FrictionlessException, Package, system

from conversion.packaging import duplicate_keys
from conversion.packaging.data_check import DataCheck, check_data
from conversion.packaging.package_files import DESCRIPTOR
from conversion.packaging.validation_result import Problem, Resource, ValidationResult, names_of, short
from migration_site.lib.jsondata import as_dict

MAX_DATA_ERRORS = 1000  # frictionless stops reading a resource after this many errors
LOCAL_PACKAGE_PROFILES = {"data-package", "tabular-data-package"}
LOCAL_RESOURCE_PROFILES = {"data-resource", "tabular-data-resource"}
BUNDLED_SCHEMAS = "https://datapackage.org/profiles/"  # frictionless ships these $schema profiles


def check_rows(resource: Resource, result: ValidationResult) -> DataCheck | None:
    """Every row of a CSV resource through packaging.data_check; None for a file it cannot read (other formats
    or CSV dialects), which frictionless then reads whole."""
    dialect = as_dict(resource.descriptor.get("dialect"))
    if resource.file is None or not _plain_csv(resource, dialect):
        return None
    schema = as_dict(resource.descriptor.get("schema"))
    found = check_data(
        resource.file,
        schema,
        where=resource.where,
        encoding=_encoding(resource),
        delimiter=str(dialect.get("delimiter", ",")),
        primary_key=names_of(schema.get("primaryKey")),
    )
    for problem in found.problems:
        result.add(Problem.from_dict(problem))
    for code, count in found.unlisted().items():
        result.add_unlisted(code, count)
    return found


def _plain_csv(resource: Resource, dialect: dict[str, Any]) -> bool:
    """A CSV file the stdlib reader reads as frictionless would: only the delimiter may differ from the defaults."""
    kind = str(resource.descriptor.get("format") or PurePosixPath(str(resource.descriptor.get("path", ""))).suffix)
    defaults = {"quoteChar": '"', "doubleQuote": True, "header": True, "skipInitialSpace": False}
    plain = all(dialect[name] == value for name, value in defaults.items() if name in dialect)
    known = set(dialect) <= {*defaults, "delimiter", "lineTerminator", "caseSensitiveHeader"}
    delimiter = dialect.get("delimiter", ",")
    return kind.lower().lstrip(".") == "csv" and plain and known and isinstance(delimiter, str) and len(delimiter) == 1


def _encoding(resource: Resource) -> str:
    encoding = str(resource.descriptor.get("encoding") or "utf-8")
    return "utf-8-sig" if encoding.lower().replace("_", "-") == "utf-8" else encoding


def check_primary_key(resource: Resource, result: ValidationResult) -> None:
    schema = resource.descriptor.get("schema")
    key = names_of(schema.get("primaryKey")) if isinstance(schema, dict) else []
    if not key or resource.file is None:
        return
    types = resource.types
    missing = [name for name in key if name not in types]
    if missing:
        message = f"primaryKey names no field: {', '.join(missing)}"
        result.add(Problem(f"resources.{resource.label}.schema", message, code="primary-key"))
        return
    dialect = as_dict(resource.descriptor.get("dialect"))
    delimiter = str(dialect.get("delimiter", ","))
    try:
        found = duplicate_keys.listed(resource.file, key, types, encoding=_encoding(resource), delimiter=delimiter)
    except duplicate_keys.MissingColumns as error:
        result.notes.append(f"{resource.where}: primary key not checked, the header lacks {', '.join(error.names)}")
    except (UnicodeDecodeError, csv.Error) as error:
        result.notes.append(f"{resource.where}: primary key not checked, the file cannot be read: {error}")
    else:
        _report_duplicates(resource, key, found, result)


def _report_duplicates(
    resource: Resource, key: list[str], found: duplicate_keys.Duplicates, result: ValidationResult
) -> None:
    if not found.keys:
        return
    fields = ", ".join(key)
    occur = "1 value occurs" if found.keys == 1 else f"{found.keys} values occur"
    message = f"primary key ({fields}) is not unique: {occur} more than once, in {found.rows} rows"
    if found.keys > len(found.examples):
        message += f"; the first {len(found.examples)} follow"
    result.add(Problem(resource.where, message, field=fields, code="duplicate-keys"))
    for values, count, rows in found.examples:
        listed = ", ".join(map(str, rows)) + (", ..." if count > len(rows) else "")
        message = f"key ({', '.join(values)}) occurs {count} times: rows {listed}"
        result.add(Problem(resource.where, message, row=rows[1], field=fields, code="duplicate-key"))
    result.add_unlisted("duplicate-key", found.keys - len(found.examples))


class _NoNetwork(requests.adapters.BaseAdapter):
    """frictionless fetches remote profiles, schemas and data through its session; this one refuses, fast."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        raise requests.ConnectionError(f"not fetched, validation runs offline: {request.url}")

    def close(self) -> None:
        pass


def _offline_session() -> requests.Session:
    session = requests.Session()
    for prefix in ("http://", "https://"):
        session.mount(prefix, _NoNetwork())
    return session


def check_frictionless(
    descriptor: dict[str, Any],
    folder: Path,
    resources: list[Resource],
    result: ValidationResult,
    checked: Mapping[str, DataCheck],
    frictionless_rows: int | None,
) -> None:
    local = [resource for resource in resources if resource.file is not None]
    if not local:
        result.notes.append("no data file in the package to check")
        return
    copy = _offline_descriptor(descriptor, local, result.notes)
    # A sample is enough only when our check read every row of every resource.
    limit = frictionless_rows if all(resource.where in checked for resource in local) else None
    try:
        # system is frictionless' global state: the offline session holds for this block only.
        with system.use_context(trusted=False, http_session=_offline_session()):
            package = Package.from_descriptor(copy, basepath=str(folder))
            report = package.validate(limit_errors=MAX_DATA_ERRORS, limit_rows=limit)
    except FrictionlessException as error:
        for reason in [error.error, *error.reasons]:
            result.add(Problem(DESCRIPTOR, short(reason.message), code=reason.type))
        return
    for package_error in report.errors:
        result.add(_frictionless_problem(package_error, DESCRIPTOR))
    for task in report.tasks:
        found = checked.get(task.place)
        result.rows[task.name] = found.rows if found is not None else int(task.stats.get("rows") or 0)
        result.notes += [f"{task.place}: {warning}" for warning in task.warnings]
        for task_error in task.errors:
            if found is None or not found.covers(str(task_error.type), getattr(task_error, "field_name", None)):
                result.add(_frictionless_problem(task_error, task.place))


def _offline_descriptor(descriptor: dict[str, Any], local: list[Resource], notes: list[str]) -> dict[str, Any]:
    """What frictionless sees: local profiles only, and none of the checks the validation does better itself."""
    copy = {key: value for key, value in descriptor.items() if key != "resources"}
    profile = descriptor.get("profile")
    if isinstance(profile, str) and (profile == "fiscal-data-package" or "://" in profile):
        # frictionless would fetch it (and fail offline); our JSON Schema (layer 1) holds the fiscal rules.
        copy["profile"] = "tabular-data-package"
        notes.append(f"profile {profile!r} is remote and was not fetched; the data was checked as tabular-data-package")
    schema_url = descriptor.get("$schema")
    if isinstance(schema_url, str) and not schema_url.startswith(BUNDLED_SCHEMAS):
        del copy["$schema"]
        notes.append(f"$schema {schema_url!r} was not fetched")
    copy["resources"] = [_offline_resource(resource, notes) for resource in local]
    return copy


def _offline_resource(resource: Resource, notes: list[str]) -> dict[str, Any]:
    # bytes and hash are checked in layer 2 (frictionless would take a bare sha256 for a wrong md5).
    copy = {key: value for key, value in resource.descriptor.items() if key not in ("bytes", "hash")}
    schema = copy.get("schema")
    if isinstance(schema, dict):
        # The primary key is checked on disk before this; left here, frictionless would hold every key in memory.
        copy["schema"] = {key: value for key, value in schema.items() if key != "primaryKey"}
    profile = copy.get("profile")
    if isinstance(profile, str) and profile not in LOCAL_RESOURCE_PROFILES and "://" in profile:
        copy["profile"] = "tabular-data-resource"
        notes.append(f"{resource.where}: profile {profile!r} was not fetched; checked as tabular-data-resource")
    return copy


def _frictionless_problem(error: Any, where: str) -> Problem:
    row, name = getattr(error, "row_number", None), getattr(error, "field_name", None)
    return Problem(
        where,
        short(str(error.message)),
        row=row if isinstance(row, int) else None,
        field=name if isinstance(name, str) else None,
        code=str(error.type),
    )
