"""Every column type of the vocabulary, concept by concept, with the names, data types, uniqueness and links of
os-types; see packaging/vocabulary.py for what is ours and what is left out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from conversion.packaging.vocabulary_types import (
    GROUPS,
    ColumnType,
    DataType,
    TypeFamily,
    ladder,
    levels,
    member,
    mid_sentence,
)


def _dates() -> list[ColumnType]:
    family = TypeFamily("datetime")
    events = {
        "activity-start": ("Activity start date", "When the funded activity starts."),
        "activity-end": ("Activity end date", "When the funded activity ends."),
        "activity-approval": ("Activity approval date", "When the funded activity was approved."),
        "first-payment": ("First payment date", "When the first payment for the activity was made."),
        "final-payment": ("Final payment date", "When the last payment for the activity was made."),
    }
    return [
        family.column(
            "date:fiscal-year",
            "Fiscal year",
            "The fiscal year a row's amounts belong to, as a number.",
            data_type="integer",
            unique=True,
        ),
        family.column(
            "date:fiscal-month",
            "Fiscal month",
            "Month within the fiscal year, as a number.",
            data_type="integer",
            unique=True,
            parent="date:fiscal-year",
        ),
        family.column(
            "date:generic",
            "Date",
            "A date of the row with no more specific meaning, e.g. a payment date.",
            data_type="date",
            unique=True,
        ),
        *(
            family.column(f"date:fiscal:{key}", title, description, data_type="date", unique=True)
            for key, (title, description) in events.items()
        ),
    ]


def _classifications() -> list[ColumnType]:
    """Administrative, functional and economic: a level-free code plus an eight-level ladder, each with texts."""
    columns: list[ColumnType] = []
    for kind in ("administrative", "functional", "economic"):
        family = TypeFamily("classification", kind)
        prefix, subject = f"{kind}-classification:generic", f"{kind.capitalize()} classification"
        columns += member(family, prefix, f"{subject} (any level)", described=True)
        columns += ladder(family, prefix, levels(subject, 8), described=True)
    return columns


def _standard_classifications() -> list[ColumnType]:
    """The named standards: UN COFOG (functions of government), IMF GFSM (economic) and the object classification."""
    functional, economic = TypeFamily("classification", "functional"), TypeFamily("classification", "economic")
    cofog = "functional-classification:cofog"
    cofog_steps = [("division", "COFOG division"), ("group", "COFOG group"), ("class", "COFOG class")]
    return [
        *member(functional, cofog, "COFOG function (any level)", described=True),
        *ladder(functional, cofog, cofog_steps, described=True),
        *ladder(economic, "economic-classification:gfsm", levels("GFSM", 4), described=True),
        *ladder(
            TypeFamily("classification", "object"), "object-classification:generic", levels("Object classification", 4)
        ),
    ]


def _activities() -> list[ColumnType]:
    family = TypeFamily("activity")
    steps = [
        ("program", "Program"),
        ("subprogram", "Sub-program"),
        ("project", "Project"),
        ("subproject", "Sub-project"),
        ("contract", "Contract"),
    ]
    return [
        *ladder(family, "activity:generic", steps),
        family.column("activity:generic:subproject:kind", "Sub-project kind", "What kind of sub-project this is."),
    ]


def _entities() -> list[ColumnType]:
    """Who spends, buys, receives and supplies; procurers and recipients may also come with their bank details."""
    family = TypeFamily("entity")
    columns: list[ColumnType] = []
    for entity in ("administrator", "procurer", "recipient", "supplier"):
        columns += member(family, f"{entity}:generic", entity.capitalize(), code="id", label="name")
    for entity in ("procurer", "recipient"):
        bank = f"{entity}:bank"
        columns += [
            family.column(
                f"{bank}:code", f"{entity.capitalize()} bank code", f"Code of the {entity}'s bank.", unique=True
            ),
            family.column(f"{bank}:account", f"{entity.capitalize()} bank account", f"The {entity}'s bank account."),
            *member(family, f"{bank}:branch", f"{entity.capitalize()} bank branch", label="name"),
        ]
    return columns + _legal_entity(family)


def _legal_entity(family: TypeFamily) -> list[ColumnType]:
    """A recipient may be a legal entity (a company, say) and the money may go to one project of it."""
    entity, project = "recipient:generic:legal-entity", "recipient:generic:legal-entity:receiving-project"
    return [
        family.column("recipient:generic:url", "Recipient web address", "A web page about the recipient."),
        *member(family, entity, "Recipient legal entity", parent="recipient:generic:id"),
        family.column(
            f"{entity}:point-of-contact:description",
            "Legal entity contact",
            "Who represents the legal entity, in free text.",
        ),
        *member(family, project, "Receiving project", parent=f"{entity}:code", described=True),
        family.column(f"{project}:status", "Receiving project status", "Status of the receiving project."),
    ]


def _locations() -> list[ColumnType]:
    """Places: where money comes from or goes to (with the code list the codes are drawn from), and addresses."""
    family = TypeFamily("location")
    columns: list[ColumnType] = []
    for role, subject in (("generic", "Place"), ("source", "Source place"), ("target", "Target place")):
        prefix = f"geo-source:{role}"
        columns += member(family, prefix, subject, label="title")
        columns.append(
            family.column(
                f"{prefix}:codeList",
                f"{subject} code list",
                f"Which code list the {mid_sentence(subject)} codes come from.",
                unique=True,
            )
        )
    columns += ladder(family, "geo-source:target", levels("Target place", 2), label="title")
    address = "geo-source:address"
    parts = [
        ("country", "Address country"),
        ("region", "Address region"),
        ("county", "Address county"),
        ("city", "Address city"),
    ]
    columns += ladder(family, address, parts)
    return [
        *columns,
        family.column(
            f"{address}:zip:code",
            "Address postal code",
            "Postal code of the address.",
            unique=True,
            parent=f"{address}:city:code",
        ),
        family.column(f"{address}:street-address:description", "Street address", "Street and number of the address."),
    ]


def _identifiers() -> list[ColumnType]:
    """Facts identifying a row; the two `-kind` columns only qualify it, so they stay out of the key."""
    family = TypeFamily("fact")
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
        *(
            family.column(f"transaction-id:{key}", title, description, unique=unique)
            for key, (title, unique, description) in transaction_ids.items()
        ),
    ]


def _fiscal_attributes() -> list[ColumnType]:
    family = TypeFamily("other")
    fin_source = "fin-source:generic"
    return [
        family.column("direction", "Direction", "Whether the amounts are expenditure or revenue.", unique=True),
        *member(family, "phase", "Budget phase", code="id"),
        *member(family, fin_source, "Source of funds (any level)"),
        *ladder(family, fin_source, levels("Source of funds", 3)),
        *member(family, "expenditure-type", "Expenditure type"),
        family.column("budgetary-transfers", "Budgetary transfers", "Whether the spending includes budget transfers."),
    ]


def _amounts() -> list[ColumnType]:
    other = TypeFamily("other")
    value = ColumnType(
        name="value",
        data_type="number",
        dimension_type=None,
        classification_type=None,
        unique=False,
        labelfor=None,
        parent=None,
        display_name="Amount",
        description="A money amount: budgeted, spent or received.",
        group=GROUPS["value"],
    )
    return [value, *member(other, "value-kind", "Amount kind"), *member(other, "value-currency", "Currency")]


def _unknowns() -> list[ColumnType]:
    family = TypeFamily("other")
    data_types: tuple[DataType, ...] = ("string", "date", "time", "datetime", "number", "integer")
    return [
        family.column(
            f"unknown:{data_type}",
            f"Other ({data_type})",
            f"Any {data_type} column no other type fits.",
            data_type=data_type,
        )
        for data_type in data_types
    ]


def _fixes(columns: Iterable[ColumnType]) -> list[ColumnType]:
    """Correct os-types' self-labelling recipient branch name (see packaging/vocabulary.py's docstring)."""
    branch = "recipient:bank:branch"
    return [
        replace(column, labelfor=f"{branch}:code") if column.name == f"{branch}:name" else column for column in columns
    ]


def build_column_types() -> dict[str, ColumnType]:
    columns = [
        *_dates(),
        *_classifications(),
        *_standard_classifications(),
        *_activities(),
        *_entities(),
        *_locations(),
        *_identifiers(),
        *_fiscal_attributes(),
        *_amounts(),
        *_unknowns(),
    ]
    ordered = sorted(_fixes(columns), key=lambda column: (column.group, column.name))
    by_name = {column.name: column for column in ordered}
    if len(by_name) != len(ordered):
        raise RuntimeError("two families generate the same column type name")
    return by_name
