"""Derived dataset state: why a legacy dataset is incomplete. Pure functions over harvested facts."""

from collections.abc import Mapping, Sequence
from typing import Any

NO_MODEL = "no_model"
NO_SUCCESSFUL_IMPORT = "no_successful_import"
NO_ENTRIES = "no_entries"
MODEL_PROBLEMS = "model_problems"

REASON_TEXTS = {
    NO_MODEL: "no model: the dataset was never mapped on the legacy platform",
    NO_SUCCESSFUL_IMPORT: "no successful import run: the legacy platform never loaded its data",
    NO_ENTRIES: "no entries: the legacy cube holds no rows",
    MODEL_PROBLEMS: "model problems that stop conversion",
}


def has_mapping(model: Any) -> bool:
    return isinstance(model, Mapping) and isinstance(model.get("mapping"), Mapping) and bool(model["mapping"])


def is_successful_import(operation: str | None, status: str | None) -> bool:
    """The legacy app calls a source loaded when an `import` run ended `complete`."""
    return (operation or "").lower() == "import" and (status or "").lower() == "complete"


def incomplete_reasons(
    *,
    has_model: bool,
    model_unreadable: bool,
    successful_import: bool | None,
    entry_count: int | None,
    blocking_problems: Sequence[Any],
) -> list[str]:
    """Reason codes, in a fixed order. `None` means "not known" and is never held against a dataset."""
    reasons = []
    if model_unreadable:
        # The legacy server had a model we could not read: a model problem, not a missing model.
        reasons.append(MODEL_PROBLEMS)
    elif not has_model:
        reasons.append(NO_MODEL)
    elif blocking_problems:
        reasons.append(MODEL_PROBLEMS)
    if successful_import is False:
        reasons.append(NO_SUCCESSFUL_IMPORT)
    if entry_count == 0:
        reasons.append(NO_ENTRIES)
    return reasons
