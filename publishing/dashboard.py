"""The migration dashboard (/admin/migration/): how many datasets are at each stage, each count a link to the legacy
dataset list filtered on that stage, and the migration admins' to-do.

The dataset list lives in the datasets app, which knows nothing of the stages above it; publishing's pipeline admin of
the dataset list (publishing/dataset_admin.py) adds the `stage` filter, StageFilter below.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from migration_site.lib import roles
from publishing import todo

# Whoever reviews, decides or accepts has work the dashboard shows.
PERMISSIONS = (roles.REVIEW, roles.OVERRIDE, roles.DECIDE, roles.ACCEPT)


def may_see_dashboard(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False)) and any(roles.may(user, permission) for permission in PERMISSIONS)


def dashboard_view(request: HttpRequest) -> TemplateResponse:
    if not may_see_dashboard(request.user):
        raise PermissionDenied("only curators and migration admins see the migration dashboard")
    counts = todo.stage_counts()
    stages = [
        {"stage": stage, "count": counts[stage.key], "url": todo.stage_list_url(stage.key)} for stage in todo.STAGES
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Migration dashboard",
        "stages": stages,
        "todo": todo.admin_todo(),
        "may_decide": roles.may(request.user, roles.DECIDE),
    }
    return TemplateResponse(request, "admin/migration_dashboard.html", context)


class StageFilter(admin.SimpleListFilter):
    """The dashboard's stages on the legacy dataset list; each link of the dashboard selects one."""

    title = "migration stage"
    parameter_name = "stage"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(stage.key, stage.title) for stage in todo.STAGES]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        stage = todo.STAGE_BY_KEY.get(str(self.value()))
        if stage is None:
            return queryset
        # Said above the list, so the list itself tells the admin what its datasets wait for.
        messages.info(request, f"{stage.title}: {stage.meaning}")
        return queryset.filter(todo.stage_condition(stage.key))
