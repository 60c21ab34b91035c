"""sha256 of files, open streams and bytes, as lowercase hex: the one way every app fingerprints content.

Pure Python, no Django: conversion.packaging, which imports no Django, may use it too.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol

CHUNK_BYTES = 1024 * 1024


class Readable(Protocol):
    """An open binary file, or a storage's File (which may lack `readinto`)."""

    def read(self, size: int = -1, /) -> bytes: ...


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def file_size_and_sha256(path: Path) -> tuple[int, str]:
    """The size in bytes and the sha256 of a file, from one opening (the size is the one of the bytes hashed)."""
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256")
        return handle.tell(), digest.hexdigest()


def stream_sha256(handle: Readable) -> str:
    """The sha256 of what is left to read in an open binary stream; for storage files, which may lack `readinto`
    (what `hashlib.file_digest` needs)."""
    digest = hashlib.sha256()
    while chunk := handle.read(CHUNK_BYTES):
        digest.update(chunk)
    return digest.hexdigest()


def bytes_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
