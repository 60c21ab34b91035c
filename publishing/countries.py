"""Country names for the two-letter codes packages store (`PublishedPackage.country`, ISO 3166-1 alpha-2).

The names come from pycountry (ISO 3166-1 as Debian's iso-codes keeps it): its short name, its official name and its
common name, so "Bolivia", "Britain" and "Korea" all find their country. Accents do not count, so "cote" finds Côte
d'Ivoire as a visitor without a French keyboard would type it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import pycountry


def codes_named(text: str) -> frozenset[str]:
    """The codes of every country one of whose names has a word starting with `text`, ignoring case and accents:
    "kingdom" finds the United Kingdom, but "land" does not find a dozen countries ending in it."""
    wanted = _plain(text)
    if not wanted:
        return frozenset()
    at_word_start = re.compile(rf"(?<!\w){re.escape(wanted)}")
    return frozenset(code for code, names in _names().items() if any(at_word_start.search(name) for name in names))


@cache
def _names() -> dict[str, tuple[str, ...]]:
    """Every code with its names, simplified once per process (249 countries)."""
    fields = ("name", "official_name", "common_name")
    return {
        str(country.alpha_2): tuple(_plain(str(name)) for field in fields if (name := getattr(country, field, None)))
        for country in pycountry.countries
    }


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(character for character in decomposed if not unicodedata.combining(character)).strip()
