"""The time a published package covers comes from its data, on every surface: the sample's Lindenau budget has rows
for 2013 and 2014 while its legacy default_time names only 2014."""

import json
from pathlib import Path

import pytest
from lxml import html  # type: ignore[import-untyped]

from datasets.sample_legacy import DEFAULT_INSTANCE_DIR
from publishing import records
from publishing.models import PublishedPackage
from tests.publishing.conftest import publish

pytestmark = pytest.mark.django_db
BOTH_YEARS = {"start": "2013-01-01", "end": "2014-12-31"}


def test_the_sample_has_a_multi_year_dataset_with_a_one_year_default_time():
    legacy = json.loads((Path(DEFAULT_INSTANCE_DIR) / "lindenau-haushalt" / "dataset.json").read_text(encoding="utf-8"))
    assert legacy["default_time"] == "2014"


def test_a_two_year_dataset_is_published_with_both_years_everywhere(client, converted):
    publish("lindenau-haushalt")
    package = PublishedPackage.objects.get(name="lindenau-haushalt")
    descriptor = package.descriptor
    assert descriptor["fiscalPeriod"] == BOTH_YEARS
    assert descriptor["legacy"]["default_time"] == "2014"
    assert descriptor["provenance"]["fiscal_period_from"] == "data"
    assert package.years == [2013, 2014]

    catalogue = json.loads(client.get("/data.json").content)
    entry = next(item for item in catalogue["dataset"] if item["identifier"].endswith("/lindenau-haushalt/"))
    assert entry["temporal"] == "2013-01-01/2014-12-31"

    response = client.get(f"/packages/{package.owner}/{package.name}/")
    facts = html.fromstring(response.content).xpath("//dl[@class='facts']")[0].text_content()
    assert "2013-01-01 to 2014-12-31" in facts and "first and last dates in the data" in facts
    assert "2013, 2014" in facts


def test_a_fiscal_period_guessed_from_default_time_gives_no_years():
    guessed = {
        "fiscalPeriod": {"start": "2014-01-01", "end": "2014-12-31"},
        "provenance": {"fiscal_period_from": "legacy default_time"},
    }
    assert records._years(None, guessed) == []
    assert records._years(None, {**guessed, "provenance": {"fiscal_period_from": "data"}}) == [2014]
    assert records._years(None, {"fiscalPeriod": {"start": "2013-10-01", "end": "2014-03-31"}}) == [2013, 2014]
