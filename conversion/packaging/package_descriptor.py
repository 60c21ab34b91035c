"""Reading a package's datapackage.json: the one way in, for validation, publication and naming alike.

A descriptor is the uploader's to write, and the validators trust its shape: a 300 MB one takes 3.8 GB once parsed,
validated and copied (and, published, again in every registry rebuild); one nested 100,000 levels makes Python's
recursive json parser raise RecursionError, or crash on a smaller C stack; 100,000 empty objects in `sources` (0.3 MB)
keep jsonschema busy for 16 s and 10 MB of them for ten minutes; 100,000 fields in one resource take frictionless
5 minutes (its header check is quadratic). So, in this order, each check before the step it protects:

1. the file's size, before a byte is read (`PACKAGE_DESCRIPTOR_MAX_BYTES`);
2. UTF-8;
3. one linear pass over the text, outside strings: how deep brackets nest and how many values there are, before
   parsing;
4. after parsing: a JSON object, and how many resources and fields it lists.

What fails here reaches no validator: `validate_package` reports `DescriptorError.reason` as its only problem.
"""

from __future__ import annotations

import json
import os
import re
from itertools import accumulate
from pathlib import Path
from typing import Any

from conversion.packaging.package_files import DESCRIPTOR, PackageError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_FIELDS", "MAX_RESOURCES", "MAX_VALUES", "DescriptorError", "descriptor_load"]

# Ours nest 6 levels and hold a few hundred values; json, jsonschema and frictionless recurse, jsonschema and
# frictionless spend ~0.1 ms per value. The limits leave room for wide packages (10,000 fields are ~70,000 values)
# and bound the validation of a hostile one to seconds.
MAX_DEPTH = 64
MAX_VALUES = 100_000
MAX_RESOURCES = 1_000
MAX_FIELDS = 10_000  # over all resources: frictionless checks a header in time quadratic in its fields
# A JSON string, escapes included; an unterminated one runs to the end of the text, so no quote is passed twice.
_STRING = re.compile(r'"[^"\\]*(?:\\[\s\S]?[^"\\]*)*(?:"|\Z)')
_NOT_STRUCTURE = re.compile(r"[^\[\]{},]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1, ",": 0}


class DescriptorError(PackageError):
    """datapackage.json cannot be used: too big, not UTF-8, not JSON, too deep or too many parts, not an object.

    `reason` is the message without the file's name, for a validation problem, which names its place apart."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{DESCRIPTOR} {reason}")
        self.reason = reason


# The default size cap; the Django side passes the PACKAGE_DESCRIPTOR_MAX_BYTES setting instead.
MAX_BYTES = 4 * 1024 * 1024


def descriptor_load(folder: Path, *, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """The package's datapackage.json as a dict; DescriptorError when any check of the module's docstring fails."""
    text = _read_text(folder / DESCRIPTOR, max_bytes)
    _check_structure(text)
    try:
        value = json.loads(text)
    except RecursionError:  # not reached after the depth check; kept so a parser change cannot bring a traceback
        raise DescriptorError(f"nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:  # JSONDecodeError, or an integer of more digits than Python converts
        raise DescriptorError(f"cannot be read as JSON: {error}") from None
    if not isinstance(value, dict):
        raise DescriptorError("is not a JSON object")
    _check_parts(value)
    return value


def _read_text(path: Path, limit: int) -> str:
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limit:
                raise DescriptorError(_too_big(size, limit))
            content = handle.read(limit + 1)  # a device, or a file growing meanwhile, keeps to no size it says
    except OSError as error:
        raise DescriptorError(f"cannot be read: {error}") from error
    if len(content) > limit:
        raise DescriptorError(_too_big(None, limit))
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DescriptorError(f"is not UTF-8 text: {error}") from None


def _too_big(size: int | None, limit: int) -> str:
    told = f"{_amount(size)}, " if size is not None else ""
    return f"is {told}more than the {_amount(limit)} allowed (PACKAGE_DESCRIPTOR_MAX_BYTES)"


def _amount(size: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size:,} bytes"


def _check_structure(text: str) -> None:
    """Depth and number of values, outside strings, in regular expressions and C iterators: no Python step per
    character (10 MB take 0.4 s). Values are counted as objects, arrays and commas: within a factor of two."""
    structure = _NOT_STRUCTURE.sub("", _STRING.sub("", text))
    if max(accumulate(map(_DEPTH_STEP.__getitem__, structure)), default=0) > MAX_DEPTH:
        raise DescriptorError(f"nests deeper than {MAX_DEPTH} levels")
    if len(structure) - structure.count("]") - structure.count("}") > MAX_VALUES:
        raise DescriptorError(f"holds more than {MAX_VALUES:,} values (objects, arrays and list items)")


def _check_parts(descriptor: dict[str, Any]) -> None:
    resources = descriptor.get("resources")
    resources = resources if isinstance(resources, list) else []
    if len(resources) > MAX_RESOURCES:
        raise DescriptorError(f"lists {len(resources):,} resources, more than the {MAX_RESOURCES:,} allowed")
    fields = sum(len(_fields(resource)) for resource in resources)
    if fields > MAX_FIELDS:
        raise DescriptorError(f"lists {fields:,} fields, more than the {MAX_FIELDS:,} allowed in one package")


def _fields(resource: Any) -> list[Any]:
    schema = resource.get("schema") if isinstance(resource, dict) else None
    fields = schema.get("fields") if isinstance(schema, dict) else None
    return fields if isinstance(fields, list) else []
