"""Fixtures for the review workflow: the sample instance imported and proposed, and users in each role."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from conversion import roles
from conversion.models import DimensionMapping
from datasets.models import LegacyDataset


def make_user(username: str, *, group: str | None = None, staff: bool = True) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username, is_staff=staff)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def curator(db) -> User:
    return make_user("carla", group=roles.CURATORS)


@pytest.fixture
def migration_admin(db) -> User:
    return make_user("max", group=roles.MIGRATION_ADMINS)


@pytest.fixture
def outsider(db) -> User:
    return make_user("otto")


@pytest.fixture
def proposed(db, sample_dump) -> LegacyDataset:
    """The sample instance imported and proposed; returns its Lindenau budget dataset."""
    call_command("import_legacy", str(sample_dump), stdout=StringIO())
    call_command("propose_mappings", stdout=StringIO())
    return LegacyDataset.objects.get(name="lindenau-haushalt")


def mapping(dataset: LegacyDataset, path: str) -> DimensionMapping:
    return DimensionMapping.objects.get(dataset=dataset, legacy_path=path)
