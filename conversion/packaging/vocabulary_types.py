"""A column type of the vocabulary (packaging/vocabulary.py), and the tools its families are written with: what the
types of one concept share, one member of a hierarchy (its code, its name, maybe a text), and a ladder of nested
levels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

DataType = Literal["string", "number", "integer", "date", "time", "datetime"]
DimensionType = Literal["datetime", "classification", "entity", "activity", "fact", "location", "other"]
# "object" is not in the FDP 0.3 schema's enum; the package builder has to deal with it, the vocabulary keeps it.
ClassificationType = Literal["functional", "administrative", "economic", "object"]

# The UI ordering groups of os-types, per concept; the number prefix is what orders them.
GROUPS: dict[str, str] = {
    "date": "100-Time",
    **dict.fromkeys(
        ("administrative-classification", "functional-classification", "economic-classification"), "200-Classifications"
    ),
    "object-classification": "201-Classifications",
    "activity": "300-Activity",
    **dict.fromkeys(("administrator", "procurer", "recipient", "supplier"), "400-Participating Entities"),
    **dict.fromkeys(
        ("direction", "phase", "fin-source", "expenditure-type", "budgetary-transfers"), "500-Fiscal Attributes"
    ),
    "geo-source": "600-Geographic",
    **dict.fromkeys(("budget-line-id", "transaction-id"), "700-Identifiers"),
    **dict.fromkeys(("value", "value-kind", "value-currency"), "800-Amount"),
    "unknown": "900-Other",
}

CODE_WORDS = {"code": "code", "id": "identifier"}
LABEL_WORDS = {"label": "name", "name": "name", "title": "name"}


@dataclass(frozen=True)
class ColumnType:
    name: str
    data_type: DataType
    dimension_type: DimensionType | None
    classification_type: ClassificationType | None
    unique: bool
    labelfor: str | None
    parent: str | None
    display_name: str
    description: str
    group: str

    @property
    def concept(self) -> str:
        """The FDP dimension this column lands in: os-types builds one dimension per first name segment."""
        return self.name.split(":", 1)[0]

    @property
    def is_measure(self) -> bool:
        return self.concept == "value"


@dataclass(frozen=True)
class TypeFamily:
    """What all the types of one concept share, so the family builders only say what varies."""

    dimension_type: DimensionType
    classification_type: ClassificationType | None = None

    def column(
        self,
        name: str,
        display_name: str,
        description: str,
        *,
        data_type: DataType = "string",
        unique: bool = False,
        labelfor: str | None = None,
        parent: str | None = None,
    ) -> ColumnType:
        return ColumnType(
            name=name,
            data_type=data_type,
            dimension_type=self.dimension_type,
            classification_type=self.classification_type,
            unique=unique,
            labelfor=labelfor,
            parent=parent,
            display_name=display_name,
            description=description,
            group=GROUPS[name.split(":", 1)[0]],
        )


def mid_sentence(subject: str) -> str:
    """'Program' reads 'program' inside a sentence, but acronyms such as 'COFOG group' stay as they are."""
    first = subject.split(" ", 1)[0]
    return subject if first.isupper() else subject[0].lower() + subject[1:]


def member(
    family: TypeFamily,
    prefix: str,
    subject: str,
    *,
    parent: str | None = None,
    code: str = "code",
    label: str = "label",
    described: bool = False,
) -> list[ColumnType]:
    """One thing of a hierarchy: its code (part of the key, under `parent`), the name labelling it, maybe a text."""
    about = mid_sentence(subject)
    code_name = f"{prefix}:{code}"
    columns = [
        family.column(
            code_name, f"{subject} {CODE_WORDS[code]}", f"Code that identifies the {about}.", unique=True, parent=parent
        ),
        family.column(
            f"{prefix}:{label}",
            f"{subject} {LABEL_WORDS[label]}",
            f"Readable name or title of the {about}.",
            labelfor=code_name,
        ),
    ]
    if described:
        columns.append(
            family.column(f"{prefix}:description", f"{subject} description", f"Longer text about the {about}.")
        )
    return columns


def ladder(
    family: TypeFamily,
    prefix: str,
    steps: Sequence[tuple[str, str]],
    *,
    label: str = "label",
    described: bool = False,
) -> list[ColumnType]:
    """Nested levels `prefix:<step>:code|label`, each code's parent being the code of the step above it."""
    columns: list[ColumnType] = []
    parent: str | None = None
    for step, subject in steps:
        columns += member(family, f"{prefix}:{step}", subject, parent=parent, label=label, described=described)
        parent = f"{prefix}:{step}:code"
    return columns


def levels(subject: str, count: int) -> list[tuple[str, str]]:
    return [(f"level{n}", f"{subject} level {n}") for n in range(1, count + 1)]
