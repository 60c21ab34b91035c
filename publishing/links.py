"""The public URLs of packages and their files: permanent, built from PUBLIC_BASE_URL, shared by every document."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse

from publishing.models import PublishedPackage, package_page_url


def absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def package_path(package: PublishedPackage) -> str:
    return reverse("publishing:package", args=[package.owner, package.name])


def package_url(package: PublishedPackage) -> str:
    """The permanent URL of a package: its data.json identifier, its Atom entry id, its descriptor's homepage."""
    return package_page_url(package.owner, package.name)


def descriptor_url(package: PublishedPackage) -> str:
    return absolute(reverse("publishing:descriptor", args=[package.owner, package.name]))


@dataclass(frozen=True)
class DataFile:
    name: str  # the file name in URLs and downloads
    key: str  # the storage key
    path: str  # the site path of its download
    bytes: int | None  # from the descriptor, when it says

    @property
    def url(self) -> str:
        return absolute(self.path)


def data_files(package: PublishedPackage, descriptor: Mapping[str, Any] | None = None) -> list[DataFile]:
    """The package's data files, named by the last part of their storage key (the descriptor's resource paths are
    `data/<file>`, so the descriptor served next to them resolves to these URLs)."""
    sizes = _resource_sizes(descriptor or {})
    files = []
    for key in package.data_keys:
        name = posixpath.basename(str(key))
        path = reverse("publishing:data", args=[package.owner, package.name, name])
        files.append(DataFile(name=name, key=str(key), path=path, bytes=sizes.get(name)))
    return files


def find_data_file(package: PublishedPackage, name: str) -> DataFile | None:
    return next((file for file in data_files(package) if file.name == name), None)


def _resource_sizes(descriptor: Mapping[str, Any]) -> dict[str, int]:
    sizes = {}
    for resource in descriptor.get("resources") or []:
        if isinstance(resource, dict) and isinstance(resource.get("bytes"), int):
            sizes[posixpath.basename(str(resource.get("path", "")))] = resource["bytes"]
    return sizes
