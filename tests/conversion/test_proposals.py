"""The proposal engine on small inline models: each rule, and the evidence that makes it doubt."""

from conversion.review.proposals import DatasetFacts, propose
from datasets.legacy_model import normalise_model


def run(mapping, *, samples=None, columns=(), currency="EUR", category="spending", rows=50, name="test"):
    model = normalise_model({"mapping": mapping}, {"name": name, "currency": currency, "category": category}).model
    facts = DatasetFacts(
        name=name, label=name, currency=currency, category=category, model=model,
        samples=samples or {}, source_columns=list(columns), sample_rows=rows,
    )  # fmt: skip
    return {proposal.legacy_path: proposal for proposal in propose(facts)}


AMOUNT = {"type": "measure", "label": "Amount", "column": "amt", "datatype": "float"}
TIME = {"type": "date", "label": "Year", "column": "year", "datatype": "date", "key": True}


def test_a_compound_becomes_a_code_and_a_label_for_it():
    mapping = {
        "amount": AMOUNT,
        "time": TIME,
        "to": {"type": "compound", "label": "Recipient", "key": True, "attributes": {
            "name": {"column": "rid", "datatype": "id"}, "label": {"column": "rname", "datatype": "string"},
            "city": {"column": "rcity", "datatype": "string"}}},
    }  # fmt: skip
    found = run(mapping)
    assert found["to.name"].target["column_type"] == "recipient:generic:id"
    assert found["to.name"].target["primary_key"]
    assert found["to.label"].target["column_type"] == "recipient:generic:name"
    assert found["to.label"].target["labelfor"] == "to.name"
    assert found["to.city"].target["column_type"] == "unknown:string"
    assert found["to.name"].target["field"] == "to_name"


def test_a_constant_is_materialised_as_a_column():
    mapping = {"amount": AMOUNT, "time": TIME, "to": {"type": "compound", "label": "To", "attributes": {
        "name": {"column": None, "datatype": "constant", "constant": "society"},
        "label": {"column": None, "datatype": "constant", "constant": "Society"}}}}  # fmt: skip
    found = run(mapping)
    assert found["to.name"].source == {"datatype": "constant", "constant": "society"}
    assert found["to.name"].samples == ("society",)
    assert any("constant" in reason for reason in found["to.name"].reasons)


def test_years_make_a_fiscal_year_and_dates_a_generic_date():
    assert (
        run({"amount": AMOUNT, "time": TIME}, samples={"year": ["2010", "2011"]})["time"].target["column_type"]
        == "date:fiscal-year"
    )
    assert (
        run({"amount": AMOUNT, "time": TIME}, samples={"year": ["2010-01-31"]})["time"].target["column_type"]
        == "date:generic"
    )


def test_mixed_years_and_dates_are_flagged():
    time = run({"amount": AMOUNT, "time": TIME}, samples={"year": ["2010", "2010-05-01"]})["time"]
    assert time.ambiguous
    assert any("granularity" in reason for reason in time.reasons)


def test_measures_that_are_not_numbers_are_flagged():
    amount = run({"amount": AMOUNT, "time": TIME}, samples={"amt": ["12", "n/a"]})["amount"]
    assert amount.ambiguous
    assert any("n/a" in reason for reason in amount.reasons)


def test_a_confident_measure_in_a_spending_dataset():
    amount = run({"amount": AMOUNT, "time": TIME}, samples={"amt": ["1,200.50", "-3"]})["amount"]
    assert not amount.ambiguous
    assert amount.target["options"] == {"currency": "EUR", "direction": "expenditure", "phase": "executed"}


def test_unused_source_columns_are_proposed_as_extras():
    found = run(
        {"amount": AMOUNT, "time": TIME},
        samples={"amt": ["1"], "year": ["2010"], "Notes": ["late"], "Paid on": ["2010-03-01"], "Qty": ["3"]},
        columns=["amt", "year", "Notes", "Paid on", "Qty"],
    )
    assert found["extra:Notes"].target["column_type"] == "unknown:string"
    assert found["extra:Paid on"].target["column_type"] == "unknown:date"
    assert found["extra:Qty"].target["column_type"] == "unknown:number"
    assert found["extra:Paid on"].target["field"] == "paid_on"


def test_a_key_with_few_values_is_not_an_identifier():
    mapping = {"amount": AMOUNT, "time": TIME, "level": {"type": "attribute", "label": "Level", "column": "lvl",
                                                           "datatype": "string", "key": True}}  # fmt: skip
    level = run(mapping, samples={"lvl": ["State"]}, rows=80)["level"]
    assert level.target["column_type"] != "transaction-id:code"
    assert level.target["primary_key"]
    assert level.ambiguous


def test_field_names_stay_unique():
    text = {"type": "attribute", "label": "x", "datatype": "string"}
    mapping = {"amount": AMOUNT, "time": TIME, "a-b": {**text, "column": "c1"}, "a_b": {**text, "column": "c2"}}
    found = run(mapping)
    assert {found["a-b"].target["field"], found["a_b"].target["field"]} == {"a_b", "a_b_2"}


def test_no_model_proposes_nothing():
    assert run({}) == {}
