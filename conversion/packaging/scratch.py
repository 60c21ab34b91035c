"""The builder's scratch output: accepted rows as CSV lines in a scratch file, the legacy keys that find the rows a
later row replaced, and the cut that copies the scratch file to the package leaving those rows out.

Rows are written as they come, before the last source is read, so a replaced row is only known at the end; its bytes
are then skipped by range (each row's end offset is kept on disk), which keeps memory flat whatever the row count.
"""

from __future__ import annotations

import csv
import heapq
import io
from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from itertools import accumulate, compress
from pathlib import Path
from typing import BinaryIO

from conversion.packaging.key_files import KeyFiles, batch_keys

__all__ = ["KeyStore", "Output", "csv_lines", "cut"]

Column = list[str]
_CHUNK = 1 << 20


def csv_lines(columns: list[Column]) -> list[str]:
    """CSV lines, a cell quoted only when it holds `,`, `"` or a line break. Not csv.writer: with lineterminator
    "\\n" it leaves a lone carriage return unquoted, which readers take for a line end; and deciding per column, most
    of which need no quotes at all, is twice as fast as its scan of every cell."""
    lines = list(map(",".join, zip(*map(_quoted_column, columns), strict=True)))
    return [line or '""' for line in lines] if len(columns) == 1 else lines  # a lone empty cell is no blank line


def _quoted_column(values: Column) -> Column:
    text = "".join(values)
    if "," not in text and not _special(text):
        return values
    return [_quoted(value) for value in values]


def _special(text: str) -> bool:
    return '"' in text or "\n" in text or "\r" in text


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if "," in value or _special(value) else value


class Output:
    """Accepted rows as CSV bytes in a scratch file. With `track` it also keeps on disk each row's end offset, so a
    row replaced later can be cut out by byte range, and its row number in its file, for the report's examples."""

    def __init__(self, folder: Path, header: list[str], *, track: bool) -> None:
        self.folder, self.path = folder, folder / "rows.csv"
        self.file = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self.header_size = self.size = self.file.write((csv_lines([[name] for name in header])[0] + "\n").encode())
        self.rows = 0
        self.starts: list[tuple[int, int]] = []  # (first output row, source index) per input file
        self.ends_file = open(folder / "ends.bin", "wb") if track else None  # noqa: SIM115
        self.numbers_file = open(folder / "numbers.bin", "wb") if track else None  # noqa: SIM115

    def begin(self, source: int) -> None:
        self.starts.append((self.rows, source))

    def add(self, lines: list[str], numbers: Sequence[int]) -> int:
        """Write a batch of lines; the output row number of its first."""
        if self.ends_file is not None and self.numbers_file is not None:
            encoded = list(map(str.encode, lines))
            data = b"\n".join(encoded) + b"\n"
            ends = accumulate(map((1).__add__, map(len, encoded)), initial=self.size)  # each line and its line feed
            array("q", ends)[1:].tofile(self.ends_file)
            array("q", numbers).tofile(self.numbers_file)
        else:
            data = ("\n".join(lines) + "\n").encode()
        self.size += self.file.write(data)
        self.rows += len(lines)
        return self.rows - len(lines)

    def close(self) -> None:
        for handle in (self.file, self.ends_file, self.numbers_file):
            if handle is not None:
                handle.close()

    def span(self, ends: BinaryIO, rownum: int) -> tuple[int, int]:
        """Byte range of a row in the scratch CSV, from the end offsets of the row before and of it."""
        if rownum == 0:
            ends.seek(0)
            return self.header_size, array("q", ends.read(8))[0]
        ends.seek(8 * (rownum - 1))
        start, end = array("q", ends.read(16))
        return start, end

    def origin(self, rownum: int) -> tuple[int, int]:
        """(source index, row number in its file) of an output row."""
        source = self.starts[bisect_right(self.starts, (rownum, 1 << 62)) - 1][1]
        with open(self.folder / "numbers.bin", "rb") as numbers:
            numbers.seek(8 * rownum)
            return source, array("q", numbers.read(8))[0]


class KeyStore:
    """Finds the rows that a later row with the same legacy key replaced, with flat memory whatever the key order
    (see conversion.packaging.key_files)."""

    def __init__(self, folder: Path, slots: list[int], parts: int) -> None:
        self.folder, self.slots = folder, slots
        self.files = KeyFiles(folder, parts)
        self.runs: list[Path] = []  # per part with repeats: its (replaced, replaced by) row numbers, in order

    def add(self, columns: list[Column], first: int) -> None:
        keys = batch_keys([columns[slot] for slot in self.slots])
        self.files.add(keys, range(first, first + len(keys)))

    def close(self) -> int:
        """Check every part; how many rows were replaced."""
        self.files.close()
        return sum(self._replaced(part, keys, rownums) for part, keys, rownums in self.files.repeated())

    def _replaced(self, part: int, keys: list[str], rownums: array[int]) -> int:
        counts = Counter(keys)
        twice = {key for key, count in counts.items() if count > 1}
        last: dict[str, int] = {}
        pairs: list[tuple[int, int]] = []
        for key, rownum in compress(zip(keys, rownums, strict=True), map(twice.__contains__, keys)):
            if key in last:
                pairs.append((last[key], rownum))
            last[key] = rownum
        pairs.sort()
        self.runs.append(self.folder / f"replaced-{part}.bin")
        with open(self.runs[-1], "wb") as handle:
            array("q", (number for pair in pairs for number in pair)).tofile(handle)
        return len(pairs)

    def replaced(self) -> Iterator[tuple[int, int]]:
        """(row number, row number of the row that replaced it), in row order, streamed from disk."""
        return heapq.merge(*(_pairs(path) for path in self.runs))


def _pairs(path: Path) -> Iterator[tuple[int, int]]:
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 16):
            numbers = array("q", chunk)
            yield from zip(numbers[::2], numbers[1::2], strict=True)


def cut(
    output: Output,
    target: Path,
    dead: Iterator[tuple[int, int]],
    on_dropped: Callable[[list[list[str]], list[tuple[int, int]]], None],
    *,
    batch: int,
) -> None:
    """Copy the scratch CSV to the target leaving out the replaced rows' bytes; those rows go to on_dropped, parsed,
    `batch` at a time with their (row number, replaced by)."""
    with (
        open(output.path, "rb") as source,
        open(target, "wb") as out,
        open(output.folder / "ends.bin", "rb") as ends,
    ):
        position = 0
        texts: list[bytes] = []
        replaced: list[tuple[int, int]] = []
        for pair in dead:
            start, end = output.span(ends, pair[0])
            _copy(source, out, position, start)
            texts.append(source.read(end - start))
            replaced.append(pair)
            position = end
            if len(texts) >= batch:
                on_dropped(_parsed(texts), replaced)
                texts, replaced = [], []
        if texts:
            on_dropped(_parsed(texts), replaced)
        _copy(source, out, position, None)


def _parsed(lines: list[bytes]) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(lines).decode("utf-8"), newline="")))


def _copy(source: BinaryIO, out: BinaryIO, start: int, stop: int | None) -> None:
    source.seek(start)
    remaining = -1 if stop is None else stop - start
    while remaining:
        chunk = source.read(_CHUNK if remaining < 0 else min(_CHUNK, remaining))
        if not chunk:
            break
        out.write(chunk)
        remaining = remaining - len(chunk) if remaining > 0 else remaining
