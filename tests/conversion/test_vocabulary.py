import json
from typing import Any

import pytest

from conversion.packaging.vocabulary import ColumnType, all_column_types, choices, column_type, is_known, search
from tests.conftest import SHARED_DIR

OS_TYPES_DIR = SHARED_DIR / "specs" / "fiscal-data-package" / "os-types"
# Where we knowingly differ from os-types: its recipient branch name labels itself (see packaging/vocabulary.py).
UPSTREAM_FIXES = {"recipient:bank:branch:name": {"labelfor": "recipient:bank:branch:code"}}


def cofog_names() -> set[str]:
    return {column.name for column in all_column_types() if ":cofog:" in column.name}


def test_labelfor_and_parent_name_known_types():
    for column in all_column_types():
        for target in (column.labelfor, column.parent):
            assert target is None or is_known(target), (column.name, target)


def test_parent_chains_end():
    for column in all_column_types():
        seen = {column.name}
        parent = column.parent
        while parent is not None:
            assert parent not in seen, f"cycle through {column.name}"
            seen.add(parent)
            parent = column_type(parent).parent


def test_labels_name_a_unique_type_of_their_own_concept():
    labels = [column for column in all_column_types() if column.labelfor is not None]
    assert labels
    for label in labels:
        assert label.labelfor is not None
        target = column_type(label.labelfor)
        assert target.unique, label.name
        assert target.concept == label.concept, label.name
        assert not label.unique, label.name


def test_parents_are_unique_types_of_the_same_concept():
    for column in all_column_types():
        if column.parent is not None:
            parent = column_type(column.parent)
            assert parent.unique and parent.concept == column.concept, column.name


def test_value_is_the_only_measure():
    measures = [column for column in all_column_types() if column.is_measure]
    assert [column.name for column in measures] == ["value"]
    assert measures[0].dimension_type is None and measures[0].data_type == "number"
    assert all(column.dimension_type is not None for column in all_column_types() if not column.is_measure)


def test_concept_is_the_first_name_segment():
    assert column_type("functional-classification:cofog:group:code").concept == "functional-classification"
    assert column_type("budget-line-id").concept == "budget-line-id"


def test_search_puts_cofog_types_first():
    found = [column.name for column in search("cofog")]
    expected = cofog_names()
    assert len(expected) == 12
    assert set(found[: len(expected)]) == expected


def test_search_prefers_a_name_prefix():
    found = search("date:fiscal")
    assert found[0].name.startswith("date:fiscal")
    assert {column.name for column in found} >= {"date:fiscal-year", "date:fiscal-month", "date:fiscal:first-payment"}


def test_search_is_case_insensitive():
    assert search("COFOG") == search("cofog")
    assert search("Fiscal Year") == search("fiscal year")
    assert search("fiscal year")[0].name == "date:fiscal-year"


def test_search_matches_words_of_display_names_and_descriptions():
    assert column_type("budgetary-transfers") in search("transfers")
    assert column_type("value-currency:code") in search("currency code")


def test_search_respects_the_limit_and_ignores_a_blank_term():
    assert len(search("classification", limit=5)) == 5
    assert search("   ") == []
    assert search("no such thing") == []


def test_unknown_name_raises_key_error():
    with pytest.raises(KeyError):
        column_type("functional-classification:cofog:subclass:code")
    assert not is_known("unknown:string-1:code")
    assert is_known("unknown:string")


def test_choices_are_unique_and_in_vocabulary_order():
    pairs = choices()
    assert len({name for name, _ in pairs}) == len(pairs)
    assert len({label for _, label in pairs}) == len(pairs)
    assert [name for name, _ in pairs] == [column.name for column in all_column_types()]
    assert dict(pairs)["value"] == "Amount - value"


def test_types_are_ordered_by_group_then_name():
    columns = all_column_types()
    assert list(columns) == sorted(columns, key=lambda column: (column.group, column.name))
    assert columns[0].group == "100-Time" and columns[-1].group == "900-Other"


def os_types() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads((OS_TYPES_DIR / "os-types.json").read_text())
    return {name: spec for name, spec in data.items() if not name.startswith("unknown:string-")}


def as_os_type(column: ColumnType) -> dict[str, Any]:
    return {
        "dataType": column.data_type,
        "dimensionType": column.dimension_type,
        "classificationType": column.classification_type,
        "uniqueIdentifier": column.unique,
        "labelfor": column.labelfor,
        "parent": column.parent,
    }


def expected_os_type(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    fields = {
        "dataType": spec["dataType"],
        "dimensionType": spec.get("dimensionType"),
        "classificationType": spec.get("classificationType"),
        "uniqueIdentifier": spec.get("uniqueIdentifier", False),
        "labelfor": spec.get("labelfor"),
        "parent": spec.get("parent"),
    }
    return {**fields, **UPSTREAM_FIXES.get(name, {})}


@pytest.mark.shared
def test_vocabulary_has_exactly_the_os_types():
    assert {column.name for column in all_column_types()} == set(os_types())


@pytest.mark.shared
def test_every_type_agrees_with_os_types():
    mismatches = {
        name: (as_os_type(column_type(name)), expected_os_type(name, spec))
        for name, spec in os_types().items()
        if as_os_type(column_type(name)) != expected_os_type(name, spec)
    }
    assert mismatches == {}


@pytest.mark.shared
def test_upstream_fixes_still_differ_from_os_types():
    upstream = os_types()
    for name, fields in UPSTREAM_FIXES.items():
        for key, value in fields.items():
            assert upstream[name].get(key) != value, f"os-types fixed {name}; drop it from the fixes"


@pytest.mark.shared
def test_groups_agree_with_os_type_descriptions():
    descriptions: dict[str, dict[str, str]] = json.loads((OS_TYPES_DIR / "os-type-descriptions.json").read_text())
    for column in all_column_types():
        entry = descriptions.get(column.concept) or descriptions[f"{column.concept}:"]
        assert column.group == entry["group"], column.name
