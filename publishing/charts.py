"""The chart of a package's totals per year, this package beside the legacy platform: an SVG drawn on the server by
pygal, so no script runs in the page and nothing loads from the network. pygal's JavaScript (tooltips) is off
(`js=[]`); the inline script of settings it writes all the same and the tooltip layer that script would drive are
taken out. Its one inline <style> must stay (an SVG shown by <img> loads nothing, a stylesheet neither): the chart's
own response allows it by hash (`style_hashes`, publishing/chart_views.py), the site's policy holding everywhere else.

The bytes depend on the totals alone (pygal's random chart id and its dated comment are replaced or dropped), so the
same totals give the same SVG in every process, as a strong ETag promises.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any
from xml.etree import ElementTree

import pygal  # type: ignore[import-untyped]
from pygal.style import Style  # type: ignore[import-untyped]

from publishing.totals import NOT_RECORDED, MeasureTotals, TotalRow, amount

WIDTH, HEIGHT = 460, 320  # about its size beside the table at 1280 px; on a phone its lettering stays legible
CHART_ID = "totals"  # pygal prefixes its CSS with the chart's id: a fixed one keeps the bytes stable
PACKAGE_SERIES = "this package"
LEGACY_SERIES = "legacy platform"
# The site's brand blue, and an orange apart from it in hue and lightness (colour-blind readers tell them apart);
# both 3:1 or more on white (WCAG 1.4.11, graphical objects).
COLOURS = ("#0b5c8a", "#b35c00")
STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2430",
    foreground_strong="#1d2430",
    foreground_subtle="#d9dee6",
    colors=COLOURS,
    font_family=FONT,
    opacity="1",
    opacity_hover="1",
    transition="0ms",
    title_font_size=16,
    legend_font_size=14,
    label_font_size=14,
    major_label_font_size=14,
    no_data_font_size=20,
    guide_stroke_color="#d9dee6",
    major_guide_stroke_color="#b8c0cc",
    guide_stroke_dasharray="0",
    major_guide_stroke_dasharray="0",
)


def totals_svg(measure: MeasureTotals, *, title: str, description: str) -> bytes:
    """A grouped bar chart: one group per year (or the overall total when the package has no dates), two bars."""
    rows = measure.charted
    legacy_known = any(row.legacy_text != NOT_RECORDED for row in rows)
    ticks = _ticks([value for row in rows for value in (row.ours, row.legacy) if value is not None])
    chart = pygal.Bar(
        js=[],  # no script: nothing for the site's CSP to refuse, nothing fetched
        style=STYLE,
        width=WIDTH,
        height=HEIGHT,
        explicit_size=True,  # width and height besides the viewBox: an <img> and a canvas know its size
        title=title,
        y_title=measure.currency or None,
        legend_at_bottom=True,
        legend_at_bottom_columns=2 if legacy_known else 1,  # "legacy platform (not recorded)" needs a line
        truncate_legend=-1,
        truncate_label=-1,
        include_x_axis=True,
        show_x_guides=False,
        margin=12,
        y_labels=[float(tick) for tick in ticks],
        range=(float(ticks[0]), float(ticks[-1])),  # the highest bar below the top tick, not against the frame
        value_formatter=_axis_label,  # the y axis
        formatter=lambda value: amount(_decimal(value), measure.places),  # each bar's figure
        no_data_text="No totals",
    )
    chart.uuid = CHART_ID
    chart.x_labels = [row.label for row in rows]
    chart.add(PACKAGE_SERIES, [_float(row.ours) for row in rows])
    chart.add(LEGACY_SERIES if legacy_known else f"{LEGACY_SERIES} ({NOT_RECORDED})", _legacy_values(rows))
    chart.add_xml_filter(_accessible(title, description))
    return bytes(chart.render())


def describe(measure: MeasureTotals) -> str:
    """Every figure of the chart in words, for its <desc>."""
    parts = [
        f"{row.label}: {PACKAGE_SERIES} {row.ours_text}, {LEGACY_SERIES} {row.legacy_text}" for row in measure.charted
    ]
    unit = f" in {measure.currency}" if measure.currency else ""
    return f"Totals of {measure.title}{unit}. " + "; ".join(parts) + "."


def _ticks(values: list[Decimal]) -> list[Decimal]:
    """Four or five round steps (1, 2, 2.5 or 5 times a power of ten) from zero, or the lowest negative total, up to
    the first step at or above the highest."""
    low, high = min([Decimal(0), *values]), max([Decimal(0), *values])
    wanted = ((high - low) or Decimal(1)) / 4
    power = Decimal(1).scaleb(wanted.adjusted())
    step = next(power * factor for factor in STEPS if power * factor >= wanted)
    first = (low / step).to_integral_value(ROUND_FLOOR) * step
    count = max(2, int(((high - first) / step).to_integral_value(ROUND_CEILING)) + 1)
    return [first + step * index for index in range(count)]


def _legacy_values(rows: list[TotalRow]) -> list[float | None]:
    return [_float(row.legacy) for row in rows]


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _decimal(value: Any) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))


def _axis_label(value: Any) -> str:
    """Ticks are round numbers: grouped, with decimals only when a tick has some (0.5, 2.5)."""
    number = _decimal(value).normalize()
    return amount(number, max(0, -int(number.as_tuple().exponent)))


def _accessible(title: str, description: str) -> Callable[[Any], Any]:
    """An XML filter: the chart's name and description for assistive technology, pygal's comments and its tooltip
    layer (inert without its script, and styled inline, which the CSP refuses) taken out."""

    def apply(root: Any) -> Any:
        parents = {child: parent for parent in root.iter() for child in parent}
        for node in list(parents):
            if callable(node.tag) or _tag(node) == "script" or "tooltip-overlay" in (node.get("class") or ""):
                parents[node].remove(node)  # comments (their tag is a factory function), the script, the tooltips
        name = next(child for child in root if _tag(child) == "title")
        name.text, name.attrib["id"] = title, f"{CHART_ID}-title"
        desc = root.makeelement(name.tag.replace("title", "desc"), {"id": f"{CHART_ID}-desc"})
        desc.text = description
        root.insert(list(root).index(name) + 1, desc)
        root.attrib.update({"role": "img", "aria-labelledby": f"{CHART_ID}-title {CHART_ID}-desc"})
        return root

    return apply


def style_hashes(svg: bytes) -> list[str]:
    """The CSP source of each inline <style> of a chart: the sha256 of its text as the browser reads it (entities
    decoded: `&gt;` hashes as `>`)."""
    root = ElementTree.fromstring(svg)  # our own chart, never outside input
    texts = [node.text or "" for node in root.iter() if _tag(node) == "style"]
    return [f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'" for text in texts]


def _tag(node: Any) -> str:
    return str(node.tag).rsplit("}", 1)[-1]
