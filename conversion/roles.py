"""The two review roles, as Django groups: what each may do is checked here, in the services, not only in the admin."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

CURATORS = "Curators"
MIGRATION_ADMINS = "Migration admins"


def _in_group(user: Any, name: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if user.is_superuser:
        return True
    return bool(user.groups.filter(name=name).exists())


def is_migration_admin(user: Any) -> bool:
    return _in_group(user, MIGRATION_ADMINS)


def is_curator(user: Any) -> bool:
    return is_migration_admin(user) or _in_group(user, CURATORS)


def require_curator(user: Any) -> None:
    if not is_curator(user):
        raise PermissionDenied("only curators and migration admins review mappings")


def require_migration_admin(user: Any) -> None:
    if not is_migration_admin(user):
        raise PermissionDenied("only migration admins may do this")


def requester(user: Any) -> Any:
    """The user to record as having asked for something; None for a command line or an anonymous caller."""
    return user if user is not None and getattr(user, "is_authenticated", False) else None
