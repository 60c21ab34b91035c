"""Is a converted package right? `validate_package` answers for a package folder or a zip of one.

Three layers, all reported as readable problems:
1. the descriptor against our JSON Schema (`schemas/fiscal-data-package.schema.json`, FDP 0.3 made stricter);
2. the rules no JSON Schema can say: sources name fields, labelfor/parent name attributes, column types are known
   and agree with field types, bytes/hash match the files, the primary key is unique in the data;
3. the data: every row of each CSV through `conversion.data_check` (header, cell counts, types, required, whether a
   primary key repeats; fast, flat memory), then frictionless, strictly offline, for what that leaves out (other
   formats and constraints). frictionless reads every row, or with `frictionless_rows=N` only the first N: the
   conversion jobs do that, since frictionless is 10x slower than the rest of the validation together.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import requests
from frictionless import FrictionlessException, Package, system
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError, best_match  # type: ignore[import-untyped]

from conversion import duplicate_keys
from conversion.data_check import DataCheck, check_data
from conversion.package_descriptor import DescriptorError, descriptor_load
from conversion.package_files import DESCRIPTOR, MAX_UNZIPPED_BYTES, PackageError, opened_package
from conversion.vocabulary import column_type, is_known

__all__ = ["DESCRIPTOR", "MAX_UNZIPPED_BYTES", "PackageError", "Problem", "ValidationResult", "validate_package"]

SCHEMA_FILE = Path(__file__).resolve().parent / "schemas" / "fiscal-data-package.schema.json"
MAX_PROBLEMS = 200  # kept in the result; the counts stay complete
MAX_PROBLEMS_PER_CODE = 25  # so a thousand type errors cannot hide the one schema problem
MAX_DATA_ERRORS = 1000  # frictionless stops reading a resource after this many errors
MESSAGE_CHARS = 300
NUMERIC = {"number", "integer"}
LOCAL_PACKAGE_PROFILES = {"data-package", "tabular-data-package"}
LOCAL_RESOURCE_PROFILES = {"data-resource", "tabular-data-resource"}
BUNDLED_SCHEMAS = "https://datapackage.org/profiles/"  # frictionless ships these $schema profiles


@dataclass(frozen=True)
class Problem:
    where: str  # a descriptor path ("model.measures.amount") or a data file ("data/budget.csv")
    message: str
    row: int | None = None  # data row as frictionless counts it: the header is row 1
    field: str | None = None
    code: str = "problem"  # what kind: "schema", "type-error", "duplicate-key", ...

    def text(self) -> str:
        place = self.where
        if self.row is not None:
            place += f", row {self.row}"
        if self.field:
            place += f", {'fields' if ', ' in self.field else 'field'} {self.field}"
        return f"{place}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Problem:
        return cls(
            where=str(data["where"]), message=str(data["message"]), row=data.get("row"), field=data.get("field"),
            code=str(data.get("code", "problem")),
        )  # fmt: skip


@dataclass
class ValidationResult:
    problems: list[Problem] = field(default_factory=list)  # the first ones, see MAX_PROBLEMS
    counts: dict[str, int] = field(default_factory=dict)  # every problem, per code
    notes: list[str] = field(default_factory=list)  # what a person should know that is not a problem
    rows: dict[str, int] = field(default_factory=dict)  # data rows read, per resource

    @property
    def valid(self) -> bool:
        return not self.total

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, problem: Problem) -> None:
        seen = self.counts.get(problem.code, 0)
        self.counts[problem.code] = seen + 1
        if seen < MAX_PROBLEMS_PER_CODE and len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def add_unlisted(self, code: str, count: int) -> None:
        if count > 0:
            self.counts[code] = self.counts.get(code, 0) + count

    def summary(self) -> str:
        resources = f"{len(self.rows)} resource" + ("" if len(self.rows) == 1 else "s")
        checked = f"{resources}, {sum(self.rows.values())} data rows read"
        if self.valid:
            return f"valid ({checked})"
        kinds = ", ".join(f"{code} {count}" for code, count in sorted(self.counts.items()))
        return f"invalid: {self.total} problem{'' if self.total == 1 else 's'} ({kinds}); {checked}"

    def text(self) -> str:
        lines = [problem.text() for problem in self.problems]
        hidden = self.total - len(self.problems)
        if hidden:
            lines.append(f"... and {hidden} more problems not listed")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join([*lines, self.summary()])

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid, "total": self.total, "counts": dict(self.counts),
            "problems": [problem.as_dict() for problem in self.problems], "notes": list(self.notes),
            "rows": dict(self.rows),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValidationResult:
        return cls(
            problems=[Problem.from_dict(item) for item in data.get("problems", [])],
            counts={str(code): int(count) for code, count in data.get("counts", {}).items()},
            notes=[str(note) for note in data.get("notes", [])],
            rows={str(name): int(count) for name, count in data.get("rows", {}).items()},
        )


@dataclass
class _Resource:
    label: str  # its name, or its position when it has none
    descriptor: dict[str, Any]
    fields: list[dict[str, Any]]
    file: Path | None = None  # the local data file, once known to exist inside the package

    @property
    def types(self) -> dict[str, str]:
        return {str(item["name"]): str(item.get("type", "string")) for item in self.fields}

    @property
    def where(self) -> str:
        return str(self.descriptor.get("path") or f"resources.{self.label}")


def validate_package(
    path: Path, *, max_unzipped_bytes: int = MAX_UNZIPPED_BYTES, frictionless_rows: int | None = None
) -> ValidationResult:
    """Validate a package folder, its datapackage.json, or a zip of it; PackageError when it cannot be opened.

    Every row is checked; `frictionless_rows` limits frictionless' own pass to the first rows of each resource
    when our data check read all of them (see the module's docstring)."""
    with opened_package(Path(path), max_unzipped_bytes) as folder:
        return _validate_folder(folder, frictionless_rows)


def _validate_folder(folder: Path, frictionless_rows: int | None = None) -> ValidationResult:
    result = ValidationResult()
    descriptor = _read_descriptor(folder, result)
    if descriptor is None:
        return result
    _check_schema(descriptor, result)
    resources = _resources(descriptor)
    _find_data_files(folder, resources, result)
    _check_model(descriptor, resources, result)
    _check_column_types(resources, result)
    checked: dict[str, DataCheck] = {}
    for resource in resources:
        if resource.file is not None:
            _check_digest(resource, result)
            found = _check_rows(resource, result)
            if found is not None:
                checked[resource.where] = found
            if found is None or found.duplicate_keys is not False:
                _check_primary_key(resource, result)  # lists the repeated keys, with their rows
    _check_data(descriptor, folder, resources, result, checked, frictionless_rows)
    return result


def _read_descriptor(folder: Path, result: ValidationResult) -> dict[str, Any] | None:
    """None, with the reason as a problem, for a descriptor no validator should see (see descriptor_load)."""
    try:
        return descriptor_load(folder)
    except DescriptorError as error:
        result.add(Problem(DESCRIPTOR, error.reason, code="descriptor"))
        return None


# Layer 1: our JSON Schema -------------------------------------------------------------------------------------------


@functools.cache
def _schema_validator() -> Any:
    return Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def _check_schema(descriptor: dict[str, Any], result: ValidationResult) -> None:
    """One problem per place and message: 19 fields lacking a columnType make one line naming the fields."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for error in _schema_validator().iter_errors(descriptor):
        problem = _schema_problem(error, descriptor)
        groups.setdefault((problem.where, problem.message, problem.code), []).append(problem.field or "")
    for (where, message, code), names in sorted(groups.items()):
        named = [name for name in names if name]
        shown = ", ".join(named[:8]) + (", ..." if len(named) > 8 else "")
        suffix = f" ({len(named)} fields)" if len(named) > 1 else ""
        result.add(Problem(where, message + suffix, field=shown or None, code=code))


def _schema_problem(error: ValidationError, descriptor: dict[str, Any]) -> Problem:
    where, name = _place(list(error.absolute_path), descriptor)
    if error.validator == "required" and error.message.startswith("'model'") and "mapping" in descriptor:
        message = "has the 2015 OSDP `mapping` instead of `model` (FDP 0.3 renamed it in January 2016)"
        return Problem(where, message, code="mapping-not-model")
    # oneOf/anyOf say only "is not valid under any of the given schemas"; the closest branch says why.
    specific = best_match(error.context) if error.context else error
    return Problem(where, _short(specific.message), field=name, code="schema")


def _place(parts: list[Any], descriptor: dict[str, Any]) -> tuple[str, str | None]:
    """A JSON path made readable: resources and fields by their names, not their positions."""
    resources = _list(descriptor.get("resources"))
    if len(parts) < 2 or parts[0] != "resources" or not isinstance(parts[1], int) or parts[1] >= len(resources):
        return ".".join(map(str, parts)) or DESCRIPTOR, None
    resource = _dict(resources[parts[1]])
    parts = ["resources", str(resource.get("name") or parts[1]), *parts[2:]]
    schema = _dict(resource.get("schema"))
    fields = _list(schema.get("fields"))
    if parts[2:4] == ["schema", "fields"] and len(parts) > 4 and isinstance(parts[4], int) and parts[4] < len(fields):
        item = fields[parts[4]]
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            return ".".join(map(str, parts[:4] + parts[5:])), item["name"]
    return ".".join(map(str, parts)), None


def _short(message: str) -> str:
    return message if len(message) <= MESSAGE_CHARS else message[: MESSAGE_CHARS - 3] + "..."


# Layer 2: the rules beyond the schema -------------------------------------------------------------------------------


def _resources(descriptor: dict[str, Any]) -> list[_Resource]:
    found = []
    for index, item in enumerate(_list(descriptor.get("resources"))):
        if isinstance(item, dict):
            schema = _dict(item.get("schema"))
            fields = [f for f in _list(schema.get("fields")) if isinstance(f, dict) and isinstance(f.get("name"), str)]
            found.append(_Resource(str(item.get("name") or index), item, fields))
    return found


def _find_data_files(folder: Path, resources: list[_Resource], result: ValidationResult) -> None:
    root = folder.resolve()
    for resource in resources:
        raw = resource.descriptor.get("path")
        if not isinstance(raw, str) or not raw:
            continue  # the schema reports it
        where = f"resources.{resource.label}.path"
        if "://" in raw:
            result.add(Problem(where, f"{raw} is remote; only data inside the package is checked", code="data-file"))
            continue
        try:
            file = (root / raw).resolve()
            file.is_file()
        except (ValueError, OSError):  # a NUL byte, a name longer than the system allows
            result.add(Problem(where, f"{_short(repr(raw))} cannot be a file name", code="data-file"))
            continue
        if not file.is_relative_to(root):
            result.add(Problem(where, f"{raw} points outside the package", code="data-file"))
        elif not file.is_file():
            result.add(Problem(where, f"data file {raw} is missing from the package", code="missing-data-file"))
        else:
            resource.file = file


def _check_model(descriptor: dict[str, Any], resources: list[_Resource], result: ValidationResult) -> None:
    model = descriptor.get("model")
    if not isinstance(model, dict):
        return  # the schema reports it (or the `mapping` it has instead)
    by_name = {resource.label: resource for resource in resources}
    default = resources[0] if resources else None
    for key, measure in _items(model.get("measures")):
        resource = _resource_of(measure, by_name, default, f"model.measures.{key}", result)
        kind = _source_type(measure, resource, f"model.measures.{key}", result)
        if kind is not None and kind not in NUMERIC:
            message = f"measure field {measure['source']!r} is of type {kind!r}; a measure must be number or integer"
            result.add(Problem(f"model.measures.{key}", message, field=measure["source"], code="measure-type"))
    for key, dimension in _items(model.get("dimensions")):
        _check_dimension(key, dimension, by_name, default, result)


def _check_dimension(
    key: str, dimension: dict[str, Any], by_name: dict[str, _Resource], default: _Resource | None,
    result: ValidationResult,
) -> None:  # fmt: skip
    attributes = dict(_items(dimension.get("attributes")))
    for name, attribute in attributes.items():
        where = f"model.dimensions.{key}.attributes.{name}"
        if "constant" not in attribute:  # a constant's `source` is only there because 0.3 requires one
            _source_type(attribute, _resource_of(attribute, by_name, default, where, result), where, result)
        for link in ("labelfor", "parent"):
            target = attribute.get(link)
            if isinstance(target, str) and (target not in attributes or target == name):
                message = f"{link} {target!r} names no other attribute of dimension {key!r}"
                result.add(Problem(where, message, code="model-link"))
    for name in _names(dimension.get("primaryKey")):
        if name not in attributes:
            message = f"primaryKey names {name!r}, which is no attribute of dimension {key!r}"
            result.add(Problem(f"model.dimensions.{key}", message, code="model-key"))


def _resource_of(
    item: dict[str, Any], by_name: dict[str, _Resource], default: _Resource | None, where: str, result: ValidationResult
) -> _Resource | None:
    name = item.get("resource")
    if not isinstance(name, str):
        return default
    if name not in by_name:
        result.add(Problem(where, f"resource {name!r} is not in the package", code="model-source"))
    return by_name.get(name)


def _source_type(item: dict[str, Any], resource: _Resource | None, where: str, result: ValidationResult) -> str | None:
    """The schema type of the field `source` names; None, with a problem, when it names none."""
    source = item.get("source")
    if resource is None or not isinstance(source, str):
        return None
    kind = resource.types.get(source)
    if kind is None:
        message = f"source {source!r} names no field of resource {resource.label!r}"
        result.add(Problem(where, message, field=source, code="model-source"))
    return kind


def _check_column_types(resources: list[_Resource], result: ValidationResult) -> None:
    for resource in resources:
        for item in resource.fields:
            name, kind, declared = item["name"], str(item.get("type", "string")), item.get("columnType")
            if not isinstance(declared, str) or not declared:
                continue  # the schema reports a missing columnType
            where = f"resources.{resource.label}.schema"
            if not is_known(declared):
                result.add(Problem(where, f"unknown columnType {declared!r}", field=name, code="column-type"))
            elif (expected := column_type(declared).data_type) != kind:
                message = f"type {kind!r} does not fit columnType {declared!r}, which needs {expected!r}"
                result.add(Problem(where, message, field=name, code="column-type"))


def _check_digest(resource: _Resource, result: ValidationResult) -> None:
    declared_bytes, declared_hash = resource.descriptor.get("bytes"), resource.descriptor.get("hash")
    if resource.file is None or (declared_bytes is None and declared_hash is None):
        return
    size, digests = _digest(resource.file)
    if isinstance(declared_bytes, int) and declared_bytes != size:
        message = f"bytes says {declared_bytes} but the file has {size}"
        result.add(Problem(resource.where, message, code="bytes"))
    if isinstance(declared_hash, str):
        algorithm, expected = _parse_hash(declared_hash)
        actual = digests.get(algorithm)
        if actual is None:
            result.add(Problem(resource.where, f"hash {declared_hash!r}: unsupported algorithm", code="hash"))
        elif actual != expected:
            message = f"hash says {declared_hash} but the file's {algorithm} is {actual}"
            result.add(Problem(resource.where, message, code="hash"))


def _digest(file: Path) -> tuple[int, dict[str, str]]:
    md5, sha256, size = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
    with file.open("rb") as data:
        while chunk := data.read(1024 * 1024):
            md5.update(chunk)
            sha256.update(chunk)
            size += len(chunk)
    return size, {"md5": md5.hexdigest(), "sha256": sha256.hexdigest()}


def _parse_hash(value: str) -> tuple[str, str]:
    """`sha256:<hex>`, `md5:<hex>`, or bare hex: 32 digits are md5 (the Data Package default), 64 are sha256."""
    if ":" in value:
        algorithm, digest = value.split(":", 1)
        return algorithm.strip().lower(), digest.strip().lower()
    return {32: "md5", 64: "sha256"}.get(len(value.strip()), "unknown"), value.strip().lower()


def _check_rows(resource: _Resource, result: ValidationResult) -> DataCheck | None:
    """Every row of a CSV resource through conversion.data_check; None for a file it cannot read (other formats
    or CSV dialects), which frictionless then reads whole."""
    dialect = _dict(resource.descriptor.get("dialect"))
    if resource.file is None or not _plain_csv(resource, dialect):
        return None
    schema = _dict(resource.descriptor.get("schema"))
    found = check_data(
        resource.file, schema, where=resource.where, encoding=_encoding(resource),
        delimiter=str(dialect.get("delimiter", ",")), primary_key=_names(schema.get("primaryKey")),
    )  # fmt: skip
    for problem in found.problems:
        result.add(Problem.from_dict(problem))
    for code, count in found.unlisted().items():
        result.add_unlisted(code, count)
    return found


def _plain_csv(resource: _Resource, dialect: dict[str, Any]) -> bool:
    """A CSV file the stdlib reader reads as frictionless would: only the delimiter may differ from the defaults."""
    kind = str(resource.descriptor.get("format") or PurePosixPath(str(resource.descriptor.get("path", ""))).suffix)
    defaults = {"quoteChar": '"', "doubleQuote": True, "header": True, "skipInitialSpace": False}
    plain = all(dialect[name] == value for name, value in defaults.items() if name in dialect)
    known = set(dialect) <= {*defaults, "delimiter", "lineTerminator", "caseSensitiveHeader"}
    delimiter = dialect.get("delimiter", ",")
    return kind.lower().lstrip(".") == "csv" and plain and known and isinstance(delimiter, str) and len(delimiter) == 1


def _encoding(resource: _Resource) -> str:
    encoding = str(resource.descriptor.get("encoding") or "utf-8")
    return "utf-8-sig" if encoding.lower().replace("_", "-") == "utf-8" else encoding


def _check_primary_key(resource: _Resource, result: ValidationResult) -> None:
    schema = resource.descriptor.get("schema")
    key = _names(schema.get("primaryKey")) if isinstance(schema, dict) else []
    if not key or resource.file is None:
        return
    types = resource.types
    missing = [name for name in key if name not in types]
    if missing:
        message = f"primaryKey names no field: {', '.join(missing)}"
        result.add(Problem(f"resources.{resource.label}.schema", message, code="primary-key"))
        return
    dialect = _dict(resource.descriptor.get("dialect"))
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
    resource: _Resource, key: list[str], found: duplicate_keys.Duplicates, result: ValidationResult
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


# Layer 3: frictionless on the data, offline -------------------------------------------------------------------------


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


def _check_data(
    descriptor: dict[str, Any],
    folder: Path,
    resources: list[_Resource],
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
            result.add(Problem(DESCRIPTOR, _short(reason.message), code=reason.type))
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


def _offline_descriptor(descriptor: dict[str, Any], local: list[_Resource], notes: list[str]) -> dict[str, Any]:
    """What frictionless sees: local profiles only, and none of the checks this module does better itself."""
    copy = {key: value for key, value in descriptor.items() if key != "resources"}
    profile = descriptor.get("profile")
    if isinstance(profile, str) and (profile == "fiscal-data-package" or "://" in profile):
        # frictionless would fetch it (and fail offline); our JSON Schema above holds the fiscal rules.
        copy["profile"] = "tabular-data-package"
        notes.append(f"profile {profile!r} is remote and was not fetched; the data was checked as tabular-data-package")
    schema_url = descriptor.get("$schema")
    if isinstance(schema_url, str) and not schema_url.startswith(BUNDLED_SCHEMAS):
        del copy["$schema"]
        notes.append(f"$schema {schema_url!r} was not fetched")
    copy["resources"] = [_offline_resource(resource, notes) for resource in local]
    return copy


def _offline_resource(resource: _Resource, notes: list[str]) -> dict[str, Any]:
    # bytes and hash are checked above (frictionless would take a bare sha256 for a wrong md5).
    copy = {key: value for key, value in resource.descriptor.items() if key not in ("bytes", "hash")}
    schema = copy.get("schema")
    if isinstance(schema, dict):
        # The primary key is checked on disk above; left here, frictionless would hold every key in memory.
        copy["schema"] = {key: value for key, value in schema.items() if key != "primaryKey"}
    profile = copy.get("profile")
    if isinstance(profile, str) and profile not in LOCAL_RESOURCE_PROFILES and "://" in profile:
        copy["profile"] = "tabular-data-resource"
        notes.append(f"{resource.where}: profile {profile!r} was not fetched; checked as tabular-data-resource")
    return copy


def _frictionless_problem(error: Any, where: str) -> Problem:
    row, name = getattr(error, "row_number", None), getattr(error, "field_name", None)
    return Problem(
        where, _short(str(error.message)), row=row if isinstance(row, int) else None,
        field=name if isinstance(name, str) else None, code=str(error.type),
    )  # fmt: skip


# Small helpers for a descriptor of any shape ------------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _items(value: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(value, dict):
        yield from ((str(key), item) for key, item in value.items() if isinstance(item, dict))


def _names(value: Any) -> list[str]:
    """A primaryKey: one name or a list of names."""
    if isinstance(value, str):
        return [value]
    return [item for item in _list(value) if isinstance(item, str)]
