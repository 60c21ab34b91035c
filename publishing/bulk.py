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

Nothing outlives the package version it was built from. A folder per package (rather than `bulk/<digest>/`, which
would take a read of every manifest in the bucket to find a package's files) makes that a listing of one folder:
publishing a new version deletes the package's other digests (`superseded_purge`); a withdrawal or a move to another
owner deletes the whole folder (`package_purge`) and every index document (`bulk/index-<etag>.json`, each listing
all packages: `index_purge`). A build that ends after its package changed or left `published()` (a request racing a
withdrawal) deletes what it stored, and a build that fails deletes the parts it stored.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
import posixpath
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.urls import reverse

from publishing.caching import Stamp, etag_of
from publishing.links import data_files
from publishing.models import PublishedPackage
from publishing.store import delete_keys, public_storage, remove_empty_folders, walk

logger = logging.getLogger(__name__)
BULK_FORMAT = "1"
UNDATED = "undated"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # reproducible zips: the package's date is in Last-Modified, not in the bytes
# Upper bounds used to keep a part under the zipped limit before its compressed size is known:
# - zlib holds back at most one block: at most ~16k symbols (about 100 KB compressed at memLevel 8), and never more
#   than the raw bytes it has not emitted yet plus 1/8 (fixed codes spend 9 bits on some bytes) and a few bytes;
# - each entry costs a local header, a central directory record (both with the name) and the end records.
PENDING_BOUND = 256 * 1024
BUFFER = 64 * 1024
ENTRY_OVERHEAD = 128  # local header 30, central record 46, zip64 extras 20 + 28; the name is added twice
TRAILER_OVERHEAD = 100  # end of central directory (22), zip64 end records (76)
MANIFEST = "manifest.json"
# Index documents, also under another name a local storage chose when two processes wrote the same one at once.
INDEX = re.compile(r"^index-.*\.json$")


def max_zipped() -> int:
    return int(getattr(settings, "BULK_MAX_ZIPPED_BYTES", 10_000_000))


def max_unzipped() -> int:
    return int(getattr(settings, "BULK_MAX_UNZIPPED_BYTES", 1_000_000_000))


@dataclass(frozen=True)
class Segment:
    year: str
    part: int
    rows: int
    bytes: int
    unzipped_bytes: int
    key: str  # where the zip is stored

    def download_name(self, package: PublishedPackage) -> str:
        return f"{package.owner}--{package.name}-{self.year}-part-{self.part}.zip"


def part_file_name(dataset: str, part: int) -> str:
    return f"{dataset}-part-{part}.zip"


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
    """One streaming pass over each data file; a part per year is open at a time and is stored when it is full. On
    a failure (a data file deleted by a withdrawal meanwhile) the parts stored so far are deleted."""
    segmenter = _Segmenter(package, digest_folder(package))
    try:
        _segment(segmenter, package)
        return segmenter.finish()
    except BaseException:
        segmenter.discard()
        raise


def _segment(segmenter: _Segmenter, package: PublishedPackage) -> None:
    descriptor = package.descriptor or {}
    storage = public_storage()
    for data_file in data_files(package):
        with storage.open(data_file.key, "rb") as raw:
            reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
            header = next(reader, None)
            if header is None:
                continue
            year_of = year_reader(header, year_field(descriptor, data_file.name), fallback_year(package))
            head, line = csv_line(header), _LineWriter()
            for row in reader:
                segmenter.add(year_of(row), data_file.name, head, line(row))


def year_field(descriptor: Mapping[str, Any], file_name: str) -> str | None:
    """The first `date:*` field of the resource stored as `file_name`, the column the builder tallies years by."""
    for resource in descriptor.get("resources") or []:
        if isinstance(resource, dict) and posixpath.basename(str(resource.get("path", ""))) == file_name:
            fields = (resource.get("schema") or {}).get("fields") or []
            return next((f["name"] for f in fields if str(f.get("columnType", "")).startswith("date:")), None)
    return None


def fallback_year(package: PublishedPackage) -> str:
    years = {str(year) for year in package.years or []}
    return years.pop() if len(years) == 1 else UNDATED


def year_reader(header: list[str], name: str | None, fallback: str) -> Callable[[list[str]], str]:
    index = header.index(name) if name in header else None

    def year_of(row: list[str]) -> str:
        value = row[index].strip()[:4] if index is not None and index < len(row) else ""
        return value if len(value) == 4 and value.isdigit() else fallback

    return year_of


def csv_line(values: list[str]) -> bytes:
    return _LineWriter()(values)


class _LineWriter:
    """One CSV line at a time, through one reused buffer. CRLF line ends (RFC 4180), so that csv quotes a lone
    carriage return inside a cell instead of leaving it to be read as a line end."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\r\n")

    def __call__(self, values: list[str]) -> bytes:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow(values)
        return self.buffer.getvalue().encode()


@dataclass(frozen=True)
class Limits:
    zipped: int
    unzipped: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(max_zipped(), max_unzipped())


class _Part:
    """One zip being filled. Lines are buffered and handed to zlib 64 KB at a time (a write per row is slow)."""

    def __init__(self, year: str, number: int, limits: Limits) -> None:
        self.year, self.number, self.limits = year, number, limits
        self.file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed when the part is stored
        self.zip = zipfile.ZipFile(self.file, "w", compression=zipfile.ZIP_DEFLATED)
        self.rows = self.unzipped = 0
        self.members: list[str] = []
        self.overhead = TRAILER_OVERHEAD
        self.entry: IO[bytes] | None = None
        self.buffer: list[bytes] = []
        self.buffered = 0

    def fits(self, member: str, header: bytes, line: bytes) -> bool:
        """Whether one more line keeps the part within both limits; an empty part takes any line. What is not in
        the file yet (our buffer, zlib's block) is bounded by the raw bytes, and by BUFFER + PENDING_BOUND."""
        if self.rows == 0:
            return True
        new_member = self.members[-1] != member
        unzipped = self.unzipped + len(line) + (len(header) if new_member else 0)
        overhead = self.overhead + (_entry_overhead(member) if new_member else 0)
        pending = min(unzipped + unzipped // 8 + 64, BUFFER + PENDING_BOUND)
        return unzipped <= self.limits.unzipped and self.file.tell() + pending + overhead <= self.limits.zipped

    def write(self, member: str, header: bytes, line: bytes) -> None:
        if not self.members or self.members[-1] != member:
            self._open_member(member)
            self._write(header)
        self._write(line)
        self.rows += 1

    def _open_member(self, member: str) -> None:
        self._close_member()
        info = zipfile.ZipInfo(member, date_time=ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        self.entry = self.zip.open(info, "w", force_zip64=self.limits.unzipped >= zipfile.ZIP64_LIMIT)
        self.members.append(member)
        self.overhead += _entry_overhead(member)

    def _write(self, data: bytes) -> None:
        self.buffer.append(data)
        self.buffered += len(data)
        self.unzipped += len(data)
        if self.buffered >= BUFFER:
            self._flush()

    def _flush(self) -> None:
        if self.entry and self.buffer:
            self.entry.write(b"".join(self.buffer))
        self.buffer, self.buffered = [], 0

    def _close_member(self) -> None:
        self._flush()
        if self.entry:
            self.entry.close()

    def abandon(self) -> None:
        """Closed without being stored (the build failed)."""
        with contextlib.suppress(Exception):  # in whatever state the failure left it: nothing of it is kept
            self._close_member()
            self.zip.close()
        self.file.close()

    def close(self) -> int:
        self._close_member()
        self.zip.close()
        size = self.file.tell()
        self.file.seek(0)
        return size


def _entry_overhead(member: str) -> int:
    return ENTRY_OVERHEAD + 2 * len(member.encode())


class _Segmenter:
    def __init__(self, package: PublishedPackage, prefix: str) -> None:
        self.package = package
        self.prefix = prefix
        self.limits = Limits.from_settings()
        self.open: dict[str, _Part] = {}
        self.done: list[Segment] = []

    def add(self, year: str, file_name: str, head: bytes, line: bytes) -> None:
        part = self.open.get(year) or self._start(year, 1)
        member = self._member(part, file_name)
        if not part.fits(member, head, line):
            self._store(part)
            part = self._start(year, part.number + 1)
            member = self._member(part, file_name)
        part.write(member, head, line)

    def finish(self) -> list[Segment]:
        for part in list(self.open.values()):
            self._store(part)
        return sorted(self.done, key=lambda segment: (segment.year, segment.part))

    def discard(self) -> None:
        for part in self.open.values():
            part.abandon()
        delete_keys([segment.key for segment in self.done])

    def _start(self, year: str, number: int) -> _Part:
        self.open[year] = _Part(year, number, self.limits)
        return self.open[year]

    def _member(self, part: _Part, file_name: str) -> str:
        stem = f"{self.package.owner}--{self.package.name}-{part.year}-part-{part.number}"
        return f"{stem}-{file_name}"

    def _store(self, part: _Part) -> None:
        size = part.close()
        if size > self.limits.zipped and part.rows > 1:
            logger.warning("bulk part %s/%s over the zipped limit: %d bytes", part.year, part.number, size)
        name = f"{self.prefix}/{part.year}/{part_file_name(self.package.name, part.number)}"
        with part.file:
            key = public_storage().save(name, File(part.file, name=posixpath.basename(name)))
        self.done.append(Segment(part.year, part.number, part.rows, size, part.unzipped, key=key))
        del self.open[part.year]


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
