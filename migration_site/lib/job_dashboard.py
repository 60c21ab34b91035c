"""The django-rq job dashboard, for the people who run the migration only.

django-rq lets every staff user in: its views use `staff_member_required`, and its admin integration adds nothing.
Curators are staff (they use the admin), and must not see other people's jobs, delete them or empty a queue. Here
every dashboard view, under /django-rq/ and under /admin/django_rq/, first checks django-rq's own permission
`django_rq.admin` ("Access admin page"), which migration conversion/0005 grants to the Migration admins group
(superusers have every permission). Nothing else about django-rq changes.

The dashboard's templates carry an inline script (the select-all box of its job lists) and a few inline styles; the
site's CSP allows exactly those by their hashes, computed from the installed templates, on these pages only.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import django_rq
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import URLPattern, reverse
from django_rq.admin import QueueAdmin
from django_rq.models import Dashboard
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns

from migration_site.lib import roles

PERMISSION = "django_rq.admin"
INLINE_SCRIPT = re.compile(r"<script[^>]*>(.*?)</script>", re.DOTALL)
INLINE_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL)
STYLE_ATTRIBUTE = re.compile(r'style="([^"]*)"')

View = Callable[..., HttpResponseBase]


def may_manage_jobs(user: Any) -> bool:
    return roles.may(user, PERMISSION) and bool(user.is_staff)


def guarded(view: View) -> View:
    """The view, for job managers only: anonymous visitors go to the login page, other users get a 403."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not getattr(request.user, "is_authenticated", False):
            return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
        if not may_manage_jobs(request.user):
            raise PermissionDenied("only migration admins manage the job queues")
        return view(request, *args, **kwargs)

    return csp_update(dashboard_csp())(wrapper)


def urlpatterns() -> list[URLPattern]:
    """django-rq's own URL patterns (what `include("django_rq.urls")` mounts), every view guarded."""
    return [_guard_pattern(pattern) for pattern in [*get_api_urlpatterns(), *get_admin_urlpatterns()]]


def _guard_pattern(pattern: URLPattern) -> URLPattern:
    return URLPattern(pattern.pattern, guarded(pattern.callback), pattern.default_args, pattern.name)


class JobQueuesAdmin(QueueAdmin):
    """django-rq's admin entry (the dashboard under /admin/django_rq/), shown to and usable by job managers only."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_manage_jobs(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage_jobs(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage_jobs(request.user)

    def get_urls(self) -> list[URLPattern]:
        return [_guard_pattern(pattern) for pattern in super().get_urls()]  # type: ignore[no-untyped-call]


def install_admin(site: admin.AdminSite) -> None:
    """Replace django-rq's admin registration (open to all staff) with the guarded one."""
    if site.is_registered(Dashboard):
        site.unregister(Dashboard)
    site.register(Dashboard, JobQueuesAdmin)


@functools.cache
def dashboard_csp() -> dict[str, list[str]]:
    """The hashes of the inline scripts, styles and style attributes in django-rq's templates, as CSP sources."""
    folder = Path(django_rq.__file__).parent / "templates" / "django_rq"
    scripts: set[str] = set()
    styles: set[str] = set()
    for template in folder.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        scripts.update(_hash(body) for body in INLINE_SCRIPT.findall(text) if body.strip() and _is_static(body))
        styles.update(_hash(body) for body in INLINE_STYLE.findall(text) if _is_static(body))
        styles.update(_hash(body) for body in STYLE_ATTRIBUTE.findall(text) if _is_static(body))
    # 'unsafe-hashes' lets a hash allow a style attribute too; it allows nothing that has no listed hash.
    return {"script-src": sorted(scripts), "style-src": ["'unsafe-hashes'", *sorted(styles)]}


def _is_static(text: str) -> bool:
    """Text with no template tag is sent as it is written, so its hash is known in advance."""
    return "{%" not in text and "{{" not in text


def _hash(text: str) -> str:
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
    return f"'sha256-{digest}'"
