"""Organisations, the publishers of packages, and the owners that publish as each: edited by migration admins with the
model permissions their group holds (conversion migration 0009). A plain admin: rows a person writes, each change
in Django's admin log; the database keeps one default organisation at most and an owner in one organisation."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from conversion.organisations import Organisation, OrganisationOwner


class OwnerInline(admin.TabularInline):  # type: ignore[type-arg]
    model = OrganisationOwner
    extra = 1
    verbose_name = "owner publishing as this organisation"


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "is_default", "url", "email", "owner_count"]
    list_filter = ["is_default"]
    search_fields = ["name", "owners__owner"]
    inlines = [OwnerInline]
    # An address typed without a scheme is taken as https (Django 6's default; 5.2 warns and assumes http).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organisation]:
        return super().get_queryset(request).annotate(owner_count=Count("owners"))

    @admin.display(description="owners", ordering="owner_count")
    def owner_count(self, organisation: Organisation) -> int:
        return int(getattr(organisation, "owner_count", 0))
