"""Issue 12, item 8: a dataset the legacy platform never mapped (a draft: sources uploaded, no model) is migrated
like the others: a mapping proposed from its source columns by the same engine, every proposal ambiguous, reviewed
and converted; reconciliation is "unavailable", with the reason."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from conversion.models import ConversionRun, DimensionMapping
from conversion.review.draft_models import NO_MODEL_REASON, column_kind, draft_model
from datasets.models import LegacyDataset

pytestmark = pytest.mark.django_db
DRAFT = "riverton-draft-budget-2015"  # Fund, Department, Account, Description, FY2015 Proposed; no model, no cube


@pytest.mark.parametrize(
    ("header", "values", "kind"),
    [
        ("FY2015 Proposed", ["4815200", "312400"], "measure"),
        ("Account", ["5110", "5210"], "attribute"),  # integers without a money header: codes
        ("Spend (£)", ["182,400.00"], "measure"),
        ("Share", ["0.25", "1.5"], "measure"),  # decimals: an amount of something
        ("Year", ["2014", "2015"], "date"),
        ("Month", ["2012-10", "2012-11"], "date"),
        ("Department", ["Police", "Fire"], "attribute"),
        ("Notes", [], "attribute"),
    ],
)
def test_a_column_is_a_measure_a_date_or_an_attribute_by_its_header_and_values(header, values, kind):
    assert column_kind(header, values) == kind


def test_the_drawn_model_has_the_legacy_shape_with_unique_names():
    model = draft_model(["Amount", "amount", " ", "Jahr"], {"Amount": ["1.5"], "amount": ["2"], "Jahr": ["2013"]})
    assert model == {
        "mapping": {
            "amount": {"type": "measure", "label": "Amount", "column": "Amount", "datatype": "float"},
            "amount_2": {"type": "measure", "label": "amount", "column": "amount", "datatype": "float"},
            "jahr": {"type": "date", "label": "Jahr", "column": "Jahr", "datatype": "date"},
        }
    }


def test_a_draft_gets_a_mapping_from_its_columns_every_proposal_doubted(proposed):
    draft = LegacyDataset.objects.get(name=DRAFT)
    mappings = list(DimensionMapping.objects.filter(dataset=draft).in_order())
    kinds = {mapping.legacy_path: (mapping.kind, mapping.column_type) for mapping in mappings}
    assert kinds == {
        "fund": ("attribute", "fin-source:generic:code"),
        "department": ("attribute", "administrative-classification:generic:code"),
        "account": ("attribute", "economic-classification:generic:code"),
        "description": ("attribute", "unknown:string"),
        "fy2015_proposed": ("measure", "value"),
    }
    assert all(mapping.ambiguous and mapping.reasons[0] == NO_MODEL_REASON for mapping in mappings)
    assert DimensionMapping.objects.needs_review().filter(dataset=draft).count() == 5  # in the queue


def test_a_reviewed_draft_converts_and_reconciliation_says_why_it_is_unavailable(converted_sample):
    draft = LegacyDataset.objects.get(name=DRAFT)
    run = ConversionRun.objects.get(dataset=draft)
    assert run.status == ConversionRun.Status.SUCCEEDED and run.valid
    assert run.rows_written == 8 and run.built_from == "sources"
    assert run.reconciliation_status == ConversionRun.Reconciliation.UNAVAILABLE
    assert run.reconciliation is not None
    assert run.reconciliation["notes"] == [
        "the legacy platform never had a model for this dataset nor loaded it: there are no legacy totals"
    ]
    out = StringIO()
    call_command("migration_status", "--json", stdout=out)
    row = next(item for item in json.loads(out.getvalue()) if item["name"] == DRAFT)
    assert (row["conversion_status"], row["reconciliation"], row["rows"]) == ("succeeded", "unavailable", 8)


@pytest.fixture
def converted_sample(curator, sample_snapshots):
    sample_snapshots.converted.restore()
