"""The database side of a publication: the row a package has, whether it is out already, and what it records.

`PublishedPackage` is the public site's source of truth (every page reads `published()`); these functions decide
which row a run writes, whether its upload can be skipped, and fill the row from what was stored.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from conversion.models import ConversionRun
from conversion.packaging.descriptor import LEGACY_DEFAULT_TIME
from datasets.models import LegacyDataset
from migration_site.lib.web_links import http_url
from publishing import formats, store
from publishing.models import PublishedPackage, package_page_url


class Refused(Exception):
    """The run must not do what it was asked: the dataset may not be public, the path belongs to another package."""


def package_at(owner: str, name: str, dataset: LegacyDataset | None) -> PublishedPackage | None:
    """The dataset's record (wherever it was stored), or the upload's; refused when another package has the path."""
    mine = (
        PublishedPackage.objects.filter(dataset=dataset).first()
        if dataset is not None
        else PublishedPackage.objects.filter(owner=owner, name=name, dataset__isnull=True).first()
    )
    taken = PublishedPackage.objects.filter(owner=owner, name=name)
    if mine is not None:
        taken = taken.exclude(pk=mine.pk)
    other = taken.select_related("dataset").first()
    if other is not None:
        holder = f"the package of dataset {other.dataset.name}" if other.dataset else "an uploaded package"
        raise Refused(f"{owner}/{name} holds {holder}; choose another owner or name")
    return mine


def already_out(package: PublishedPackage, conversion: ConversionRun, *, owner: str, name: str) -> bool:
    """This conversion is published at the same place with the same links and its Parquet copies, and its objects
    are all there: no need to fetch the package from storage again and hash it (the row's hashes were verified when
    it was uploaded). A package published before the copies existed is prepared again, which adds them."""
    copies = formats.alternates_bytes(package.descriptor)
    return (
        package.run_id == conversion.pk
        and package.withdrawn_at is None
        and (package.owner, package.name) == (owner, name)
        and package.descriptor.get("homepage") == package_page_url(owner, name)
        and not formats.lacks_parquet(package.descriptor)
        and store.objects_present(package.descriptor_key, package.data_keys, total_bytes=package.bytes + copies)
    )


def unchanged(package: PublishedPackage, prepared: store.PreparedPackage) -> bool:
    """Same bytes as the record says are published, and the store still has every object."""
    return (
        package.withdrawn_at is None
        and (package.owner, package.name) == (prepared.owner, prepared.name)
        and package.descriptor_sha256 == prepared.descriptor_file.sha256
        and list(package.data_keys) == prepared.data_keys
        and store.package_is_stored(prepared)
    )


def superseded(dataset: LegacyDataset, conversion: ConversionRun) -> str:
    """A late job must not put an older package over a newer one."""
    current = PublishedPackage.objects.filter(dataset=dataset, withdrawn_at=None).values_list("run_id", flat=True)
    newer = [pk for pk in current if pk is not None and pk > conversion.pk]
    return f"a newer conversion (run {newer[0]}) is published already" if newer else ""


def package_save(
    package: PublishedPackage | None,
    prepared: store.PreparedPackage,
    *,
    dataset: LegacyDataset | None,
    conversion: ConversionRun | None,
    rows: int | None,
) -> PublishedPackage:
    now = timezone.now()
    descriptor = prepared.descriptor
    changed = package is None or package.descriptor_sha256 != prepared.descriptor_file.sha256
    if package is None or package.withdrawn_at is not None:
        package = package or PublishedPackage(published_at=now)
        package.published_at = now
    package.dataset, package.run = dataset, conversion
    package.owner, package.name = prepared.owner, prepared.name
    package.title = str(descriptor.get("title") or prepared.name)[:500]
    package.description = str(descriptor.get("description") or "")
    package.country = str(descriptor.get("countryCode") or "")[:8]
    package.currency = str(descriptor.get("currency") or "")[:8]
    package.category = (dataset.category if dataset else str(_legacy(descriptor).get("category") or ""))[:32]
    package.years = _years(dataset, descriptor)
    package.rows = int(descriptor.get("count_of_rows") or rows or 0)
    package.bytes, package.data_sha256 = prepared.data_bytes, prepared.data_sha256
    package.descriptor_sha256, package.descriptor = prepared.descriptor_file.sha256, descriptor
    package.data_keys = prepared.data_keys
    package.legacy_name = dataset.name if dataset else ""
    package.legacy_url = (http_url(dataset.legacy_url) if dataset else None) or ""  # a link, so http(s) or nothing
    package.public, package.withdrawn_at, package.purged_at = True, None, None
    if changed:
        package.modified_at = now
    package.save()
    return package


def _legacy(descriptor: dict[str, Any]) -> dict[str, Any]:
    legacy = descriptor.get("legacy")
    return legacy if isinstance(legacy, dict) else {}


def _provenance(descriptor: dict[str, Any]) -> dict[str, Any]:
    provenance = descriptor.get("provenance")
    return provenance if isinstance(provenance, dict) else {}


def _years(dataset: LegacyDataset | None, descriptor: dict[str, Any]) -> list[int]:
    """The years the legacy cube had totals for; else the years of the fiscal period, unless the build only guessed
    that from the legacy default_time (the data had no dates): no years is better than a wrong one."""
    measures = ((dataset.aggregates or {}).get("measures") or {}) if dataset else {}
    years = {int(year) for measure in measures.values() for year in (measure.get("by_year") or {}) if year.isdigit()}
    period = descriptor.get("fiscalPeriod")
    guessed = _provenance(descriptor).get("fiscal_period_from") == LEGACY_DEFAULT_TIME
    if not years and isinstance(period, dict) and not guessed:
        bounds = [str(period.get(key) or "")[:4] for key in ("start", "end")]
        if all(bound.isdigit() for bound in bounds):
            years = set(range(int(bounds[0]), int(bounds[1]) + 1))
    return sorted(years)
