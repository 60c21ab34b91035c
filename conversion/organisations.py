"""Who publishes a package: the organisation its owner (the `<owner>` of `<owner>/<name>/` in the store) belongs to,
else the default organisation, else PUBLIC_PUBLISHER_NAME. Migration admins edit organisations in the admin.

The descriptor states the publisher when the package is built; data.json looks it up when it is rendered, so packages
published before an owner joined an organisation show the right publisher there without being converted again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models
from django.db.models import Q


class Organisation(models.Model):
    name = models.CharField(max_length=300, unique=True)
    url = models.URLField(max_length=500, blank=True, help_text="Its web site (optional).")
    email = models.EmailField(
        blank=True, help_text="Contact for its packages in data.json; empty: PUBLIC_CONTACT_EMAIL."
    )
    is_default = models.BooleanField(
        default=False, help_text="Publisher of the packages whose owner belongs to no organisation (at most one)."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="one_default_organisation",
                violation_error_message="Another organisation is already the default: untick it there first.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class OrganisationOwner(models.Model):
    """An owner (a legacy user name) that publishes as the organisation; an owner belongs to at most one."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="owners")
    owner = models.CharField(
        max_length=255, unique=True, help_text="The user name that owns packages (`<owner>/<name>/` in the store)."
    )

    class Meta:
        ordering = ["owner"]

    def __str__(self) -> str:
        return f"{self.owner} ({self.organisation})"


@dataclass(frozen=True)
class Publisher:
    name: str
    url: str = ""
    email: str = ""  # the organisation's, else PUBLIC_CONTACT_EMAIL; empty when neither is set

    def contributor(self) -> dict[str, str]:
        """The Data Package contributor; `name` as well as `title`, as the descriptor's other people have."""
        entry = {"title": self.name, "name": self.name, "role": "publisher"}
        return entry | ({"path": self.url} if self.url else {}) | ({"email": self.email} if self.email else {})


@dataclass(frozen=True)
class Publishers:
    """Every owner's publisher, read in one query: data.json names hundreds of packages."""

    by_owner: dict[str, Publisher] = field(default_factory=dict)
    default: Publisher | None = None

    def of(self, owner: str) -> Publisher:
        return self.by_owner.get(owner) or self.site()

    def site(self) -> Publisher:
        """The publisher of what belongs to no organisation, the site's own documents included."""
        return self.default or Publisher(settings.PUBLIC_PUBLISHER_NAME, email=settings.PUBLIC_CONTACT_EMAIL)

    @property
    def state(self) -> tuple[object, ...]:
        """What data.json's validators must change with (see publishing.discovery)."""
        return (sorted(self.by_owner.items()), self.default, settings.PUBLIC_CONTACT_EMAIL)


def publishers() -> Publishers:
    rows = Organisation.objects.order_by().values_list("name", "url", "email", "is_default", "owners__owner")
    return publishers_of(rows)


def publishers_of(rows: Iterable[tuple[str, str, str, bool, str | None]]) -> Publishers:
    by_owner, default = {}, None
    for name, url, email, is_default, owner in rows:
        publisher = Publisher(name, url, email or settings.PUBLIC_CONTACT_EMAIL)
        if owner:
            by_owner[owner] = publisher
        if is_default:
            default = publisher
    return Publishers(by_owner, default)


def publisher_of(owner: str) -> Publisher:
    return publishers().of(owner)
