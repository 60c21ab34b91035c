"""Building a package's bulk segments (see publishing/bulk.py): one streaming pass over its data files, each row to
the part of its year, a part stored as a zip when one more row would take it over the limits. The zips are
reproducible: fixed entry timestamps, CRLF lines."""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import posixpath
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any

from django.core.files import File

from publishing.links import data_files
from publishing.models import PublishedPackage
from publishing.store import delete_keys, public_storage

logger = logging.getLogger(__name__)

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


def write_segments(package: PublishedPackage, prefix: str, limits: Limits) -> list[Segment]:
    """One streaming pass over each data file; a part per year is open at a time and is stored when it is full. On
    a failure (a data file deleted by a withdrawal meanwhile) the parts stored so far are deleted. The zips are
    stored under `prefix`."""
    segmenter = _Segmenter(package, prefix, limits)
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
        if data_file.is_parquet:  # the same rows as a CSV of the package, in another format
            continue
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
    """The most bytes one part may hold, zipped and unzipped."""

    zipped: int
    unzipped: int


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
    def __init__(self, package: PublishedPackage, prefix: str, limits: Limits) -> None:
        self.package = package
        self.prefix = prefix
        self.limits = limits
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
