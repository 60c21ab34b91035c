"""The column types a converted package may give its fields: our own rendering of the os-types taxonomy.

os-types (openspending/os-types) is what os-packager and dpp-fiscal use to turn typed columns into an FDP model, so
every type here keeps the os-types name and agrees with it on data type, dimension type, classification type,
uniqueness, `labelfor` and `parent` (tests/conversion/test_vocabulary.py checks this against the real file). Display
names and descriptions are ours. One deliberate difference: os-types makes `recipient:bank:branch:name` the label of
itself, a typo (every other name labels its code, the procurer twin included), so here it labels the branch code.

os-types also generates 80 placeholder types at run time, `unknown:string-{1..40}:{code,label}` (120 entries with
their descriptions). They are left out on purpose: they all share the concept `unknown`, a dimension dpp-fiscal drops
from the model, so a column mapped to one loses its meaning anyway. A column nobody can type uses `unknown:<data type>`.

The types are written family by family in packaging/vocabulary_families.py, with the tools of
packaging/vocabulary_types.py; here they are looked up and searched.
"""

from __future__ import annotations

import re

from conversion.packaging.vocabulary_families import build_column_types
from conversion.packaging.vocabulary_types import ColumnType

__all__ = [
    "ColumnType",
    "all_column_types",
    "choices",
    "column_type",
    "is_known",
    "search",
]

_WORD = re.compile(r"[a-z0-9]+")
_TYPES = build_column_types()
_ORDERED = tuple(_TYPES.values())


def column_type(name: str) -> ColumnType:
    """The type called `name`; KeyError for a name os-types does not know (or one of its unknown:string-N)."""
    return _TYPES[name]


def is_known(name: str) -> bool:
    return name in _TYPES


def all_column_types() -> tuple[ColumnType, ...]:
    """Every type, ordered the way the os-packager picker shows them: by group, then by name."""
    return _ORDERED


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


# Per type, the words of its name, then the words of all its text; built once since autocomplete runs per keystroke.
_INDEX = tuple(
    (
        column,
        frozenset(_words(column.name)),
        frozenset(_words(f"{column.name} {column.display_name} {column.description}")),
    )
    for column in _ORDERED
)


def _rank(term: str, words: list[str], name_words: frozenset[str], text_words: frozenset[str], name: str) -> int | None:
    """0: the name starts with the term; 1: every word starts a word of the name; 2: ... of any text; None: no match."""
    if name.startswith(term):
        return 0
    for rank, vocabulary in ((1, name_words), (2, text_words)):
        if all(any(word.startswith(part) for word in vocabulary) for part in words):
            return rank
    return None


def search(term: str, limit: int = 20) -> list[ColumnType]:
    """Autocomplete: types matching `term`, best first, in vocabulary order within a rank; nothing for a blank term."""
    needle, words = term.strip().lower(), _words(term)
    if not words:
        return []
    ranked: list[tuple[int, int, ColumnType]] = []
    for position, (column, name_words, text_words) in enumerate(_INDEX):
        rank = _rank(needle, words, name_words, text_words, column.name.lower())
        if rank is not None:
            ranked.append((rank, position, column))
    return [column for _, _, column in sorted(ranked)[:limit]]


def choices() -> list[tuple[str, str]]:
    """(name, "display name - name") for a form select, in the grouped order of `all_column_types`."""
    return [(column.name, f"{column.display_name} - {column.name}") for column in _ORDERED]
