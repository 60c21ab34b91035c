"""A curator reviews a mapping in a real browser; an anonymous visitor and a curator's admin-only attempt are refused.

Screenshots of each step land in test-artifacts/e2e/<test name>/.
"""

import importlib
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from conversion.models import DatasetDecision, DimensionMapping
from datasets.models import LegacyDataset
from migration_site.lib import roles

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a-long-curator-password"


def ensure_review_groups() -> None:
    """Transactional tests flush the tables between tests, data-migration rows included: put the groups back."""
    from django.apps import apps

    importlib.import_module("conversion.migrations.0002_review_groups").create_groups(apps, None)
    importlib.import_module("conversion.migrations.0004_run_permissions").grant(apps, None)


@pytest.fixture
def reviewed_site(sample_dump, live_server):
    ensure_review_groups()
    call_command("import_legacy", str(sample_dump), stdout=StringIO())
    call_command("propose_mappings", stdout=StringIO())
    curator = User.objects.create_user("carla", password=PASSWORD, is_staff=True)
    curator.groups.add(Group.objects.get(name=roles.CURATORS))
    return LegacyDataset.objects.get(name="lindenau-haushalt")


def login(page, live_server, username):
    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def test_a_curator_edits_previews_and_approves_a_mapping(page, live_server, reviewed_site):
    dataset = reviewed_site
    kind = DimensionMapping.objects.get(dataset=dataset, legacy_path="ergebnisart")
    review_url = live_server.url + reverse("admin:conversion_dataset_review", args=[dataset.pk])

    page.goto(review_url)
    assert "/admin/login/" in page.url, "anonymous visitors are sent to the login page"
    page.shots.take("anonymous-refused")

    login(page, live_server, "carla")
    page.goto(live_server.url + reverse("admin:conversion_dimensionmapping_changelist"))
    assert page.locator("#result_list").is_visible()
    assert page.locator("text=ergebnisart").first.is_visible()
    page.shots.take("queue")

    page.locator(f'a[href$="#mapping-{kind.pk}"]').first.click()
    page.wait_for_selector(f"#mapping-{kind.pk}")
    assert "ergebnisart" in page.locator("#preview-table thead").text_content()
    page.shots.take("dataset-page")

    page.fill(f"#m{kind.pk}-column_type", "economic-classification:generic:code")
    page.fill(f"#m{kind.pk}-field", "account_kind")
    # Playwright's expect polls from outside the page: wait_for_function would need 'unsafe-eval', which the CSP denies.
    expect(page.locator("#preview-table thead")).to_contain_text("account_kind")
    header = page.locator("#preview-table thead").text_content()
    assert "account_kind" in header and "economic-classification:generic:code" in header
    page.shots.take("preview-follows-the-edit")

    page.fill("#id_reason", "Aufwendungen and Erträge are an economic classification")
    with page.expect_navigation():  # a POST, then the redirect back to the page
        page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    assert "Saved 1 edited mapping" in page.locator(".messagelist").inner_text()
    kind.refresh_from_db()
    assert kind.status == DimensionMapping.Status.EDITED and kind.field_name == "account_kind"
    page.shots.take("saved")

    with page.expect_navigation():  # the page still shows the last message: wait for the new one
        page.locator(f"#mapping-{kind.pk} button:has-text('Approve')").click()
    page.wait_for_selector(".messagelist")
    kind.refresh_from_db()
    assert kind.status == DimensionMapping.Status.APPROVED
    assert "approved" in page.locator(f"#mapping-{kind.pk} .card-status").inner_text()
    assert page.locator(f"#m{kind.pk}-column_type").count() == 0, "read-only once approved"
    page.shots.take("approved")


def test_a_curator_is_refused_an_admin_only_decision(page, live_server, reviewed_site):
    dataset = reviewed_site
    login(page, live_server, "carla")
    page.goto(live_server.url + reverse("admin:conversion_dataset_review", args=[dataset.pk]))
    page.locator("#decision").scroll_into_view_if_needed()
    assert "Only migration admins decide" in page.locator("#decision-box").inner_text()
    assert page.locator("input[value='Save decision']").count() == 0
    token = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "csrftoken")
    response = page.request.post(
        live_server.url + reverse("admin:conversion_dataset_decide", args=[dataset.pk]),
        form={"decision-decision": "exclude", "decision-reason": "trying", "csrfmiddlewaretoken": token},
        headers={"Referer": page.url},
    )
    assert response.status == 403
    assert not DatasetDecision.objects.filter(dataset=dataset).exclude(decision="").exists()
    page.shots.take("decision-refused")


def test_approve_takes_the_edits_on_screen_and_the_page_fits_a_laptop(page, live_server, reviewed_site):
    """Items 1, 2 and 6 of issue 12: a curator corrects a type and clicks Approve: what is approved is the correction;
    a refused edit shows while typing; at 1280x800 every input of a card is on screen without scrolling sideways."""
    dataset = reviewed_site
    kind = DimensionMapping.objects.get(dataset=dataset, legacy_path="ergebnisart")
    label = DimensionMapping.objects.get(dataset=dataset, legacy_path="produktbereich.label")
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, live_server, "carla")
    page.goto(live_server.url + reverse("admin:conversion_dimensionmapping_changelist"))
    right = page.evaluate("document.querySelector('#result_list').getBoundingClientRect().right")
    assert right <= page.evaluate("document.documentElement.clientWidth"), "the queue's columns all on screen"
    page.shots.take("queue-at-1280")
    page.goto(live_server.url + reverse("admin:conversion_dataset_review", args=[dataset.pk]))

    card = page.locator(f"#mapping-{kind.pk}")
    card.scroll_into_view_if_needed()
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scrolling"
    for name in ("column_type", "field", "title", "labelfor", "parent", "primary_key"):
        box = page.locator(f"#m{kind.pk}-{name}").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, name
    column_type = page.locator(f"#m{label.pk}-column_type")
    full = column_type.input_value()
    assert page.evaluate("(element) => element.scrollWidth <= element.clientWidth", column_type.element_handle()), (
        f"the whole type name {full!r} shows"
    )
    page.shots.take("cards-at-1280")

    page.fill(f"#m{label.pk}-field", "Not A Name")  # refused while typing, before any save
    expect(page.locator(f"#m{label.pk}-field")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#preview .error-summary")).to_contain_text("produktbereich.label")
    page.shots.take("refused-while-typing")
    page.fill(f"#m{label.pk}-field", "produktbereich_label")
    expect(page.locator(f"#m{label.pk}-field")).not_to_have_attribute("aria-invalid", "true")

    page.fill(f"#m{kind.pk}-column_type", "economic-classification:generic:code")
    expect(card.locator(".unsaved-flag")).to_be_visible()
    expect(card.locator("button.approve")).to_have_text("Save and approve")
    page.fill("#id_reason", "Aufwendungen and Erträge are an economic classification")
    with page.expect_navigation():
        card.locator("button.approve").click()
    page.wait_for_selector(".messagelist")
    kind.refresh_from_db()
    assert kind.status == DimensionMapping.Status.APPROVED
    assert kind.column_type == "economic-classification:generic:code", "the edit on screen is what was approved"
    assert "ergebnisart: approved." in page.locator(".messagelist").inner_text()
    page.shots.take("approved-with-the-edit")

    page.set_viewport_size({"width": 768, "height": 1024})  # a tablet: the cards stack, still nothing sideways
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate(
        "document.documentElement.clientWidth"
    )
    page.shots.take("cards-at-768")


def test_leaving_with_unsaved_edits_asks_first(page, live_server, reviewed_site):
    dataset = reviewed_site
    kind = DimensionMapping.objects.get(dataset=dataset, legacy_path="ergebnisart")
    login(page, live_server, "carla")
    page.goto(live_server.url + reverse("admin:conversion_dataset_review", args=[dataset.pk]))
    page.fill(f"#m{kind.pk}-title", "Ergebnisart (changed)")
    asked: list[str] = []

    def dismiss(dialog) -> None:
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", dismiss)
    with pytest.raises(PlaywrightError, match="ERR_ABORTED"):  # the dismissed dialog cancels the navigation
        page.goto(live_server.url + reverse("admin:index"))
    assert asked == ["beforeunload"]
    assert page.locator(f"#m{kind.pk}-title").input_value() == "Ergebnisart (changed)"


def test_a_curator_sends_one_mapping_back_and_drops_another(page, live_server, reviewed_site):
    """Item 4 of issue 12: the two ways of saying no, each with its reason, its status and its consequence."""
    dataset = reviewed_site
    kind = DimensionMapping.objects.get(dataset=dataset, legacy_path="ergebnisart")
    dezernat = DimensionMapping.objects.get(dataset=dataset, legacy_path="produktbereich.dezernat")
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, live_server, "carla")
    page.goto(live_server.url + reverse("admin:conversion_dataset_review", args=[dataset.pk]))

    card = page.locator(f"#mapping-{kind.pk}")
    card.locator("input[name^=card_reason_]").fill("is this an economic classification? I cannot tell")
    with page.expect_navigation():
        card.locator("button.send-back").click()
    expect(page.locator(".messagelist")).to_contain_text("ergebnisart: sent back.")
    expect(page.locator(f"#mapping-{kind.pk} .card-status")).to_contain_text("sent back")
    page.shots.take("sent-back")

    card = page.locator(f"#mapping-{dezernat.pk}")
    card.locator("input[name^=card_reason_]").fill("the departments were reorganised in 2015")
    with page.expect_navigation():
        card.locator("button.drop").click()
    expect(page.locator(".messagelist")).to_contain_text("produktbereich.dezernat: dropped from the package.")
    expect(page.locator(f"#mapping-{dezernat.pk} .card-status")).to_contain_text("left out of the package")
    page.shots.take("dropped")

    kind.refresh_from_db()
    dezernat.refresh_from_db()
    assert kind.status == DimensionMapping.Status.SENT_BACK
    assert dezernat.status == DimensionMapping.Status.DROPPED

    queue = live_server.url + reverse("admin:conversion_dimensionmapping_changelist") + "?review=sent_back"
    page.goto(queue)
    expect(page.locator("#result_list")).to_contain_text("ergebnisart")
    page.shots.take("queue-sent-back")


def test_a_draft_without_a_legacy_model_is_reviewed_from_its_source_columns(page, live_server, reviewed_site):
    """Item 8 of issue 12: the legacy platform's drafts (sources, no model) appear in the queue and on their page."""
    draft = LegacyDataset.objects.get(name="riverton-draft-budget-2015")
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, live_server, "carla")
    page.goto(live_server.url + reverse("admin:conversion_dimensionmapping_changelist") + "?q=riverton")
    expect(page.locator("#result_list")).to_contain_text("fy2015_proposed")
    page.goto(live_server.url + reverse("admin:conversion_dataset_review", args=[draft.pk]))
    cards = page.locator(".mapping-card")
    expect(cards).to_have_count(5)
    expect(cards.first).to_contain_text("the legacy platform had no model for this dataset")
    expect(page.locator("#preview-table thead")).to_contain_text("fy2015_proposed")
    page.shots.take("draft-review-page")
