"""Layer 2 of the package validation: the rules no JSON Schema can say. The data files are inside the package,
sources name fields, labelfor/parent name attributes, column types are known and agree with field types, bytes and
hash match the files."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from conversion.packaging.validation_result import Problem, Resource, ValidationResult, names_of, short
from conversion.packaging.vocabulary import column_type, is_known
from migration_site.lib.jsondata import dict_entries

NUMERIC = {"number", "integer"}


def find_data_files(folder: Path, resources: list[Resource], result: ValidationResult) -> None:
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
            result.add(Problem(where, f"{short(repr(raw))} cannot be a file name", code="data-file"))
            continue
        if not file.is_relative_to(root):
            result.add(Problem(where, f"{raw} points outside the package", code="data-file"))
        elif not file.is_file():
            result.add(Problem(where, f"data file {raw} is missing from the package", code="missing-data-file"))
        else:
            resource.file = file


def check_model(descriptor: dict[str, Any], resources: list[Resource], result: ValidationResult) -> None:
    model = descriptor.get("model")
    if not isinstance(model, dict):
        return  # the schema reports it (or the `mapping` it has instead)
    by_name = {resource.label: resource for resource in resources}
    default = resources[0] if resources else None
    for key, measure in dict_entries(model.get("measures")):
        resource = _resource_of(measure, by_name, default, f"model.measures.{key}", result)
        kind = _source_type(measure, resource, f"model.measures.{key}", result)
        if kind is not None and kind not in NUMERIC:
            message = f"measure field {measure['source']!r} is of type {kind!r}; a measure must be number or integer"
            result.add(Problem(f"model.measures.{key}", message, field=measure["source"], code="measure-type"))
    for key, dimension in dict_entries(model.get("dimensions")):
        _check_dimension(key, dimension, by_name, default, result)


def _check_dimension(
    key: str,
    dimension: dict[str, Any],
    by_name: dict[str, Resource],
    default: Resource | None,
    result: ValidationResult,
) -> None:
    attributes = dict(dict_entries(dimension.get("attributes")))
    for name, attribute in attributes.items():
        where = f"model.dimensions.{key}.attributes.{name}"
        if "constant" not in attribute:  # a constant's `source` is only there because 0.3 requires one
            _source_type(attribute, _resource_of(attribute, by_name, default, where, result), where, result)
        for link in ("labelfor", "parent"):
            target = attribute.get(link)
            if isinstance(target, str) and (target not in attributes or target == name):
                message = f"{link} {target!r} names no other attribute of dimension {key!r}"
                result.add(Problem(where, message, code="model-link"))
    for name in names_of(dimension.get("primaryKey")):
        if name not in attributes:
            message = f"primaryKey names {name!r}, which is no attribute of dimension {key!r}"
            result.add(Problem(f"model.dimensions.{key}", message, code="model-key"))


def _resource_of(
    item: dict[str, Any], by_name: dict[str, Resource], default: Resource | None, where: str, result: ValidationResult
) -> Resource | None:
    name = item.get("resource")
    if not isinstance(name, str):
        return default
    if name not in by_name:
        result.add(Problem(where, f"resource {name!r} is not in the package", code="model-source"))
    return by_name.get(name)


def _source_type(item: dict[str, Any], resource: Resource | None, where: str, result: ValidationResult) -> str | None:
    """The schema type of the field `source` names; None, with a problem, when it names none."""
    source = item.get("source")
    if resource is None or not isinstance(source, str):
        return None
    kind = resource.types.get(source)
    if kind is None:
        message = f"source {source!r} names no field of resource {resource.label!r}"
        result.add(Problem(where, message, field=source, code="model-source"))
    return kind


def check_column_types(resources: list[Resource], result: ValidationResult) -> None:
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


def check_digest(resource: Resource, result: ValidationResult) -> None:
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
