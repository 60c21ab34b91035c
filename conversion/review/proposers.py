"""Drafts for the legacy measures, dates and single-column attributes, and for the columns of the sources the legacy
model never used: one draft each, with its reasons and doubts."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from conversion.packaging.legacy_values import ValueProblem, parse_date, parse_float
from conversion.review import families
from conversion.review.compound_proposers import family_type
from conversion.review.proposal_drafts import REVENUE_WORDS, DatasetFacts, Draft, label_of, legacy_source, samples_of

YEAR = re.compile(r"^\d{4}$")
PROPOSED_WORDS = {"proposed", "draft", "request", "requested", "estimate", "estimates", "ansatz", "plan"}
EXECUTED_WORDS = {"actual", "actuals", "executed", "outturn", "spent", "ergebnis", "paid", "uppgjor", "realised"}
IDENTIFIER_WORDS = {"transaction", "transactionid", "invoice", "payment", "voucher", "ref", "reference", "id", "entry"}
TRANSACTION_WORDS = {"transaction", "transactionid", "invoice", "voucher", "payment"}


def measure_draft(facts: DatasetFacts, name: str, entry: Mapping[str, Any], earlier: list[Draft]) -> Draft:
    column = entry.get("column")
    draft = Draft(
        path=name,
        kind="measure",
        source=legacy_source(entry),
        column_type="value",
        title=label_of(entry, name),
        confidence=0.95,
        reasons=["a legacy measure: an amount of money"],
        samples=samples_of(facts, column),
    )
    _measure_options(facts, name, entry, draft)
    bad = _not_numbers(draft.samples)
    if bad:
        draft.doubt(f"sample values that are not numbers: {', '.join(bad)}", conflict=True)
    if any(other.kind == "measure" and other.source.get("column") == column for other in earlier):
        draft.doubt(f"reads the same column '{column}' as another measure: keep one of them", conflict=True)
    return draft


def _measure_options(facts: DatasetFacts, name: str, entry: Mapping[str, Any], draft: Draft) -> None:
    currency = (facts.currency or "").strip().upper()
    if currency:
        draft.options["currency"] = currency
        draft.reasons.append(f"currency {currency} from the dataset")
    else:
        draft.doubt("the dataset names no currency: choose one", conflict=True)
    text = set(families.words(name, entry.get("label"), entry.get("description"), facts.label, facts.name))
    draft.options["direction"] = "revenue" if text & REVENUE_WORDS else "expenditure"
    if draft.options["direction"] == "revenue":
        draft.reasons.append("the names speak of revenue")
    category = (facts.category or "").lower()
    if text & PROPOSED_WORDS:
        draft.options["phase"] = "proposed"
    elif text & EXECUTED_WORDS or category == "spending":
        draft.options["phase"] = "executed"
    else:
        draft.options["phase"] = "approved"
    if category in {"budget", "spending"}:
        draft.reasons.append(
            f"direction {draft.options['direction']} and phase {draft.options['phase']} from the category "
            f"'{category}' and the names"
        )
    else:
        draft.doubt(
            f"the category '{category or 'none'}' says nothing of direction or phase: "
            f"guessed {draft.options['direction']}, {draft.options['phase']}",
            confidence=0.7,
        )


def date_draft(facts: DatasetFacts, name: str, entry: Mapping[str, Any]) -> Draft:
    samples = samples_of(facts, entry.get("column"))
    draft = Draft(
        path=name,
        kind="date",
        source=legacy_source(entry),
        column_type="date:generic",
        title=label_of(entry, name),
        confidence=0.95,
        reasons=[],
        samples=samples,
        primary_key=bool(entry.get("key")),
    )
    if entry.get("format"):
        draft.options["format"] = entry["format"]
    years = [value for value in samples if YEAR.match(value.strip())]
    if samples and len(years) == len(samples):
        draft.column_type = "date:fiscal-year"
        draft.confidence = 0.9
        draft.reasons.append("every sample value is a year")
    elif years:
        draft.doubt("some values are years and some are dates: the granularity differs by row", conflict=True)
    elif samples:
        draft.reasons.append("the values are dates")
    else:
        draft.doubt("no sample values to tell years from dates", confidence=0.7)
    return draft


def attribute_draft(facts: DatasetFacts, name: str, entry: Mapping[str, Any]) -> Draft:
    samples = samples_of(facts, entry.get("column"))
    draft = Draft(
        path=name,
        kind="attribute",
        source=legacy_source(entry),
        column_type="unknown:string",
        title=label_of(entry, name),
        confidence=0.4,
        reasons=[],
        samples=samples,
        primary_key=bool(entry.get("key")),
    )
    text = set(families.words(name, entry.get("label"), entry.get("description")))
    guess = families.guess_family(name, entry.get("label"), entry.get("taxonomy"), entry.get("description"))
    if entry.get("key") and not _few_values(facts, samples):
        _identifier(facts, draft, text)
        return draft
    if entry.get("key"):
        draft.reasons.append("a key in the legacy model, but with few distinct values: it groups rows")
    if text & TRANSACTION_WORDS:
        draft.column_type, draft.confidence = "transaction-id:code", 0.85
        draft.reasons.append("its name says it identifies transactions")
    elif "currency" in families.words(name):
        draft.column_type, draft.confidence = "value-currency:code", 0.85
        draft.reasons.append("its name says it holds currency codes")
    elif guess.family is not None:
        draft.column_type = family_type(guess.family, "code", None)
        draft.confidence = guess.confidence - 0.05
        draft.reasons.append(f"{guess.reason}; a single column, so it is both the code and the label")
    elif entry.get("datatype") == "float" or (samples and not _not_numbers(samples)):
        draft.column_type = "unknown:number"
        draft.doubt(
            "numbers the legacy app kept as an attribute, not a measure: map it as 'value' if it is an amount",
            confidence=0.5,
        )
    else:
        draft.doubt(f"{guess.reason}: kept as a plain text column")
    return draft


def _few_values(facts: DatasetFacts, samples: Sequence[str]) -> bool:
    """Whether a column repeats a handful of values over many rows: a category, not an identifier."""
    return bool(samples) and facts.sample_rows >= 4 * len(set(samples))


def _identifier(facts: DatasetFacts, draft: Draft, text: set[str]) -> None:
    draft.reasons.append("marked as a key in the legacy model: it identifies rows")
    if text & IDENTIFIER_WORDS or (facts.category or "").lower() == "spending":
        draft.column_type, draft.confidence = "transaction-id:code", 0.85
        draft.reasons.append("a transaction identifier by its name or the spending category")
    else:
        draft.column_type, draft.confidence = "budget-line-id", 0.75
        draft.doubt("a budget line id or a transaction id? its name does not say")


def extra_drafts(facts: DatasetFacts, drafts: list[Draft]) -> list[Draft]:
    used = {draft.source.get("column") for draft in drafts}
    extras = []
    for column in facts.source_columns:
        if column in used or not column.strip():
            continue
        samples = samples_of(facts, column)
        column_type = _plain_type(samples)
        extras.append(
            Draft(
                path=f"extra:{column}",
                kind="extra",
                source={
                    "column": column,
                    "datatype": {"unknown:number": "float", "unknown:date": "date"}.get(column_type, "string"),
                },
                column_type=column_type,
                title=column,
                confidence=0.85,
                reasons=["a column of the original sources that the legacy model never used: kept so nothing is lost"],
                samples=samples,
            )
        )
    return extras


def _plain_type(samples: Sequence[str]) -> str:
    """unknown:number, unknown:date or unknown:string, from what every sample value reads as."""
    if not samples:
        return "unknown:string"
    if not _not_numbers(samples):
        return "unknown:number"
    try:
        for value in samples:
            parse_date(value.strip(), None)
    except ValueProblem:
        return "unknown:string"
    return "unknown:date"


def _not_numbers(samples: Sequence[str]) -> list[str]:
    bad = []
    for value in samples:
        try:
            parse_float(value)
        except ValueProblem:
            bad.append(value)
    return bad[:3]
