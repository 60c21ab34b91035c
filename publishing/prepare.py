"""Preparing a package for the store: its data files hashed and named after their content, a Parquet copy of each CSV
resource written and checked against it (publishing/parquet.py), its descriptor rewritten for `<owner>/<name>/` (the
store's identity, paths, bytes and hashes, the copies as alternate formats). Nothing is written to the store here:
`store.package_put` uploads what this prepares, in the order that keeps readers safe (publishing/store.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings

from conversion.packaging.package_descriptor import DescriptorError, descriptor_load
from migration_site.lib.hashing import file_size_and_sha256
from publishing.formats import PARQUET_FORMAT, PARQUET_MEDIATYPE, wants_parquet
from publishing.parquet import ParquetError, parquet_write
from publishing.parquet_check import csv_totals, totals_compare
from publishing.store import (
    PreparedPackage,
    StoredFile,
    StoreError,
    check_target,
    is_local,
    json_bytes,
    package_prefix,
)

PACKAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,199}$")  # Data Package `name`, as conversion/schemas require
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def check_package_name(name: str) -> None:
    """The store writes `name` into the descriptor it publishes, so it must be a name the package profile allows."""
    if not PACKAGE_NAME.match(name):
        raise StoreError(f"name {name!r} is not a package name: use lower-case letters, digits, '.', '_' and '-'")


@dataclass
class _Staging:
    """Where a package is read from and where its Parquet copies are written; the files staged so far, by key."""

    folder: Path
    prefix: str
    scratch: Path
    files: dict[str, tuple[Path, StoredFile]] = field(default_factory=dict)
    derived: set[str] = field(default_factory=set)  # keys of the Parquet copies


def package_prepare(folder: Path, *, owner: str, name: str, page_url: str, scratch: Path) -> PreparedPackage:
    """Read a package folder, hash its data files, write and check their Parquet copies in `scratch` (which must
    outlive the upload), and rewrite the descriptor for `<owner>/<name>/`."""
    check_target(owner, name)
    try:
        descriptor = descriptor_load(folder, max_bytes=settings.PACKAGE_DESCRIPTOR_MAX_BYTES)
    except DescriptorError as error:
        raise StoreError(str(error)) from error
    staging = _Staging(folder, package_prefix(owner, name), scratch)
    resources = [
        _publish_resource(item, staging, index) for index, item in enumerate(descriptor.get("resources") or [])
    ]
    # The store's identity, whatever the descriptor says: its own id, name or owner would contradict where it is.
    published = {
        **descriptor,
        "id": f"{owner}/{name}",
        "name": name,
        "owner": owner,
        "homepage": page_url,
        "resources": resources,
    }
    files = tuple(staging.files.values())
    return PreparedPackage(owner, name, published, json_bytes(published), files, frozenset(staging.derived))


def _publish_resource(resource: Any, staging: _Staging, index: int) -> Any:
    """Local paths become `data/<file>-<sha12>.<ext>` with their bytes and hash; URLs and inline data stay."""
    if not isinstance(resource, dict):
        return resource
    path = resource.get("path")
    paths = path if isinstance(path, list) else [path]
    if not any(is_local(item) for item in paths):
        return dict(resource)
    staged = [_stage(staging, item) if is_local(item) else item for item in paths]
    published = _without_local_alternates(resource)
    published["path"] = (
        [_relative(item, staging.prefix) for item in staged]
        if isinstance(path, list)
        else _relative(staged[0], staging.prefix)
    )
    stored = [item for item in staged if isinstance(item, StoredFile)]
    if len(stored) == 1 and len(staged) == 1:
        _check_declared(resource, stored[0], str(path))
        published.update(bytes=stored[0].bytes, hash=f"sha256:{stored[0].sha256}")
        if wants_parquet(resource):
            copy = _parquet_copy(resource, stored[0], staging, index, where=str(path))
            published["alternates"] = [*published.get("alternates", []), copy]
    else:  # a multipart resource: its hash would be of the parts joined, which nobody checks
        published.pop("bytes", None)
        published.pop("hash", None)
    return published


def _without_local_alternates(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the resource whose `alternates` keep only remote ones: a local one (a package downloaded from the
    store and uploaded again) names a file this publication does not stage; its Parquet copy is made again."""
    published = dict(resource)
    listed = published.pop("alternates", None)
    kept = (
        [item for item in listed if not isinstance(item, dict) or not is_local(item.get("path"))]
        if isinstance(listed, list)
        else []
    )
    if kept:
        published["alternates"] = kept
    return published


def _parquet_copy(resource: Mapping[str, Any], csv: StoredFile, staging: _Staging, index: int, *, where: str) -> Any:
    """Write the Parquet copy of a CSV resource, check it against the CSV, stage it beside it; its alternate entry."""
    source = staging.files[csv.key][0]
    target = staging.scratch / f"resource-{index}.parquet"
    try:
        totals = parquet_write(source, resource, target, where=where)
        totals_compare(csv_totals(source, resource, where=where), totals, where=where)
    except ParquetError as error:
        raise StoreError(str(error)) from error
    stem = PurePosixPath(csv.key).stem.rsplit("-", 1)[0]  # the CSV's: `<stem>-<sha12>`
    stored = _stage_file(staging, target, stem, ".parquet")
    staging.derived.add(stored.key)
    return {
        "format": PARQUET_FORMAT,
        "mediatype": PARQUET_MEDIATYPE,
        "path": stored.key.removeprefix(staging.prefix),
        "bytes": stored.bytes,
        "hash": f"sha256:{stored.sha256}",
        "rows": totals.rows,
    }


def _relative(item: Any, prefix: str) -> Any:
    return item.key.removeprefix(prefix) if isinstance(item, StoredFile) else item


def _stage(staging: _Staging, relative: str) -> StoredFile:
    root = staging.folder.resolve()
    path = (staging.folder / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise StoreError(f"{relative}: not a file inside the package")
    pure = PurePosixPath(relative)
    stem = UNSAFE.sub("-", pure.stem).strip("-.") or "data"
    return _stage_file(staging, path, stem, UNSAFE.sub("", pure.suffix.lower()))


def _stage_file(staging: _Staging, path: Path, stem: str, suffix: str) -> StoredFile:
    """`data/<stem>-<sha12><suffix>`: a name that carries the content's sha256, never reused for other bytes."""
    size, sha256 = file_size_and_sha256(path)
    key = f"{staging.prefix}data/{stem}-{sha256[:12]}{suffix}"
    staging.files[key] = (path, StoredFile(key, size, sha256))
    return staging.files[key][1]


def _check_declared(resource: Mapping[str, Any], stored: StoredFile, path: str) -> None:
    """A package whose descriptor disagrees with its own file is damaged: better to stop than to publish it."""
    declared_bytes, declared_hash = resource.get("bytes"), resource.get("hash")
    if isinstance(declared_bytes, int) and declared_bytes != stored.bytes:
        raise StoreError(f"{path}: the descriptor says {declared_bytes} bytes, the file has {stored.bytes}")
    if not isinstance(declared_hash, str) or not declared_hash.startswith("sha256:"):
        return  # md5 or none: the validation before conversion or upload checked it
    if declared_hash.removeprefix("sha256:").lower() != stored.sha256:
        raise StoreError(f"{path}: the descriptor's sha256 does not match the file's")
