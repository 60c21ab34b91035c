"""What the layers of the package validation share: the result they fill (`Problem`, `ValidationResult`), the
resources of the descriptor they check (`Resource`), and readers for a descriptor of any shape.

The overview of the validation is in packaging/validation.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from migration_site.lib.jsondata import as_dict, as_list

MAX_PROBLEMS = 200  # kept in the result; the counts stay complete
MAX_PROBLEMS_PER_CODE = 25  # so a thousand type errors cannot hide the one schema problem
MESSAGE_CHARS = 300


@dataclass(frozen=True)
class Problem:
    where: str  # a descriptor path ("model.measures.amount") or a data file ("data/budget.csv")
    message: str
    row: int | None = None  # data row as frictionless counts it: the header is row 1
    field: str | None = None
    code: str = "problem"  # what kind: "schema", "type-error", "duplicate-key", ...

    def text(self) -> str:
        place = self.where
        if self.row is not None:
            place += f", row {self.row}"
        if self.field:
            place += f", {'fields' if ', ' in self.field else 'field'} {self.field}"
        return f"{place}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Problem:
        return cls(
            where=str(data["where"]),
            message=str(data["message"]),
            row=data.get("row"),
            field=data.get("field"),
            code=str(data.get("code", "problem")),
        )


@dataclass
class ValidationResult:
    problems: list[Problem] = field(default_factory=list)  # the first ones, see MAX_PROBLEMS
    counts: dict[str, int] = field(default_factory=dict)  # every problem, per code
    notes: list[str] = field(default_factory=list)  # what a person should know that is not a problem
    rows: dict[str, int] = field(default_factory=dict)  # data rows read, per resource

    @property
    def valid(self) -> bool:
        return not self.total

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, problem: Problem) -> None:
        seen = self.counts.get(problem.code, 0)
        self.counts[problem.code] = seen + 1
        if seen < MAX_PROBLEMS_PER_CODE and len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def add_unlisted(self, code: str, count: int) -> None:
        if count > 0:
            self.counts[code] = self.counts.get(code, 0) + count

    def summary(self) -> str:
        resources = f"{len(self.rows)} resource" + ("" if len(self.rows) == 1 else "s")
        checked = f"{resources}, {sum(self.rows.values())} data rows read"
        if self.valid:
            return f"valid ({checked})"
        kinds = ", ".join(f"{code} {count}" for code, count in sorted(self.counts.items()))
        return f"invalid: {self.total} problem{'' if self.total == 1 else 's'} ({kinds}); {checked}"

    def text(self) -> str:
        lines = [problem.text() for problem in self.problems]
        hidden = self.total - len(self.problems)
        if hidden:
            lines.append(f"... and {hidden} more problems not listed")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join([*lines, self.summary()])

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "total": self.total,
            "counts": dict(self.counts),
            "problems": [problem.as_dict() for problem in self.problems],
            "notes": list(self.notes),
            "rows": dict(self.rows),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValidationResult:
        return cls(
            problems=[Problem.from_dict(item) for item in data.get("problems", [])],
            counts={str(code): int(count) for code, count in data.get("counts", {}).items()},
            notes=[str(note) for note in data.get("notes", [])],
            rows={str(name): int(count) for name, count in data.get("rows", {}).items()},
        )


@dataclass
class Resource:
    """One resource of the descriptor, as the layers check it."""

    label: str  # its name, or its position when it has none
    descriptor: dict[str, Any]
    fields: list[dict[str, Any]]
    file: Path | None = None  # the local data file, once known to exist inside the package

    @property
    def types(self) -> dict[str, str]:
        return {str(item["name"]): str(item.get("type", "string")) for item in self.fields}

    @property
    def where(self) -> str:
        return str(self.descriptor.get("path") or f"resources.{self.label}")


def short(message: str) -> str:
    return message if len(message) <= MESSAGE_CHARS else message[: MESSAGE_CHARS - 3] + "..."


def read_resources(descriptor: dict[str, Any]) -> list[Resource]:
    """The descriptor's resources that are objects, with their named fields."""
    found = []
    for index, item in enumerate(as_list(descriptor.get("resources"))):
        if isinstance(item, dict):
            schema = as_dict(item.get("schema"))
            fields = [
                f for f in as_list(schema.get("fields")) if isinstance(f, dict) and isinstance(f.get("name"), str)
            ]
            found.append(Resource(str(item.get("name") or index), item, fields))
    return found


def names_of(value: Any) -> list[str]:
    """A primaryKey: one name or a list of names."""
    if isinstance(value, str):
        return [value]
    return [item for item in as_list(value) if isinstance(item, str)]
