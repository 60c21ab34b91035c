"""Bulk downloads: every published package's rows as zip files, segmented by year, each under the size limits.

Segmentation follows the OCDS hosting guidance (seed: "Data files, APIs and discovery"): split by date, and keep items
from "jumping" between files when the files are regenerated. So a segment belongs to one package and one year:
`/bulk/<year>/<owner>/<dataset>-part-<n>.zip` holds rows of that package whose date column says <year>, in file order,
cut into parts only when a part would exceed `BULK_MAX_ZIPPED_BYTES` (default 10 MB) or `BULK_MAX_UNZIPPED_BYTES`
(default 1 GB). Publishing or changing another package never moves a row; only a change of the package itself can.
A row's year comes from the first field whose `columnType` is `date:*` (as the builder's own tallies do); a package
without one goes under its only year, or under `undated`.

Files are built on demand and kept in the public storage under `bulk/<owner>/<dataset>/<digest>/` (a manifest and the
zips), where the digest covers everything the bytes depend on (data and descriptor hashes, data keys, limits, format
version). The zips are byte-for-byte reproducible (fixed entry timestamps), so a rebuild never changes an ETag.
Building them is in publishing/bulk_segments.py.

Nothing outlives the package version it was built from. A folder per package (rather than `bulk/<digest>/`, which
would take a read of every manifest in the bucket to find a package's files) makes that a listing of one folder:
publishing a new version deletes the package's other digests (`superseded_purge`); a withdrawal or a move to another
owner deletes the whole folder (`package_purge`) and every index document (`bulk/index-<etag>.json`, each listing
all packages: `index_purge`). A build that ends after its package changed or left `published()` (a request racing a
withdrawal) deletes what it stored, and a build that fails deletes the parts it stored.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse

from publishing.bulk_segments import Limits, Segment, part_file_name, write_segments
from publishing.caching import Stamp, etag_of
from publishing.models import PublishedPackage
from publishing.store import delete_keys, public_storage, remove_empty_folders, walk

BULK_FORMAT = "1"
MANIFEST = "manifest.json"
# Index documents, also under another name a local storage chose when two processes wrote the same one at once.
INDEX = re.compile(r"^index-.*\.json$")


def max_zipped() -> int:
    return settings.BULK_MAX_ZIPPED_BYTES


def max_unzipped() -> int:
    return settings.BULK_MAX_UNZIPPED_BYTES


def digest(package: PublishedPackage) -> str:
    limits = [max_zipped(), max_unzipped()]
    parts = [BULK_FORMAT, package.data_sha256, package.descriptor_sha256, package.data_keys, *limits]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:40]


def segment_etag(package: PublishedPackage, year: str, part: int) -> str:
    return etag_of("bulk", digest(package), year, part)


def package_folder(owner: str, name: str) -> str:
    """Where every bulk file of the package at `<owner>/<name>` is, whatever its version."""
    return f"bulk/{owner}/{name}/"


def digest_folder(package: PublishedPackage) -> str:
    return f"{package_folder(package.owner, package.name)}{digest(package)}"


def package_segments(package: PublishedPackage) -> list[Segment]:
    """The package's segments, from the stored manifest, or built (and stored) now."""
    key = f"{digest_folder(package)}/{MANIFEST}"
    storage = public_storage()
    if storage.exists(key):
        with storage.open(key, "rb") as handle:
            return [Segment(**item) for item in json.load(handle)["segments"]]
    segments = build_segments(package)
    manifest = {"package": package.package_id, "segments": [asdict(segment) for segment in segments]}
    saved = storage.save(key, ContentFile(json.dumps(manifest, indent=1).encode()))
    if not _still_current(package):
        delete_keys([saved, *(segment.key for segment in segments)])
    return segments


def _still_current(package: PublishedPackage) -> bool:
    """Whether this version of the package is still published at its place. Checked after a build has stored its
    files: a withdrawal or re-publication that changed the row before this check deletes files only after it, so
    either this check sees the change or that deletion sees the files."""
    same_version = {
        "owner": package.owner,
        "name": package.name,
        "data_sha256": package.data_sha256,
        "descriptor_sha256": package.descriptor_sha256,
    }
    return PublishedPackage.objects.published().filter(pk=package.pk, **same_version).exists()


# -- deleting ---------------------------------------------------------------------------------------------------------


def superseded_purge(package: PublishedPackage) -> list[str]:
    """Delete the package's bulk files of other digests (an older version, other limits): never read again."""
    folder, current = package_folder(package.owner, package.name), digest(package)
    try:
        digests, _ = public_storage().listdir(folder.rstrip("/"))
    except FileNotFoundError:
        return []
    stale = [key for name in sorted(digests) if name != current for key in _manifests_first(f"{folder}{name}/")]
    delete_keys(stale)
    remove_empty_folders(folder)
    return stale


def package_purge(owner: str, name: str) -> list[str]:
    """Delete every bulk file of the package at `<owner>/<name>`, whatever its version: for a withdrawal, or when the
    package moves to another owner (with `index_purge`). Returns the keys deleted."""
    folder = package_folder(owner, name)
    keys = _manifests_first(folder)
    delete_keys(keys)
    remove_empty_folders(folder)
    return keys


def index_purge() -> list[str]:
    """Delete every index document: each lists every package published when it was built. The next /bulk/ request
    writes the current one."""
    keys = index_keys()
    delete_keys(keys)
    return keys


def _manifests_first(prefix: str) -> list[str]:
    """The keys under a folder, manifests first: no reader then finds a manifest naming a zip already deleted."""
    keys = list(walk(prefix))
    return sorted(keys, key=lambda key: not key.endswith(f"/{MANIFEST}"))


def index_keys() -> list[str]:
    try:
        _, files = public_storage().listdir("bulk")
    except FileNotFoundError:
        return []
    return [f"bulk/{name}" for name in sorted(files) if INDEX.match(name)]


def find_segment(package: PublishedPackage, year: str, part: int) -> Segment | None:
    return next((s for s in package_segments(package) if s.year == year and s.part == part), None)


# -- building ---------------------------------------------------------------------------------------------------------


def build_segments(package: PublishedPackage) -> list[Segment]:
    """The package's segments built and stored now, under the limits of the settings (see `write_segments`)."""
    return write_segments(package, digest_folder(package), Limits(max_zipped(), max_unzipped()))


# -- the index ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    owner: str
    name: str
    title: str
    segment: Segment

    @property
    def file_name(self) -> str:
        return part_file_name(self.name, self.segment.part)

    @property
    def path(self) -> str:
        return reverse("publishing:bulk_part", args=[self.segment.year, self.owner, self.file_name])


def bulk_index(stamp: Stamp) -> list[Listed]:
    """Every segment of every published package, cached in storage per catalogue state (one read when warm). The
    documents of other states are deleted when one is written: they are not read again, and they list packages
    that may have been withdrawn since."""
    key = f"bulk/index-{etag_of('bulk-index', stamp, max_zipped(), max_unzipped()).strip(chr(34))}.json"
    storage = public_storage()
    if storage.exists(key):
        with storage.open(key, "rb") as handle:
            return [_listed(item) for item in json.load(handle)]
    listed = list(_list_segments())
    saved = storage.save(key, ContentFile(json.dumps([asdict(item) for item in listed], indent=1).encode()))
    if _all_published(listed):
        delete_keys([other for other in index_keys() if other != saved])
    else:  # a package was withdrawn while the document was built: its purge may have run already
        delete_keys([saved])
    return listed


def _all_published(listed: list[Listed]) -> bool:
    published = set(PublishedPackage.objects.published().values_list("owner", "name"))
    return all((item.owner, item.name) in published for item in listed)


def _list_segments() -> Iterator[Listed]:
    # The descriptor is only read when a package's segments are not built yet.
    for package in PublishedPackage.objects.published().defer("descriptor").order_by("owner", "name"):
        for segment in package_segments(package):
            yield Listed(package.owner, package.name, package.title or package.name, segment)


def _listed(item: dict[str, Any]) -> Listed:
    return Listed(item["owner"], item["name"], item["title"], Segment(**item["segment"]))
