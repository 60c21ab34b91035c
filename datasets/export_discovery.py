"""Which datasets an export takes: the public listing, private candidates the key can read, names given.

Every name here is hostile input (a listing can hold `../x` or 300 characters): names are not filtered but
refused one by one when their dataset is exported, so the report says which were skipped and why.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

from datasets import legacy_html
from datasets.client import LegacyClient, LegacyError
from datasets.names import dataset_name_problem


class ExportFailed(Exception):
    """The export as a whole cannot run (the instance is unreachable, the target is unusable)."""


@dataclass(frozen=True)
class ExportOptions:
    include_private: bool = False
    names: tuple[str, ...] = ()
    entries: bool = True
    workers: int = 4
    max_source_bytes: int = 512 * 1024 * 1024


def discover(client: LegacyClient, *, include_private: bool, only: tuple[str, ...]) -> dict[str, bool]:
    """Dataset names to export, each with whether it is private. Raises ExportFailed when the listing fails."""
    try:
        listing = client.get_json("datasets.json")
    except LegacyError as error:
        raise ExportFailed(f"cannot list datasets: {client.redact(str(error))}") from error
    if not isinstance(listing, Mapping) or not isinstance(listing.get("datasets"), list):
        raise ExportFailed(f"{client.url('datasets.json')} did not answer a dataset listing")
    public = {str(item["name"]) for item in listing["datasets"] if isinstance(item, Mapping) and item.get("name")}
    found = dict.fromkeys(sorted(public), False)
    if include_private:
        if not client.has_api_key:
            raise ExportFailed("--include-private needs --api-key: private datasets are only visible to their team")
        found.update(dict.fromkeys(sorted(_private_candidates(client) - public), True))
    if only:
        return {name: found.get(name, name not in public) for name in only}
    return found


def _private_candidates(client: LegacyClient) -> set[str]:
    """Names the key's account can read beyond the public listing: its dashboard and the search facets."""
    names: set[str] = set()
    with contextlib.suppress(LegacyError):
        names.update(legacy_html.parse_managed_datasets(client.get_text("dashboard")))
    try:
        answer = client.get_json("api/2/search", {"facet_field": "dataset", "pagesize": 0, "facet_pagesize": 100})
        facets = answer.get("facets", {}).get("dataset", []) if isinstance(answer, Mapping) else []
        names.update(str(pair[0]) for pair in facets if isinstance(pair, list) and pair)
    except (LegacyError, AttributeError):
        pass
    return names  # unsafe names are refused and reported one by one, with the listing's


def name_problem(client: LegacyClient, name: str) -> str | None:
    """Why this listed name cannot be exported: not one safe folder name, or it holds the key we sent."""
    if client.has_api_key and client.redact(name) != name:
        return "the dataset name holds the API key"
    return dataset_name_problem(name)
