"""Local copies of published Parquet files, for DuckDB to read: the cache follows the store.

A copy is named by its content's sha256 (the descriptor states it), so a new version of a package is a new file and
a copy is never stale; what no query has touched for longest goes first when the cache is over API_CACHE_MAX_BYTES.
A copy is written to a temporary name, checked against the stated sha256 and moved into place, so a reader in another
process never sees half a file. A withdrawn package is refused before its copy is looked at (views go through
`published()` first), so a copy left behind is never served; it is deleted when space is needed.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from migration_site.lib.jsondata import as_dict, dicts_in
from publishing.api.engine import cache_dir
from publishing.store import is_local, public_storage

PARQUET = "parquet"
CHUNK = 1024 * 1024
_SHA256 = re.compile(r"^sha256:([0-9a-f]{64})$")
_fetching = threading.Lock()


class CacheError(Exception):
    """The package's Parquet file is missing from the store or is not what its descriptor says."""


@dataclass(frozen=True)
class ParquetFile:
    key: str  # in the public storage
    sha256: str
    bytes: int


def parquet_of(owner: str, name: str, descriptor: Mapping[str, Any]) -> ParquetFile | None:
    """The Parquet copy of the package's first resource, as its descriptor lists it; None without one."""
    resources = dicts_in(descriptor.get("resources"))
    if not resources:
        return None
    for alternate in dicts_in(resources[0].get("alternates")):
        path, digest = alternate.get("path"), _SHA256.match(str(alternate.get("hash") or ""))
        if alternate.get("format") == PARQUET and is_local(path) and digest and ".." not in str(path).split("/"):
            size = alternate.get("bytes")
            return ParquetFile(f"{owner}/{name}/{path}", digest[1], size if isinstance(size, int) else 0)
    return None


def has_parquet(descriptor: object) -> bool:
    return parquet_of("-", "-", as_dict(descriptor)) is not None


def local_copy(parquet: ParquetFile) -> Path:
    """The local copy's path, fetched from the store first when this machine has none."""
    target = cache_dir() / f"{parquet.sha256}.parquet"
    if target.exists():
        os.utime(target)  # recently used: kept longest
        return target
    with _fetching:  # one download per process at a time; other processes meet at the atomic rename
        if not target.exists():
            _fetch(parquet, target)
            _evict(keep=target)
    return target


def _fetch(parquet: ParquetFile, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".fetch-", suffix=".parquet")
    try:
        digest = _copy(parquet.key, handle)
        if digest != parquet.sha256:
            raise CacheError(f"{parquet.key}: the stored bytes are not the ones the descriptor names")
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)


def _copy(key: str, handle: int) -> str:
    """Copy a stored object into an open file; its sha256. Whatever the storage raises (S3 unreachable, a dropped
    connection: each backend has exceptions of its own) becomes a CacheError, answered 503, not a server error."""
    digest = hashlib.sha256()
    try:
        with os.fdopen(handle, "wb") as out, public_storage().open(key, "rb") as source:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except FileNotFoundError as error:
        raise CacheError(f"{key} is missing from the store") from error
    except Exception as error:
        raise CacheError(f"{key} could not be read from the store now ({type(error).__name__})") from error
    return digest.hexdigest()


def _evict(*, keep: Path) -> None:
    """Delete the least recently used copies until the cache fits API_CACHE_MAX_BYTES (the one in use stays)."""
    copies = sorted(cache_dir().glob("*.parquet"), key=_used_at)
    total = sum(_size(path) for path in copies)
    for path in copies:
        if total <= settings.API_CACHE_MAX_BYTES:
            break
        if path != keep:
            total -= _size(path)
            path.unlink(missing_ok=True)


def _used_at(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
