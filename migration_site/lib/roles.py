"""Who may do what: every check is a Django permission, asked with `user.has_perm`, in the services as well as in
the admin.

The groups "Curators" and "Migration admins" are only bundles of these permissions (the conversion data migrations
grant them), so a permission granted to one user in the admin works outside any group, and renaming a group keeps
its members' rights. Superusers have every permission.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

# The groups the data migrations create; `demo` and `migrate_legacy` put their users in them.
CURATORS = "Curators"
MIGRATION_ADMINS = "Migration admins"

REVIEW = "conversion.review_dimensionmapping"  # edit, approve, send back, drop mappings; re-run a conversion
OVERRIDE = "conversion.override_dimensionmapping"  # reopen a reviewed mapping; override the one-measure-one-date rule
DECIDE = "conversion.decide_dataset"  # decide on a private or incomplete dataset; choose its owner
ACCEPT = "conversion.accept_reconciliation"  # accept a difference from the legacy cube
PUBLISH = "publishing.add_publicationrun"  # publish and withdraw from the admin (asking for either adds a run)

REFUSALS = {
    PUBLISH: "you may not publish or withdraw packages (permission publishing.add_publicationrun)",
    REVIEW: "you may not review mappings (permission conversion.review_dimensionmapping)",
    OVERRIDE: "you may not reopen mappings or override their rules (permission conversion.override_dimensionmapping)",
    DECIDE: "you may not decide on datasets or their owner (permission conversion.decide_dataset)",
    ACCEPT: "you may not accept a reconciliation mismatch (permission conversion.accept_reconciliation)",
}


def may(user: Any, permission: str) -> bool:
    """Whether an active, signed-in user holds the permission; None (a command line) and anonymous users do not."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return bool(user.has_perm(permission))


def require(user: Any, permission: str) -> None:
    if not may(user, permission):
        raise PermissionDenied(REFUSALS.get(permission, f"you need the permission {permission}"))


def requester(user: Any) -> Any:
    """The user to record as having asked for something; None for a command line or an anonymous caller."""
    return user if user is not None and getattr(user, "is_authenticated", False) else None
