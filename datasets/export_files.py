"""What the export writes and reads back in a dump folder, with the API key kept out of every byte it writes.

A hostile (or merely careless) legacy instance can echo the key it was sent inside any field: a description, a
source URL, a model label, a cube row, even a source file it serves itself. Everything the export writes goes
through `redact_value` (JSON) or `redact_file` (archived files), so the key is replaced by "***" wherever it shows.
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings

Redact = Callable[[str], str]

REDACT_CHUNK_BYTES = 1024 * 1024
# Characters held back between chunks of a file, so a key split across two chunks is still found: an API key is
# a few dozen characters (legacy keys are UUIDs), far below this.
REDACT_OVERLAP = 4096


def redact_value(value: Any, redact: Redact) -> Any:
    """A JSON-like value with `redact` applied to every string in it, keys included."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {redact(str(key)): redact_value(item, redact) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(item, redact) for item in value]
    return value


def redact_file(path: Path, redact: Redact) -> bool:
    """Rewrite the file with `redact` applied to its text, when that changes anything; True when it did.

    Bytes that are not UTF-8 pass through unchanged (surrogateescape), so a binary file stays byte-identical
    apart from the secret itself.
    """
    partial = path.with_name(path.name + ".redacted.part")
    try:
        with path.open("rb") as source, partial.open("wb") as out:
            changed = _redact_stream(source.read, out.write, redact)
        if changed:
            os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return changed


def _redact_stream(read: Callable[[int], bytes], write: Callable[[bytes], object], redact: Redact) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    changed = False
    carry = ""
    while chunk := read(REDACT_CHUNK_BYTES):
        text = carry + decoder.decode(chunk)
        clean = redact(text)
        changed = changed or clean != text
        cut = max(0, len(clean) - REDACT_OVERLAP)
        write(clean[:cut].encode("utf-8", "surrogateescape"))
        carry = clean[cut:]
    text = carry + decoder.decode(b"", final=True)
    clean = redact(text)
    write(clean.encode("utf-8", "surrogateescape"))
    return changed or clean != text


def write_json_atomically(path: Path, value: Any, *, redact: Redact) -> None:
    """Write the value as JSON, secret redacted; a crash leaves the old file or a `.part`, never half a file."""
    partial = path.with_name(path.name + ".part")
    text = json.dumps(redact_value(value, redact), ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def read_json(path: Path) -> dict[str, Any]:
    """What an earlier export wrote, or {} when it is missing, unreadable, too big or a symbolic link."""
    try:
        if path.is_symlink() or path.stat().st_size > settings.DUMP_MAX_JSON_BYTES:
            return {}
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}
