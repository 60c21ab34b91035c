"""A per-process store of rendered documents: least recently used out first, bounded in bytes, nothing pickled.

Django's local-memory cache pickles every value, and unpickling a 14 MB data.json costs 3.5 ms a request, more than
the rest of the request together; a bound in entries cannot bound memory when one document is 14 MB and another
14 kB. Each gunicorn worker (or runserver thread, hence the lock) fills its own on first use.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.conf import settings

__all__ = ["Memory", "documents"]


class Memory:
    def __init__(self, budget: int | None = None) -> None:
        self.fixed_budget = budget
        self.items: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    @property
    def budget(self) -> int:
        if self.fixed_budget is not None:
            return self.fixed_budget
        return settings.DOCUMENT_CACHE_BYTES

    def get(self, key: str) -> Any:
        with self.lock:
            found = self.items.get(key)
            if found is None:
                return None
            self.items.move_to_end(key)
            return found[0]

    def set(self, key: str, value: Any, size: int) -> None:
        """Keep `value` (about `size` bytes); nothing when it alone exceeds a quarter of the budget."""
        budget = self.budget
        if size > budget // 4:
            return
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.size -= old[1]
            self.items[key] = (value, size)
            self.size += size
            while self.size > budget and self.items:
                _, (_, dropped) = self.items.popitem(last=False)
                self.size -= dropped

    def discard_prefix(self, prefix: str) -> None:
        """Drop every entry whose key starts with `prefix`."""
        with self.lock:
            for key in [key for key in self.items if key.startswith(prefix)]:
                self.size -= self.items.pop(key)[1]

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.size = 0


documents = Memory()
