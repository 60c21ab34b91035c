"""Pages of a public list (the packages, the registry) that never change page in silence.

Django's `Paginator.get_page` turns a page past the end into the last page and junk into page 1 without a word, so a
visitor following an old link to page 9 of what is now 3 pages sees page 3 and believes it is page 9. Here the same
fallbacks come with a notice that says what was asked and what is shown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

_DIGITS = re.compile(r"[0-9]+")
# A page number longer than this is past the end of any list the site can hold; it is neither converted (Python
# refuses int() of more than 4,300 digits) nor echoed in full.
_MAX_DIGITS = 9
_SHOWN_DIGITS = 12


@dataclass(frozen=True)
class Paged:
    page: Page[Any]
    notice: str  # empty when the page shown is the page asked for


def paginate(items: Sequence[Any] | QuerySet[Any], requested: str | None, size: int) -> Paged:
    """The page `requested` (a query parameter, as sent) of `items`; past the end the last page, for anything that
    is not a page number the first one, each with a notice."""
    paginator = Paginator(items, size)
    last = paginator.num_pages  # at least 1: an empty list has one empty page
    text = (requested or "").strip()
    if not text:
        return Paged(paginator.page(1), "")
    if not _DIGITS.fullmatch(text):
        return Paged(paginator.page(1), "That is not a page number; showing the first page.")
    digits = text.lstrip("0") or "0"
    number = int(digits) if len(digits) <= _MAX_DIGITS else last + 1
    if number < 1:
        return Paged(paginator.page(1), "Page 0 does not exist; showing the first page.")
    if number > last:
        return Paged(paginator.page(last), f"Page {_shown(digits)} does not exist; showing the last page, {last}.")
    return Paged(paginator.page(number), "")


def _shown(digits: str) -> str:
    return digits if len(digits) <= _SHOWN_DIGITS else f"{digits[:_SHOWN_DIGITS]}…"
