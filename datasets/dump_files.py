"""Opening files named by a dump folder, which is hostile input: every path must stay inside its dataset's folder.

A dump's `sources[].archive.path` is whatever the dump says: an absolute path (`/etc/passwd`), a `../` path or a
symbolic link would make the import store some other file as a source, which any curator can then download from
the admin. So a path is refused unless it is relative, has no `..`, reaches a regular file inside the dataset's
folder, and passes through no symbolic link (the file or any folder on the way).
"""

from __future__ import annotations

import json
import stat
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from django.conf import settings

from datasets.downloads import ArchiveRecord
from migration_site.lib.hashing import file_sha256


class RefusedFile(Exception):
    """A path from a dump that leads outside its dataset's folder, through a symbolic link, or to no regular file."""


def dump_file(folder: Path, relative: str) -> Path | None:
    """folder/relative when it is a regular file reached safely; None when nothing is there; RefusedFile if unsafe."""
    found = _walk(folder, relative)
    if found is None:
        return None
    if not stat.S_ISREG(found[1]):
        # A folder, or a FIFO that would block the import forever.
        raise RefusedFile(f"{_shown(relative)} is not a regular file")
    return found[0]


def dump_folder(folder: Path, relative: str) -> Path | None:
    """folder/relative when it is a folder reached safely; None when nothing is there; RefusedFile if unsafe."""
    found = _walk(folder, relative)
    if found is None:
        return None
    if not stat.S_ISDIR(found[1]):
        raise RefusedFile(f"{_shown(relative)} is not a folder")
    return found[0]


def _walk(folder: Path, relative: str) -> tuple[Path, int] | None:
    """The path and its mode, each step checked with lstat so that no symbolic link is ever followed."""
    path = folder
    mode = 0
    for part in _relative_parts(relative):
        path = path / part
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:
            return None
        except OSError as error:  # a name too long, a file where a folder should be
            raise RefusedFile(f"{_shown(relative)}: {error.strerror}") from error
        if stat.S_ISLNK(mode):
            raise RefusedFile(f"{_shown(relative)} is or passes through a symbolic link")
    if not path.resolve().is_relative_to(folder.resolve()):
        raise RefusedFile(f"{_shown(relative)} leads outside the dataset's folder")
    return path, mode


def _relative_parts(relative: object) -> tuple[str, ...]:
    if not isinstance(relative, str) or not relative.strip():
        raise RefusedFile("the path is empty")
    if "\x00" in relative or "\\" in relative:
        raise RefusedFile(f"{_shown(relative)} holds a NUL character or a backslash")
    if PurePosixPath(relative).is_absolute() or PureWindowsPath(relative).drive:
        raise RefusedFile(f"{_shown(relative)} is an absolute path")
    parts = PurePosixPath(relative).parts
    if ".." in parts:
        raise RefusedFile(f"{_shown(relative)} climbs out with '..'")
    if not parts:
        raise RefusedFile(f"{_shown(relative)} names the dataset's folder itself")
    return parts


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object from a file already checked by dump_file, read whole but never more than the size cap.

    Raises ValueError saying why when it is too big, not UTF-8, not JSON, nested too deeply or not an object.
    """
    limit = settings.DUMP_MAX_JSON_BYTES
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path.name} is larger than DUMP_MAX_JSON_BYTES ({limit} bytes): not read")
    try:
        value = json.loads(data.decode("utf-8"))
    except RecursionError as error:
        raise ValueError(f"{path.name} is nested too deeply to read") from error
    except UnicodeDecodeError as error:
        raise ValueError(f"{path.name} is not UTF-8: {error}") from error
    except ValueError as error:
        raise ValueError(f"{path.name} is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise ValueError(f"{path.name} does not hold a JSON object")
    return value


def archive_mismatch(archive: ArchiveRecord, path: Path) -> tuple[str | None, str]:
    """Why the file is not the one the dump's record describes (or None), and the file's sha256.

    A file cut short by a crashed copy, or replaced, must not be stored as the source the legacy platform had.
    """
    size = path.stat().st_size
    sha256 = file_sha256(path)
    recorded_size = archive.size if isinstance(archive.size, int) and not isinstance(archive.size, bool) else None
    recorded_sha = archive.sha256.lower() if isinstance(archive.sha256, str) and archive.sha256 else None
    if (recorded_size is None or recorded_size == size) and (recorded_sha is None or recorded_sha == sha256):
        return None, sha256
    recorded = " and ".join(_recorded(recorded_size, recorded_sha))
    return (
        f"the dump records {recorded}, the file has {size} bytes and sha256 {sha256[:12]}...: truncated or altered",
        sha256,
    )


def _recorded(size: int | None, sha256: str | None) -> list[str]:
    return ([f"{size} bytes"] if size is not None else []) + ([f"sha256 {sha256[:12]}..."] if sha256 else [])


def _shown(relative: object) -> str:
    text = str(relative)
    return repr(text[:120]) + ("..." if len(text) > 120 else "")
