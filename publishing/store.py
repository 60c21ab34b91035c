"""The package store: published packages at `<owner>/<name>/` and the master registry at `registry/`.

Two storages, so that no single bucket policy can expose private material (settings.py, README "Production"):
- the working storage (Django's default storage): archived sources (`legacy/`) and every conversion's output
  (`packages/<dataset>/runs/<id>/`), private datasets' packages included; never public. Publication only reads it
  (`folder_fetch`).
- the public storage (`public_storage()`, the "public" alias): what the public site serves and nothing else, the
  package store below and the bulk zips (`publishing/bulk.py`). Nothing is written there unless it is published.
Each is django-storages S3 in production (two buckets), moto's S3 server on loopback in the tests, a local folder in
embedded mode (var/storage/ and var/public/). The layout follows os-conductor's datastore (`<owner>/<dataset>/...`):

    <owner>/<name>/datapackage.json           the descriptor; the store sets id, name, owner, homepage and paths
    <owner>/<name>/data/<file>-<sha12>.csv    each data file, under a name that carries its content's sha256
    <owner>/<name>/data/<file>-<sha12>.parquet  the Parquet copy of a CSV resource (publishing/parquet.py), named
                                              the same way after its own bytes
    registry/datapackage.json                 the master registry, a tabular data package whose one resource is
    registry/packages-<sha12>.csv             this CSV, never rewritten once written
    registry/packages.csv                     the same bytes under a stable name, for people and scripts

Consistency: a reader must never get a descriptor that names a missing file or one whose bytes or hash disagree
with it, not while a publication is half done, and not after one failed. Two rules give that:

1. A name is never reused for other bytes. A data file's name carries the sha256 of its content, so a new version
   is written beside the old one and the file the current descriptor names is never overwritten. (Overwriting
   `data/<name>.csv` in place and writing the descriptor after it would not do: between the two writes, or for
   good if the second failed, the old descriptor would describe the new bytes with the old hash.)
2. Order. Data first, each verified by reading it back (size and sha256); then the descriptor, replaced in a single
   write (one S3 PUT; on local disk a temporary file moved over it with os.replace); files that no descriptor names
   any more are deleted last, after the registry has moved on as well (`package_prune`). A failure before the
   descriptor leaves the old version served in full plus some unreferenced new files, which the retry verifies and
   reuses instead of uploading them again.

The registry (`publishing/registry.py`) follows the same rules with the same single-object writes.

Superseded files are deleted at once rather than kept for a while: a reader holding a descriptor fetched just before
a re-publication may get a 404 for its data and must re-read the descriptor; in exchange, data a re-conversion
removed on purpose (a redacted supplier, say) does not stay online.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, default_storage, storages

from conversion.packaging.package_descriptor import descriptor_load
from migration_site.lib.hashing import bytes_sha256, stream_sha256

DESCRIPTOR = "datapackage.json"
# The stores' own top-level folders: an owner of that name would mix its packages with them.
RESERVED_OWNERS = frozenset({"registry", "bulk", "packages", "legacy"})
SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
CHUNK = 1024 * 1024


def public_storage() -> Storage:
    """The public storage, looked up on each use, so a change of settings (a test's) takes effect at once."""
    return storages["public"]


class StoreError(Exception):
    """The package cannot be stored as asked: a bad owner or name, a file missing from it, a storage refusal."""


class VerificationError(StoreError):
    """What the store holds after an upload is not what was uploaded."""


@dataclass(frozen=True)
class StoredFile:
    key: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class PreparedPackage:
    """A package ready to upload: its rewritten descriptor and where each local data file goes."""

    owner: str
    name: str
    descriptor: dict[str, Any]
    content: bytes  # the descriptor as stored
    files: tuple[tuple[Path, StoredFile], ...]  # every data file: the package's own and the Parquet copies
    derived: frozenset[str] = frozenset()  # keys of the Parquet copies, made from the package's own files

    @property
    def own_files(self) -> list[StoredFile]:
        """The package's data files as they came; the copies made from them add nothing to its identity."""
        return [stored for _, stored in self.files if stored.key not in self.derived]

    @property
    def prefix(self) -> str:
        return package_prefix(self.owner, self.name)

    @property
    def descriptor_file(self) -> StoredFile:
        return StoredFile(self.prefix + DESCRIPTOR, len(self.content), bytes_sha256(self.content))

    @property
    def data_keys(self) -> list[str]:
        return [stored.key for _, stored in self.files]

    @property
    def data_bytes(self) -> int:
        return sum(stored.bytes for stored in self.own_files)

    @property
    def data_sha256(self) -> str:
        """The data file's sha256; with several files, the sha256 of their "<sha256> <key>" lines. The package's
        own files only: the Parquet copies are derived from them."""
        own = self.own_files
        if len(own) == 1:
            return own[0].sha256
        return bytes_sha256("".join(f"{s.sha256} {s.key}\n" for s in own).encode())


def package_prefix(owner: str, name: str) -> str:
    return f"{owner}/{name}/"


def check_target(owner: str, name: str) -> None:
    """Owner and name become storage keys: plain path segments only, and not one of the store's own folders."""
    for value, what in ((owner, "owner"), (name, "name")):
        if not SEGMENT.fullmatch(value) or value.strip(".") == "":
            raise StoreError(f"{what} {value!r} cannot be a storage folder: use letters, digits, '.', '_' and '-'")
    if owner.lower() in RESERVED_OWNERS:
        raise StoreError(f"owner {owner!r} is reserved for the store's own files")


def is_local(path: Any) -> bool:
    """A resource path naming a file inside the package (not a URL)."""
    return isinstance(path, str) and bool(path) and "://" not in path


# -- putting a package, pruning and purging -------------------------------------------------------------------------


def package_is_stored(package: PreparedPackage) -> bool:
    """Every object of the package is in the store with its size (metadata requests only, nothing read)."""
    expected = [package.descriptor_file, *(stored for _, stored in package.files)]
    return all(_size(stored.key) == stored.bytes for stored in expected)


def objects_present(descriptor_key: str, data_keys: Sequence[str], *, total_bytes: int) -> bool:
    """The descriptor and every data file are in the store, the data files with their total size (metadata only)."""
    sizes = [_size(key) for key in data_keys]
    return _size(descriptor_key) is not None and None not in sizes and sum(filter(None, sizes)) == total_bytes


def package_put(package: PreparedPackage) -> list[str]:
    """Data files first, each verified; then the descriptor. Returns the keys written, in order."""
    written = [stored.key for path, stored in package.files if ensure_object(stored, path)]
    if replace_object(package.descriptor_file, package.content):
        written.append(package.descriptor_file.key)
    return written


def package_prune(owner: str, name: str, *, keep: Sequence[str]) -> list[str]:
    """Delete what the package's current descriptor no longer names (superseded or left by a failed upload)."""
    prefix = package_prefix(owner, name)
    keep_keys = {*keep, prefix + DESCRIPTOR}
    stale = [key for key in walk(prefix) if key not in keep_keys]
    delete_keys(stale)
    return stale


def package_purge(owner: str, name: str) -> list[str]:
    """Delete a package: the descriptor first, so no reader finds one whose data is already gone."""
    prefix = package_prefix(owner, name)
    descriptor = prefix + DESCRIPTOR
    keys = [descriptor] if _size(descriptor) is not None else []
    keys += [key for key in walk(prefix) if key != descriptor]
    delete_keys(keys)
    remove_empty_folders(prefix)
    return keys


def delete_keys(keys: Sequence[str]) -> None:
    storage = public_storage()
    for key in keys:
        storage.delete(key)


def remove_empty_folders(prefix: str) -> None:
    """On local storage, the folders a purge emptied go too: a folder named after a withdrawn package is a trace
    of it where the public folder is served as it is. S3 has no folders."""
    storage = public_storage()
    if not isinstance(storage, FileSystemStorage):
        return
    top = Path(storage.path(prefix.rstrip("/")))
    if not top.is_dir():
        return
    for folder in sorted((path for path in top.rglob("*") if path.is_dir()), key=lambda path: -len(path.parts)):
        _remove_if_empty(folder)
    root = Path(storage.location)  # storage.path() joins onto it without resolving links either
    for folder in (top, *top.parents):
        if folder == root or not folder.is_relative_to(root) or not _remove_if_empty(folder):
            break


def _remove_if_empty(folder: Path) -> bool:
    try:
        folder.rmdir()
    except OSError:  # not empty (a file another run wrote meanwhile), or gone already
        return not folder.exists()
    return True


def folder_fetch(prefix: str, into: Path) -> Path:
    """Copy a package kept in the working storage (a conversion run's folder) to local disk: its descriptor and data
    files."""
    prefix = prefix.rstrip("/") + "/"
    _download(prefix + DESCRIPTOR, into / DESCRIPTOR)
    # Our own output, read through the one loader all the same.
    descriptor = descriptor_load(into, max_bytes=settings.PACKAGE_DESCRIPTOR_MAX_BYTES)
    for resource in descriptor.get("resources") or []:
        path = resource.get("path") if isinstance(resource, dict) else None
        for item in path if isinstance(path, list) else [path]:
            if is_local(item) and ".." not in PurePosixPath(item).parts:
                _download(prefix + item, into / item)
    return into


def _download(key: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with default_storage.open(key, "rb") as source, target.open("wb") as out:
            while chunk := source.read(CHUNK):
                out.write(chunk)
    except FileNotFoundError as error:
        raise StoreError(f"{key} is missing from storage") from error


def walk(prefix: str) -> Iterator[str]:
    """Every key under a folder of the public storage, depth first; nothing when the folder does not exist."""
    try:
        folders, files = public_storage().listdir(prefix.rstrip("/"))
    except FileNotFoundError:
        return
    base = prefix.rstrip("/") + "/"
    yield from (base + name for name in sorted(files))
    for folder in sorted(folders):
        yield from walk(base + folder)


# -- single objects: write, replace, verify -------------------------------------------------------------------------


def ensure_object(expected: StoredFile, source: Path | bytes) -> bool:
    """Write a content-addressed object unless it is there already with the right bytes; True when written."""
    size = _size(expected.key)
    if size == expected.bytes and _stored_sha256(expected.key) == expected.sha256:
        return False
    if size is not None:
        public_storage().delete(expected.key)  # damaged (a failed upload): save() would pick another name
    _save(expected.key, source)
    _verify_or_delete(expected)
    return True


def replace_object(expected: StoredFile, content: bytes) -> bool:
    """Replace an object whose name stays (a descriptor) in one write, so a reader sees the old or the new one."""
    if _matches(expected):
        return False
    storage = public_storage()
    if isinstance(storage, FileSystemStorage):
        _replace_local(storage, expected.key, content)
    else:
        _save(expected.key, content)  # one PUT: S3 shows the old object until the new one is complete
    _verify(expected)
    return True


def _replace_local(storage: FileSystemStorage, key: str, content: bytes) -> None:
    target = Path(storage.path(key))
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, storage.file_permissions_mode or 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _save(key: str, source: Path | bytes) -> None:
    storage = public_storage()
    if isinstance(source, bytes):
        saved = storage.save(key, ContentFile(source, name=PurePosixPath(key).name))
    else:
        with source.open("rb") as handle:
            saved = storage.save(key, File(handle, name=source.name))
    if saved != key:
        storage.delete(saved)
        raise StoreError(f"the storage saved {key} as {saved}: it must overwrite (S3: file_overwrite=True)")


def _verify_or_delete(expected: StoredFile) -> None:
    try:
        _verify(expected)
    except VerificationError:
        public_storage().delete(expected.key)  # its name claims a hash its bytes do not have
        raise


def _verify(expected: StoredFile) -> None:
    """Read the object back: its size and its sha256 must be the uploaded file's."""
    size = _size(expected.key)
    if size is None:
        raise VerificationError(f"{expected.key}: missing right after the upload")
    if size != expected.bytes:
        raise VerificationError(f"{expected.key}: the store holds {size} bytes, {expected.bytes} were uploaded")
    stored = _stored_sha256(expected.key)
    if stored != expected.sha256:
        raise VerificationError(
            f"{expected.key}: the stored bytes differ from the uploaded file"
            f" (sha256 {stored[:12]}... instead of {expected.sha256[:12]}...)"
        )


def _matches(expected: StoredFile) -> bool:
    return _size(expected.key) == expected.bytes and _stored_sha256(expected.key) == expected.sha256


def _size(key: str) -> int | None:
    try:
        return int(public_storage().size(key))
    except FileNotFoundError:
        return None


def _stored_sha256(key: str) -> str:
    with public_storage().open(key, "rb") as handle:
        return stream_sha256(handle)


# -- small helpers --------------------------------------------------------------------------------------------------


def json_bytes(value: Any) -> bytes:
    """Canonical JSON: keys sorted, because PostgreSQL's jsonb keeps no key order, and the site serves the stored
    descriptor from the database: sorted, the bytes it serves are the bytes in the store, hash for hash."""
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
