"""What the `NAME ... | --all-*` commands share (`convert`, `publish`, `propose_mappings`, `import_legacy`): dataset
names, one loop that acts on each dataset and counts what happened, its summary line, and the exit status.

Exit status 1 says the run could not be done; 2 says it went through every dataset and some failed (each says why),
so a script or `migrate_legacy` can tell "nothing happened" from "mostly done".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.core.management.base import CommandError
from django.db.models import Model, QuerySet

from migration_site.lib.progress import Progress

M = TypeVar("M", bound=Model)
T = TypeVar("T")

__all__ = [
    "FAILED",
    "SOME_DATASETS_FAILED",
    "Outcome",
    "Tally",
    "datasets_named",
    "each_dataset",
    "some_datasets_failed",
]

SOME_DATASETS_FAILED = 2
FAILED = "failed"

Outcome = tuple[str, str]
"""One dataset's line for the user, and what it counts as ("converted", "unchanged", FAILED, ...)."""


def some_datasets_failed(message: str) -> CommandError:
    return CommandError(message, returncode=SOME_DATASETS_FAILED)


def datasets_named(names: Sequence[str], datasets: QuerySet[M]) -> list[M]:
    """The datasets with these names (from `datasets`), by name; CommandError naming the missing ones."""
    found = list(datasets.filter(name__in=names).order_by("name"))
    missing = sorted(set(names) - {getattr(dataset, "name", "") for dataset in found})
    if missing:
        raise CommandError(f"no such dataset: {', '.join(missing)}")
    return found


class Tally:
    """What happened to each dataset of a run, counted by outcome."""

    def __init__(self, noun: str = "dataset") -> None:
        self.noun = noun
        self.counts: Counter[str] = Counter()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def failed(self) -> int:
        return self.counts[FAILED]

    def summary(self) -> str:
        """`3 datasets: 1 converted, 2 unchanged`, outcomes in alphabetical order: the line reads the same each run."""
        counted = ", ".join(f"{count} {outcome}" for outcome, count in sorted(self.counts.items()))
        return f"{self.plural(self.total)}: {counted or 'none'}"

    def plural(self, count: int) -> str:
        return f"{count} {self.noun}" if count == 1 else f"{count} {self.noun}s"

    def finish(self, write: Callable[[str], object], summary: str | None = None) -> None:
        """Write the summary line; exit status 2 when any dataset failed, even when every one did: the run went
        through them all, and each failure is on its own line above."""
        write(summary if summary is not None else self.summary())
        if self.failed:
            raise some_datasets_failed(f"{self.failed} of {self.plural(self.total)} failed (see above)")


def each_dataset(
    write: Callable[[str], object], items: Sequence[T], act: Callable[[T], Outcome], *, noun: str = "dataset"
) -> Tally:
    """Act on every item in turn, one progress line each; a failure is an outcome like any other, so the run goes on."""
    tally = Tally(noun)
    progress = Progress(write, label=f"{noun}s")
    progress.start(len(items))
    try:
        for item in items:
            line, outcome = act(item)
            tally.counts[outcome] += 1
            progress.advance(line)
    finally:
        progress.close()
    return tally
