"""What the commands that take dataset names (`convert`, `publish`, `propose_mappings`) share."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.management.base import CommandError
from django.db.models import QuerySet

from datasets.models import LegacyDataset

__all__ = ["datasets_named"]


def datasets_named(names: Sequence[str], datasets: QuerySet[LegacyDataset] | None = None) -> list[LegacyDataset]:
    """The datasets with these names (from `datasets`, default all), by name; CommandError naming the missing ones."""
    found = list((datasets if datasets is not None else LegacyDataset.objects).filter(name__in=names).order_by("name"))
    missing = sorted(set(names) - {dataset.name for dataset in found})
    if missing:
        raise CommandError(f"no such dataset: {', '.join(missing)}")
    return found
