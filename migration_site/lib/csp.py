"""The Content-Security-Policy middleware of the whole site: django-csp's, with the site-wide header built once.

django-csp rebuilds the policy on every response (deep copies of the settings, twice, for the policy and the
report-only one). On a public page served from the document cache that cost 12% of the requests a second
(bench/RESULTS.md). A response with nothing of its own (no per-view update, replacement, exemption or nonce) gets
the header built once per settings instead; anything else goes through django-csp unchanged.
"""

from __future__ import annotations

import functools
import http.client

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.response import HttpResponseBase

# What a view or a template can set to change the policy of its response (csp.decorators, request.csp_nonce).
OWN_POLICY = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)
DEBUG_PAGES = (http.client.NOT_FOUND, http.client.INTERNAL_SERVER_ERROR)


class CSPMiddleware(DjangoCSPMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if _has_own_policy(request, response):
            return super().process_response(request, response)
        # As django-csp does: Django's debug pages carry inline scripts and styles, and get no header.
        if HEADER not in response and not (settings.DEBUG and response.status_code in DEBUG_PAGES):
            response[HEADER] = site_policy()
        # As django-csp does: a nonce asked for after the header is written could not be in it.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response


def _has_own_policy(request: HttpRequest, response: HttpResponseBase) -> bool:
    return (
        isinstance(getattr(request, "_csp_nonce", None), str)
        or any(hasattr(response, name) for name in OWN_POLICY)
        or bool(settings.CONTENT_SECURITY_POLICY_REPORT_ONLY)
        or bool((settings.CONTENT_SECURITY_POLICY or {}).get("EXCLUDE_URL_PREFIXES"))
    )


@functools.cache
def site_policy() -> str:
    return build_policy()


@receiver(setting_changed)
def _forget_policy(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        site_policy.cache_clear()
