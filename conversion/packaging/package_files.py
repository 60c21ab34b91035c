"""Opening a package given as a folder, its datapackage.json, or a zip of it: safely, whatever the zip holds.

A zip can name ../../x, hold links, claim small sizes and unpack to terabytes, or hold ten million entries: every
name is checked before anything is written, and the bytes that really come out are counted against a budget.
Its datapackage.json is read by `conversion.packaging.package_descriptor.descriptor_load`, which has limits of its own.
"""

from __future__ import annotations

import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

__all__ = ["DESCRIPTOR", "MAX_UNZIPPED_BYTES", "PackageError", "opened_package"]

DESCRIPTOR = "datapackage.json"
MAX_UNZIPPED_BYTES = 4 * 1024**3
MAX_ZIP_MEMBERS = 10_000


class PackageError(Exception):
    """The package cannot be opened at all: a missing path, a broken or unsafe zip, no datapackage.json."""


@contextmanager
def opened_package(path: Path, max_bytes: int = MAX_UNZIPPED_BYTES) -> Iterator[Path]:
    """The package's folder: the folder itself, or the zip unpacked into a temporary folder removed afterwards."""
    if not path.exists():
        raise PackageError(f"{path} does not exist")
    if path.is_file() and path.name == DESCRIPTOR:
        yield path.parent
    elif path.is_dir():
        if not (path / DESCRIPTOR).is_file():
            raise PackageError(f"{path} has no {DESCRIPTOR}")
        yield path
    elif zipfile.is_zipfile(path):
        with tempfile.TemporaryDirectory(prefix="validate-") as temporary:
            yield _package_root(_extract(path, Path(temporary), max_bytes), path)
    else:
        raise PackageError(f"{path} is neither a package folder nor a readable zip file")


def _extract(archive: Path, target: Path, max_bytes: int) -> Path:
    """Unzip after checking every name and the total size; a zip can name ../../x or unpack to terabytes."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            _check_members(members, max_bytes, archive.name)
            budget = max_bytes
            for member in members:
                budget = _extract_member(bundle, member, target, budget, archive.name)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as error:
        raise PackageError(f"{archive.name} is not a readable zip file: {error}") from error
    return target


def _check_members(members: list[zipfile.ZipInfo], max_bytes: int, name: str) -> None:
    if len(members) > MAX_ZIP_MEMBERS:
        raise PackageError(f"{name} holds {len(members)} files, more than the {MAX_ZIP_MEMBERS} allowed")
    for member in members:
        _member_path(member, name)
    declared = sum(member.file_size for member in members)
    if declared > max_bytes:
        raise PackageError(f"{name} unpacks to {declared} bytes, more than the {max_bytes} allowed")


def _member_path(member: zipfile.ZipInfo, archive: str) -> PurePosixPath:
    relative = PurePosixPath(member.filename.replace("\\", "/"))
    unsafe = (
        relative.is_absolute()
        or ".." in relative.parts
        or (relative.parts and ":" in relative.parts[0])  # a Windows drive, C:
        or stat.S_ISLNK(member.external_attr >> 16)
    )
    if unsafe or not relative.parts:
        raise PackageError(f"{archive} refused: unsafe path {member.filename!r} (outside the package or a link)")
    return relative


def _extract_member(bundle: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, budget: int, name: str) -> int:
    destination = target.joinpath(*_member_path(member, name).parts)
    if member.is_dir():
        destination.mkdir(parents=True, exist_ok=True)
        return budget
    destination.parent.mkdir(parents=True, exist_ok=True)
    with bundle.open(member) as source, destination.open("wb") as out:
        # Count what really comes out: the sizes in the zip's directory are only claims.
        while chunk := source.read(1024 * 1024):
            budget -= len(chunk)
            if budget < 0:
                raise PackageError(f"{name} unpacks to more bytes than allowed")
            out.write(chunk)
    return budget


def _package_root(folder: Path, archive: Path) -> Path:
    """datapackage.json at the top of the zip, or inside its single top-level folder."""
    if (folder / DESCRIPTOR).is_file():
        return folder
    children = [child for child in folder.iterdir() if child.name != "__MACOSX"]
    if len(children) == 1 and (children[0] / DESCRIPTOR).is_file():
        return children[0]
    raise PackageError(f"{archive.name} has no {DESCRIPTOR} at its top level")
