"""Every row of a package's CSV checked against its table schema, as frictionless' row checks would, but fast.

frictionless reads about 58k rows/s here (stack-notes §4), so on a big package its data check costs as much as the
whole build. This one does the checks our packages need on every row, in plain Python with flat memory: the header
against the field names, each row's cell count, each cell against its field's type (number, integer, date, boolean,
string) and the `required` constraint. Rows go through in batches and a batch's column is checked as a whole: one
regex over the joined numbers, one set of the distinct dates; cell by cell only when that finds a bad one, to say
which. The rules are frictionless 5's (a number is what `Decimal` reads after stripping, a date what `strptime`
reads), so both report the same cells; what it does not check (other types, formats and constraints) it says in
`notes` and `covers`, and frictionless on a sample of rows does the rest.

Given the table's primary key, the same pass also looks for a key value that occurs twice, with flat memory (key
files on disk, packaging.key_files); it only says whether one does: the validation then lists them, with examples.

Problems are `packaging.validation.Problem.from_dict` dicts, rows numbered as frictionless does (the header is row
1); the first few are kept, the counts are exact. How the cells of each type are read is in packaging/field_checks.py.
"""

from __future__ import annotations

import csv
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any

from conversion.packaging.field_checks import FieldRule, type_checks
from conversion.packaging.key_files import KeyFiles, batch_keys, parts_for

__all__ = ["DataCheck", "check_data", "key_value"]

BATCH = 10_000
MAX_PROBLEMS = 100  # kept in the result; the counts stay complete
MAX_PROBLEMS_PER_FIELD = 20  # so one broken column cannot hide the others
KNOWN_VALUES = 65_536  # distinct good dates or booleans remembered per field; forgotten all at once beyond
ROW = "<row>"  # the field_counts key of problems about a whole row
HEADER = "<header>"
ROW_CODES = frozenset({"blank-row", "missing-cell", "extra-cell"})
HEADER_CODES = frozenset({"blank-label", "duplicate-label", "extra-label", "incorrect-label", "missing-label"})
_CANONICAL_NUMBERS = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d*[1-9])?(?:\n-?(?:0|[1-9]\d*)(?:\.\d*[1-9])?)*+", re.ASCII)


@dataclass
class DataCheck:
    where: str
    rows: int = 0  # data rows read, blank ones included (frictionless counts them too)
    problems: list[dict[str, Any]] = field(default_factory=list)  # the first ones, see MAX_PROBLEMS
    counts: dict[str, int] = field(default_factory=dict)  # every problem, per code
    field_counts: dict[str, int] = field(default_factory=dict)  # every problem, per field (ROW, HEADER)
    notes: list[str] = field(default_factory=list)  # what was not checked
    checked_types: set[str] = field(default_factory=set)  # fields whose type every row had checked
    checked_constraints: set[str] = field(default_factory=set)  # ... whose constraints (required only) too
    duplicate_keys: bool | None = None  # whether a primary key value occurs twice; None when not looked for

    @property
    def valid(self) -> bool:
        return not self.counts

    def covers(self, code: str, field_name: str | None) -> bool:
        """Whether frictionless' error `code` on `field_name` is one this check looked for on every row."""
        if code in ROW_CODES or code in HEADER_CODES:
            return True
        if code in ("encoding-error", "source-error"):
            return code in self.counts  # this check stopped reading at the same bytes
        if code == "type-error":
            return field_name in self.checked_types
        return code == "constraint-error" and field_name in self.checked_constraints

    def unlisted(self) -> dict[str, int]:
        """Per code, the problems counted but not kept in `problems`."""
        listed: dict[str, int] = {}
        for problem in self.problems:
            listed[problem["code"]] = listed.get(problem["code"], 0) + 1
        return {code: count - listed.get(code, 0) for code, count in self.counts.items() if count > listed.get(code, 0)}

    def add(self, code: str, message: str, *, row: int | None = None, field_name: str | None = None) -> None:
        key = field_name or (ROW if row is not None else HEADER)
        seen = self.field_counts.get(key, 0)
        self.field_counts[key] = seen + 1
        self.counts[code] = self.counts.get(code, 0) + 1
        if seen < MAX_PROBLEMS_PER_FIELD and len(self.problems) < MAX_PROBLEMS:
            self.problems.append(
                {"where": self.where, "message": message, "row": row, "field": field_name, "code": code}
            )


def check_data(
    csv_path: Path,
    schema: Mapping[str, Any],
    *,
    where: str | None = None,
    encoding: str = "utf-8-sig",
    delimiter: str = ",",
    primary_key: Sequence[str] = (),
) -> DataCheck:
    """Check every row of `csv_path` against the table schema `schema` (its `fields`, `missingValues`); with
    `primary_key`, also whether a key value occurs twice (`DataCheck.duplicate_keys`)."""
    check = DataCheck(where or csv_path.name)
    fields = [item for item in schema.get("fields") or [] if isinstance(item, Mapping)]
    missing = tuple(str(value) for value in schema.get("missingValues", [""]))
    rules = [_rule(item, position, missing, check) for position, item in enumerate(fields)]
    try:
        with csv_path.open(encoding=encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                check.add("source-error", "the file is empty: no header, no rows")
                return check
            names = [rule.name for rule in rules]
            _check_header(header, names, check)
            active = [rule for rule in rules[: len(header)] if rule.active]
            rows = _Rows(check, active, names, len(header), missing)
            key = _key_columns(primary_key, header, fields)
            if key is None:
                rows.run(reader)
            else:
                with tempfile.TemporaryDirectory(prefix="primary-key-") as folder:
                    files = KeyFiles(Path(folder), parts_for(csv_path.stat().st_size))
                    rows.keys = _Keys(key, files)
                    try:
                        rows.run(reader)
                        check.duplicate_keys = rows.keys.repeated()
                    finally:
                        files.close()  # also when the file turns out unreadable half way
    except UnicodeDecodeError as error:
        # Rows are read a batch at a time: the bad bytes are in the batch after the rows counted so far.
        message = f"not {encoding.removesuffix('-sig')} ({error.reason}) in row {check.rows + 1} or a later one"
        check.add("encoding-error", message + "; the rows from there on were not checked")
    except csv.Error as error:
        message = f"unreadable CSV ({error}) in row {check.rows + 1} or a later one"
        check.add("source-error", message + "; the rows from there on were not checked")
    return check


# -- rules ----------------------------------------------------------------------------------------------------------


def _rule(item: Mapping[str, Any], position: int, missing: Sequence[str], check: DataCheck) -> FieldRule:
    name, kind = str(item.get("name", "")), str(item.get("type") or "string")
    fmt = str(item.get("format") or "default")
    found = item.get("constraints")
    constraints: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    required = bool(constraints.get("required"))
    other = sorted(set(constraints) - {"required"})
    if other:
        check.notes.append(f"{name}: constraints {', '.join(other)} not checked on every row")
    else:
        check.checked_constraints.add(name)
    checks = type_checks(item, kind, fmt, missing)
    if checks is None:
        check.notes.append(f"{name}: type {kind} (format {fmt}) not checked on every row")
        return FieldRule(name, position, kind, required)
    check.checked_types.add(name)
    joined, cell, few = checks
    label = kind if fmt == "default" else f"{kind} ({fmt})"
    return FieldRule(name, position, label, required, joined, cell, few)


# -- primary key ----------------------------------------------------------------------------------------------------


def key_value(value: str, kind: str) -> str:
    """A key cell as the table reads it, so "07" and "7" are one integer key, as in frictionless."""
    value = value.strip()
    if kind in ("number", "integer") and value:
        try:
            return f"{Decimal(value).normalize():f}"  # "2E+3" would read badly in a message
        except InvalidOperation:
            return value  # a type error, reported as such
    return value


def _key_columns(
    primary_key: Sequence[str], header: list[str], fields: list[Mapping[str, Any]]
) -> list[tuple[int, str]] | None:
    """(position in the header, type) of each key field; None when there is no key or the header lacks one."""
    types = {str(item.get("name", "")): str(item.get("type") or "string") for item in fields}
    if not primary_key or any(name not in header or name not in types for name in primary_key):
        return None
    return [(header.index(name), types[name]) for name in primary_key]


class _Keys:
    def __init__(self, columns: list[tuple[int, str]], files: KeyFiles) -> None:
        self.columns, self.files = columns, files

    def add(self, rows: list[list[str]], numbers: Sequence[int]) -> None:
        values = [_key_column(list(map(itemgetter(position), rows)), kind) for position, kind in self.columns]
        self.files.add(batch_keys(values), numbers)

    def repeated(self) -> bool:
        self.files.close()
        return next(self.files.repeated(), None) is not None


def _key_column(values: list[str], kind: str) -> list[str]:
    """`key_value` of each cell, for a whole column at once when its cells are already as the table reads them."""
    stripped = list(map(str.strip, values))
    if kind not in ("number", "integer"):
        return stripped
    text = "\n".join(stripped)
    if text.count("\n") == len(stripped) - 1 and _CANONICAL_NUMBERS.fullmatch(text):
        return stripped
    return [key_value(value, kind) for value in stripped]


# -- header and rows ------------------------------------------------------------------------------------------------


def _check_header(header: list[str], names: list[str], check: DataCheck) -> None:
    """The labels against the field names, position by position, with frictionless' error codes."""
    first: dict[str, int] = {}
    for position, label in enumerate(header, start=1):
        name = names[position - 1] if position <= len(names) else None
        if name is None:
            check.add("extra-label", f'extra label "{label}" at position {position}: the schema has no such field')
        elif not label.strip():
            check.add("blank-label", f"the label at position {position} is blank", field_name=name)
        elif label in first:
            message = f'label "{label}" at position {position} repeats the one at position {first[label]}'
            check.add("duplicate-label", message, field_name=name)
        elif label != name:
            check.add(
                "incorrect-label", f'label "{label}" at position {position} is not the field name', field_name=name
            )
        first.setdefault(label, position)
    for name in names[len(header) :]:
        check.add("missing-label", f"the header has no label for field {name}", field_name=name)


class _Rows:
    def __init__(
        self, check: DataCheck, rules: list[FieldRule], names: list[str], width: int, missing: Sequence[str]
    ) -> None:
        self.check, self.rules, self.names, self.width = check, rules, names, width
        self.missing = frozenset(missing)
        self.filler = missing[0] if missing else ""  # what a cell a short row lacks counts as
        self.known: dict[str, set[str]] = {rule.name: set() for rule in rules if rule.few}
        self.keys: _Keys | None = None

    def run(self, reader: Iterator[list[str]]) -> None:
        number = 2
        while rows := list(islice(reader, BATCH)):
            self.check.rows += len(rows)
            numbers: Sequence[int] = range(number, number + len(rows))
            number += len(rows)
            if set(map(len, rows)) != {self.width}:
                rows, numbers = self._even_out(rows, numbers)
            elif self.missing and self.width:
                rows, numbers = self._drop_blank(rows, numbers)
            for rule in self.rules:
                self._column(rule, list(map(itemgetter(rule.position), rows)), numbers)
            if self.keys is not None and rows:
                self.keys.add(rows, numbers)

    def _even_out(self, rows: list[list[str]], numbers: Sequence[int]) -> tuple[list[list[str]], list[int]]:
        """Blank rows reported and left out, short rows padded, long ones reported, the way frictionless does."""
        kept, kept_numbers = [], []
        for row, number in zip(rows, numbers, strict=True):
            if self._blank(row):
                self.check.add("blank-row", "the row is completely blank", row=number)
                continue
            for position in range(len(row), self.width):
                message = f"the row has a missing cell at position {position + 1}"
                name = self.names[position] if position < len(self.names) else None
                self.check.add("missing-cell", message, row=number, field_name=name)
                row.append(self.filler)
            for position in range(self.width, len(row)):
                message = f'the row has an extra cell "{row[position]}" at position {position + 1}'
                self.check.add("extra-cell", message, row=number)
            kept.append(row)
            kept_numbers.append(number)
        return kept, kept_numbers

    def _drop_blank(self, rows: list[list[str]], numbers: Sequence[int]) -> tuple[list[list[str]], Sequence[int]]:
        # A blank row has a missing first cell: most batches have none, found by one scan of that column in C.
        firsts = list(map(itemgetter(0), rows))
        if not any(map(firsts.count, self.missing)):
            return rows, numbers
        return self._even_out(rows, numbers)

    def _blank(self, row: list[str]) -> bool:
        return all(cell in self.missing for cell in row)

    def _column(self, rule: FieldRule, values: list[str], numbers: Sequence[int]) -> None:
        if rule.required and any(map(values.count, self.missing)):
            message = 'the cell is empty and the field is "required"'
            for offset in _offsets(values, self.missing):
                self.check.add("constraint-error", message, row=numbers[offset], field_name=rule.name)
        bad = self._bad_values(rule, values)
        if bad:
            for offset in _offsets(values, bad):
                message = f'"{values[offset]}" is not a {rule.label}'
                self.check.add("type-error", message, row=numbers[offset], field_name=rule.name)

    def _bad_values(self, rule: FieldRule, values: list[str]) -> frozenset[str]:
        """The distinct values of the column that are no missing value and fail the field's type."""
        if rule.cell is None:
            return frozenset()
        if rule.joined is not None:
            text = "\n".join(values)
            if text.count("\n") == len(values) - 1 and rule.joined.fullmatch(text):
                return frozenset()
        distinct = set(values) - self.missing
        if rule.few:
            known = self.known[rule.name]
            distinct -= known
            if len(known) + len(distinct) > KNOWN_VALUES:
                known.clear()
            known.update(value for value in distinct if rule.cell(value))
            distinct -= known
            return frozenset(distinct)
        return frozenset(value for value in distinct if not rule.cell(value))


def _offsets(values: list[str], chosen: frozenset[str]) -> Iterator[int]:
    return (offset for offset, value in enumerate(values) if value in chosen)
