"""What the commands share: dataset names (`convert`, `publish`, `propose_mappings`), and the exit status of a run
that went through every dataset but failed some (`export_legacy`, `import_legacy`)."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.management.base import CommandError
from django.db.models import QuerySet

from datasets.models import LegacyDataset

__all__ = ["SOME_DATASETS_FAILED", "datasets_named", "some_datasets_failed"]

# Exit status 1 says the run could not be done; 2 says it was done, and some datasets failed (each says why).
SOME_DATASETS_FAILED = 2


def some_datasets_failed(message: str) -> CommandError:
    return CommandError(message, returncode=SOME_DATASETS_FAILED)


def datasets_named(names: Sequence[str], datasets: QuerySet[LegacyDataset] | None = None) -> list[LegacyDataset]:
    """The datasets with these names (from `datasets`, default all), by name; CommandError naming the missing ones."""
    found = list((datasets if datasets is not None else LegacyDataset.objects).filter(name__in=names).order_by("name"))
    missing = sorted(set(names) - {dataset.name for dataset in found})
    if missing:
        raise CommandError(f"no such dataset: {', '.join(missing)}")
    return found
