"""Reading the archived original sources of a legacy dataset: headers, first rows, sample values per column."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.files.storage import default_storage

from datasets.models import LegacyDataset, Source

SAMPLE_ROWS = 200
SAMPLES_PER_COLUMN = 20
ENCODINGS = ("utf-8-sig", "cp1252")


@dataclass
class SourceData:
    """What the first rows of the archived sources hold, column by column."""

    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)
    samples: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_source_data(dataset: LegacyDataset, *, rows: int = SAMPLE_ROWS) -> SourceData:
    """The first `rows` rows of each archived source, merged; the legacy analysis's headers when none is archived."""
    data = SourceData()
    sources = list(dataset.sources.filter(archive_status=Source.ArchiveStatus.FETCHED).exclude(archived_file=""))
    for source in sources:
        try:
            _add_rows(data, _read_rows(source.archived_file.name, rows))
        except (OSError, csv.Error, UnicodeError) as error:
            data.problems.append(f"source {source.legacy_id}: cannot read the archived file: {error}")
    if not sources:
        data.columns = _analysis_columns(dataset)
    return data


def _add_rows(data: SourceData, read: Iterator[dict[str, str]]) -> None:
    for row in read:
        for column, value in row.items():
            if column is None:
                continue
            if column not in data.samples:
                data.columns.append(column)
                data.samples[column] = []
            kept = data.samples[column]
            if value and value.strip() and len(kept) < SAMPLES_PER_COLUMN and value not in kept:
                kept.append(value)
        data.rows.append(row)


def _read_rows(name: str, limit: int) -> Iterator[dict[str, str]]:
    with default_storage.open(name, "rb") as handle:
        head = handle.read(4 * 1024 * 1024)
    text = _decode(head)
    reader = csv.DictReader(io.StringIO(text))
    for count, row in enumerate(reader):
        if count >= limit:
            break
        yield {str(key): (value if isinstance(value, str) else "") for key, value in row.items() if key is not None}


def _decode(data: bytes) -> str:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as error:
            if encoding == "utf-8-sig" and error.start > len(data) - 4:
                # The read cut a multi-byte character in half at the end: drop the partial bytes.
                return data[: error.start].decode(encoding)
    return data.decode("latin-1")


def _analysis_columns(dataset: LegacyDataset) -> list[str]:
    """The legacy analysis kept a source's headers even when the file is gone (unless it captured an error page)."""
    columns: list[str] = []
    for source in dataset.sources.all():
        analysis = source.analysis if isinstance(source.analysis, dict) else {}
        for column in analysis.get("columns") or []:
            if isinstance(column, str) and not column.lstrip().startswith("<") and column not in columns:
                columns.append(column)
    return columns
