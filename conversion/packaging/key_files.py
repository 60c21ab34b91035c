"""Repeated keys among millions of rows, found with flat memory: hash-partitioned key files on disk.

Keys go to `parts` files by hash as the rows come, so each file holds a slice of the keys in row order; at the end
each file is read back and checked on its own with a dict, in C. A SQLite table does this too, but slows to a few
µs per row once its B-tree outgrows the page cache and keys come in random order (110-150k keys/s on 10M random
keys here), and frictionless holds every key in one dict (about 150 MB per million keys, stack-notes §4).

The builder uses it for the legacy upserts, the data check for the package's primary key.
"""

from __future__ import annotations

import hashlib
import struct
from array import array
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

__all__ = ["KEY_BUFFER", "SHORT_KEY", "KeyFiles", "batch_keys", "key_of", "parts_for"]

SHORT_KEY = 64  # longer keys are stored as their sha1
KEY_BUFFER = 100_000  # keys held in memory before they go to their files
# One part file per KEY_PART_BYTES of input CSV (at most KEY_PARTS): a part is read back whole, so this bounds memory.
KEY_PARTS = 256
KEY_PART_BYTES = 4 << 20
_HEADER = struct.Struct("<qq")  # bytes of the joined keys, number of keys


def parts_for(size: int) -> int:
    """How many part files for `size` bytes of CSV."""
    return min(KEY_PARTS, 1 + size // KEY_PART_BYTES)


def batch_keys(columns: Sequence[Sequence[str]]) -> list[str]:
    """The keys of a batch given its key columns: `key_of` each row, worked out for the whole batch at once when
    all are short."""
    joined = list(map("\x1f".join, zip(*columns, strict=True))) if len(columns) > 1 else list(columns[0])
    if not joined:
        return []
    text = "".join(joined)
    if (
        max(map(len, joined)) <= SHORT_KEY
        and "\x00" not in text
        and text.count("\x1f") == (len(columns) - 1) * len(joined)
    ):
        return list(map("=".__add__, joined))
    return list(map(key_of, zip(*columns, strict=True)))


def key_of(values: tuple[str, ...]) -> str:
    """Equal values give equal keys, different ones different keys, and no key holds a NUL (the files' separator).
    Short keys are the values themselves, the others their sha1."""
    text = "\x1f".join(values)
    if len(text) <= SHORT_KEY and "\x00" not in text and text.count("\x1f") == len(values) - 1:
        return "=" + text
    return "#" + hashlib.sha1(repr(values).encode()).hexdigest()


class KeyFiles:
    """Keys with their row numbers spread over `parts` files in `folder`; `repeated` yields the parts where a key
    occurs more than once."""

    def __init__(self, folder: Path, parts: int, *, buffer: int | None = None) -> None:
        self.folder, self.buffer = folder, KEY_BUFFER if buffer is None else buffer
        self.keys: list[list[str]] = [[] for _ in range(max(1, parts))]
        self.rownums = [array("q") for _ in self.keys]
        self.held = 0
        self.files: dict[int, BinaryIO] = {}

    def add(self, keys: Sequence[str], rownums: Iterable[int]) -> None:
        held, numbers, parts = self.keys, self.rownums, len(self.keys)
        for key, rownum in zip(keys, rownums, strict=True):
            part = hash(key) % parts  # str hashes vary between processes, but not within this one
            held[part].append(key)
            numbers[part].append(rownum)
        self.held += len(keys)
        if self.held >= self.buffer:
            self._spill()

    def _spill(self) -> None:
        # Per part: a header (bytes of keys, number of keys), the keys joined by NUL (no key holds one), the rows.
        for part, keys in enumerate(self.keys):
            if keys:
                if part not in self.files:
                    self.files[part] = open(self.folder / f"keys-{part}.bin", "wb")  # noqa: SIM115 - closed in close()
                joined = "\x00".join(keys).encode()
                self.files[part].write(_HEADER.pack(len(joined), len(keys)) + joined)
                self.rownums[part].tofile(self.files[part])
                keys.clear()
                del self.rownums[part][:]
        self.held = 0

    def close(self) -> None:
        """Write what is held and close the files; closing twice is harmless."""
        self._spill()
        for handle in self.files.values():
            handle.close()

    def repeated(self) -> Iterator[tuple[int, list[str], array[int]]]:
        """(part, its keys, their row numbers) of each part holding a key twice, in part order; after `close`."""
        for part in sorted(self.files):
            keys, rownums = _read_part(self.folder / f"keys-{part}.bin")
            if len(dict.fromkeys(keys)) != len(keys):  # no key twice is the usual case, found in C
                yield part, keys, rownums


def _read_part(path: Path) -> tuple[list[str], array[int]]:
    """A part's keys and row numbers, in row order."""
    keys: list[str] = []
    rownums = array("q")
    with open(path, "rb") as handle:
        while header := handle.read(_HEADER.size):
            size, count = _HEADER.unpack(header)
            keys += handle.read(size).decode().split("\x00")
            rownums.fromfile(handle, count)
    return keys, rownums
