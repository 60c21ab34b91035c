"""Is a converted package right? `validate_package` answers for a package folder or a zip of one.

Three layers, all reported as readable problems:
1. the descriptor against our JSON Schema (`schemas/fiscal-data-package.schema.json`, FDP 0.3 made stricter);
2. the rules no JSON Schema can say: sources name fields, labelfor/parent name attributes, column types are known
   and agree with field types, bytes/hash match the files;
3. the data: every row of each CSV through `packaging.data_check` (header, cell counts, types, required, whether a
   primary key repeats; fast, flat memory), the repeated keys listed with their rows, then frictionless, strictly
   offline, for what that leaves out (other formats and constraints). frictionless reads every row, or with
   `frictionless_rows=N` only the first N: the conversion jobs do that, since frictionless is 10x slower than the rest
   of the validation together.

Each layer has its module: packaging/validation_schema.py, validation_rules.py and validation_data.py; what they
share (the result, the resources checked) is in validation_result.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conversion.packaging.data_check import DataCheck
from conversion.packaging.package_descriptor import MAX_BYTES, DescriptorError, descriptor_load
from conversion.packaging.package_files import DESCRIPTOR, MAX_UNZIPPED_BYTES, PackageError, opened_package
from conversion.packaging.validation_data import check_frictionless, check_primary_key, check_rows
from conversion.packaging.validation_result import Problem, ValidationResult, read_resources
from conversion.packaging.validation_rules import check_column_types, check_digest, check_model, find_data_files
from conversion.packaging.validation_schema import check_schema

__all__ = ["DESCRIPTOR", "MAX_UNZIPPED_BYTES", "PackageError", "Problem", "ValidationResult", "validate_package"]


def validate_package(
    path: Path,
    *,
    max_unzipped_bytes: int = MAX_UNZIPPED_BYTES,
    frictionless_rows: int | None = None,
    descriptor_max_bytes: int = MAX_BYTES,
) -> ValidationResult:
    """Validate a package folder, its datapackage.json, or a zip of it; PackageError when it cannot be opened.

    Every row is checked; `frictionless_rows` limits frictionless' own pass to the first rows of each resource
    when our data check read all of them (see the module's docstring)."""
    with opened_package(Path(path), max_unzipped_bytes) as folder:
        return _validate_folder(folder, frictionless_rows, descriptor_max_bytes)


def _validate_folder(folder: Path, frictionless_rows: int | None, descriptor_max_bytes: int) -> ValidationResult:
    result = ValidationResult()
    descriptor = _read_descriptor(folder, result, descriptor_max_bytes)
    if descriptor is None:
        return result
    check_schema(descriptor, result)
    resources = read_resources(descriptor)
    find_data_files(folder, resources, result)
    check_model(descriptor, resources, result)
    check_column_types(resources, result)
    checked: dict[str, DataCheck] = {}
    for resource in resources:
        if resource.file is not None:
            check_digest(resource, result)
            found = check_rows(resource, result)
            if found is not None:
                checked[resource.where] = found
            if found is None or found.duplicate_keys is not False:
                check_primary_key(resource, result)  # lists the repeated keys, with their rows
    check_frictionless(descriptor, folder, resources, result, checked, frictionless_rows)
    return result


def _read_descriptor(folder: Path, result: ValidationResult, max_bytes: int) -> dict[str, Any] | None:
    """None, with the reason as a problem, for a descriptor no validator should see (see descriptor_load)."""
    try:
        return descriptor_load(folder, max_bytes=max_bytes)
    except DescriptorError as error:
        result.add(Problem(DESCRIPTOR, error.reason, code="descriptor"))
        return None
