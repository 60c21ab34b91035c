"""Old openspending.org links to a dataset that has no published package.

One case is said out loud: a dataset everyone could see on the legacy platform that a migration admin excluded from
the migration answers 410 Gone, naming the dataset and nothing else (its legacy name was public, and its links are
out there). Every other case (private on the legacy platform, decided to be kept private, not published yet, or no
such dataset) raises the same Http404 as an unknown name: the response cannot tell them apart, so it discloses
neither that a private dataset exists nor why it is not shown.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from conversion.models import DatasetDecision
from datasets.models import LegacyDataset

NOT_FOUND = "No such package"


def not_migrated(request: HttpRequest, legacy_name: str) -> HttpResponse:
    """410 for a public legacy dataset that was excluded; Http404 (the unknown name's) for anything else."""
    name = excluded_public_dataset(legacy_name)
    if name is None:
        raise Http404(NOT_FOUND)
    return render(request, "publishing/not_migrated.html", {"legacy_name": name}, status=410)


def excluded_public_dataset(legacy_name: str) -> str | None:
    """The name of the legacy dataset called `legacy_name` if it was public there and a migration admin excluded it."""
    excluded = LegacyDataset.objects.filter(
        name=legacy_name, private=False, decision__decision=DatasetDecision.Choice.EXCLUDE
    )
    return excluded.values_list("name", flat=True).first()
