"""The legacy OpenSpending model ("mapping"): migrated the way osvalidate did it, read the way the legacy app read it.

`normalise_model` never changes its inputs and never raises: whatever the legacy server stored, it returns a model
in the newest legacy shape plus the problems a person has to look at (`legacy_model_checks` lists them).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from datasets.legacy_model_checks import ModelProblem, check_model, describe, error, quoted, warning

__all__ = [
    "Kind",
    "ModelProblem",
    "NormalisedModel",
    "dimension_kind",
    "dimensions",
    "measures",
    "normalise_model",
]

Kind = Literal["measure", "date", "attribute", "compound"]
Model = dict[str, Any]
Migration = Callable[[Model], tuple[Model, list[ModelProblem]]]

DEFAULT_SCHEMA_VERSION = "1970-01-01"
SCHEMA_VERSION_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
KIND_WORDS: dict[Kind, str] = {
    "measure": "a measure",
    "date": "a date dimension",
    "attribute": "an attribute dimension",
    "compound": "a compound dimension",
}


@dataclass(frozen=True)
class NormalisedModel:
    model: dict[str, Any]
    problems: tuple[ModelProblem, ...]
    applied_migrations: tuple[str, ...]

    @property
    def blocking(self) -> bool:
        return any(problem.blocking for problem in self.problems)


def normalise_model(data: Mapping[str, Any] | None, dataset: Mapping[str, Any] | None = None) -> NormalisedModel:
    """Migrate, type and check a stored model; `dataset` (the dataset's own fields) wins over `data["dataset"]`."""
    model, problems = _assemble(data, dataset)
    version, version_problems = _schema_version(model["dataset"])
    problems += version_problems
    applied = tuple(key for key in sorted(MIGRATIONS) if key > version)
    for key in applied:
        model, found = MIGRATIONS[key](model)
        problems += found
    if applied:
        model["dataset"] = {**model["dataset"], "schema_version": applied[-1]}
    model, found = _apply_kinds(model)
    problems += found
    model, found = _normalise_dataset(model)
    problems += found
    problems += check_model(model)
    return NormalisedModel(model=model, problems=tuple(problems), applied_migrations=applied)


def dimension_kind(name: str, entry: Mapping[str, Any]) -> Kind:
    """How the legacy app (`Dataset._load_model`) read an entry; it trusted the name over the stored type."""
    type_ = entry.get("type")
    if type_ == "measure" or name == "amount":
        return "measure"
    if type_ == "date" or (name == "time" and entry.get("datatype") == "date"):
        return "date"
    if type_ in ("value", "attribute"):
        return "attribute"
    return "compound"


def measures(model: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: entry for name, entry in _entries(model) if dimension_kind(name, entry) == "measure"}


def dimensions(model: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: entry for name, entry in _entries(model) if dimension_kind(name, entry) != "measure"}


def _entries(model: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    mapping = model.get("mapping")
    if not isinstance(mapping, Mapping):
        return []
    return [(name, entry) for name, entry in mapping.items() if isinstance(entry, dict)]


# Assembling: from whatever was stored to {"dataset": {}, "mapping": {}, "views": []} with objects where objects belong.


def _assemble(data: object, dataset: object) -> tuple[Model, list[ModelProblem]]:
    problems: list[ModelProblem] = []
    if isinstance(data, Mapping):
        model: Model = copy.deepcopy(dict(data))
    else:
        model = {}
        if data is not None:
            problems.append(error("model", f"the stored model is {describe(data)}, not an object"))
    block, found = _dataset_block(model.get("dataset"))
    own = copy.deepcopy(dict(dataset)) if isinstance(dataset, Mapping) else {}
    mapping, mapping_problems = _object_entries(model.get("mapping"))
    views, view_problems = _view_list(model.get("views"))
    model.update(dataset={**block, **own}, mapping=mapping, views=views)
    return model, [*problems, *found, *mapping_problems, *view_problems]


def _dataset_block(block: object) -> tuple[dict[str, Any], list[ModelProblem]]:
    if isinstance(block, dict):
        return block, []
    if block is None:
        return {}, []
    return {}, [warning("dataset", f"the model's dataset block is {describe(block)}, not an object; it was ignored")]


def _object_entries(mapping: object) -> tuple[dict[str, Any], list[ModelProblem]]:
    """Entries that are not objects cannot be read at all: they are dropped here and block conversion."""
    if mapping is None:
        return {}, []
    if not isinstance(mapping, dict):
        return {}, [error("mapping", f"the mapping is {describe(mapping)}, not an object")]
    problems = [
        error(f"mapping.{name}", f"the entry is {describe(entry)}, not an object")
        for name, entry in mapping.items()
        if not isinstance(entry, dict)
    ]
    return {str(name): entry for name, entry in mapping.items() if isinstance(entry, dict)}, problems


def _view_list(views: object) -> tuple[list[dict[str, Any]], list[ModelProblem]]:
    if views is None:
        return [], []
    if not isinstance(views, list):
        return [], [warning("views", f"the views are {describe(views)}, not a list; they were ignored")]
    problems = [
        warning(f"views.{index}", f"the view is {describe(view)}, not an object; it was ignored")
        for index, view in enumerate(views)
        if not isinstance(view, dict)
    ]
    return [view for view in views if isinstance(view, dict)], problems


def _schema_version(dataset: Mapping[str, Any]) -> tuple[str, list[ModelProblem]]:
    """osvalidate defaulted to 1970-01-01; production dumps store null for "never migrated"."""
    value = dataset.get("schema_version")
    if value is None or value == "":
        return DEFAULT_SCHEMA_VERSION, []
    if isinstance(value, str) and SCHEMA_VERSION_PATTERN.fullmatch(value.strip()):
        return value.strip(), []
    text = f"schema_version {quoted(value)} is not a date, so every legacy migration was applied"
    return DEFAULT_SCHEMA_VERSION, [warning("dataset.schema_version", text)]


# The legacy migrations (osvalidate `openspending/validation/model/migration.py`), in the order they ran.


def _m2011_11_20_name_attribute(model: Model) -> tuple[Model, list[ModelProblem]]:
    mapping = {name: _with_name_field(entry) for name, entry in model["mapping"].items()}
    return {**model, "mapping": mapping}, []


def _with_name_field(entry: dict[str, Any]) -> dict[str, Any]:
    """Old compound dimensions had no `name`; the label column stood in for it (okfn/openspending#209)."""
    fields = entry.get("fields")
    if not isinstance(fields, list):
        return entry
    named = [field for field in fields if isinstance(field, dict)]
    if any(field.get("name") == "name" for field in named):
        return entry
    labels = [field for field in named if field.get("name") == "label"]
    # osvalidate kept the last `label` field it saw.
    if not labels or not labels[-1].get("column"):
        return entry
    name_field = {"name": "name", "datatype": "id", "column": labels[-1]["column"]}
    if labels[-1].get("default_value"):
        name_field["default_value"] = labels[-1]["default_value"]
    return {**entry, "fields": [*fields, name_field]}


def _m2011_11_21_normalise_types(model: Model) -> tuple[Model, list[ModelProblem]]:
    mapping = {name: {**entry, "type": _migrated_type(name, entry)} for name, entry in model["mapping"].items()}
    return {**model, "mapping": mapping}, []


def _migrated_type(name: str, entry: Mapping[str, Any]) -> str:
    stored = entry.get("type")
    type_ = stored.lower().strip() if isinstance(stored, str) else ""
    if type_ in ("measure", "date"):
        return type_
    if type_ == "value":
        return {"amount": "measure", "time": "date"}.get(name, "attribute")
    # `entity`, `classifier`, `compound` or anything else: compound when it has attributes, else a plain value.
    return "compound" if "attributes" in entry or "fields" in entry else "attribute"


def _m2011_11_22_unique_keys(model: Model) -> tuple[Model, list[ModelProblem]]:
    if "unique_keys" not in model["dataset"]:
        return model, []
    dataset = {key: value for key, value in model["dataset"].items() if key != "unique_keys"}
    names, problems = _unique_key_names(model["dataset"]["unique_keys"], model["mapping"])
    mapping = {name: {**entry, "key": True} if name in names else entry for name, entry in model["mapping"].items()}
    return {**model, "dataset": dataset, "mapping": mapping}, problems


def _unique_key_names(keys: object, mapping: Mapping[str, Any]) -> tuple[set[str], list[ModelProblem]]:
    """Keys could name an attribute (`function.name`); the whole dimension becomes the key."""
    path = "dataset.unique_keys"
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list):
        return set(), [warning(path, f"unique_keys is {describe(keys)}, not a list; it was ignored")]
    names: set[str] = set()
    problems = []
    for key in keys:
        name = key.split(".")[0] if isinstance(key, str) else ""
        if name in mapping:
            names.add(name)
        else:
            problems.append(warning(path, f"unique key {quoted(key)} names no entry of the mapping; it was ignored"))
    return names, problems


def _m2011_12_07_attributes_dictionary(model: Model) -> tuple[Model, list[ModelProblem]]:
    mapping: dict[str, Any] = {}
    problems: list[ModelProblem] = []
    for name, entry in model["mapping"].items():
        mapping[name], found = _attributes_from_fields(f"mapping.{name}", entry)
        problems += found
    return {**model, "mapping": mapping}, problems


def _attributes_from_fields(path: str, entry: dict[str, Any]) -> tuple[dict[str, Any], list[ModelProblem]]:
    if "attributes" in entry or "fields" not in entry:
        return entry, []
    fields = entry["fields"] if isinstance(entry["fields"], list) else []
    attributes: dict[str, Any] = {}
    problems = []
    for index, field in enumerate(fields):
        if isinstance(field, dict) and isinstance(field.get("name"), str):
            attributes[field["name"]] = {key: value for key, value in field.items() if key != "name"}
        else:
            # osvalidate skipped these too: without a name an attribute has nowhere to go.
            problems.append(warning(f"{path}.fields.{index}", "an old-style attribute without a name was dropped"))
    rest = {key: value for key, value in entry.items() if key != "fields"}
    return {**rest, "attributes": attributes}, problems


def _m2012_05_29_category(model: Model) -> tuple[Model, list[ModelProblem]]:
    # Database dumps carry the column as null rather than leaving it out; both mean "no category".
    if model["dataset"].get("category") not in (None, ""):
        return model, []
    return {**model, "dataset": {**model["dataset"], "category": "other"}}, []


MIGRATIONS: dict[str, Migration] = {
    "2011-11-20": _m2011_11_20_name_attribute,
    "2011-11-21": _m2011_11_21_normalise_types,
    "2011-11-22": _m2011_11_22_unique_keys,
    "2011-12-07": _m2011_12_07_attributes_dictionary,
    "2012-05-29": _m2012_05_29_category,
}


# After the migrations: what the legacy app made of the result.


def _apply_kinds(model: Model) -> tuple[Model, list[ModelProblem]]:
    """Write the kind the app used as `type`, so later code reads one vocabulary; say so whenever it differs."""
    mapping: dict[str, Any] = {}
    problems = []
    for name, entry in model["mapping"].items():
        kind = dimension_kind(name, entry)
        if entry.get("type") != kind:
            problems.append(warning(f"mapping.{name}.type", _kind_note(entry.get("type"), kind)))
        mapping[name] = {**entry, "type": kind}
    return {**model, "mapping": mapping}, problems


def _kind_note(stored: object, kind: Kind) -> str:
    if stored in (None, ""):
        return f"no type was stored; the legacy platform read the entry as {KIND_WORDS[kind]}"
    return f"type {quoted(stored)} was read as {KIND_WORDS[kind]} by the legacy platform"


def _normalise_dataset(model: Model) -> tuple[Model, list[ModelProblem]]:
    """The legacy app stored names lower-cased, languages lower case and territories upper case."""
    dataset = dict(model["dataset"])
    problems = []
    name = dataset.get("name")
    if isinstance(name, str) and name.strip().lower() != name:
        dataset["name"] = name.strip().lower()
        problems.append(warning("dataset.name", f"name {quoted(name)} is read as {quoted(dataset['name'])}"))
    for key, recase in (("languages", str.lower), ("territories", str.upper)):
        if isinstance(dataset.get(key), list):
            dataset[key] = [recase(code.strip()) if isinstance(code, str) else code for code in dataset[key]]
    return {**model, "dataset": dataset}, problems
