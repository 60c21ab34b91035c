"""Reading parsed JSON that may not have the expected shape (dump files, legacy answers, stored descriptors): each
helper gives the wanted type or an empty one, never an exception. And the one timestamp format machines read.

Pure Python, no Django: conversion.packaging, which imports no Django, may use it too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any


def as_dict(value: object) -> dict[str, Any]:
    """A JSON object, or {} for anything else (null, a list, a string...)."""
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    """A JSON array, or [] for anything else."""
    return value if isinstance(value, list) else []


def as_text(value: object) -> str:
    """A value as text, "" for null."""
    return "" if value is None else str(value)


def dicts_in(value: object) -> list[dict[str, Any]]:
    """The objects of a JSON array, skipping whatever else it holds."""
    return [item for item in as_list(value) if isinstance(item, dict)]


def strings_in(value: object) -> list[str]:
    """The strings of a JSON array, skipping whatever else it holds."""
    return [item for item in as_list(value) if isinstance(item, str)]


def dict_entries(value: object) -> Iterator[tuple[str, dict[str, Any]]]:
    """(key, object) for each member of a JSON object whose value is an object."""
    if isinstance(value, dict):
        yield from ((str(key), item) for key, item in value.items() if isinstance(item, dict))


def iso(moment: datetime) -> str:
    """A moment in UTC to the second, e.g. 2024-05-01T12:00:00Z (data.json, the registry)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
