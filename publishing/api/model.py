"""A published package's Fiscal Data Package model as a babbage cube model: what may be asked of it, and the SQL each
reference stands for.

Every identifier that reaches SQL comes from here: field names of the package's own Table Schema, quoted. A request
names references (`functional_classification.cofog1_name`), never columns; a reference not in the model is refused
before any SQL is written. Babbage's references must match `[A-Za-z][A-Za-z0-9_]*`, so FDP names such as
`functional-classification` are offered as `functional_classification`.

A date attribute also offers its year and month (`date.year`, `date.month`), computed: the drilldown budget
portals use most, and the one the legacy API's `year` and `month` stood for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from migration_site.lib.jsondata import as_dict, dicts_in

# Table Schema type -> babbage's datatype (what a cut value must parse as).
DATATYPES = {"integer": "integer", "number": "number", "year": "integer", "date": "date", "boolean": "boolean"}
_NOT_REF = re.compile(r"[^A-Za-z0-9_]+")


@dataclass(frozen=True)
class Column:
    """A reference that reads one value per row: a measure, an attribute or a computed part of a date."""

    ref: str
    sql: str  # over the fact table; identifiers from the package's schema, quoted
    datatype: str  # "string", "integer", "number", "date" or "boolean"
    label: str
    field: str  # the package's field it reads


@dataclass(frozen=True)
class Dimension:
    name: str
    label: str
    key_ref: str
    label_ref: str
    attribute_refs: tuple[str, ...]
    spec: Mapping[str, Any]  # the FDP dimension's own properties (dimensionType, classificationType, ...)


@dataclass(frozen=True)
class Aggregate:
    ref: str  # "_count" or "<measure>.sum"
    label: str
    function: str
    measure: str | None


@dataclass(frozen=True)
class CubeModel:
    name: str  # "<owner>:<dataset>"
    measures: dict[str, Column]
    attributes: dict[str, Column]
    dimensions: dict[str, Dimension]
    aggregates: dict[str, Aggregate]
    fields: dict[str, str] = field(default_factory=dict)  # package field -> attribute or measure ref

    def column(self, ref: str) -> Column | None:
        return self.measures.get(ref) or self.attributes.get(ref)

    def expand(self, ref: str) -> list[Column]:
        """A measure or an attribute is itself; a dimension stands for all its attributes (babbage's `match`)."""
        found = self.column(ref)
        if found is not None:
            return [found]
        dimension = self.dimensions.get(ref)
        return [self.attributes[item] for item in dimension.attribute_refs] if dimension else []

    def as_babbage(self) -> dict[str, Any]:
        """The model as babbage's `/model` answers it (`Model.to_dict`)."""
        return {
            "fact_table": self.name,
            "measures": {name: _column_dict(column) for name, column in self.measures.items()},
            "dimensions": {name: self._dimension_dict(d) for name, d in self.dimensions.items()},
            "aggregates": {ref: _aggregate_dict(a) for ref, a in self.aggregates.items()},
            "hierarchies": {},
        }

    def _dimension_dict(self, dimension: Dimension) -> dict[str, Any]:
        attributes = {ref.partition(".")[2]: _column_dict(self.attributes[ref]) for ref in dimension.attribute_refs}
        return {
            **dimension.spec,
            "label": dimension.label,
            "ref": dimension.name,
            "key_attribute": dimension.key_ref.partition(".")[2],
            "key_ref": dimension.key_ref,
            "label_attribute": dimension.label_ref.partition(".")[2],
            "label_ref": dimension.label_ref,
            "attributes": attributes,
            "hierarchy": dimension.name,
            "cardinality_class": None,
        }


def ref_name(name: str) -> str:
    """A name babbage accepts: other characters become `_`, a leading digit or `_` gets a letter before it."""
    cleaned = _NOT_REF.sub("_", name).strip("_") or "x"
    return cleaned if cleaned[0].isalpha() else f"x{cleaned}"


def quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def cube_model(name: str, descriptor: Mapping[str, Any]) -> CubeModel:
    """The cube model of a package's first resource (the one the FDP model describes)."""
    resources = dicts_in(descriptor.get("resources"))
    schema_fields = dicts_in(as_dict(resources[0].get("schema")).get("fields")) if resources else []
    types = {str(item.get("name")): str(item.get("type") or "string") for item in schema_fields}
    model = as_dict(descriptor.get("model"))
    measures = _measures(as_dict(model.get("measures")), types)
    taken = set(measures)
    attributes: dict[str, Column] = {}
    dimensions: dict[str, Dimension] = {}
    for raw_name, raw in as_dict(model.get("dimensions")).items():
        dimension = _dimension(_unique(ref_name(str(raw_name)), taken), as_dict(raw), types, attributes)
        if dimension is not None:
            dimensions[dimension.name] = dimension
    aggregates = {"_count": Aggregate("_count", "Facts", "count", None)}
    for measure in measures.values():
        aggregates[f"{measure.ref}.sum"] = Aggregate(f"{measure.ref}.sum", measure.label, "sum", measure.ref)
    fields = {
        column.field: ref for ref, column in {**measures, **attributes}.items() if column.sql == quoted(column.field)
    }
    return CubeModel(name, measures, attributes, dimensions, aggregates, fields)


def _measures(raw: Mapping[str, Any], types: Mapping[str, str]) -> dict[str, Column]:
    measures: dict[str, Column] = {}
    for name, spec in raw.items():
        source = str(as_dict(spec).get("source") or name)
        if types.get(source) not in ("number", "integer"):
            continue  # not a numeric field of the data: nothing to sum
        ref = _unique(ref_name(str(name)), set(measures))
        measures[ref] = Column(ref, quoted(source), DATATYPES[types[source]], _label(spec, name), source)
    return measures


def _dimension(
    name: str, raw: Mapping[str, Any], types: Mapping[str, str], attributes: dict[str, Column]
) -> Dimension | None:
    refs: dict[str, str] = {}  # attribute name in the FDP -> ref
    for attribute_name, spec in as_dict(raw.get("attributes")).items():
        source = str(as_dict(spec).get("source") or attribute_name)
        if source not in types:
            continue
        ref = f"{name}.{_unique(ref_name(str(attribute_name)), {r.partition('.')[2] for r in refs.values()})}"
        datatype = DATATYPES.get(types[source], "string")
        attributes[ref] = Column(ref, quoted(source), datatype, _label(spec, attribute_name), source)
        refs[str(attribute_name)] = ref
    if not refs:
        return None
    key_ref = refs.get(_first_key(raw.get("primaryKey")), next(iter(refs.values())))
    label_ref = _label_ref(raw, refs, key_ref)
    parts = _date_parts(name, [ref for ref in refs.values() if attributes[ref].datatype == "date"], attributes)
    spec = {key: value for key, value in raw.items() if key not in ("attributes", "primaryKey")}
    label = str(raw.get("title") or str(name).replace("_", " ").capitalize())
    return Dimension(name, label, key_ref, label_ref, (*refs.values(), *parts), spec)


def _date_parts(name: str, dates: list[str], attributes: dict[str, Column]) -> list[str]:
    """`year` and `month` of the dimension's date (of each date, prefixed by its name, when it has several)."""
    added: list[str] = []
    for ref in dates:
        date = attributes[ref]
        prefix = "" if len(dates) == 1 else f"{ref.partition('.')[2]}_"
        parts = {
            "year": (f"CAST(year({date.sql}) AS INTEGER)", "integer", "Year"),
            "month": (f"strftime({date.sql}, '%Y-%m')", "string", "Month"),
        }
        for part, (sql, datatype, label) in parts.items():
            part_ref = f"{name}.{prefix}{part}"
            if part_ref not in attributes:
                attributes[part_ref] = Column(part_ref, sql, datatype, f"{date.label}: {label.lower()}", date.field)
                added.append(part_ref)
    return added


def _label_ref(raw: Mapping[str, Any], refs: Mapping[str, str], key_ref: str) -> str:
    key_name = next((name for name, ref in refs.items() if ref == key_ref), "")
    for name, spec in as_dict(raw.get("attributes")).items():
        if str(as_dict(spec).get("labelfor") or "") == key_name and str(name) in refs:
            return refs[str(name)]
    return key_ref


def _first_key(value: object) -> str:
    if isinstance(value, list) and value:
        return str(value[0])
    return str(value or "")


def _label(spec: object, name: object) -> str:
    return str(as_dict(spec).get("title") or name)


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    taken.add(candidate)
    return candidate


def _column_dict(column: Column) -> dict[str, Any]:
    return {"ref": column.ref, "label": column.label, "type": column.datatype, "column": column.field}


def _aggregate_dict(aggregate: Aggregate) -> dict[str, Any]:
    data: dict[str, Any] = {"ref": aggregate.ref, "label": aggregate.label, "function": aggregate.function}
    if aggregate.measure is not None:
        data["measure"] = aggregate.measure
    return data
