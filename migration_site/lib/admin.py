"""Admin pieces every app uses: a read-only admin for rows only code writes, and JSON shown readably."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

if TYPE_CHECKING:
    from django.contrib.admin.options import BaseModelAdmin

    _AdminBase = BaseModelAdmin[Any]
else:
    _AdminBase = object


class ReadOnlyAdminMixin(_AdminBase):
    """For rows that only code writes (harvests, runs, decisions, the review trail): nobody adds or edits them by
    hand, whatever their model permissions. Put it before the ModelAdmin or inline class it refines.

    `allow_change` and `allow_delete` give back the model's own change or delete permission, for admins whose
    rows are changed elsewhere (through a review page) or may be removed by hand.
    """

    allow_change: bool = False
    allow_delete: bool = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.allow_change and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.allow_delete and super().has_delete_permission(request, obj)


def pretty_json(value: Any) -> SafeString:
    """A JSON value for an admin page: indented, keys sorted, scrolling when long."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) if value is not None else "-"
    return format_html('<pre class="pretty-json">{}</pre>', text)
