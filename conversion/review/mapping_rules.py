"""Checks on mapping targets, for hand edits and proposals alike. Pure functions: errors are strings for a person."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from conversion.packaging import number_formats, vocabulary
from conversion.packaging.legacy_values import ValueProblem, convert_value, parse_date, parse_float

DIRECTIONS = ("expenditure", "revenue")
PHASES = ("proposed", "approved", "adjusted", "executed")
CURRENCY = re.compile(r"^[A-Z]{3}$")
FIELD_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")  # OpenSpending's query engine (babbage) refuses anything else
FIELD_NAME_RULE = "use lower-case letters, digits and underscores, starting with a letter or digit"
INTEGER = re.compile(r"^-?\d+$")

FieldErrors = dict[str, list[str]]


def validate_target(
    target: Mapping[str, Any],
    *,
    path: str,
    paths: Sequence[str],
    samples: Sequence[str],
    source: Mapping[str, Any] | None = None,
) -> FieldErrors:
    """Errors per form field of one mapping's target: type, links to other attributes, options, sample values."""
    errors: FieldErrors = {}
    column_type = str(target.get("column_type") or "")
    if chosen := number_formats.of_target(target.get("number_format")):  # samples read in the curator's format
        samples = [number_formats.rewrite(sample, *chosen) for sample in samples]
    if not vocabulary.is_known(column_type):
        _add(errors, "column_type", f"'{column_type}' is not a column type of the vocabulary")
    else:
        for problem in sample_problems(vocabulary.column_type(column_type), samples):
            _add(errors, "column_type", problem)
    if not FIELD_NAME.match(str(target.get("field") or "")):
        _add(errors, "field", FIELD_NAME_RULE)
    for link in ("labelfor", "parent"):
        value = target.get(link)
        if value and value not in paths:
            _add(errors, link, f"'{value}' is not an attribute of this dataset")
        elif value and value == path:
            _add(errors, link, "an attribute cannot point at itself")
    if "default_value" in target and target["default_value"] is not None:
        _default_value(str(target["default_value"]), source or {}, errors)
    if column_type == "value":
        _measure_options(target.get("options") or {}, errors)
    elif target.get("keep_empty"):
        _add(errors, "keep_empty", "only a measure ('value') can keep its empty cells empty")
    return errors


def _default_value(value: str, source: Mapping[str, Any], errors: FieldErrors) -> None:
    """A default the legacy reading cannot take would refuse every row with an empty cell: say so now."""
    try:
        convert_value(
            None,
            datatype=str(source.get("datatype") or "string"),
            default_value=value,
            date_format=source.get("format"),
        )
    except ValueProblem as problem:
        _add(errors, "default_value", problem.message)


def validate_dataset(targets: Mapping[str, Mapping[str, Any]], *, override: bool) -> list[str]:
    """Errors of the whole set of (non-rejected) targets: required concepts, unique names, parent cycles."""
    errors = []
    types = [str(target.get("column_type") or "") for target in targets.values()]
    if not override and "value" not in types:
        errors.append("at least one column must be a measure ('value'); an admin can override this")
    if not override and not any(name.startswith("date:") for name in types):
        errors.append("at least one column must be a date type; an admin can override this")
    fields = [str(target.get("field") or "") for target in targets.values()]
    duplicates = sorted({name for name in fields if fields.count(name) > 1})
    if duplicates:
        errors.append(f"two columns would have the same name: {', '.join(duplicates)}")
    errors.extend(_parent_cycles(targets))
    return errors


def dangling_links(targets: Mapping[str, Mapping[str, Any]]) -> dict[str, FieldErrors]:
    """labelfor/parent pointing at a mapping that is rejected (so not in `targets`) or missing."""
    problems: dict[str, FieldErrors] = {}
    for path, target in targets.items():
        for link in ("labelfor", "parent"):
            value = target.get(link)
            if value and value not in targets:
                problems.setdefault(path, {}).setdefault(link, []).append(f"'{value}' is rejected or missing")
    return problems


def _parent_cycles(targets: Mapping[str, Mapping[str, Any]]) -> list[str]:
    errors = []
    for start in targets:
        seen = [start]
        current = targets[start].get("parent")
        while current and current in targets:
            if current in seen:
                errors.append(f"parent links go round in a circle: {' -> '.join([*seen, current])}")
                break
            seen.append(current)
            current = targets[current].get("parent")
    return sorted(set(errors))


def _measure_options(options: Mapping[str, Any], errors: FieldErrors) -> None:
    if not CURRENCY.match(str(options.get("currency") or "")):
        _add(errors, "currency", "a measure needs an ISO 4217 currency code in capitals, e.g. EUR")
    if options.get("direction") not in (None, "", *DIRECTIONS):
        _add(errors, "direction", f"choose one of: {', '.join(DIRECTIONS)}")
    if options.get("phase") not in (None, "", *PHASES):
        _add(errors, "phase", f"choose one of: {', '.join(PHASES)}")


def sample_problems(column_type: vocabulary.ColumnType, samples: Sequence[str]) -> list[str]:
    """Whether the sample values fit the type's data type, read the way the legacy loader read them."""
    bad = [value for value in samples if value.strip() and not _fits(column_type.data_type, value.strip())]
    if not bad:
        return []
    shown = ", ".join(f"'{value}'" for value in bad[:3])
    return [f"{column_type.name} holds {column_type.data_type} values, but the data has {shown}"]


def _fits(data_type: str, value: str) -> bool:
    try:
        if data_type == "number":
            parse_float(value)
        elif data_type == "integer":
            return bool(INTEGER.match(value.replace(",", "")))
        elif data_type == "date":
            parse_date(value, None)
    except ValueProblem:
        return False
    return True


def _add(errors: FieldErrors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)
