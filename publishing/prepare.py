"""Preparing a package for the store: its data files hashed and named after their content, its descriptor rewritten
for `<owner>/<name>/` (the store's identity, paths, bytes and hashes). Nothing is written here: `store.package_put`
uploads what this prepares, in the order that keeps readers safe (publishing/store.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings

from conversion.packaging.package_descriptor import DescriptorError, descriptor_load
from migration_site.lib.hashing import file_size_and_sha256
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


def package_prepare(folder: Path, *, owner: str, name: str, page_url: str) -> PreparedPackage:
    """Read a package folder, hash its data files and rewrite its descriptor for `<owner>/<name>/`."""
    check_target(owner, name)
    try:
        descriptor = descriptor_load(folder, max_bytes=settings.PACKAGE_DESCRIPTOR_MAX_BYTES)
    except DescriptorError as error:
        raise StoreError(str(error)) from error
    files: dict[str, tuple[Path, StoredFile]] = {}
    prefix = package_prefix(owner, name)
    resources = [_publish_resource(item, folder, prefix, files) for item in descriptor.get("resources") or []]
    # The store's identity, whatever the descriptor says: its own id, name or owner would contradict where it is.
    published = {
        **descriptor,
        "id": f"{owner}/{name}",
        "name": name,
        "owner": owner,
        "homepage": page_url,
        "resources": resources,
    }
    return PreparedPackage(owner, name, published, json_bytes(published), tuple(files.values()))


def _publish_resource(resource: Any, folder: Path, prefix: str, files: dict[str, tuple[Path, StoredFile]]) -> Any:
    """Local paths become `data/<file>-<sha12>.<ext>` with their bytes and hash; URLs and inline data stay."""
    if not isinstance(resource, dict):
        return resource
    path = resource.get("path")
    paths = path if isinstance(path, list) else [path]
    if not any(is_local(item) for item in paths):
        return dict(resource)
    staged = [_stage(folder, item, prefix, files) if is_local(item) else item for item in paths]
    published = dict(resource)
    published["path"] = (
        [_relative(item, prefix) for item in staged] if isinstance(path, list) else _relative(staged[0], prefix)
    )
    stored = [item for item in staged if isinstance(item, StoredFile)]
    if len(stored) == 1 and len(staged) == 1:
        _check_declared(resource, stored[0], str(path))
        published.update(bytes=stored[0].bytes, hash=f"sha256:{stored[0].sha256}")
    else:  # a multipart resource: its hash would be of the parts joined, which nobody checks
        published.pop("bytes", None)
        published.pop("hash", None)
    return published


def _relative(item: Any, prefix: str) -> Any:
    return item.key.removeprefix(prefix) if isinstance(item, StoredFile) else item


def _stage(folder: Path, relative: str, prefix: str, files: dict[str, tuple[Path, StoredFile]]) -> StoredFile:
    root = folder.resolve()
    path = (folder / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise StoreError(f"{relative}: not a file inside the package")
    size, sha256 = file_size_and_sha256(path)
    pure = PurePosixPath(relative)
    stem = UNSAFE.sub("-", pure.stem).strip("-.") or "data"
    key = f"{prefix}data/{stem}-{sha256[:12]}{UNSAFE.sub('', pure.suffix.lower())}"
    files[key] = (path, StoredFile(key, size, sha256))
    return files[key][1]


def _check_declared(resource: Mapping[str, Any], stored: StoredFile, path: str) -> None:
    """A package whose descriptor disagrees with its own file is damaged: better to stop than to publish it."""
    declared_bytes, declared_hash = resource.get("bytes"), resource.get("hash")
    if isinstance(declared_bytes, int) and declared_bytes != stored.bytes:
        raise StoreError(f"{path}: the descriptor says {declared_bytes} bytes, the file has {stored.bytes}")
    if not isinstance(declared_hash, str) or not declared_hash.startswith("sha256:"):
        return  # md5 or none: the validation before conversion or upload checked it
    if declared_hash.removeprefix("sha256:").lower() != stored.sha256:
        raise StoreError(f"{path}: the descriptor's sha256 does not match the file's")
