"""The one check of URLs that came from the legacy platform before any of them becomes a link.

A legacy dataset's `html_url` and its sources' `url` are whatever the legacy instance (or a dump folder) said. A
`javascript:` or `data:` value rendered as `<a href>` runs with the session of the curator who clicks it, so every
page, document and file of this project links a harvested URL only through `http_url` (migration_site/lib/web_links.py)
or `link_or_text`, which uses it; anything else is shown as plain text and recorded as a problem of the dataset at
import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.html import format_html
from django.utils.safestring import SafeString

from migration_site.lib.web_links import http_url

if TYPE_CHECKING:
    from datasets.dump import DumpedDataset

MAX_SHOWN = 200
STEP = "links"


def link_or_text(url: object, text: str | None = None) -> SafeString:
    """An `<a>` for an http(s) URL; any other value as plain text marked "not a web link", never clickable."""
    link = http_url(url)
    if link is not None:
        return format_html('<a href="{}" rel="noreferrer noopener">{}</a>', link, text or link)
    raw = "" if url is None else str(url)
    if not raw.strip():
        return format_html("{}", text or "-")
    if text:
        return format_html('{} <small class="not-a-link">(not a web link: <code>{}</code>)</small>', text, raw)
    return format_html('<code>{}</code> <small class="not-a-link">(not a web link)</small>', raw)


def link_problems(dumped: DumpedDataset) -> list[dict[str, Any]]:
    """Harvest problems for the dataset's legacy page and source addresses that will never be links."""
    problems = []
    if _refused(legacy_url := dumped.fields.get("legacy_url")):
        problems.append(_problem(f"the legacy page address {_shown(legacy_url)}"))
    for source in dumped.sources:
        if _refused(source.url):
            problems.append(_problem(f"source {source.legacy_id}: its address {_shown(source.url)}"))
    return problems


def _refused(value: object) -> bool:
    return bool(str(value or "").strip()) and http_url(value) is None


def _problem(what: str) -> dict[str, Any]:
    return {"step": STEP, "problem": f"{what} is not an http(s) URL: it is shown as text, never as a link"}


def _shown(value: object) -> str:
    """repr() makes hidden characters visible (a tab shows as \\t); long values are cut."""
    text = str(value)
    return repr(text[:MAX_SHOWN]) + (f"... ({len(text)} characters)" if len(text) > MAX_SHOWN else "")
