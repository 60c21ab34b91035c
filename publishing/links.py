"""The public URLs of packages and their files: permanent, built from PUBLIC_BASE_URL, shared by every document."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse

from migration_site.lib.jsondata import dicts_in
from publishing.formats import format_label, is_parquet, mediatype_of, parquet_alternates
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
    copy_of: str | None = None  # a Parquet copy: the name of the CSV it holds the rows of (from the descriptor)

    @property
    def url(self) -> str:
        return absolute(self.path)

    @property
    def mediatype(self) -> str:
        return mediatype_of(self.name)

    @property
    def format(self) -> str:
        return format_label(self.name)

    @property
    def is_parquet(self) -> bool:
        return is_parquet(self.name)


@dataclass(frozen=True)
class Download:
    """A resource's data on the package page: its CSV and the same rows in other formats."""

    file: DataFile
    copies: list[DataFile]


def data_files(package: PublishedPackage, descriptor: Mapping[str, Any] | None = None) -> list[DataFile]:
    """The package's data files, its CSV and their Parquet copies, named by the last part of their storage key (the
    descriptor's resource paths are `data/<file>`, so the descriptor served next to them resolves to these URLs)."""
    sizes, copies = _described(descriptor or {})
    files = []
    for key in package.data_keys:
        name = posixpath.basename(str(key))
        path = reverse("publishing:data", args=[package.owner, package.name, name])
        files.append(DataFile(name=name, key=str(key), path=path, bytes=sizes.get(name), copy_of=copies.get(name)))
    return files


def downloads(package: PublishedPackage, descriptor: Mapping[str, Any]) -> list[Download]:
    """Each data file with the copies of its rows in other formats; a copy of nothing listed is shown on its own."""
    files = data_files(package, descriptor)
    names = {file.name for file in files}
    return [
        Download(file, [copy for copy in files if copy.copy_of == file.name])
        for file in files
        if file.copy_of is None or file.copy_of not in names
    ]


def find_data_file(package: PublishedPackage, name: str) -> DataFile | None:
    return next((file for file in data_files(package) if file.name == name), None)


def _described(descriptor: Mapping[str, Any]) -> tuple[dict[str, int], dict[str, str]]:
    """The sizes the descriptor gives its files, and of each Parquet copy the name of its CSV."""
    sizes, copies = {}, {}
    for resource in dicts_in(descriptor.get("resources")):
        name = posixpath.basename(str(resource.get("path", "")))
        if isinstance(resource.get("bytes"), int):
            sizes[name] = resource["bytes"]
        for alternate in parquet_alternates(resource):
            copy = posixpath.basename(str(alternate.get("path", "")))
            copies[copy] = name
            if isinstance(alternate.get("bytes"), int):
                sizes[copy] = alternate["bytes"]
    return sizes, copies
