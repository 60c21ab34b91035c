"""Export a legacy instance over HTTP into a dump folder: DIR/<name>/{dataset.json, archive/, entries.csv, ...}.

Every step of a dataset is guarded: a failure is written into dataset.json (`export.problems`) and the export goes
on. What an earlier run fetched successfully is kept when the same step fails now. The steps are in
datasets/export_steps.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from datasets.client import LegacyClient
from datasets.downloads import FETCHED, UNREACHABLE
from datasets.export_discovery import ExportFailed, ExportOptions, discover, name_problem
from datasets.export_files import read_json, write_json_atomically
from datasets.export_steps import Work, dataset_fields, fetch_cube, fetch_editor, fetch_model, fetch_sources, fetch_team

TOOL = "openspending-migration"
DATASET_FILE = "dataset.json"
REPORT_FILE = "export-report.json"


@dataclass
class DatasetOutcome:
    name: str
    ok: bool = True
    private: bool = False
    sources_fetched: int = 0
    sources_unreachable: int = 0
    bytes: int = 0
    entries: int | None = None
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ExportSummary:
    base_url: str
    outcomes: list[DatasetOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[DatasetOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.ok]

    def totals(self) -> dict[str, int]:
        return {
            "datasets": len(self.outcomes),
            "private": sum(outcome.private for outcome in self.outcomes),
            "failed": len(self.failed),
            "sources_fetched": sum(outcome.sources_fetched for outcome in self.outcomes),
            "sources_unreachable": sum(outcome.sources_unreachable for outcome in self.outcomes),
            "bytes": sum(outcome.bytes for outcome in self.outcomes),
            "entries": sum(outcome.entries or 0 for outcome in self.outcomes),
        }


# -- the whole run ------------------------------------------------------------------------------------------------


def export_instance(
    client: LegacyClient,
    target: Path,
    options: ExportOptions,
    *,
    on_dataset: Callable[[DatasetOutcome], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> ExportSummary:
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportFailed(f"cannot write to {target}: {error}") from error
    names = discover(client, include_private=options.include_private, only=options.names)
    if on_start:
        on_start(len(names))
    summary = ExportSummary(base_url=client.base_url)

    def run(item: tuple[str, bool]) -> DatasetOutcome:
        name, private = item
        try:
            return export_dataset(client, name, target, private=private, options=options)
        except Exception as error:  # one dataset's failure, whatever it is, must not end the run
            return _failed(client, name, private, f"{type(error).__name__}: {error}")

    with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
        for outcome in pool.map(run, names.items()):
            summary.outcomes.append(outcome)
            if on_dataset:
                on_dataset(outcome)
    write_json_atomically(
        target / REPORT_FILE,
        {
            "tool": TOOL,
            "legacy_url": client.base_url,
            "finished_at": _now(),
            "totals": summary.totals(),
            "datasets": [outcome.as_dict() for outcome in summary.outcomes],
        },
        redact=client.redact,
    )
    return summary


def _failed(client: LegacyClient, name: str, private: bool, problem: str) -> DatasetOutcome:
    """The outcome of a dataset that could not be exported; its name and problem as safe to print and write."""
    return DatasetOutcome(name=client.redact(name), ok=False, private=private, problems=[client.redact(problem)])


# -- one dataset ----------------------------------------------------------------------------------------------------


def export_dataset(
    client: LegacyClient, name: str, target: Path, *, private: bool, options: ExportOptions
) -> DatasetOutcome:
    """Export one dataset into target/<name>/; a name that cannot be one folder there is refused first."""
    refusal = _refusal(client, name, target)
    if refusal is not None:
        return _failed(client, name, private, f"refused: {refusal}")
    folder = target / name
    folder.mkdir(exist_ok=True)
    work = Work(client=client, name=name, folder=folder, options=options, previous=read_json(folder / DATASET_FILE))
    meta = work.fetch("dataset", f"{quote(name)}.json")
    if not isinstance(meta, Mapping):
        problems = [p["problem"] for p in work.problems] or ["dataset metadata is not an object"]
        return DatasetOutcome(name=name, ok=False, private=private, problems=problems)  # the old dataset.json stays
    document = _document(work, meta, private=private)
    write_json_atomically(folder / DATASET_FILE, document, redact=client.redact)
    return _outcome(DatasetOutcome(name=name, private=private), document, work)


def _refusal(client: LegacyClient, name: str, target: Path) -> str | None:
    problem = name_problem(client, name)
    if problem is None and (target / name).is_symlink():
        # Written through, it would put the dataset's files wherever the link points.
        problem = f"{target / name} is a symbolic link"
    return problem


def _document(work: Work, meta: Mapping[str, Any], *, private: bool) -> dict[str, Any]:
    """dataset.json: the 2015 dumps' shape, plus what the export saw (runs, visualisations, problems)."""
    document = dataset_fields(meta, private=private)
    if document["name"] != work.name:
        work.problem("dataset", f"the instance answered for the name {str(document['name'])[:80]!r}")
        document["name"] = work.name  # the name we asked for, checked above, is the one the dump folder has
    document["data"], model_error = fetch_model(work)
    document["sources"] = fetch_sources(work)
    visualisations = work.fetch("views", f"{quote(work.name)}/views.json")
    document["visualisations"] = visualisations or work.previous.get("visualisations", [])
    document.update(fetch_team(work))
    editor = fetch_editor(work)
    if editor is not None:
        document["runs"], loaded = editor
        for source in document["sources"]:
            source["loaded"] = loaded.get(source["url"], False)
    fetch_cube(work, document)
    document["export"] = {
        "tool": TOOL,
        "legacy_url": work.client.base_url,
        "exported_at": _now(),
        "problems": work.problems,
        "model_error": model_error,
    }
    return document


def _outcome(outcome: DatasetOutcome, document: Mapping[str, Any], work: Work) -> DatasetOutcome:
    for source in document.get("sources", []):
        archive = source.get("archive", {})
        if archive.get("status") == FETCHED:
            outcome.sources_fetched += 1
            outcome.bytes += int(archive.get("size") or 0)
        elif archive.get("status") == UNREACHABLE:
            outcome.sources_unreachable += 1
    entries = document.get("entries")
    outcome.entries = entries.get("rows") if isinstance(entries, Mapping) else None
    outcome.problems = [f"{p['step']}: {p['problem']}" for p in work.problems]
    return outcome


# -- files ----------------------------------------------------------------------------------------------------------


def iter_dataset_names(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value.strip() for value in values if value.strip()))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
