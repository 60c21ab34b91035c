"""The review page's one form (issue 12, items 1, 6 and 10): Approve and Reject save every edit on the page first,
in one POST, so what the curator sees is what is approved; a page with a bad edit saves nothing and lists the
problems at the top; the live preview names the refused fields while the curator types; edits need a reason."""

import pytest
from django.urls import reverse
from lxml import html  # type: ignore[import-untyped]

from conversion.models import DimensionMapping, ReviewEvent
from datasets.models import LegacyDataset
from tests.conversion.test_review_admin import _form_data, page_url
from tests.factories import mapping

pytestmark = pytest.mark.django_db
Status = DimensionMapping.Status
ECONOMIC = "economic-classification:generic:code"


@pytest.fixture
def page_data(client, curator, proposed):
    client.force_login(curator)
    return _form_data(client, proposed)


def test_approve_saves_the_rows_edits_and_approves_them(client, proposed, page_data):
    kind = mapping(proposed, "ergebnisart")
    page_data[f"m{kind.pk}-column_type"] = ECONOMIC
    page_data["reason"] = "Aufwendungen and Erträge are economic"
    page_data["_approve"] = str(kind.pk)
    response = client.post(page_url(proposed), page_data)
    assert response.status_code == 302 and response.url.endswith(f"#mapping-{kind.pk}")
    kind.refresh_from_db()
    assert kind.status == Status.APPROVED and kind.column_type == ECONOMIC
    actions = list(ReviewEvent.objects.filter(mapping=kind).order_by("at", "id").values_list("action", flat=True))
    assert actions == [ReviewEvent.Action.EDITED, ReviewEvent.Action.APPROVED]
    shown = [str(message) for message in response.wsgi_request._messages]
    assert shown == ["Saved 1 edited mapping(s).", "ergebnisart: approved."]


def test_approve_also_keeps_the_edits_of_other_rows(client, proposed, page_data):
    kind, title = mapping(proposed, "ergebnisart"), mapping(proposed, "produktbereich.label")
    page_data[f"m{title.pk}-title"] = "Produktbereich (Bezeichnung)"
    page_data["reason"] = "a clearer title"
    page_data["_approve"] = str(kind.pk)
    assert client.post(page_url(proposed), page_data).status_code == 302
    title.refresh_from_db()
    kind.refresh_from_db()
    assert title.status == Status.EDITED and title.current_target["title"] == "Produktbereich (Bezeichnung)"
    assert kind.status == Status.APPROVED


def test_a_bad_edit_anywhere_saves_nothing_approves_nothing_and_is_listed_first(client, proposed, page_data):
    kind, label = mapping(proposed, "ergebnisart"), mapping(proposed, "produktbereich.label")
    page_data[f"m{kind.pk}-column_type"] = ECONOMIC
    page_data[f"m{label.pk}-column_type"] = "no-such:type"
    page_data["reason"] = "trying"
    page_data["_approve"] = str(kind.pk)
    response = client.post(page_url(proposed), page_data)
    assert response.status_code == 200
    kind.refresh_from_db()
    assert kind.status == Status.PROPOSED and kind.column_type != ECONOMIC
    summary = html.fromstring(response.content).get_element_by_id("error-summary")
    text = " ".join(summary.text_content().split())
    assert "Nothing was saved: 1 problem to fix first." in text
    assert "produktbereich.label: Column type: 'no-such:type' is not a column type of the vocabulary" in text
    assert summary.xpath(".//a/@href") == [f"#mapping-{label.pk}"]


@pytest.mark.parametrize(
    ("button", "status", "message"),
    [("_drop", Status.DROPPED, "dropped from the package"), ("_send_back", Status.SENT_BACK, "sent back")],
)
def test_drop_and_send_back_save_the_edits_and_need_their_own_reason(
    client, proposed, page_data, button, status, message
):
    kind, title = mapping(proposed, "ergebnisart"), mapping(proposed, "produktbereich.label")
    page_data[f"m{title.pk}-title"] = "Bereich"
    page_data["reason"] = "shorter"
    page_data[button] = str(kind.pk)
    response = client.post(page_url(proposed), page_data)  # no reason on the card: refused, nothing saved
    assert response.status_code == 200 and "Nothing was saved" in response.content.decode()
    title.refresh_from_db()
    assert title.status == Status.PROPOSED

    page_data[f"card_reason_{kind.pk}"] = "not a dimension of the package"
    response = client.post(page_url(proposed), page_data)
    assert response.status_code == 302
    kind.refresh_from_db()
    title.refresh_from_db()
    assert kind.status == status and kind.rejection_reason == "not a dimension of the package"
    assert title.status == Status.EDITED
    assert [str(m) for m in response.wsgi_request._messages][-1] == f"ergebnisart: {message}."


def test_edits_without_a_reason_are_refused(client, proposed, page_data):
    title = mapping(proposed, "produktbereich.label")
    page_data[f"m{title.pk}-title"] = "Bereich"
    response = client.post(page_url(proposed), page_data)
    assert response.status_code == 200
    assert "say why you made these edits" in response.content.decode()
    title.refresh_from_db()
    assert title.status == Status.PROPOSED


def test_approve_without_edits_needs_no_reason(client, proposed, page_data):
    amount = mapping(proposed, "amount")
    page_data["_approve"] = str(amount.pk)
    response = client.post(page_url(proposed), page_data)
    assert response.status_code == 302
    amount.refresh_from_db()
    assert amount.status == Status.APPROVED
    assert [str(m) for m in response.wsgi_request._messages] == ["amount: approved."]


def test_the_preview_names_the_fields_it_refuses_while_typing(client, proposed, page_data):
    label = mapping(proposed, "produktbereich.label")
    page_data[f"m{label.pk}-column_type"] = "no-such:type"
    page_data[f"m{label.pk}-field"] = "Not A Name"
    response = client.post(reverse("admin:conversion_dataset_preview", args=[proposed.pk]), page_data)
    document = html.fromstring(response.content)
    marked = document.xpath("//@data-invalid-fields")[0].split()
    assert sorted(marked) == [f"m{label.pk}-column_type", f"m{label.pk}-field"]
    assert "cannot be saved as they are" in document.text_content()
    assert 'id="preview-table"' in response.content.decode()  # the preview itself still shows


def test_reopening_says_reopened(client, migration_admin, proposed):
    amount = mapping(proposed, "amount")
    amount.approve(reviewer=migration_admin)
    client.force_login(migration_admin)
    response = client.post(reverse("admin:conversion_mapping_reopen", args=[amount.pk]), {"reason": "check again"})
    assert [str(m) for m in response.wsgi_request._messages] == ["amount: reopened."]


def test_every_input_of_a_card_has_a_label(client, proposed, page_data):
    document = html.fromstring(client.get(page_url(proposed)).content)
    labelled = set(document.xpath("//label/@for"))
    inputs = document.xpath("//section[contains(@class, 'mapping-card')]//input[@type!='hidden'] | "
                            "//section[contains(@class, 'mapping-card')]//select")  # fmt: skip
    assert inputs and all(element.get("id") in labelled or element.get("aria-label") for element in inputs)
    described = document.xpath("//@aria-describedby")
    assert all(document.xpath(f"//*[@id='{target}']") for value in described for target in value.split())


def test_approve_all_open_mappings_asks_first_then_comes_back(client, proposed, page_data):
    page = client.get(page_url(proposed)).content.decode()
    assert "Approve all 7 open mappings…" in page
    open_ids = [str(m.pk) for m in DimensionMapping.objects.filter(dataset=proposed)]
    changelist = reverse("admin:conversion_dimensionmapping_changelist")
    data = {"action": "approve_open", "_selected_action": open_ids, "back": page_url(proposed)}
    confirmation = client.post(changelist, data)
    text = " ".join(html.fromstring(confirmation.content).text_content().split())
    assert "7 mappings will be approved" in text and "ambiguous" in text
    assert not DimensionMapping.objects.filter(dataset=proposed, status=Status.APPROVED).exists()

    done = client.post(changelist, {**data, "confirmed": "yes"})
    assert done.status_code == 302 and done.url == page_url(proposed)
    assert DimensionMapping.objects.filter(dataset=proposed, status=Status.APPROVED).count() == 7


def test_the_way_back_after_a_bulk_approval_stays_on_this_site(client, proposed, page_data):
    changelist = reverse("admin:conversion_dimensionmapping_changelist")
    amount = mapping(proposed, "amount")
    for hostile in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        data = {"action": "approve_open", "_selected_action": [str(amount.pk)], "back": hostile, "confirmed": "yes"}
        response = client.post(changelist, data)
        assert response.status_code == 302 and response.url.startswith(changelist), hostile


def test_saving_the_same_decision_and_owner_again_records_nothing(client, migration_admin, proposed):
    client.force_login(migration_admin)
    url = reverse("admin:conversion_dataset_decide", args=[proposed.pk])
    data = {"decision-decision": "migrate_public", "decision-owner": "pwright", "decision-reason": "main contact"}
    client.post(url, data)
    decisions = [ReviewEvent.Action.DECIDED, ReviewEvent.Action.OWNER_SET, ReviewEvent.Action.LICENCE_SET]
    events = ReviewEvent.objects.filter(dataset=proposed, action__in=decisions)
    assert sorted(events.values_list("action", flat=True)) == [ReviewEvent.Action.DECIDED, ReviewEvent.Action.OWNER_SET]
    client.post(url, data)  # the same again: no "owner pwright -> pwright"
    assert events.count() == 2
    client.post(url, {**data, "decision-owner": "kmueller"})
    assert events.filter(action=ReviewEvent.Action.OWNER_SET).count() == 2


def test_migration_admins_get_the_decision_first_and_curators_last(client, curator, migration_admin, proposed):
    for user, first in ((migration_admin, True), (curator, False)):
        client.force_login(user)
        page = client.get(page_url(proposed)).content.decode()
        assert (page.index('id="decision-box"') < page.index('class="mapping-cards"')) is first, user.username


def test_a_dataset_with_nothing_proposed_says_why_there_is_nothing_to_review(client, curator, proposed):
    client.force_login(curator)
    riverton = LegacyDataset.objects.get(name="riverton-draft-budget-2015")
    DimensionMapping.objects.filter(dataset=riverton).delete()  # as before its source file was archived
    document = html.fromstring(client.get(page_url(riverton)).content)
    text = " ".join(document.get_element_by_id("no-mappings").text_content().split())
    assert text.startswith("Nothing to review: no mapping has been proposed: the legacy platform never had a model")
    assert not document.xpath("//section[contains(@class, 'mapping-card')]")
    assert "no-mappings" not in client.get(page_url(proposed)).content.decode()


def test_the_decision_summary_says_each_fact_in_a_sentence_of_its_own(client, migration_admin, proposed):
    client.force_login(migration_admin)
    url = reverse("admin:conversion_dataset_decide", args=[proposed.pk])
    client.post(url, {"decision-decision": "migrate_public", "decision-owner": "", "decision-reason": "main contact"})
    box = html.fromstring(client.get(page_url(proposed)).content).get_element_by_id("decision-box")
    facts = [" ".join(dd.text_content().split()) for dd in box.xpath(".//dl[@class='decision-facts']/dd")]
    assert facts[0].startswith("migrate publicly, decided by max on ") and facts[0].endswith(". Why: main contact")
    assert facts[1] == "kmueller (the default). Legacy team: kmueller, fbecker, pwright."
    assert facts[2].endswith("(the default).")
