"""The legacy cube's rows and totals, fetched over the API and written for the fallback and reconciliation."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasets.client import LegacyClient, LegacyError
from migration_site.lib.hashing import file_sha256

SEARCH_PAGE_SIZE = 100  # larger pages make the legacy server stream a differently shaped answer
LINK_KEYS = {"html_url", "taxonomy", "dataset"}


@dataclass(frozen=True)
class EntriesResult:
    rows: int
    expected: int | None
    sha256: str | None

    @property
    def complete(self) -> bool:
        return self.expected is not None and self.rows == self.expected

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": "entries.csv",
            "rows": self.rows,
            "expected": self.expected,
            "complete": self.complete,
            "sha256": self.sha256,
        }


def flatten_entry(entry: Mapping[str, Any]) -> dict[str, str]:
    """An entry as a flat row: top-level values as they are, dimension members as `<dim>.<attr>` columns."""
    row: dict[str, str] = {}
    for key, value in entry.items():
        if key in LINK_KEYS:
            continue
        if isinstance(value, Mapping):
            for attr, member_value in value.items():
                if attr not in LINK_KEYS and attr != "id":
                    row[f"{key}.{attr}"] = _cell(member_value)
        elif not isinstance(value, list):
            row[key] = _cell(value)
    return row


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def fetch_entries(
    client: LegacyClient,
    dataset: str,
    destination: Path,
    *,
    expected: int | None,
    on_page: Callable[[int], None] | None = None,
) -> EntriesResult:
    """Page through /api/2/search in id order into destination (a CSV), atomically.

    Rows go to a JSON-lines scratch file first, because the CSV header is the union of every row's keys.
    """
    scratch = destination.with_name(destination.name + ".jsonl.part")
    partial = destination.with_name(destination.name + ".part")
    try:
        header, rows, total = _fetch_to_scratch(client, dataset, scratch, on_page=on_page)
        sha256 = _scratch_to_csv(scratch, partial, header)
        os.replace(partial, destination)
    finally:
        scratch.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return EntriesResult(rows=rows, expected=expected if expected is not None else total, sha256=sha256)


def _fetch_to_scratch(
    client: LegacyClient, dataset: str, scratch: Path, *, on_page: Callable[[int], None] | None
) -> tuple[list[str], int, int | None]:
    header: dict[str, None] = {}
    rows = 0
    total: int | None = None
    page = 1
    with scratch.open("w", encoding="utf-8") as out:
        while True:
            answer = client.get_json(
                "api/2/search",
                {"dataset": dataset, "page": page, "pagesize": SEARCH_PAGE_SIZE, "order": "id:asc", "format": "json"},
            )
            results = _results(answer, client.url("api/2/search"))
            total = _results_count(answer) if total is None else total
            for entry in results:
                # The instance may echo the key we sent in any cell or column name: none of it reaches the file.
                row = {client.redact(key): client.redact(value) for key, value in flatten_entry(entry).items()}
                header.update(dict.fromkeys(row))
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            rows += len(results)
            if on_page:
                on_page(rows)
            if not results or (total is not None and rows >= total) or len(results) < SEARCH_PAGE_SIZE:
                break
            page += 1
    return list(header), rows, total


def _results(answer: Any, url: str) -> list[Mapping[str, Any]]:
    results = answer.get("results") if isinstance(answer, Mapping) else None
    if not isinstance(results, list) or not all(isinstance(item, Mapping) for item in results):
        raise LegacyError("search answer has no list of results", url=url)
    return results


def _results_count(answer: Mapping[str, Any]) -> int | None:
    stats = answer.get("stats")
    count = stats.get("results_count_query") if isinstance(stats, Mapping) else None
    return count if isinstance(count, int) else None


def _scratch_to_csv(scratch: Path, partial: Path, header: list[str]) -> str:
    with scratch.open(encoding="utf-8") as rows, partial.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=header, restval="")
        writer.writeheader()
        for line in rows:
            writer.writerow(json.loads(line))
    return file_sha256(partial)


def fetch_aggregates(client: LegacyClient, dataset: str, measures: Iterable[str]) -> dict[str, Any]:
    """Totals per measure, overall and per year, plus the cube's row count; failures are recorded, not raised."""
    result: dict[str, Any] = {"num_entries": None, "measures": {}, "errors": []}
    for measure in measures:
        totals: dict[str, Any] = {}
        try:
            summary = _aggregate(client, dataset, measure, None)
            totals["total"] = summary["summary"].get(measure)
            result["num_entries"] = summary["summary"].get("num_entries", result["num_entries"])
            currency = summary["summary"].get("currency")
            if isinstance(currency, Mapping) and currency.get(measure):
                totals["currency"] = currency[measure]
            by_year = _aggregate(client, dataset, measure, "year")
            cells = [cell for cell in by_year.get("drilldown", []) if isinstance(cell, Mapping)]
            totals["by_year"] = {str(cell.get("year")): cell.get(measure) for cell in cells}
        except (LegacyError, KeyError, TypeError, AttributeError) as error:
            result["errors"].append({"measure": measure, "problem": client.redact(str(error))})
        result["measures"][measure] = totals
    return result


def fetch_entry_count(client: LegacyClient, dataset: str, measure: str) -> int | None:
    summary = _aggregate(client, dataset, measure, None)["summary"]
    count = summary.get("num_entries")
    return count if isinstance(count, int) else None


def _aggregate(client: LegacyClient, dataset: str, measure: str, drilldown: str | None) -> dict[str, Any]:
    params = {"dataset": dataset, "measure": measure, "pagesize": 10000}
    if drilldown:
        params["drilldown"] = drilldown
    answer = client.get_json("api/2/aggregate", params)
    if not isinstance(answer, dict) or not isinstance(answer.get("summary"), Mapping):
        raise LegacyError("aggregate answer has no summary", url=client.url("api/2/aggregate"))
    return answer
