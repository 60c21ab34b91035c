"""The column types a converted package may give its fields: our own rendering of the os-types taxonomy.

os-types (openspending/os-types) is what os-packager and dpp-fiscal use to turn typed columns into an FDP model, so
every type here keeps the os-types name and agrees with it on data type, dimension type, classification type,
uniqueness, `labelfor` and `parent` (tests/conversion/test_vocabulary.py checks this against the real file). Display
names and descriptions are ours. One deliberate difference: os-types makes `recipient:bank:branch:name` the label of
itself, a typo (every other name labels its code, the procurer twin included), so here it labels the branch code.

os-types also generates 80 placeholder types at run time, `unknown:string-{1..40}:{code,label}` (120 entries with
their descriptions). They are left out on purpose: they all share the concept `unknown`, a dimension dpp-fiscal drops
from the model, so a column mapped to one loses its meaning anyway. A column nobody can type uses `unknown:<data type>`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

__all__ = [
    "ColumnType",
    "all_column_types",
    "choices",
    "column_type",
    "is_known",
    "search",
]

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
_WORD = re.compile(r"[a-z0-9]+")


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
class _Family:
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
            name=name, data_type=data_type, dimension_type=self.dimension_type,
            classification_type=self.classification_type, unique=unique, labelfor=labelfor, parent=parent,
            display_name=display_name, description=description, group=GROUPS[name.split(":", 1)[0]],
        )  # fmt: skip


def _mid_sentence(subject: str) -> str:
    """'Program' reads 'program' inside a sentence, but acronyms such as 'COFOG group' stay as they are."""
    first = subject.split(" ", 1)[0]
    return subject if first.isupper() else subject[0].lower() + subject[1:]


def _member(
    family: _Family,
    prefix: str,
    subject: str,
    *,
    parent: str | None = None,
    code: str = "code",
    label: str = "label",
    described: bool = False,
) -> list[ColumnType]:
    """One thing of a hierarchy: its code (part of the key, under `parent`), the name labelling it, maybe a text."""
    about = _mid_sentence(subject)
    code_name = f"{prefix}:{code}"
    columns = [
        family.column(code_name, f"{subject} {CODE_WORDS[code]}", f"Code that identifies the {about}.",
                      unique=True, parent=parent),
        family.column(f"{prefix}:{label}", f"{subject} {LABEL_WORDS[label]}", f"Readable name or title of the {about}.",
                      labelfor=code_name),
    ]  # fmt: skip
    if described:
        columns.append(
            family.column(f"{prefix}:description", f"{subject} description", f"Longer text about the {about}.")
        )
    return columns


def _ladder(
    family: _Family,
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
        columns += _member(family, f"{prefix}:{step}", subject, parent=parent, label=label, described=described)
        parent = f"{prefix}:{step}:code"
    return columns


def _levels(subject: str, count: int) -> list[tuple[str, str]]:
    return [(f"level{n}", f"{subject} level {n}") for n in range(1, count + 1)]


def _dates() -> list[ColumnType]:
    family = _Family("datetime")
    events = {
        "activity-start": ("Activity start date", "When the funded activity starts."),
        "activity-end": ("Activity end date", "When the funded activity ends."),
        "activity-approval": ("Activity approval date", "When the funded activity was approved."),
        "first-payment": ("First payment date", "When the first payment for the activity was made."),
        "final-payment": ("Final payment date", "When the last payment for the activity was made."),
    }
    return [
        family.column("date:fiscal-year", "Fiscal year", "The fiscal year a row's amounts belong to, as a number.",
                      data_type="integer", unique=True),
        family.column("date:fiscal-month", "Fiscal month", "Month within the fiscal year, as a number.",
                      data_type="integer", unique=True, parent="date:fiscal-year"),
        family.column("date:generic", "Date", "A date of the row with no more specific meaning, e.g. a payment date.",
                      data_type="date", unique=True),
        *(family.column(f"date:fiscal:{key}", title, description, data_type="date", unique=True)
          for key, (title, description) in events.items()),
    ]  # fmt: skip


def _classifications() -> list[ColumnType]:
    """Administrative, functional and economic: a level-free code plus an eight-level ladder, each with texts."""
    columns: list[ColumnType] = []
    for kind in ("administrative", "functional", "economic"):
        family = _Family("classification", kind)
        prefix, subject = f"{kind}-classification:generic", f"{kind.capitalize()} classification"
        columns += _member(family, prefix, f"{subject} (any level)", described=True)
        columns += _ladder(family, prefix, _levels(subject, 8), described=True)
    return columns


def _standard_classifications() -> list[ColumnType]:
    """The named standards: UN COFOG (functions of government), IMF GFSM (economic) and the object classification."""
    functional, economic = _Family("classification", "functional"), _Family("classification", "economic")
    cofog = "functional-classification:cofog"
    cofog_steps = [("division", "COFOG division"), ("group", "COFOG group"), ("class", "COFOG class")]
    return [
        *_member(functional, cofog, "COFOG function (any level)", described=True),
        *_ladder(functional, cofog, cofog_steps, described=True),
        *_ladder(economic, "economic-classification:gfsm", _levels("GFSM", 4), described=True),
        *_ladder(
            _Family("classification", "object"), "object-classification:generic", _levels("Object classification", 4)
        ),
    ]


def _activities() -> list[ColumnType]:
    family = _Family("activity")
    steps = [("program", "Program"), ("subprogram", "Sub-program"), ("project", "Project"),
             ("subproject", "Sub-project"), ("contract", "Contract")]  # fmt: skip
    return [
        *_ladder(family, "activity:generic", steps),
        family.column("activity:generic:subproject:kind", "Sub-project kind", "What kind of sub-project this is."),
    ]


def _entities() -> list[ColumnType]:
    """Who spends, buys, receives and supplies; procurers and recipients may also come with their bank details."""
    family = _Family("entity")
    columns: list[ColumnType] = []
    for entity in ("administrator", "procurer", "recipient", "supplier"):
        columns += _member(family, f"{entity}:generic", entity.capitalize(), code="id", label="name")
    for entity in ("procurer", "recipient"):
        bank = f"{entity}:bank"
        columns += [
            family.column(f"{bank}:code", f"{entity.capitalize()} bank code", f"Code of the {entity}'s bank.",
                          unique=True),
            family.column(f"{bank}:account", f"{entity.capitalize()} bank account", f"The {entity}'s bank account."),
            *_member(family, f"{bank}:branch", f"{entity.capitalize()} bank branch", label="name"),
        ]  # fmt: skip
    return columns + _legal_entity(family)


def _legal_entity(family: _Family) -> list[ColumnType]:
    """A recipient may be a legal entity (a company, say) and the money may go to one project of it."""
    entity, project = "recipient:generic:legal-entity", "recipient:generic:legal-entity:receiving-project"
    return [
        family.column("recipient:generic:url", "Recipient web address", "A web page about the recipient."),
        *_member(family, entity, "Recipient legal entity", parent="recipient:generic:id"),
        family.column(f"{entity}:point-of-contact:description", "Legal entity contact",
                      "Who represents the legal entity, in free text."),
        *_member(family, project, "Receiving project", parent=f"{entity}:code", described=True),
        family.column(f"{project}:status", "Receiving project status", "Status of the receiving project."),
    ]  # fmt: skip


def _locations() -> list[ColumnType]:
    """Places: where money comes from or goes to (with the code list the codes are drawn from), and addresses."""
    family = _Family("location")
    columns: list[ColumnType] = []
    for role, subject in (("generic", "Place"), ("source", "Source place"), ("target", "Target place")):
        prefix = f"geo-source:{role}"
        columns += _member(family, prefix, subject, label="title")
        columns.append(
            family.column(
                f"{prefix}:codeList",
                f"{subject} code list",
                f"Which code list the {_mid_sentence(subject)} codes come from.",
                unique=True,
            )
        )
    columns += _ladder(family, "geo-source:target", _levels("Target place", 2), label="title")
    address = "geo-source:address"
    parts = [
        ("country", "Address country"),
        ("region", "Address region"),
        ("county", "Address county"),
        ("city", "Address city"),
    ]
    columns += _ladder(family, address, parts)
    return [
        *columns,
        family.column(f"{address}:zip:code", "Address postal code", "Postal code of the address.", unique=True,
                      parent=f"{address}:city:code"),
        family.column(f"{address}:street-address:description", "Street address", "Street and number of the address."),
    ]  # fmt: skip


def _identifiers() -> list[ColumnType]:
    """Facts identifying a row; the two `-kind` columns only qualify it, so they stay out of the key."""
    family = _Family("fact")
    transaction_ids = {
        "code": ("Transaction identifier", True, "Identifies the transaction itself."),
        "purchase-order": ("Purchase order number", True, "The purchase order the transaction pays."),
        "invoice-id": ("Invoice identifier", True, "The invoice the transaction pays."),
        "tender-id": ("Tender identifier", True, "The tender the transaction comes from."),
        "tender-kind": ("Tender kind", False, "How the tender was run, e.g. open or restricted."),
        "contract-id": ("Contract identifier", True, "The contract the transaction is paid under."),
        "budget-code": ("Budget code", True, "The budget line the transaction is charged to."),
        "court-order": ("Court order number", True, "The court order that required the payment."),
        "transaction-kind": ("Transaction kind", False, "What kind of transaction this is."),
    }
    return [
        family.column("budget-line-id", "Budget line identifier", "Identifies one line of the budget.", unique=True),
        *(family.column(f"transaction-id:{key}", title, description, unique=unique)
          for key, (title, unique, description) in transaction_ids.items()),
    ]  # fmt: skip


def _fiscal_attributes() -> list[ColumnType]:
    family = _Family("other")
    fin_source = "fin-source:generic"
    return [
        family.column("direction", "Direction", "Whether the amounts are expenditure or revenue.", unique=True),
        *_member(family, "phase", "Budget phase", code="id"),
        *_member(family, fin_source, "Source of funds (any level)"),
        *_ladder(family, fin_source, _levels("Source of funds", 3)),
        *_member(family, "expenditure-type", "Expenditure type"),
        family.column("budgetary-transfers", "Budgetary transfers", "Whether the spending includes budget transfers."),
    ]


def _amounts() -> list[ColumnType]:
    other = _Family("other")
    value = ColumnType(
        name="value", data_type="number", dimension_type=None, classification_type=None, unique=False,
        labelfor=None, parent=None, display_name="Amount", description="A money amount: budgeted, spent or received.",
        group=GROUPS["value"],
    )  # fmt: skip
    return [value, *_member(other, "value-kind", "Amount kind"), *_member(other, "value-currency", "Currency")]


def _unknowns() -> list[ColumnType]:
    family = _Family("other")
    data_types: tuple[DataType, ...] = ("string", "date", "time", "datetime", "number", "integer")
    return [
        family.column(f"unknown:{data_type}", f"Other ({data_type})", f"Any {data_type} column no other type fits.",
                      data_type=data_type)
        for data_type in data_types
    ]  # fmt: skip


def _fixes(columns: Iterable[ColumnType]) -> list[ColumnType]:
    """Correct os-types' self-labelling recipient branch name (see the module docstring)."""
    branch = "recipient:bank:branch"
    return [
        replace(column, labelfor=f"{branch}:code") if column.name == f"{branch}:name" else column for column in columns
    ]


def _build() -> dict[str, ColumnType]:
    columns = [
        *_dates(), *_classifications(), *_standard_classifications(), *_activities(), *_entities(), *_locations(),
        *_identifiers(), *_fiscal_attributes(), *_amounts(), *_unknowns(),
    ]  # fmt: skip
    ordered = sorted(_fixes(columns), key=lambda column: (column.group, column.name))
    by_name = {column.name: column for column in ordered}
    if len(by_name) != len(ordered):
        raise RuntimeError("two families generate the same column type name")
    return by_name


_TYPES = _build()
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
