import copy
import json
from pathlib import Path
from typing import Any

import pytest

from datasets.legacy_model import (
    ModelProblem,
    NormalisedModel,
    dimension_kind,
    dimensions,
    measures,
    normalise_model,
)
from tests.conftest import SHARED_DIR

ALL_MIGRATIONS = ("2011-11-20", "2011-11-21", "2011-11-22", "2011-12-07", "2012-05-29")
DATASET = {
    "name": "test",
    "label": "Test",
    "description": "A test dataset",
    "currency": "EUR",
    "category": "budget",
    "schema_version": "2012-05-29",
}


def clean_mapping() -> dict[str, Any]:
    return {
        "amount": {"type": "measure", "label": "Amount", "column": "amt", "datatype": "float"},
        "time": {"type": "date", "label": "Year", "column": "year", "datatype": "date", "key": True},
        "tx": {"type": "attribute", "label": "Transaction", "column": "tx", "datatype": "string", "key": True},
        "to": {
            "type": "compound",
            "label": "Recipient",
            "attributes": {
                "name": {"column": "to_id", "datatype": "id"},
                "label": {"column": "to_label", "datatype": "string"},
            },
        },
    }


def normalise(mapping: dict[str, Any], views: Any = None, **dataset: Any) -> NormalisedModel:
    """A model of the newest legacy shape, so only the rule under test can complain."""
    data: dict[str, Any] = {"mapping": mapping}
    if views is not None:
        data["views"] = views
    return normalise_model(data, {**DATASET, **dataset})


def with_entry(name: str, entry: Any) -> dict[str, Any]:
    return {**clean_mapping(), name: entry}


def at(result: NormalisedModel, path: str) -> list[ModelProblem]:
    return [problem for problem in result.problems if problem.path == path]


def severities(result: NormalisedModel, path: str) -> list[str]:
    return [str(problem.as_dict()["severity"]) for problem in at(result, path)]


def test_clean_model_has_no_problems():
    result = normalise(clean_mapping(), views=[{"name": "default", "label": "All", "dimension": "dataset"}])

    assert result.problems == ()
    assert not result.blocking
    assert result.applied_migrations == ()
    assert result.model["dataset"]["schema_version"] == "2012-05-29"


def test_problem_as_dict_names_severity():
    assert ModelProblem("mapping", "text", True).as_dict() == {
        "path": "mapping",
        "problem": "text",
        "severity": "error",
    }
    assert ModelProblem("mapping", "text", False).as_dict()["severity"] == "warning"


# Migrations


def test_2011_11_20_adds_name_attribute_from_label_column():
    fields = [{"name": "label", "column": "FUNC", "datatype": "string", "default_value": "Unknown"}]
    result = normalise_model({"mapping": {"function": {"type": "compound", "fields": fields}}})

    assert result.model["mapping"]["function"]["attributes"]["name"] == {
        "datatype": "id",
        "column": "FUNC",
        "default_value": "Unknown",
    }
    assert result.applied_migrations == ALL_MIGRATIONS


def test_2011_11_20_keeps_an_existing_name_field():
    fields = [
        {"name": "name", "column": "ID", "datatype": "id"},
        {"name": "label", "column": "L", "datatype": "string"},
    ]
    result = normalise_model({"mapping": {"function": {"type": "compound", "fields": fields}}})

    assert result.model["mapping"]["function"]["attributes"]["name"]["column"] == "ID"


def test_2011_11_20_is_skipped_when_schema_version_is_newer():
    fields = [{"name": "label", "column": "FUNC", "datatype": "string"}]
    result = normalise_model(
        {"mapping": {"function": {"type": "compound", "fields": fields}}}, {"schema_version": "2011-11-20"}
    )

    assert result.applied_migrations == ALL_MIGRATIONS[1:]
    assert "name" not in result.model["mapping"]["function"]["attributes"]
    assert "the compound dimension has no 'name' attribute" in [p.problem for p in result.problems]


def test_2011_11_21_normalises_old_types():
    mapping = {
        "amount": {"type": "value", "column": "a", "datatype": "float"},
        "time": {"type": "Value ", "column": "t", "datatype": "date"},
        "region": {"type": "value", "column": "r", "datatype": "string"},
        "to": {"type": "entity", "attributes": {"name": {"column": "n", "datatype": "id"}}},
        "cofog": {"type": " Classifier", "fields": [{"name": "name", "column": "c", "datatype": "id"}]},
        "loose": {"type": "compound", "column": "l", "datatype": "string"},
    }
    result = normalise_model({"mapping": mapping})

    types = {name: entry["type"] for name, entry in result.model["mapping"].items()}
    # osvalidate turned a "compound" without attributes into a plain attribute.
    assert types == {
        "amount": "measure",
        "time": "date",
        "region": "attribute",
        "to": "compound",
        "cofog": "compound",
        "loose": "attribute",
    }
    assert not [p for p in result.problems if p.path.endswith(".type")]


def test_2011_11_21_is_skipped_when_schema_version_is_newer_and_the_app_reading_is_noted():
    mapping = {"region": {"type": "value", "column": "r", "datatype": "string"}, "to": {"type": "entity"}}
    result = normalise_model({"mapping": mapping}, {"schema_version": "2011-11-21"})

    assert result.applied_migrations == ALL_MIGRATIONS[2:]
    assert result.model["mapping"]["region"]["type"] == "attribute"
    assert result.model["mapping"]["to"]["type"] == "compound"
    assert severities(result, "mapping.region.type") == ["warning"]
    assert (
        at(result, "mapping.to.type")[0].problem
        == "type 'entity' was read as a compound dimension by the legacy platform"
    )


def test_2011_11_22_turns_unique_keys_into_key_flags():
    mapping = clean_mapping()
    mapping["time"].pop("key")
    mapping["tx"].pop("key")
    result = normalise_model(
        {"mapping": mapping}, {**DATASET, "schema_version": None, "unique_keys": ["to.name", "tx", "ghost"]}
    )

    keys = {name for name, entry in result.model["mapping"].items() if entry.get("key") is True}
    assert keys == {"to", "tx"}
    assert "unique_keys" not in result.model["dataset"]
    assert (
        at(result, "dataset.unique_keys")[0].problem
        == "unique key 'ghost' names no entry of the mapping; it was ignored"
    )


def test_2011_11_22_is_skipped_when_schema_version_is_newer():
    mapping = clean_mapping()
    mapping["time"].pop("key")
    mapping["tx"].pop("key")
    result = normalise_model({"mapping": mapping}, {**DATASET, "schema_version": "2011-11-22", "unique_keys": ["tx"]})

    assert result.model["dataset"]["unique_keys"] == ["tx"]
    assert "key" not in result.model["mapping"]["tx"]
    assert severities(result, "mapping") == ["warning"]


def test_2011_12_07_turns_fields_into_an_attributes_object():
    fields = [
        {"name": "name", "column": "ID", "datatype": "id"},
        {"name": "label", "column": "L", "datatype": "string", "default_value": "?"},
        {"column": "lost", "datatype": "string"},
    ]
    result = normalise_model({"mapping": {"function": {"type": "classifier", "label": "F", "fields": fields}}})

    entry = result.model["mapping"]["function"]
    assert "fields" not in entry
    assert entry["attributes"] == {
        "name": {"column": "ID", "datatype": "id"},
        "label": {"column": "L", "datatype": "string", "default_value": "?"},
    }
    assert severities(result, "mapping.function.fields.2") == ["warning"]


def test_2011_12_07_is_skipped_when_schema_version_is_newer():
    fields = [{"name": "name", "column": "ID", "datatype": "id"}]
    result = normalise({"function": {"type": "compound", "label": "F", "fields": fields}}, schema_version="2011-12-07")

    assert result.applied_migrations == ("2012-05-29",)
    assert result.model["mapping"]["function"]["fields"] == fields
    [problem] = at(result, "mapping.function.attributes")
    assert problem.blocking
    assert problem.problem == "the compound dimension has no attributes (it still has an old 'fields' list)"


@pytest.mark.parametrize("stored", [{}, {"category": None}, {"category": ""}])
def test_2012_05_29_sets_a_missing_category_to_other(stored):
    result = normalise_model({"mapping": clean_mapping()}, {"schema_version": "2011-12-07", **stored})

    assert result.model["dataset"]["category"] == "other"
    assert result.model["dataset"]["schema_version"] == "2012-05-29"


def test_2012_05_29_keeps_a_category_and_is_skipped_when_schema_version_is_newer():
    kept = normalise_model({"mapping": clean_mapping()}, {"category": "spending"})
    skipped = normalise_model({"mapping": clean_mapping()}, {"schema_version": "2012-05-29"})

    assert kept.model["dataset"]["category"] == "spending"
    assert "category" not in skipped.model["dataset"]
    assert at(skipped, "dataset.category")[0].problem == "the dataset has no category (budget, spending, other)"


def test_schema_version_is_the_newest_applied_migration():
    result = normalise_model({"mapping": clean_mapping()}, {"schema_version": "2011-11-21"})

    assert result.applied_migrations == ("2011-11-22", "2011-12-07", "2012-05-29")
    assert result.model["dataset"]["schema_version"] == "2012-05-29"


def test_an_unreadable_schema_version_applies_every_migration():
    result = normalise_model({"mapping": clean_mapping()}, {"schema_version": "soon"})

    assert result.applied_migrations == ALL_MIGRATIONS
    assert severities(result, "dataset.schema_version") == ["warning"]


# How the legacy app read entries


@pytest.mark.parametrize(
    ("name", "entry", "kind"),
    [
        ("amount", {"type": "value", "datatype": "float"}, "measure"),
        ("amount", {"type": "attribute"}, "measure"),
        ("total", {"type": "measure"}, "measure"),
        ("time", {"type": "value", "datatype": "date"}, "date"),
        ("time", {"type": "value", "datatype": "string"}, "attribute"),
        ("paid", {"type": "date", "datatype": "date"}, "date"),
        ("region", {"type": "value"}, "attribute"),
        ("region", {"type": "attribute"}, "attribute"),
        ("to", {"type": "entity"}, "compound"),
        ("cofog", {"type": "classifier"}, "compound"),
        ("odd", {}, "compound"),
    ],
)
def test_dimension_kind_follows_the_legacy_app(name, entry, kind):
    assert dimension_kind(name, entry) == kind


def test_the_app_reading_wins_over_the_stored_type():
    mapping = {**clean_mapping(), "amount": {"type": "value", "label": "A", "column": "a", "datatype": "float"}}
    result = normalise(mapping)

    assert result.model["mapping"]["amount"]["type"] == "measure"
    assert at(result, "mapping.amount.type")[0].problem == "type 'value' was read as a measure by the legacy platform"


def test_entries_keep_their_other_keys():
    entry = {
        "type": "attribute",
        "label": "Level",
        "description": None,
        "column": "level",
        "datatype": "string",
        "key": True,
        "facet": True,
        "dimension": "level",
        "default_value": "",
        "format": None,
        "end_column": None,
        "taxonomy": "levels",
    }
    result = normalise(with_entry("level", entry))

    assert result.model["mapping"]["level"] == entry


def test_measures_and_dimensions_split_the_mapping():
    model = normalise(with_entry("total", {"type": "measure", "column": "t", "datatype": "float"})).model

    assert list(measures(model)) == ["amount", "total"]
    assert list(dimensions(model)) == ["time", "tx", "to"]
    assert measures({"mapping": "junk"}) == {}


# Inputs


def test_inputs_are_not_mutated():
    data = {
        "dataset": {"name": " Old ", "unique_keys": ["function"], "languages": ["EN"]},
        "mapping": {"function": {"type": "classifier", "fields": [{"name": "label", "column": "F"}]}},
        "views": [{"entity": "dataset"}],
    }
    dataset = {"territories": ["de"], "schema_version": None}
    data_before, dataset_before = copy.deepcopy(data), copy.deepcopy(dataset)

    result = normalise_model(data, dataset)

    assert data == data_before
    assert dataset == dataset_before
    assert result.model["mapping"]["function"]["attributes"]["name"]["column"] == "F"


def test_dataset_fields_win_over_the_model_dataset_block_and_are_normalised():
    data = {"dataset": {"name": "old", "currency": "USD", "label": "L"}, "mapping": clean_mapping(), "extra": [1]}
    result = normalise_model(data, {"name": " My-Data ", "currency": "GBP", "languages": ["EN"], "territories": ["gb"]})

    dataset = result.model["dataset"]
    assert (dataset["name"], dataset["currency"], dataset["label"]) == ("my-data", "GBP", "L")
    assert (dataset["languages"], dataset["territories"]) == (["en"], ["GB"])
    assert at(result, "dataset.name")[0].problem == "name ' My-Data ' is read as 'my-data'"
    assert result.model["extra"] == [1]
    assert result.model["views"] == []


@pytest.mark.parametrize(
    ("data", "path", "text"),
    [
        (None, "mapping", "the dataset has no model"),
        ({}, "mapping", "the dataset has no model"),
        ({"mapping": {}}, "mapping", "the dataset has no model"),
        ([], "model", "the stored model is a list, not an object"),
        ("<html>Bad Gateway</html>", "model", "the stored model is text, not an object"),
        (42, "model", "the stored model is a number, not an object"),
        ({"mapping": ["amount"]}, "mapping", "the mapping is a list, not an object"),
        ({"mapping": {"amount": "float"}}, "mapping.amount", "the entry is text, not an object"),
        ({"mapping": {"amount": None}}, "mapping.amount", "the entry is empty, not an object"),
    ],
)
def test_junk_models_block_without_raising(data, path, text):
    result = normalise_model(data)

    assert result.blocking
    assert text in [problem.problem for problem in at(result, path) if problem.blocking]
    assert isinstance(result.model["mapping"], dict)


def test_junk_inside_a_model_does_not_raise():
    data: dict[str, Any] = {
        "dataset": "nope",
        "mapping": {
            "amount": {"type": None, "column": 5},
            "to": {"type": "entity", "fields": "nope"},
            "from": {"type": "entity", "fields": [None, {"name": 3}]},
            "cofog": {"type": "compound", "attributes": {"name": "x", "label": None}},
        },
        "views": [None, "x", {"cuts": []}],
    }
    result = normalise_model(data, {"unique_keys": 7, "schema_version": 2011, "languages": "en"})

    assert result.blocking
    assert severities(result, "mapping.cofog.attributes.name") == ["error"]
    texts = " ".join(problem.problem for problem in result.problems)
    assert "None" not in texts
    assert "<class" not in texts


# Validation rules


def measure(**fields: Any) -> dict[str, Any]:
    return {"type": "measure", "label": "A", "column": "a", "datatype": "float", **fields}


def date(**fields: Any) -> dict[str, Any]:
    return {"type": "date", "label": "T", "column": "t", "datatype": "date", "key": True, **fields}


def attribute(**fields: Any) -> dict[str, Any]:
    return {"type": "attribute", "label": "X", "column": "x", "datatype": "string", "key": True, **fields}


@pytest.mark.parametrize(
    ("name", "entry", "path", "severity"),
    [
        ("amount", measure(column=None), "mapping.amount.column", "error"),
        ("amount", measure(datatype="string"), "mapping.amount.datatype", "warning"),
        ("amount", measure(datatype=None), "mapping.amount.datatype", "warning"),
        ("time", date(column=" "), "mapping.time.column", "error"),
        ("time", date(datatype="string"), "mapping.time.datatype", "warning"),
        ("tx", attribute(column=None), "mapping.tx.column", "error"),
        ("tx", attribute(datatype="text"), "mapping.tx.datatype", "warning"),
        ("tx", attribute(label=None), "mapping.tx.label", "warning"),
        ("tx", attribute(label=""), "mapping.tx.label", "warning"),
    ],
)
def test_entry_rules(name, entry, path, severity):
    assert severities(normalise(with_entry(name, entry)), path) == [severity]


@pytest.mark.parametrize("datatype", ["id", "string", "float", "constant", "date", "url"])
def test_every_legacy_datatype_is_accepted(datatype):
    entry = {"type": "attribute", "label": "X", "column": "x", "datatype": datatype}

    assert normalise(with_entry("x", entry)).problems == ()


def test_a_constant_attribute_dimension_is_noted_but_does_not_block():
    entry = {"type": "attribute", "label": "C", "column": None, "datatype": "constant", "constant": "GBP"}
    result = normalise(with_entry("unit", entry))

    assert not result.blocking
    [problem] = at(result, "mapping.unit.column")
    assert problem.problem == "the attribute dimension has no column and takes the constant value 'GBP' on every row"


def compound(**attributes: Any) -> dict[str, Any]:
    return {"type": "compound", "label": "C", "attributes": attributes}


NAME = {"column": "n", "datatype": "id"}
LABEL = {"column": "l", "datatype": "string"}


@pytest.mark.parametrize(
    ("entry", "path", "text", "blocking"),
    [
        ({"type": "compound", "label": "C"}, "mapping.c.attributes", "the compound dimension has no attributes", True),
        (compound(), "mapping.c.attributes", "the compound dimension has no attributes", True),
        (compound(label=LABEL), "mapping.c.attributes", "the compound dimension has no 'name' attribute", False),
        (compound(name=NAME), "mapping.c.attributes", "the compound dimension has no 'label' attribute", False),
        (
            compound(name={"column": "n", "datatype": "string"}, label=LABEL),
            "mapping.c.attributes.name.datatype",
            "the 'name' attribute has datatype 'string', not 'id'",
            False,
        ),
        (
            compound(name=NAME, label={"column": "l", "datatype": "id"}),
            "mapping.c.attributes.label.datatype",
            "the 'label' attribute has datatype 'id', not 'string'",
            False,
        ),
        (
            compound(name=NAME, label=LABEL, city={"datatype": "string"}),
            "mapping.c.attributes.city.column",
            "the attribute has neither a column nor a constant value",
            True,
        ),
        (
            compound(name=NAME, label=LABEL, color={"column": None, "datatype": "constant", "constant": "#555"}),
            "mapping.c.attributes.color.column",
            "the attribute has no column and takes the constant value '#555' on every row",
            False,
        ),
        (
            compound(name=NAME, label=LABEL, city={"column": "c", "datatype": "place"}),
            "mapping.c.attributes.city.datatype",
            "datatype 'place' is not one the legacy platform knew (id, string, float, constant, date, url)",
            False,
        ),
        (
            compound(name=NAME, label=LABEL, city=["c"]),
            "mapping.c.attributes.city",
            "the attribute is a list, not an object",
            True,
        ),
        (
            compound(name=NAME, label=LABEL, **{"the city": LABEL}),
            "mapping.c.attributes.the city",
            "name 'the city' has characters other than letters, digits, - and _",
            False,
        ),
    ],
)
def test_compound_rules(entry, path, text, blocking):
    problems = at(normalise(with_entry("c", entry)), path)

    assert [(problem.problem, problem.blocking) for problem in problems] == [(text, blocking)]


def test_a_model_without_a_measure_is_blocking():
    mapping = {name: entry for name, entry in clean_mapping().items() if name != "amount"}
    result = normalise(mapping)

    assert result.blocking
    assert at(result, "mapping")[0].problem == "the model has no measure, so there is nothing to add up"


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"amount": None, "total": {"type": "measure", "label": "T", "column": "t", "datatype": "float"}}, "amount"),
        ({"time": None}, "time"),
        ({"time": {"type": "attribute", "label": "T", "column": "t", "datatype": "string"}}, "time"),
        ({"time": {"type": "date", "label": "T", "column": "t", "datatype": "date"}, "tx": None}, "key"),
    ],
)
def test_required_entries_are_warnings(change, text):
    mapping = {**clean_mapping(), **change}
    result = normalise({name: entry for name, entry in mapping.items() if entry is not None})

    assert not result.blocking
    [problem] = at(result, "mapping")
    assert text in problem.problem


def test_to_and_from_must_be_compound():
    entry = {"type": "attribute", "label": "From", "column": "f", "datatype": "string"}
    result = normalise(with_entry("from", entry))

    assert severities(result, "mapping.from.type") == ["warning"]
    assert severities(result, "mapping.to.type") == []


@pytest.mark.parametrize(
    ("name", "path", "text"),
    [
        ("paid to", "mapping.paid to", "name 'paid to' has characters other than letters, digits, - and _"),
        ("beløb", "mapping.beløb", "name 'beløb' has characters other than letters, digits, - and _"),
        ("a" * 31, "mapping." + "a" * 31, f"name '{'a' * 31}' is longer than 30 characters"),
        ("Views", "mapping.Views", "name 'Views' is a reserved word on the legacy platform"),
        ("entry_id", "mapping.entry_id", "name 'entry_id' starts with 'entry_', which the legacy validator refused"),
        (
            "to_id",
            "mapping.to_id",
            "'to' and 'to_id' both exist; the legacy database used 'to_id' for the key of 'to'",
        ),
    ],
)
def test_dimension_names(name, path, text):
    entry = {"type": "attribute", "label": "X", "column": "x", "datatype": "string"}

    assert [problem.problem for problem in at(normalise(with_entry(name, entry)), path)] == [text]


def test_hyphens_and_capitals_are_fine_in_names():
    entry = {"type": "attribute", "label": "X", "column": "x", "datatype": "string"}

    assert normalise(with_entry("Sous-paragraph_2", entry)).problems == ()


@pytest.mark.parametrize(
    ("fields", "path", "text"),
    [
        ({"currency": None}, "dataset.currency", "the dataset has no currency"),
        ({"currency": "eur"}, "dataset.currency", "currency 'eur' is not a three-letter upper-case code like 'EUR'"),
        ({"currency": "EURO"}, "dataset.currency", "currency 'EURO' is not a three-letter upper-case code like 'EUR'"),
        ({"label": " "}, "dataset.label", "the dataset has no label"),
        ({"description": None}, "dataset.description", "the dataset has no description"),
        ({"name": None}, "dataset.name", "the dataset has no name"),
        ({"name": "model"}, "dataset.name", "name 'model' is a reserved word on the legacy platform"),
        ({"name": "a__b"}, "dataset.name", "dataset name 'a__b' contains a double underscore"),
        ({"category": "fun"}, "dataset.category", "category 'fun' is not one of budget, spending, other"),
        ({"territories": "DE"}, "dataset.territories", "territories should be a list of codes, not 'DE'"),
    ],
)
def test_dataset_rules(fields, path, text):
    result = normalise(clean_mapping(), **fields)

    assert [problem.problem for problem in result.problems] == [text]
    assert at(result, path)[0].as_dict()["severity"] == "warning"


VALIDATED_VIEW = {"name": "default", "label": "By recipient", "dimension": "dataset", "drilldown": "to", "cuts": {}}
OLDER_VIEW = {"entity": "classifier", "name": "default", "label": "L", "dimension": "to", "breakdown": "time"}


NEITHER = "the view is in neither the validated nor the older legacy view format"


def refers(name: str) -> str:
    return f"the view refers to '{name}', which is not in the mapping"


@pytest.mark.parametrize(
    ("view", "path", "text"),
    [
        (VALIDATED_VIEW, None, None),
        ({**VALIDATED_VIEW, "cuts": {"to.name": "harry"}}, None, None),
        (OLDER_VIEW, None, None),
        ({**OLDER_VIEW, "filters": {"taxonomy": "x"}}, None, None),
        ({"name": "default"}, "views.0", NEITHER),
        ({**VALIDATED_VIEW, "cuts": ["to"]}, "views.0", NEITHER),
        ({**VALIDATED_VIEW, "drilldown": "cofog"}, "views.0.drilldown", refers("cofog")),
        ({**OLDER_VIEW, "dimension": "from"}, "views.0.dimension", refers("from")),
        ({**VALIDATED_VIEW, "cuts": {"from.name": "x"}}, "views.0.cuts", refers("from")),
    ],
)
def test_views(view, path, text):
    result = normalise(clean_mapping(), views=[view])

    expected = [] if path is None else [ModelProblem(path, text, False)]
    assert list(result.problems) == expected


# The real legacy models


FIXTURES = SHARED_DIR / "legacy-openspending" / "fixtures"


def load_fixture(path: Path) -> tuple[Any, dict[str, Any] | None]:
    """(stored model, dataset fields) the way each source kept them."""
    stored = json.loads(path.read_text(encoding="utf-8"))
    if path.name == "dataset.json":
        return stored["data"], {key: value for key, value in stored.items() if key != "data"}
    if path.name == "mapping.json":
        model_file = path.with_name("model.json")
        dataset = json.loads(model_file.read_text())["dataset"] if model_file.exists() else None
        return {"mapping": stored}, dataset
    return stored, None


def fixture_paths() -> list[Path]:
    patterns = [
        "osvalidate/validation/*.json",
        "openspending/model/*.json",
        "openspending/csv_import/*/mapping.json",
        "openspending/csv_import/*/model.json",
        "openspending-migrate/examples/*/dataset.json",
    ]
    return sorted(path for pattern in patterns for path in FIXTURES.glob(pattern))


def normalise_fixture(relative: str) -> NormalisedModel:
    return normalise_model(*load_fixture(FIXTURES / relative))


@pytest.mark.shared
def test_the_real_models_are_all_there():
    assert len(fixture_paths()) == 22


@pytest.mark.shared
@pytest.mark.parametrize("path", fixture_paths(), ids=lambda path: str(path.relative_to(FIXTURES)))
def test_every_real_model_normalises(path):
    data, dataset = load_fixture(path)
    result = normalise_model(data, dataset)

    assert all(isinstance(entry, dict) for entry in result.model["mapping"].values())
    assert result.model["dataset"]["schema_version"] == "2012-05-29"
    # A bare model.json carries only the dataset block: the mapping lives beside it.
    assert result.blocking == (path.name == "model.json")


@pytest.mark.shared
@pytest.mark.parametrize(
    "step",
    ["2011_11_20_name_attribute", "2011_11_21_normalize", "2011_11_22_unique_keys", "2011_12_07_attribute_dicts"],
)
def test_the_osvalidate_steps_migrate_to_the_default_model(step):
    expected = normalise_fixture("osvalidate/validation/default.json").model
    result = normalise_fixture(f"osvalidate/validation/{step}.json")

    if step == "2011_11_20_name_attribute":
        # The step file has no `name` attribute: the migration builds it from the label column.
        expected["mapping"]["function"]["attributes"]["name"]["column"] = "FUNCTION"
    assert result.model["mapping"] == expected["mapping"]
    assert result.model["views"] == expected["views"]
    assert result.model["dataset"]["category"] == "other"
    assert result.applied_migrations == ALL_MIGRATIONS
    assert result.problems == ()


@pytest.mark.shared
def test_the_osvalidate_default_model_only_needs_the_category_migration():
    result = normalise_fixture("osvalidate/validation/default.json")

    assert result.applied_migrations == ("2012-05-29",)
    assert result.model["mapping"]["transaction_id"]["type"] == "attribute"
    assert [problem.path for problem in result.problems] == ["mapping.transaction_id.type"]


@pytest.mark.shared
def test_cra_amount_typed_value_is_a_measure_and_time_a_date():
    result = normalise_fixture("openspending/model/cra.json")
    mapping = result.model["mapping"]

    assert set(measures(result.model)) == {"amount", "total"}
    assert mapping["time"]["type"] == "date"
    assert {mapping[name]["type"] for name in ("from", "to", "pog", "cofog1", "cofog2", "cofog3")} == {"compound"}
    assert mapping["population2006"]["type"] == "attribute"
    assert not result.blocking
    assert severities(result, "mapping.pog.attributes.name.datatype") == ["warning"]
    assert severities(result, "mapping.amount.label") == ["warning"]


@pytest.mark.shared
def test_uganda_unique_keys_become_key_flags():
    result = normalise_fixture("openspending/csv_import/uganda/mapping.json")
    mapping = result.model["mapping"]

    assert "unique_keys" not in result.model["dataset"]
    assert [name for name, entry in mapping.items() if entry.get("key")] == ["entry_id"]
    assert result.model["dataset"]["name"] == "ugandabudget"
    assert result.model["dataset"]["temporal_granularity"] == "year"
    # Only `amount` is saved by its name: the other float "measures" typed `value` were dimensions to the app.
    assert list(measures(result.model)) == ["amount"]
    assert mapping["amount-donor"]["type"] == "attribute"
    assert [problem.path for problem in result.problems] == ["mapping.entry_id"]


@pytest.mark.shared
def test_ukgov_finances_cra_constants_are_accepted_and_string_names_are_warnings():
    result = normalise_fixture("openspending-migrate/examples/ukgov-finances-cra/dataset.json")

    assert not result.blocking
    assert result.applied_migrations == ("2012-05-29",)
    assert result.model["mapping"]["to"]["attributes"]["name"]["constant"] == "society"
    assert severities(result, "mapping.to.attributes.name.column") == ["warning"]
    assert severities(result, "mapping.from.attributes.gov_department.column") == ["warning"]
    [pog] = at(result, "mapping.pog.attributes.name.datatype")
    assert pog.as_dict() == {
        "path": "mapping.pog.attributes.name.datatype",
        "problem": "the 'name' attribute has datatype 'string', not 'id'",
        "severity": "warning",
    }
    assert len(result.model["views"]) == 8
    assert not [problem for problem in result.problems if problem.path.startswith("views")]


@pytest.mark.shared
@pytest.mark.parametrize(
    ("example", "measure_names"),
    [
        ("tunisia_budget", ["ouvert", "amount", "ordonnance", "delegation"]),
        ("tekjur-rikissjods", ["amount"]),
        ("uppgjor-rikissjods", ["amount"]),
        ("bosnia-herzegovina", ["amount"]),
    ],
)
def test_production_dumps_normalise_without_problems(example, measure_names):
    result = normalise_fixture(f"openspending-migrate/examples/{example}/dataset.json")

    assert result.problems == ()
    assert list(measures(result.model)) == measure_names
    assert result.model["dataset"]["name"] == example


@pytest.mark.shared
def test_csv_import_models_warn_about_the_entry_id_dimension_only():
    result = normalise_fixture("openspending/csv_import/default/mapping.json")

    assert result.model["dataset"]["name"] == "test-csv"
    assert [problem.problem for problem in result.problems] == [
        "name 'entry_id' starts with 'entry_', which the legacy validator refused"
    ]
