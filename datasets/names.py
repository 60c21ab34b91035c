"""Dataset names, checked in one place before anything derives a folder, a file name or a storage key from one.

A name comes from a legacy instance's listing, its search facets, a dump's `dataset.json` or a dump's folder: all
of them hostile input. The legacy platform itself only accepted `^[\\w-]+$` of at most 30 characters, but its
database column took 255 and the 2015 dumps were written from the database, so a check here is the only guarantee.
"""

from __future__ import annotations

import unicodedata
from pathlib import PurePath

# One path component holds at most 255 bytes on ext4, XFS, APFS and in S3 key segments we build
# (`legacy/<name>/sources/<id>-<hash>.<ext>`, `<name>/dataset.json.part`); 200 bytes of UTF-8 leave room for what
# we add and match the 200 characters publishing/store.py allows a storage folder. Bytes, not characters: "ð" is 2.
MAX_NAME_BYTES = 200
SAFE_SUFFIX_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
MAX_SUFFIX_LENGTH = 10


class InvalidDatasetName(ValueError):
    """A dataset name that cannot safely name a folder or a storage key."""


def dataset_name_problem(name: object) -> str | None:
    """Why `name` cannot be one safe path segment, or None when it can."""
    if not isinstance(name, str) or not name:
        return "the dataset name is empty"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"the dataset name is longer than {MAX_NAME_BYTES} bytes ({len(name)} characters)"
    if "/" in name or "\\" in name:
        return f"the dataset name {_shown(name)} holds a path separator"
    if name.startswith("."):
        return f"the dataset name {_shown(name)} starts with a dot"
    if name != name.strip():
        return f"the dataset name {_shown(name)} starts or ends with white space"
    if any(_hidden(character) for character in name):
        return f"the dataset name {_shown(name)} holds a control or invisible character"
    return None


def check_dataset_name(name: object) -> str:
    """The name itself when it is safe; InvalidDatasetName saying why when it is not."""
    problem = dataset_name_problem(name)
    if problem is not None:
        raise InvalidDatasetName(problem)
    return str(name)


def safe_suffix(path: PurePath) -> str:
    """A file's extension when it is short and plain (".csv"), else none: a dump's file names make storage keys."""
    suffix = path.suffix.lower()
    plain = 1 < len(suffix) <= MAX_SUFFIX_LENGTH + 1 and set(suffix[1:]) <= SAFE_SUFFIX_CHARACTERS
    return suffix if plain else ""


def _hidden(character: str) -> bool:
    """NUL and other controls, format characters (bidi overrides), lone surrogates (undecodable file names)."""
    category = unicodedata.category(character)
    return category.startswith("C") or category in ("Zl", "Zp")


def _shown(name: str) -> str:
    """repr() makes hidden characters visible; a long name is cut so a report line stays a line."""
    return repr(name[:80]) + ("..." if len(name) > 80 else "")
