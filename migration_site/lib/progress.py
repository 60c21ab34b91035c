"""Progress for long commands: a bar on a terminal, one line per item otherwise (logs, CI)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from tqdm import tqdm


class Progress:
    def __init__(self, write: Callable[[str], object], *, label: str, enabled: bool | None = None) -> None:
        self._write = write
        self._label = label
        self._enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bar: tqdm | None = None
        self._done = 0
        self._total: int | None = None

    def start(self, total: int) -> None:
        self._total = total
        if self._enabled:
            self._bar = tqdm(total=total, unit=f" {self._label}", file=sys.stderr, dynamic_ncols=True)

    def advance(self, message: str) -> None:
        self._done += 1
        if self._bar is not None:
            self._bar.write(message, file=sys.stdout)
            self._bar.update(1)
        else:
            counter = f"[{self._done}/{self._total}] " if self._total else ""
            self._write(f"{counter}{message}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
