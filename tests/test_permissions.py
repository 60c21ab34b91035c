"""Authorisation asks for permissions, never for group names: the groups are bundles of permissions, so a permission
granted to one user works outside any group, and renaming a group keeps its members' rights."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from conversion import runs
from conversion.models import ConversionRun, DatasetDecision, DimensionMapping
from conversion.review import services
from datasets.models import LegacyDataset
from migration_site.lib import roles

pytestmark = pytest.mark.django_db
Status = DimensionMapping.Status
TARGET: dict[str, object] = {
    "column_type": "unknown:string",
    "field": "f",
    "title": "t",
    "labelfor": None,
    "parent": None,
    "primary_key": False,
    "options": {},
}


def user_with(username: str, *permissions: str, staff: bool = True) -> User:
    """A user in no group holding exactly these permissions ("app_label.codename"), fetched afresh (no perm cache)."""
    user = User.objects.create_user(username=username, password="pw-" + username, is_staff=staff)
    for permission in permissions:
        app_label, codename = permission.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def dataset() -> LegacyDataset:
    return LegacyDataset.objects.create(name="lindenau-haushalt", label="Lindenau")


@pytest.fixture
def open_mapping(dataset: LegacyDataset) -> DimensionMapping:
    return DimensionMapping.objects.create(
        dataset=dataset,
        legacy_path="to.label",
        kind="attribute",
        source={"column": "to"},
        proposed_target=TARGET,
        current_target=TARGET,
        confidence=0.9,
        ambiguous=False,
    )


def test_a_user_in_no_group_granted_decide_dataset_decides(client, dataset):
    decider = user_with("dora", roles.DECIDE)
    assert not decider.groups.exists()
    services.dataset_decide(dataset=dataset, decision="exclude", admin=decider, reason="a duplicate")
    assert DatasetDecision.objects.get(dataset=dataset).decided_by == decider
    client.force_login(decider)
    url = reverse("admin:conversion_dataset_decide", args=[dataset.pk])
    data = {"decision-decision": "migrate_private", "decision-owner": "", "decision-reason": "keep it"}
    assert client.post(url, data).status_code == 302
    assert DatasetDecision.objects.get(dataset=dataset).decision == "migrate_private"
    page = reverse("admin:conversion_dataset_review", args=[dataset.pk])
    assert client.get(page).status_code == 200, "a decider opens the page where decisions are taken"


def test_a_user_granted_only_review_approves_but_does_not_decide(client, dataset, open_mapping):
    reviewer = user_with("rita", roles.REVIEW)
    services.mapping_approve(mapping=open_mapping, reviewer=reviewer)
    assert open_mapping.status == Status.APPROVED
    with pytest.raises(PermissionDenied):
        services.dataset_decide(dataset=dataset, decision="exclude", admin=reviewer, reason="no")
    with pytest.raises(PermissionDenied):
        services.mapping_reopen(mapping=open_mapping, admin=reviewer, reason="second look")
    client.force_login(reviewer)
    url = reverse("admin:conversion_dataset_decide", args=[dataset.pk])
    assert client.post(url, {"decision-decision": "exclude", "decision-reason": "no"}).status_code == 403
    assert not DatasetDecision.objects.filter(dataset=dataset).exists()


def test_the_page_shows_each_user_the_actions_their_permissions_allow(client, dataset, open_mapping):
    page = reverse("admin:conversion_dataset_review", args=[dataset.pk])
    client.force_login(user_with("rita", roles.REVIEW))
    context = client.get(page).context
    assert (context["can_review"], context["can_override"], context["can_decide"]) == (True, False, False)
    client.force_login(user_with("dora", roles.DECIDE))
    context = client.get(page).context
    assert (context["can_review"], context["can_override"], context["can_decide"]) == (False, False, True)


def test_override_dimensionmapping_alone_reopens_a_reviewed_mapping(open_mapping):
    services.mapping_approve(mapping=open_mapping, reviewer=user_with("rita", roles.REVIEW))
    services.mapping_reopen(mapping=open_mapping, admin=user_with("olga", roles.OVERRIDE), reason="second look")
    assert open_mapping.status == Status.PROPOSED


def test_accept_reconciliation_alone_accepts_a_mismatch(dataset):
    run = ConversionRun.objects.create(dataset=dataset, reconciliation_status=ConversionRun.Reconciliation.MISMATCH)
    with pytest.raises(PermissionDenied):
        runs.reconciliation_accept(run=run, admin=user_with("dora", roles.DECIDE), reason="a legacy quirk")
    runs.reconciliation_accept(run=run, admin=user_with("ada", roles.ACCEPT), reason="a legacy quirk")
    assert ConversionRun.objects.get(pk=run.pk).reconciliation_status == ConversionRun.Reconciliation.ACCEPTED


def test_renaming_the_curators_group_keeps_its_members_rights(open_mapping):
    curator = User.objects.create_user(username="carla", is_staff=True)
    curator.groups.add(Group.objects.get(name=roles.CURATORS))
    Group.objects.filter(name=roles.CURATORS).update(name="Reviewers of mappings")
    services.mapping_approve(mapping=open_mapping, reviewer=User.objects.get(pk=curator.pk))
    assert open_mapping.status == Status.APPROVED


def test_the_groups_are_bundles_of_the_permissions(db):
    curator = User.objects.create_user(username="carla")
    curator.groups.add(Group.objects.get(name=roles.CURATORS))
    admin = User.objects.create_user(username="max")
    admin.groups.add(Group.objects.get(name=roles.MIGRATION_ADMINS))
    curator, admin = User.objects.get(pk=curator.pk), User.objects.get(pk=admin.pk)
    every = [roles.REVIEW, roles.OVERRIDE, roles.DECIDE, roles.ACCEPT]
    assert [roles.may(curator, permission) for permission in every] == [True, False, False, False]
    assert all(roles.may(admin, permission) for permission in every)


def test_a_staff_user_without_permissions_is_refused(client, dataset, open_mapping):
    staff = user_with("stan")
    with pytest.raises(PermissionDenied):
        services.mapping_approve(mapping=open_mapping, reviewer=staff)
    with pytest.raises(PermissionDenied):
        services.dataset_decide(dataset=dataset, decision="exclude", admin=staff, reason="no")
    client.force_login(staff)
    assert client.get(reverse("admin:conversion_dataset_review", args=[dataset.pk])).status_code == 403
    assert client.post(reverse("admin:conversion_mapping_approve", args=[open_mapping.pk])).status_code == 403
    decide = reverse("admin:conversion_dataset_decide", args=[dataset.pk])
    assert client.post(decide, {"decision-decision": "exclude", "decision-reason": "no"}).status_code == 403
    open_mapping.refresh_from_db()
    assert open_mapping.status == Status.PROPOSED
    assert not DatasetDecision.objects.filter(dataset=dataset).exists()


def test_inactive_users_and_the_command_line_hold_no_permission(db):
    inactive = user_with("ian", roles.DECIDE)
    inactive.is_active = False
    assert not roles.may(inactive, roles.DECIDE)
    assert not roles.may(None, roles.DECIDE)
    superuser = User.objects.create_superuser(username="sue", password="pw")
    assert roles.may(superuser, roles.DECIDE) and roles.may(superuser, roles.ACCEPT)
