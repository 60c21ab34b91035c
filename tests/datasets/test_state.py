from typing import Any

from datasets import state


def _reasons(**overrides):
    facts: dict[str, Any] = {
        "has_model": True,
        "model_unreadable": False,
        "successful_import": True,
        "entry_count": 10,
        "blocking_problems": [],
    }
    facts.update(overrides)
    return state.incomplete_reasons(**facts)


def test_a_loaded_mapped_dataset_is_complete():
    assert _reasons() == []


def test_each_reason_is_reported():
    assert _reasons(has_model=False) == [state.NO_MODEL]
    assert _reasons(successful_import=False) == [state.NO_SUCCESSFUL_IMPORT]
    assert _reasons(entry_count=0) == [state.NO_ENTRIES]
    assert _reasons(blocking_problems=[{"path": "mapping"}]) == [state.MODEL_PROBLEMS]


def test_unknown_facts_are_not_held_against_a_dataset():
    assert _reasons(successful_import=None, entry_count=None) == []


def test_an_unreadable_model_is_a_model_problem_not_a_missing_model():
    assert _reasons(has_model=False, model_unreadable=True) == [state.MODEL_PROBLEMS]


def test_reasons_accumulate_in_a_fixed_order():
    assert _reasons(has_model=False, successful_import=False, entry_count=0) == [
        state.NO_MODEL,
        state.NO_SUCCESSFUL_IMPORT,
        state.NO_ENTRIES,
    ]


def test_successful_import_needs_a_complete_import_run():
    assert state.is_successful_import("import", "complete")
    assert not state.is_successful_import("sample", "complete")
    assert not state.is_successful_import("import", "failed")
    assert not state.is_successful_import(None, None)
