"""Whether a value from the legacy platform may become a link: plain Python, so packaging can use it too.

datasets/links.py says why every harvested URL goes through `http_url` before it is rendered as a link.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

WEB_SCHEMES = frozenset({"http", "https"})


def http_url(value: object) -> str | None:
    """The value, stripped, when it is an absolute http(s) URL with a host; else None.

    Whitespace and control or invisible characters inside are refused rather than cleaned: browsers drop tabs and
    newlines from URLs ("java\\tscript:" runs), so a value that needs cleaning is not a link we vouch for.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or any(_hidden(character) for character in text):
        return None
    try:
        parts = urlsplit(text)
        host, _ = parts.hostname, parts.port
    except ValueError:  # an unbalanced "[" in the host, a port out of range
        return None
    return text if parts.scheme.lower() in WEB_SCHEMES and host else None


def _hidden(character: str) -> bool:
    """Whitespace, controls, format characters (zero-width, bidi overrides) and unassigned code points."""
    return character.isspace() or unicodedata.category(character)[0] in "CZ"
