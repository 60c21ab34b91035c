"""The chart of a package's totals per year (publishing/charts.py) on a URL of its own, behind the package page's
privacy filter and validators: a withdrawn or unpublished package's chart is a 404 like its page, and a client that
holds the current chart gets a 304 before anything is read or drawn."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.http import require_safe

from publishing import charts
from publishing.caching import conditional
from publishing.lookup import package_state, published_package
from publishing.totals import MeasureTotals, package_totals

# Bump when the drawing changes (colours, layout), so clients holding a chart's old ETag get the new one.
CHART_VERSION = "1"
View = Callable[..., HttpResponseBase]


def allows_its_own_styles(view: View) -> View:
    """The site's policy, plus the hashes of the chart's own inline <style>: what django-csp's per-view `csp_update`
    does (the `_csp_update` of the response), with sources known only once the chart is drawn. A browser applies
    them when the chart is opened on its own; shown by <img>, an SVG runs no script and loads nothing anyway."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and isinstance(response, HttpResponse):
            response._csp_update = {"style-src": charts.style_hashes(response.content)}  # type: ignore[attr-defined]
        return response

    return wrapper


@require_safe
@allows_its_own_styles
def totals_svg(request: HttpRequest, owner: str, dataset: str) -> HttpResponseBase:
    """`?measure=<field>` names the measure; without it, the package's first."""
    field = request.GET.get("measure")
    validators = package_state(owner, dataset).validators("totals.svg", CHART_VERSION, field)

    def build() -> HttpResponse:
        found = published_package(owner, dataset)
        descriptor = found.descriptor if isinstance(found.descriptor, dict) else {}
        measure = package_totals(descriptor, found).measure(field)
        if measure is None or not measure.charted:
            raise Http404("No totals to chart")
        svg = charts.totals_svg(measure, title=chart_title(measure), description=charts.describe(measure))
        return HttpResponse(svg, content_type="image/svg+xml")

    return conditional(request, validators, build, cache=True)


def chart_title(measure: MeasureTotals) -> str:
    return f"{measure.title} per year" if measure.years else f"{measure.title}, all years"
