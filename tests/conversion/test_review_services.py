"""The review services: proposals never overwrite a curator, roles are enforced, every change leaves a trace."""

import json
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from conversion.models import DatasetDecision, DimensionMapping, ReviewEvent, dataset_owner
from conversion.review import services
from datasets.models import LegacyDataset
from migration_site.lib import roles
from tests.factories import make_user, mapping

pytestmark = pytest.mark.django_db
Status = DimensionMapping.Status


def test_propose_mappings_covers_every_dataset_with_a_model_or_archived_rows(proposed):
    for dataset in LegacyDataset.objects.all():
        count = DimensionMapping.objects.filter(dataset=dataset).count()
        has_model = bool(dataset.normalised_model and dataset.normalised_model.get("mapping"))
        has_rows = dataset.sources.filter(archive_status="fetched").exclude(size=0).exists()
        assert (count > 0) == (has_model or has_rows), dataset  # a draft (rows, no model) too: riverton
    amount = mapping(proposed, "amount")
    assert amount.current_target["column_type"] == "value"
    assert amount.samples and amount.reasons


def test_proposing_again_never_overwrites_a_curators_work(proposed, curator):
    amount = mapping(proposed, "amount")
    services.mapping_approve(mapping=amount, reviewer=curator)
    out = StringIO()
    call_command("propose_mappings", "lindenau-haushalt", stdout=out)
    assert "kept" in out.getvalue()
    amount.refresh_from_db()
    assert amount.status == Status.APPROVED


def test_proposing_again_refreshes_untouched_proposals(proposed):
    before = set(DimensionMapping.objects.filter(dataset=proposed).values_list("legacy_path", flat=True))
    call_command("propose_mappings", "lindenau-haushalt", stdout=StringIO())
    after = set(DimensionMapping.objects.filter(dataset=proposed).values_list("legacy_path", flat=True))
    assert before == after


def test_only_curators_and_admins_review(proposed, curator, migration_admin, outsider):
    with pytest.raises(PermissionDenied):
        services.mapping_approve(mapping=mapping(proposed, "amount"), reviewer=outsider)
    services.mapping_approve(mapping=mapping(proposed, "amount"), reviewer=curator)
    services.mapping_approve(mapping=mapping(proposed, "time"), reviewer=migration_admin)


def test_approved_mappings_are_read_only_until_an_admin_reopens_them(proposed, curator, migration_admin):
    amount = mapping(proposed, "amount")
    services.mapping_approve(mapping=amount, reviewer=curator)
    with pytest.raises(ValidationError, match="read-only"):
        services.mapping_update(mapping=amount, data={"title": "Changed"}, editor=curator, reason="typo")
    with pytest.raises(PermissionDenied):
        services.mapping_reopen(mapping=amount, admin=curator, reason="")
    services.mapping_reopen(mapping=amount, admin=migration_admin, reason="second look")
    services.mapping_update(mapping=amount, data={"title": "Changed"}, editor=curator, reason="typo")
    assert amount.status == Status.EDITED and amount.current_target["title"] == "Changed"


def test_dropping_and_sending_back_need_a_reason(proposed, curator):
    kind, time = mapping(proposed, "ergebnisart"), mapping(proposed, "time")
    with pytest.raises(ValidationError, match="say why the column is left out"):
        services.mapping_drop(mapping=kind, reviewer=curator, reason=" ")
    with pytest.raises(ValidationError, match="say what is wrong with the proposal"):
        services.mapping_send_back(mapping=time, reviewer=curator, reason="")
    services.mapping_drop(mapping=kind, reviewer=curator, reason="not needed")
    services.mapping_send_back(mapping=time, reviewer=curator, reason="the year is a fiscal year?")
    kind, time = mapping(proposed, "ergebnisart"), mapping(proposed, "time")
    assert (kind.status, kind.rejection_reason) == (Status.DROPPED, "not needed")
    assert (time.status, time.rejection_reason) == (Status.SENT_BACK, "the year is a fiscal year?")
    actions = dict(ReviewEvent.objects.filter(mapping__in=[kind, time]).values_list("mapping__legacy_path", "action"))
    assert actions == {"ergebnisart": ReviewEvent.Action.DROPPED, "time": ReviewEvent.Action.SENT_BACK}


def test_a_mapping_sent_back_waits_for_someone_else(proposed, curator, migration_admin):
    time = mapping(proposed, "time")
    services.mapping_send_back(mapping=time, reviewer=curator, reason="not sure")
    assert DimensionMapping.objects.needs_review().filter(pk=time.pk).exists(), "it stays in the queue"
    assert not time.is_reviewed
    with pytest.raises(ValidationError, match="another curator or a migration admin"):
        services.mapping_approve(mapping=mapping(proposed, "time"), reviewer=curator)
    other = make_user("olga", group=roles.CURATORS)
    services.mapping_approve(mapping=mapping(proposed, "time"), reviewer=other)
    assert mapping(proposed, "time").status == Status.APPROVED

    kind = mapping(proposed, "ergebnisart")
    services.mapping_send_back(mapping=kind, reviewer=migration_admin, reason="check")
    services.mapping_approve(mapping=mapping(proposed, "ergebnisart"), reviewer=migration_admin)  # admins may


def test_a_dropped_mapping_is_decided_and_only_a_reopen_undoes_it(proposed, curator, migration_admin):
    kind = mapping(proposed, "ergebnisart")
    services.mapping_drop(mapping=kind, reviewer=curator, reason="not in the package")
    with pytest.raises(ValidationError, match="dropped from the package"):
        services.mapping_approve(mapping=mapping(proposed, "ergebnisart"), reviewer=curator)
    with pytest.raises(ValidationError, match="already dropped"):
        services.mapping_send_back(mapping=mapping(proposed, "ergebnisart"), reviewer=curator, reason="x")
    services.mapping_reopen(mapping=mapping(proposed, "ergebnisart"), admin=migration_admin, reason="keep it")
    assert mapping(proposed, "ergebnisart").status == Status.PROPOSED


def test_a_hand_edit_is_validated_field_by_field(proposed, curator):
    label = mapping(proposed, "produktbereich.label")
    cases = [
        ({"column_type": "no:such:type"}, "column_type"),
        ({"labelfor": "nowhere.name"}, "labelfor"),
        ({"parent": "produktbereich.label"}, "parent"),
        ({"column_type": "value"}, "column_type"),  # its values are names, not numbers
        ({"field": "Not A Name"}, "field"),
    ]
    for data, field in cases:
        with pytest.raises(services.MappingErrors) as raised:
            services.mapping_update(mapping=label, data=data, editor=curator, reason="try")
        assert field in raised.value.per_mapping[label.pk], data
    label.refresh_from_db()
    assert label.status == Status.PROPOSED, "a refused edit changes nothing"


def test_a_measure_and_a_date_are_required_unless_an_admin_overrides(proposed, curator, migration_admin):
    time = mapping(proposed, "time")
    with pytest.raises(services.MappingErrors) as raised:
        services.mapping_update(mapping=time, data={"column_type": "unknown:string"}, editor=curator, reason="x")
    assert "date type" in " ".join(raised.value.general)
    with pytest.raises(PermissionDenied):
        services.dataset_mappings_update(
            dataset=proposed, changes={time.pk: {"column_type": "unknown:string"}}, editor=curator, reason="x",
            override_required=True,
        )  # fmt: skip
    services.dataset_mappings_update(
        dataset=proposed, changes={time.pk: {"column_type": "unknown:string"}}, editor=migration_admin,
        reason="the dates are in the file name", override_required=True,
    )  # fmt: skip
    assert mapping(proposed, "time").current_target["column_type"] == "unknown:string"


def test_every_change_is_listed_with_who_when_before_after_and_why(proposed, curator, migration_admin):
    amount = mapping(proposed, "amount")
    services.mapping_update(mapping=amount, data={"title": "Planned amount"}, editor=curator, reason="clearer")
    services.mapping_approve(mapping=amount, reviewer=curator)
    services.mapping_reopen(mapping=amount, admin=migration_admin, reason="check currency")
    events = list(ReviewEvent.objects.filter(mapping=amount).order_by("at", "id"))
    assert [event.action for event in events] == ["edited", "approved", "reopened"]
    edit = events[0]
    assert edit.user == curator and edit.reason == "clearer"
    assert edit.before["title"] == "Ansatz" and edit.after["title"] == "Planned amount"
    assert events[2].user == migration_admin and events[2].before == {"status": "approved"}


def test_bulk_approval_takes_only_confident_open_mappings(proposed, curator):
    mappings = list(DimensionMapping.objects.filter(dataset=proposed))
    approved, refused = services.mappings_approve_confident(mappings=mappings, reviewer=curator)
    assert approved and refused
    assert all(not m.ambiguous for m in approved)
    assert all("ambiguous" in why for _, why in refused)


def test_decisions_are_for_migration_admins_only(proposed, curator, migration_admin):
    with pytest.raises(PermissionDenied):
        services.dataset_decide(dataset=proposed, decision="exclude", admin=curator, reason="no")
    services.dataset_decide(dataset=proposed, decision="migrate_private", admin=migration_admin, reason="embargo")
    decision = DatasetDecision.objects.get(dataset=proposed)
    assert decision.decision == "migrate_private" and decision.decided_by == migration_admin


def test_the_owner_defaults_to_the_first_manager_and_can_be_chosen_from_the_team(proposed, migration_admin, settings):
    assert dataset_owner(proposed, None) == "kmueller"
    services.dataset_set_owner(dataset=proposed, owner="pwright", admin=migration_admin, reason="main contact")
    assert dataset_owner(proposed, DatasetDecision.objects.get(dataset=proposed)) == "pwright"
    with pytest.raises(ValidationError):
        services.dataset_set_owner(dataset=proposed, owner="stranger", admin=migration_admin, reason="")
    settings.DEFAULT_DATASET_OWNER = "os-archive"
    teamless = LegacyDataset.objects.get(name="lagoon-district-expenditure")
    assert dataset_owner(teamless, None) == "os-archive"


def test_migration_status_json_gains_the_review_columns(proposed, curator, migration_admin):
    services.mapping_approve(mapping=mapping(proposed, "amount"), reviewer=curator)
    services.dataset_decide(dataset=proposed, decision="migrate_public", admin=migration_admin, reason="ok")
    out = StringIO()
    call_command("migration_status", "--json", stdout=out)
    rows = {row["name"]: row for row in json.loads(out.getvalue())}
    lindenau = rows["lindenau-haushalt"]
    assert lindenau["mapping_status"] == "needs_review"
    assert lindenau["mappings"]["approved"] == 1
    assert lindenau["decision"] == "migrate_public"
    assert lindenau["owner"] == "kmueller"
    assert rows["riverton-draft-budget-2015"]["mapping_status"] == "needs_review"  # proposed from its columns
    assert rows["kestrel-bay-budget-2016"]["mapping_status"] == "needs_review"
