"""Injected failures, so tests can see how a client copes with a flaky legacy server."""

import re
import threading
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = ("status", "delay", "truncate", "garbage", "html")


@dataclass
class Fault:
    pattern: re.Pattern[str]
    kind: str
    remaining: int
    params: dict[str, Any] = field(default_factory=dict)


class FaultRegistry:
    """Faults matched in the order they were added; each fires `times` times and is then forgotten."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, path_pattern: str, kind: str, times: int, params: dict[str, Any]) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; choose one of {', '.join(FAULT_KINDS)}")
        if kind == "status" and "status" not in params:
            raise ValueError('a "status" fault needs status=<HTTP status code>')
        if kind == "delay" and "seconds" not in params:
            raise ValueError('a "delay" fault needs seconds=<float>')
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(Fault(re.compile(path_pattern), kind, times, dict(params)))

    def take(self, path: str) -> Fault | None:
        """The first fault whose pattern is found in `path`, counted as fired."""
        with self._lock:
            for fault in self._faults:
                if fault.pattern.search(path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
