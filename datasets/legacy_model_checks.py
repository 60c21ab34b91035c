"""A lenient version of osvalidate's model validation: it lists problems instead of rejecting the model.

The checks read a model already normalised by `legacy_model.normalise_model` (every entry an object whose `type` is
the kind the legacy app used). A problem is blocking when a data package cannot be built until a person fixes the
model; everything the legacy validator required but production models broke anyway is a warning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DATATYPES = ("id", "string", "float", "constant", "date", "url")
CATEGORIES = ("budget", "spending", "other")
RESERVED_NAMES = frozenset(
    {
        "entry",
        "entries",
        "dataset",
        "datasets",
        "dimension",
        "dimensions",
        "editor",
        "meta",
        "id",
        "login",
        "logout",
        "settings",
        "browser",
        "explorer",
        "member",
        "register",
        "after_login",
        "after_logout",
        "locale",
        "reporterror",
        "getinvolved",
        "api",
        "500",
        "error",
        "url",
        "model",
        "distinct",
        "views",
    }
)
# Python 2's `\w` without re.UNICODE, as the legacy validator ran it: ASCII letters, digits and underscore.
NAME_PATTERN = re.compile(r"[\w\-]+", re.ASCII)
MAX_NAME_LENGTH = 30
CURRENCY_PATTERN = re.compile(r"[A-Z]{3}")
OLD_VIEW_KEYS = ("entity", "breakdown", "filters")
REQUIRED = "which the legacy validator required"


@dataclass(frozen=True)
class ModelProblem:
    path: str
    problem: str
    blocking: bool

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "problem": self.problem, "severity": "error" if self.blocking else "warning"}


def error(path: str, problem: str) -> ModelProblem:
    return ModelProblem(path=path, problem=problem, blocking=True)


def warning(path: str, problem: str) -> ModelProblem:
    return ModelProblem(path=path, problem=problem, blocking=False)


def describe(value: object) -> str:
    """What a person calls a JSON value of the wrong shape."""
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return "empty" if value is None else "an unreadable value"


def quoted(value: object) -> str:
    """A stored value as JSON shows it, strings in single quotes: never a Python repr."""
    if isinstance(value, str):
        return f"'{value}'"
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return describe(value)


def check_model(model: Mapping[str, Any]) -> list[ModelProblem]:
    return [
        *_check_dataset(model["dataset"]),
        *_check_mapping(model["mapping"]),
        *_check_views(model["views"], model["mapping"]),
    ]


# Dataset block (osvalidate `dataset.py`).


def _check_dataset(dataset: Mapping[str, Any]) -> list[ModelProblem]:
    problems = _check_dataset_name(dataset.get("name"))
    for key in ("label", "description"):
        if not _is_text(dataset.get(key)):
            problems.append(warning(f"dataset.{key}", f"the dataset has no {key}"))
    problems += _check_currency(dataset.get("currency"))
    problems += _check_category(dataset.get("category"))
    for key in ("languages", "territories"):
        codes = dataset.get(key)
        if codes is not None and not (isinstance(codes, list) and all(_is_text(code) for code in codes)):
            problems.append(warning(f"dataset.{key}", f"{key} should be a list of codes, not {quoted(codes)}"))
    return problems


def _check_dataset_name(name: object) -> list[ModelProblem]:
    if not _is_text(name):
        return [warning("dataset.name", "the dataset has no name")]
    problems = _name_problems("dataset.name", str(name))
    if "__" in str(name):
        # The legacy database named tables "<dataset>__<dimension>".
        problems.append(warning("dataset.name", f"dataset name {quoted(name)} contains a double underscore"))
    return problems


def _check_currency(currency: object) -> list[ModelProblem]:
    if currency in (None, ""):
        return [warning("dataset.currency", "the dataset has no currency")]
    if isinstance(currency, str) and CURRENCY_PATTERN.fullmatch(currency):
        return []
    text = f"currency {quoted(currency)} is not a three-letter upper-case code like 'EUR'"
    return [warning("dataset.currency", text)]


def _check_category(category: object) -> list[ModelProblem]:
    if category in CATEGORIES:
        return []
    if category in (None, ""):
        return [warning("dataset.category", f"the dataset has no category ({_listed(CATEGORIES)})")]
    return [warning("dataset.category", f"category {quoted(category)} is not one of {_listed(CATEGORIES)}")]


# Mapping (osvalidate `mapping.py`).


def _check_mapping(mapping: Mapping[str, dict[str, Any]]) -> list[ModelProblem]:
    if not mapping:
        return [error("mapping", "the dataset has no model")]
    problems = []
    for name, entry in mapping.items():
        path = f"mapping.{name}"
        problems += _dimension_name_problems(path, name, mapping)
        if not _is_text(entry.get("label")):
            problems.append(warning(f"{path}.label", f"{quoted(name)} has no label"))
        problems += ENTRY_CHECKS.get(str(entry.get("type")), _check_compound)(path, entry)
    return problems + _check_required_entries(mapping)


def _check_required_entries(mapping: Mapping[str, dict[str, Any]]) -> list[ModelProblem]:
    kinds: dict[str, object] = {name: entry.get("type") for name, entry in mapping.items()}
    problems = []
    if "measure" not in kinds.values():
        problems.append(error("mapping", "the model has no measure, so there is nothing to add up"))
    elif kinds.get("amount") != "measure":
        problems.append(warning("mapping", f"the model has no 'amount' measure, {REQUIRED}"))
    if kinds.get("time") != "date":
        problems.append(warning("mapping", f"the model has no 'time' date dimension, {REQUIRED}"))
    if not any(entry.get("key") is True for entry in mapping.values()):
        problems.append(warning("mapping", "no entry is marked as a key, so the legacy entry ids cannot be rebuilt"))
    for name in ("from", "to"):
        if name in kinds and kinds[name] != "compound":
            text = f"'{name}' has type {quoted(kinds[name])}, but the legacy validator required a compound dimension"
            problems.append(warning(f"mapping.{name}.type", text))
    return problems


def _check_measure(path: str, entry: Mapping[str, Any]) -> list[ModelProblem]:
    problems = [] if _is_text(entry.get("column")) else [error(f"{path}.column", "the measure has no column")]
    return problems + _expected_datatype(path, entry, "measure", "float")


def _check_date(path: str, entry: Mapping[str, Any]) -> list[ModelProblem]:
    problems = [] if _is_text(entry.get("column")) else [error(f"{path}.column", "the date dimension has no column")]
    return problems + _expected_datatype(path, entry, "date dimension", "date")


def _check_attribute(path: str, entry: Mapping[str, Any]) -> list[ModelProblem]:
    return _value_source(path, entry, "the attribute dimension") + _known_datatype(path, entry)


def _check_compound(path: str, entry: Mapping[str, Any]) -> list[ModelProblem]:
    attributes = entry.get("attributes")
    if not isinstance(attributes, dict) or not attributes:
        # Migrations are skipped when schema_version says they ran, yet some models still carry the old list.
        hint = " (it still has an old 'fields' list)" if "fields" in entry else ""
        return [error(f"{path}.attributes", f"the compound dimension has no attributes{hint}")]
    problems = _name_and_label_attributes(f"{path}.attributes", attributes)
    for name, attribute in attributes.items():
        problems += _check_compound_attribute(f"{path}.attributes.{name}", str(name), attribute)
    return problems


ENTRY_CHECKS = {
    "measure": _check_measure,
    "date": _check_date,
    "attribute": _check_attribute,
    "compound": _check_compound,
}


def _check_compound_attribute(path: str, name: str, attribute: object) -> list[ModelProblem]:
    if not isinstance(attribute, Mapping):
        return [error(path, f"the attribute is {describe(attribute)}, not an object")]
    problems = _name_problems(path, name)
    return problems + _value_source(path, attribute, "the attribute") + _known_datatype(path, attribute)


def _name_and_label_attributes(path: str, attributes: Mapping[str, Any]) -> list[ModelProblem]:
    """The app keyed members by `name` and showed `label`; real models break the datatype rule, so: warnings."""
    problems = []
    for name, datatype in (("name", "id"), ("label", "string")):
        attribute = attributes.get(name)
        if attribute is None:
            problems.append(warning(path, f"the compound dimension has no '{name}' attribute"))
        elif isinstance(attribute, Mapping) and attribute.get("datatype") != datatype:
            text = f"the '{name}' attribute has datatype {quoted(attribute.get('datatype'))}, not '{datatype}'"
            problems.append(warning(f"{path}.{name}.datatype", text))
    return problems


def _value_source(path: str, entry: Mapping[str, Any], what: str) -> list[ModelProblem]:
    """A value comes from a column or, in pre-2012 models, from a constant (`column: null`)."""
    if _is_text(entry.get("column")):
        return []
    if entry.get("constant") is not None:
        text = f"{what} has no column and takes the constant value {quoted(entry['constant'])} on every row"
        return [warning(f"{path}.column", text)]
    return [error(f"{path}.column", f"{what} has neither a column nor a constant value")]


def _expected_datatype(path: str, entry: Mapping[str, Any], what: str, expected: str) -> list[ModelProblem]:
    datatype = entry.get("datatype")
    if datatype == expected:
        return []
    if datatype is None:
        return [warning(f"{path}.datatype", f"the {what} has no datatype (expected '{expected}')")]
    return [warning(f"{path}.datatype", f"the {what} has datatype {quoted(datatype)}, not '{expected}'")]


def _known_datatype(path: str, entry: Mapping[str, Any]) -> list[ModelProblem]:
    datatype = entry.get("datatype")
    if datatype in DATATYPES:
        return []
    if datatype is None:
        return [warning(f"{path}.datatype", f"there is no datatype (the legacy platform knew {_listed(DATATYPES)})")]
    text = f"datatype {quoted(datatype)} is not one the legacy platform knew ({_listed(DATATYPES)})"
    return [warning(f"{path}.datatype", text)]


# Names (osvalidate `predicates.py`).


def _name_problems(path: str, name: str) -> list[ModelProblem]:
    if not name.strip():
        return [warning(path, "the name is empty")]
    problems = []
    if not NAME_PATTERN.fullmatch(name):
        problems.append(warning(path, f"name {quoted(name)} has characters other than letters, digits, - and _"))
    if len(name) > MAX_NAME_LENGTH:
        problems.append(warning(path, f"name {quoted(name)} is longer than {MAX_NAME_LENGTH} characters"))
    if name.lower() in RESERVED_NAMES:
        problems.append(warning(path, f"name {quoted(name)} is a reserved word on the legacy platform"))
    return problems


def _dimension_name_problems(path: str, name: str, mapping: Mapping[str, Any]) -> list[ModelProblem]:
    problems = _name_problems(path, name)
    if name.startswith("entry_"):
        problems.append(warning(path, f"name {quoted(name)} starts with 'entry_', which the legacy validator refused"))
    if f"{name}_id" in mapping:
        # The fact table stored the key of dimension `foo` in a column `foo_id`.
        text = f"'{name}' and '{name}_id' both exist; the legacy database used '{name}_id' for the key of '{name}'"
        problems.append(warning(f"{path}_id", text))
    return problems


# Views (osvalidate `views.py` and the older format still stored in production).


def _check_views(views: list[dict[str, Any]], mapping: Mapping[str, Any]) -> list[ModelProblem]:
    problems = []
    for index, view in enumerate(views):
        path = f"views.{index}"
        if _is_validated_view(view) or _is_older_view(view):
            problems += _view_references(path, view, mapping)
        else:
            problems.append(warning(path, "the view is in neither the validated nor the older legacy view format"))
    return problems


def _is_validated_view(view: Mapping[str, Any]) -> bool:
    return (
        all(_is_text(view.get(key)) for key in ("name", "label", "dimension"))
        and _is_optional_text(view.get("drilldown"))
        and isinstance(view.get("cuts", {}), Mapping)
        and not any(key in view for key in OLD_VIEW_KEYS)
    )


def _is_older_view(view: Mapping[str, Any]) -> bool:
    return (
        all(_is_text(view.get(key)) for key in ("name", "label", "dimension", "entity"))
        and _is_optional_text(view.get("breakdown"))
        and isinstance(view.get("filters", {}), Mapping)
    )


def _view_references(path: str, view: Mapping[str, Any], mapping: Mapping[str, Any]) -> list[ModelProblem]:
    cuts = view.get("cuts") or {}
    named = [(key, view.get(key)) for key in ("dimension", "drilldown", "breakdown")]
    named += [("cuts", str(cut).split(".")[0]) for cut in cuts]
    return [
        warning(f"{path}.{key}", f"the view refers to {quoted(name)}, which is not in the mapping")
        for key, name in named
        if _is_text(name) and name != "dataset" and name not in mapping
    ]


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_optional_text(value: object) -> bool:
    return value is None or isinstance(value, str)


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(values)
