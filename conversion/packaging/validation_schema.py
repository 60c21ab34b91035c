"""Layer 1 of the package validation: the descriptor against our JSON Schema (`schemas/fiscal-data-package.schema.json`,
FDP 0.3 made stricter), its errors made readable problems."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError, best_match  # type: ignore[import-untyped]

from conversion.packaging.package_files import DESCRIPTOR
from conversion.packaging.validation_result import Problem, ValidationResult, short
from migration_site.lib.jsondata import as_dict, as_list

SCHEMA_FILE = Path(__file__).resolve().parent / "schemas" / "fiscal-data-package.schema.json"


@functools.cache
def _schema_validator() -> Any:
    return Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def check_schema(descriptor: dict[str, Any], result: ValidationResult) -> None:
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
    return Problem(where, short(specific.message), field=name, code="schema")


def _place(parts: list[Any], descriptor: dict[str, Any]) -> tuple[str, str | None]:
    """A JSON path made readable: resources and fields by their names, not their positions."""
    resources = as_list(descriptor.get("resources"))
    if len(parts) < 2 or parts[0] != "resources" or not isinstance(parts[1], int) or parts[1] >= len(resources):
        return ".".join(map(str, parts)) or DESCRIPTOR, None
    resource = as_dict(resources[parts[1]])
    parts = ["resources", str(resource.get("name") or parts[1]), *parts[2:]]
    schema = as_dict(resource.get("schema"))
    fields = as_list(schema.get("fields"))
    if parts[2:4] == ["schema", "fields"] and len(parts) > 4 and isinstance(parts[4], int) and parts[4] < len(fields):
        item = fields[parts[4]]
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            return ".".join(map(str, parts[:4] + parts[5:])), item["name"]
    return ".".join(map(str, parts)), None
