"""A licence per dataset (a migration admin's choice, else PACKAGE_LICENSE) and organisations as publishers: how they
are chosen, who may edit them, what the trail records, and what the descriptor states."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from conversion.models import DatasetDecision, ReviewEvent, dataset_licence
from conversion.organisations import Organisation, OrganisationOwner, Publisher, publisher_of
from conversion.packaging.descriptor import descriptor
from conversion.packaging.package_spec import BuildPlan, BuildReport, PackageMeta
from conversion.packaging.validation_result import ValidationResult
from conversion.packaging.validation_schema import check_schema
from conversion.plan import package_meta
from conversion.review import services
from datasets.models import LegacyDataset, TeamMember
from migration_site.lib import roles

pytestmark = pytest.mark.django_db
CC_BY = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0 International",
}
PDDL = {
    "name": "ODC-PDDL-1.0",
    "path": "https://opendatacommons.org/licenses/pddl/1-0/",
    "title": "Open Data Commons Public Domain Dedication and License v1.0",
}


@pytest.fixture
def dataset() -> LegacyDataset:
    made = LegacyDataset.objects.create(name="lindenau-haushalt", label="Lindenau", currency="EUR")
    TeamMember.objects.create(dataset=made, username="kmueller", fullname="Karin Müller")
    return made


def licence_events(dataset: LegacyDataset) -> list[tuple[object, object, str]]:
    events = ReviewEvent.objects.filter(dataset=dataset, action=ReviewEvent.Action.LICENCE_SET).order_by("id")
    return [(event.before, event.after, event.reason) for event in events]


# -- the licence ------------------------------------------------------------------------------------------------------


def test_a_licence_choice_is_recorded_in_the_trail_once_per_change(dataset, migration_admin):
    services.dataset_set_licence(dataset=dataset, licence="CC-BY-4.0", admin=migration_admin, reason="city terms")
    services.dataset_set_licence(dataset=dataset, licence="CC-BY-4.0", admin=migration_admin, reason="again")
    services.dataset_set_licence(dataset=dataset, licence="", admin=migration_admin, reason="back to the default")
    assert licence_events(dataset) == [
        ({"licence": None}, {"licence": "CC-BY-4.0"}, "city terms"),
        ({"licence": "CC-BY-4.0"}, {"licence": None}, "back to the default"),
    ]
    assert ReviewEvent.objects.filter(subject="licence").first().user == migration_admin


def test_only_known_licences_and_only_deciders(dataset, migration_admin, curator):
    with pytest.raises(ValidationError, match="not a known licence"):
        services.dataset_set_licence(dataset=dataset, licence="WTFPL", admin=migration_admin, reason="")
    with pytest.raises(PermissionDenied):
        services.dataset_set_licence(dataset=dataset, licence="CC0-1.0", admin=curator, reason="")
    assert not licence_events(dataset)


def test_the_licence_is_the_choice_else_the_setting(dataset, migration_admin, settings):
    assert dataset_licence(None).id == "ODC-PDDL-1.0"
    settings.PACKAGE_LICENSE = "CC0-1.0"
    assert dataset_licence(DatasetDecision(licence="")).id == "CC0-1.0"
    assert dataset_licence(DatasetDecision(licence="ODbL-1.0")).id == "ODbL-1.0"
    assert dataset_licence(DatasetDecision(licence="since-removed")).id == "CC0-1.0"


def test_the_decision_form_sets_the_licence_and_leaves_it_when_it_sends_none(client, dataset, migration_admin):
    client.force_login(migration_admin)
    url = reverse("admin:conversion_dataset_decide", args=[dataset.pk])
    form = {"decision-decision": "", "decision-owner": "", "decision-reason": "the city's terms"}
    assert client.post(url, {**form, "decision-licence": "CC-BY-4.0"}).status_code == 302
    assert DatasetDecision.objects.get(dataset=dataset).licence == "CC-BY-4.0"
    assert client.post(url, form).status_code == 302  # a form without the field
    assert DatasetDecision.objects.get(dataset=dataset).licence == "CC-BY-4.0"
    assert len(licence_events(dataset)) == 1
    client.post(url, {**form, "decision-licence": "no-such-licence"})
    assert DatasetDecision.objects.get(dataset=dataset).licence == "CC-BY-4.0"


# -- organisations ----------------------------------------------------------------------------------------------------


def test_the_publisher_is_the_owners_organisation_else_the_default_else_the_setting(settings):
    settings.PUBLIC_PUBLISHER_NAME = "The site"
    settings.PUBLIC_CONTACT_EMAIL = "help@example.org"
    assert publisher_of("kmueller") == Publisher("The site", "", "help@example.org")
    council = Organisation.objects.create(name="Lindenau council", url="https://lindenau.example.org")
    OrganisationOwner.objects.create(organisation=council, owner="kmueller")
    Organisation.objects.create(name="Open Knowledge", email="info@example.org", is_default=True)
    assert publisher_of("kmueller") == Publisher("Lindenau council", "https://lindenau.example.org", "help@example.org")
    assert publisher_of("pwright") == Publisher("Open Knowledge", "", "info@example.org")


def test_migration_admins_hold_the_organisation_permissions_and_curators_do_not():
    codenames = {f"{action}_{model}" for model in ("organisation", "organisationowner") for action in ("view", "add")}
    held = {
        name: set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))
        for name in (roles.MIGRATION_ADMINS, roles.CURATORS)
    }
    assert codenames <= held[roles.MIGRATION_ADMINS]
    assert not codenames & held[roles.CURATORS]
    assert Permission.objects.filter(codename="change_organisation").exists()


def test_a_migration_admin_adds_an_organisation_with_its_owners_in_the_admin(client, migration_admin):
    client.force_login(migration_admin)
    form = {
        "name": "Lindenau council",
        "url": "https://lindenau.example.org",
        "email": "data@lindenau.example.org",
        "is_default": "on",
        "owners-TOTAL_FORMS": "1",
        "owners-INITIAL_FORMS": "0",
        "owners-0-owner": "kmueller",
    }
    response = client.post(reverse("admin:conversion_organisation_add"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert publisher_of("kmueller").name == "Lindenau council"
    second = {**form, "name": "Another", "owners-0-owner": "pwright"}
    refused = client.post(reverse("admin:conversion_organisation_add"), second)
    assert refused.status_code == 200
    assert "Another organisation is already the default" in refused.content.decode()
    assert not Organisation.objects.filter(name="Another").exists()


def test_curators_may_not_edit_organisations(client, curator):
    client.force_login(curator)
    assert client.get(reverse("admin:conversion_organisation_add")).status_code == 403
    assert client.get(reverse("admin:conversion_organisation_changelist")).status_code == 403


# -- what the package states ------------------------------------------------------------------------------------------


def test_package_meta_carries_the_licence_and_the_publisher(dataset, migration_admin, settings):
    settings.PUBLIC_CONTACT_EMAIL = ""
    assert package_meta(dataset).licenses == [PDDL]
    assert package_meta(dataset).publisher == {"title": "OpenSpending", "name": "OpenSpending", "role": "publisher"}
    council = Organisation.objects.create(name="Lindenau council", url="https://lindenau.example.org")
    OrganisationOwner.objects.create(organisation=council, owner="kmueller")
    services.dataset_set_licence(dataset=dataset, licence="CC-BY-4.0", admin=migration_admin, reason="terms")
    meta = package_meta(dataset)
    assert meta.licenses == [CC_BY]
    assert meta.publisher == {
        "title": "Lindenau council",
        "name": "Lindenau council",
        "role": "publisher",
        "path": "https://lindenau.example.org",
    }


def test_the_descriptor_states_licences_and_the_publisher_and_stays_valid():
    meta = PackageMeta(
        name="budget",
        title="Budget",
        description="",
        legacy_name="budget",
        legacy_url="https://openspending.org/budget",
        currency="EUR",
        category="budget",
        territories=["DE"],
        languages=["de"],
        owner="kmueller",
        author="Karin Müller (kmueller)",
        contributors=["pwright"],
        sources=[],
        licenses=[CC_BY],
        publisher={"title": "Lindenau council", "name": "Lindenau council", "role": "publisher", "email": "d@x.org"},
    )
    written = descriptor(BuildPlan(meta=meta, columns=[], sources=[]), BuildReport(built_from="sources"), {})
    assert written["licenses"] == [CC_BY]
    assert [person["role"] for person in written["contributors"]] == ["contributor", "publisher"]
    assert written["contributors"][1]["email"] == "d@x.org"
    result = ValidationResult()
    check_schema(written, result)
    assert not [problem for problem in result.problems if "licen" in problem.where or "contrib" in problem.where]
