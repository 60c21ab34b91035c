"""The sentences a build adds to its report's notes, for the people who read the provenance. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conversion.packaging.number_formats import describe
from conversion.packaging.package_spec import ColumnSpec


def widened_note(name: str, count: int) -> str:
    return (
        f"{name}: {count} value(s) name a month or a year (such as 2012-10 or 2013), written as its first day "
        "(2012-10-01, 2013-01-01), as the legacy platform stored them and as OpenSpending's loader reads dates; the "
        "fiscal period still covers the whole month or year."
    )


def partial_note(gone: list[dict[str, Any]]) -> str:
    ids = ", ".join(str(item["id"]) for item in gone)
    return (
        f"Source(s) {ids}, loaded by the legacy platform, cannot be read and the cube's rows were not exported: the "
        "package holds the rows of the other sources only, and reconciliation shows what is missing."
    )


def period_note(columns: Sequence[ColumnSpec], period: dict[str, str]) -> str:
    dated = [column.field for column in columns if column.column_type.startswith("date:")]
    why = f"no date in its column(s) {', '.join(dated)}" if dated else "no date column"
    return (
        f"The data has {why}: the fiscal period ({period.get('start')} to {period.get('end')}) is the year of the "
        "legacy default_time, the year the legacy editor showed first, not the time the data covers."
    )


def reformatted_note(name: str, count: int, number_format: tuple[str, str]) -> str:
    return (
        f"{name}: {count} value(s) written in the format a curator chose ({describe(*number_format)}), which the "
        "legacy loader did not know: it refused those rows or read them otherwise, so reconciliation shows any "
        "difference from the cube."
    )
