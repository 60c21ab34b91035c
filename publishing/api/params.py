"""The query parameters of babbage's API, read as its grammar states them (babbage/schema/parser.ebnf):

    cut=ref:value|ref:value        a value may be a set, `a;b;c`, or a quoted string, `"a|b"`
    drilldown=ref|ref              fields=ref,ref          aggregates=ref|ref
    order=ref:asc,ref:desc         page=1  pagesize=100

Every reference is looked up in the cube's model and every value parsed as its reference's type here, so that what
reaches SQL is a known column and a bound parameter. A problem raises ParameterError, answered with a 400 naming the
parameter and what was wrong with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from publishing.api.model import Column, CubeModel

MAX_PARAMETER_CHARS = 4000
MAX_VALUES = 1000  # in all cuts together
_REF = re.compile(r"^[A-Za-z0-9._]*[A-Za-z0-9]$")
_INTEGER = re.compile(r"^-?[0-9]+$")
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v"}


class ParameterError(ValueError):
    """A parameter the API cannot answer: the message says which and why."""


@dataclass(frozen=True)
class Cut:
    column: Column
    values: tuple[object, ...]

    def as_dict(self) -> dict[str, object]:
        shown = self.values[0] if len(self.values) == 1 else list(self.values)
        return {"ref": self.column.ref, "operator": ":", "value": _json_value(shown)}


@dataclass(frozen=True)
class Order:
    ref: str
    descending: bool

    def as_pair(self) -> list[str]:
        return [self.ref, "desc" if self.descending else "asc"]


@dataclass(frozen=True)
class Paging:
    page: int
    size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def text(params: Mapping[str, str], name: str) -> str:
    value = params.get(name) or ""
    if len(value) > MAX_PARAMETER_CHARS:
        raise ParameterError(f"{name}: longer than {MAX_PARAMETER_CHARS} characters")
    if "\x00" in value:
        raise ParameterError(f"{name}: contains a NUL character")
    return value


def cuts(model: CubeModel, value: str) -> list[Cut]:
    found: list[Cut] = []
    for part in _split_outside_quotes(value, "|"):
        ref, separator, raw = part.partition(":")
        if not separator:
            raise ParameterError(f"cut: {part!r} is not ref:value")
        column = model.column(_ref("cut", ref.strip()))
        if column is None:
            dimension = model.dimensions.get(ref.strip())
            column = model.attributes[dimension.key_ref] if dimension else None
        if column is None:
            raise ParameterError(f"cut: no attribute or measure {ref.strip()!r} in this cube")
        values = tuple(_typed("cut", column, item) for item in _split_outside_quotes(raw, ";", keep_empty=True))
        found.append(Cut(column, values))
    if sum(len(cut.values) for cut in found) > MAX_VALUES:
        raise ParameterError(f"cut: more than {MAX_VALUES} values")
    return found


def drilldowns(model: CubeModel, value: str) -> list[Column]:
    columns: list[Column] = []
    for ref in _refs("drilldown", value, "|"):
        expanded = [column for column in model.expand(ref) if column.ref not in model.measures]
        if not expanded:
            raise ParameterError(f"drilldown: no dimension or attribute {ref!r} in this cube")
        columns += [column for column in expanded if column not in columns]
    return columns


def fields(model: CubeModel, value: str) -> list[Column]:
    columns: list[Column] = []
    for ref in _refs("fields", value, ","):
        expanded = model.expand(ref)
        if not expanded:
            raise ParameterError(f"fields: no dimension, attribute or measure {ref!r} in this cube")
        columns += [column for column in expanded if column not in columns]
    return columns


def aggregates(model: CubeModel, value: str) -> list[str]:
    refs = _refs("aggregates", value, "|")
    for ref in refs:
        if ref not in model.aggregates:
            raise ParameterError(f"aggregates: no aggregate {ref!r}; this cube has {', '.join(model.aggregates)}")
    return list(dict.fromkeys(refs)) or list(model.aggregates)


def order(value: str, allowed: Mapping[str, str], what: str) -> list[Order]:
    """`allowed` maps each orderable ref to its SQL; `what` says what may be ordered by, for the message."""
    found: list[Order] = []
    for part in _split_outside_quotes(value, ","):
        ref, _, direction = part.strip().partition(":")
        direction = direction.strip().lower() or "asc"
        if direction not in ("asc", "desc"):
            raise ParameterError(f"order: direction {direction!r} is neither asc nor desc")
        if _ref("order", ref.strip()) not in allowed:
            raise ParameterError(f"order: cannot order by {ref.strip()!r}; order by {what}")
        found.append(Order(ref.strip(), direction == "desc"))
    return found


def paging(params: Mapping[str, str], *, default_size: int, max_size: int) -> Paging:
    page = _whole(params, "page", 1)
    size = _whole(params, "pagesize", default_size)
    if page < 1:
        raise ParameterError("page: must be 1 or more")
    if size > max_size:
        raise ParameterError(f"pagesize: at most {max_size}")
    if (page - 1) * size > 10**12:
        raise ParameterError("page: too far")
    return Paging(page, size)


def _whole(params: Mapping[str, str], name: str, default: int) -> int:
    value = text(params, name).strip()
    if not value:
        return default
    if not _INTEGER.match(value) or len(value) > 15:
        raise ParameterError(f"{name}: {value[:40]!r} is not a whole number")
    number = int(value)
    if number < 0:
        raise ParameterError(f"{name}: must not be negative")
    return number


def _refs(name: str, value: str, separator: str) -> list[str]:
    return [_ref(name, part.strip()) for part in value.split(separator) if part.strip()]


def _ref(name: str, ref: str) -> str:
    if not _REF.match(ref):
        raise ParameterError(f"{name}: {ref[:80]!r} is not a reference (letters, digits, '_' and '.')")
    return ref


def _typed(name: str, column: Column, raw: str) -> object:
    """A cut value as its column's type: a bound parameter DuckDB compares without casting the column."""
    value = _unquoted(raw.strip()) if raw.strip().startswith('"') else raw.strip()
    datatype = column.datatype
    if datatype == "string":
        return value
    if datatype == "integer" and _INTEGER.match(value) and len(value) < 19:
        return int(value)
    if datatype == "number" and _NUMBER.match(value) and len(value) < 40:
        return float(value)
    if datatype == "boolean" and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if datatype == "date" and _DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ParameterError(f"{name}: {value[:80]!r} is not a value of {column.ref}, which holds {datatype} values")


def _split_outside_quotes(value: str, separator: str, *, keep_empty: bool = False) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted, escaped = False, False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if quoted:
        raise ParameterError(f"a quoted value is not closed: {value[:80]!r}")
    parts.append("".join(current))
    return [part for part in parts if keep_empty or part.strip()]


def _unquoted(raw: str) -> str:
    if len(raw) < 2 or not raw.endswith('"'):
        raise ParameterError(f"cut: {raw[:80]!r} is not a quoted string")
    out, chars = [], iter(raw[1:-1])
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        escaped = next(chars, "")
        if escaped == "u":
            digits = "".join(next(chars, "") for _ in range(4))
            if not re.fullmatch(r"[0-9a-fA-F]{4}", digits):
                raise ParameterError(f"cut: bad \\u escape in {raw[:80]!r}")
            out.append(chr(int(digits, 16)))
        else:
            out.append(_ESCAPES.get(escaped, escaped))
    return "".join(out)


def _json_value(value: object) -> object:
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    return value.isoformat() if isinstance(value, date) else value
