"""Advisory locks, so that two runs on one package (a publication and a withdrawal) do not interleave.

On PostgreSQL each run holds a session advisory lock on its package while it works, and registry rebuilds hold one
on the registry (always package first, then registry). Embedded mode (SQLite) runs jobs inline in one process and
needs none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def locked(name: str) -> Iterator[None]:
    """A PostgreSQL session advisory lock while the block runs (no transaction held open during uploads)."""
    if connection.vendor != "postgresql":
        yield
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
