"""The owner a migration admin chooses: the legacy team, an organisation's owner or a user of the site, offered in
groups on the decision form and checked again by the service."""

import pytest
from django.core.exceptions import ValidationError

from conversion.models import DatasetDecision, dataset_owner
from conversion.organisations import Organisation, OrganisationOwner
from conversion.review import services
from conversion.review.forms import DecisionForm
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def council() -> Organisation:
    organisation = Organisation.objects.create(name="Lindenau council")
    OrganisationOwner.objects.create(organisation=organisation, owner="lindenau-council")
    OrganisationOwner.objects.create(organisation=organisation, owner="kmueller")  # also in the team: listed there
    return organisation


def test_the_form_offers_the_team_the_organisations_owners_and_the_users_in_groups(proposed, migration_admin, council):
    form = DecisionForm(team=proposed.team_usernames)

    groups = dict(services.owner_groups(proposed.team_usernames))
    assert [name for name, _ in groups["Legacy team"]] == proposed.team_usernames
    assert groups["Organisations' owners"] == [("lindenau-council", "lindenau-council (Lindenau council)")]
    assert "max" in [name for name, _ in groups["Site users"]]
    html = form["owner"].as_widget()
    assert '<optgroup label="Organisations&#x27; owners">' in html and '<optgroup label="Site users">' in html


def test_the_form_accepts_an_organisations_owner(proposed, council):
    form = DecisionForm({"decision-owner": "lindenau-council", "decision-reason": "x"}, team=proposed.team_usernames)

    assert form.is_valid(), form.errors


@pytest.mark.parametrize("owner", ["lindenau-council", "max"])
def test_an_organisations_owner_or_a_user_may_own_the_package(proposed, migration_admin, council, owner):
    services.dataset_set_owner(dataset=proposed, owner=owner, admin=migration_admin, reason="moves to the council")

    assert dataset_owner(proposed, DatasetDecision.objects.get(dataset=proposed)) == owner


def test_anyone_else_is_refused_by_the_service(proposed, migration_admin, council):
    make_user("gone").__class__.objects.filter(username="gone").update(is_active=False)

    for owner in ["stranger", "gone"]:
        with pytest.raises(ValidationError, match="neither in the dataset's team"):
            services.dataset_set_owner(dataset=proposed, owner=owner, admin=migration_admin, reason="")
