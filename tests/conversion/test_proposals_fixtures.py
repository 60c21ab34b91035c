"""The proposal engine on real legacy models: the expected target of every dimension, or a flag for a person.

Each expectation is the column type a fiscal-data person would choose, and whether the engine may decide it alone
(CONFIDENT) or must leave it to a curator (AMBIGUOUS, with the reason said).
"""

import csv
import glob
import json
from pathlib import Path

import pytest

from conversion.review.proposals import DatasetFacts, Proposal, propose
from datasets.legacy_model import normalise_model
from tests.conftest import SHARED_DIR

pytestmark = pytest.mark.shared

FIXTURES = SHARED_DIR / "legacy-openspending" / "fixtures"
AMBIGUOUS, CONFIDENT = True, False


def _samples(path: Path) -> tuple[dict[str, list[str]], list[str], int]:
    samples: dict[str, list[str]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = 0
        for rows, row in enumerate(reader, start=1):
            for column, value in row.items():
                kept = samples.setdefault(column, [])
                if value and value.strip() and len(kept) < 20 and value not in kept:
                    kept.append(value)
            if rows == 200:
                break
        return samples, list(reader.fieldnames or []), rows


def _propose(name: str, data: dict, dataset: dict, csv_path: Path) -> dict[str, Proposal]:
    normalised = normalise_model(data, dataset)
    samples, columns, rows = _samples(csv_path)
    facts = DatasetFacts(
        name=name,
        label=dataset.get("label") or "",
        currency=dataset.get("currency") or "",
        category=normalised.model["dataset"].get("category") or "",
        model=normalised.model,
        samples=samples,
        source_columns=columns,
        sample_rows=rows,
    )
    return {proposal.legacy_path: proposal for proposal in propose(facts)}


def proposals_for(name: str) -> dict[str, Proposal]:
    if name in {"uganda", "mexico", "lbhf"}:
        folder = FIXTURES / "openspending" / "csv_import" / name
        mapping = json.loads((folder / "mapping.json").read_text(encoding="utf-8"))
        return _propose(name, {"mapping": mapping}, {"name": name}, folder / "data.csv")
    if name in {"cra", "simple"}:
        model = json.loads((FIXTURES / "openspending" / "model" / f"{name}.json").read_text(encoding="utf-8"))
        return _propose(name, model, model["dataset"], FIXTURES / "openspending" / "data" / f"{name}.csv")
    folder = FIXTURES / "openspending-migrate" / "examples" / name
    dump = json.loads((folder / "dataset.json").read_text(encoding="utf-8"))
    fields = {key: value for key, value in dump.items() if key not in ("data", "sources")}
    return _propose(name, dump["data"], fields, Path(sorted(glob.glob(str(folder / "archive" / "*.csv")))[0]))


EXPECTED = {
    "uganda": {
        "project-type": ("activity:generic:project:code", AMBIGUOUS),
        "source-table": ("unknown:string", AMBIGUOUS),
        "donorref": ("activity:generic:project:code", AMBIGUOUS),
        "sector-objective.name": ("functional-classification:generic:level2:code", CONFIDENT),
        "sector-objective.label": ("functional-classification:generic:level2:label", CONFIDENT),
        "agency-details": ("administrative-classification:generic:code", AMBIGUOUS),
        "spending-source-type-id.name": ("administrative-classification:generic:level1:code", AMBIGUOUS),
        "spending-source-type-id.label": ("administrative-classification:generic:level1:label", AMBIGUOUS),
        "aid-modality": ("unknown:string", AMBIGUOUS),
        "aid-programme-code": ("activity:generic:program:code", AMBIGUOUS),
        "donor-coa-code": ("fin-source:generic:code", AMBIGUOUS),
        "peap-area": ("unknown:string", AMBIGUOUS),
        "from.name": ("administrator:generic:id", CONFIDENT),
        "from.label": ("administrator:generic:name", CONFIDENT),
        "spending-source-type-label.name": ("activity:generic:project:code", AMBIGUOUS),
        "spending-source-type-label.label": ("activity:generic:project:label", AMBIGUOUS),
        "spending-type": ("unknown:string", AMBIGUOUS),
        "aid-programme-name": ("activity:generic:program:code", AMBIGUOUS),
        "swg.name": ("functional-classification:generic:level1:code", CONFIDENT),
        "swg.label": ("functional-classification:generic:level1:label", CONFIDENT),
        "project-code": ("activity:generic:project:code", AMBIGUOUS),
        "to.name": ("recipient:generic:id", CONFIDENT),
        "to.label": ("recipient:generic:name", CONFIDENT),
        "gou-vote-name": ("administrative-classification:generic:code", AMBIGUOUS),
        "bs-offset": ("unknown:number", AMBIGUOUS),
        "amount-donor": ("fin-source:generic:code", AMBIGUOUS),
        "programme-code": ("activity:generic:program:code", AMBIGUOUS),
        "sector-strategy-policy": ("functional-classification:generic:code", AMBIGUOUS),
        "amount-dollars": ("unknown:number", AMBIGUOUS),
        "peap-pillar": ("unknown:string", AMBIGUOUS),
        "project-name": ("activity:generic:project:code", AMBIGUOUS),
        "financecomment": ("functional-classification:generic:code", AMBIGUOUS),
        "grant-loan": ("unknown:string", AMBIGUOUS),
        "donorcurrency": ("fin-source:generic:code", AMBIGUOUS),
        "programme-name": ("activity:generic:program:code", AMBIGUOUS),
        "donor-name": ("fin-source:generic:code", AMBIGUOUS),
        "on-off-budget": ("unknown:string", AMBIGUOUS),
        "mtef-sector": ("functional-classification:generic:code", AMBIGUOUS),
        "from-id.name": ("administrator:generic:id", CONFIDENT),
        "from-id.label": ("administrator:generic:name", CONFIDENT),
        "sector-strategy-policy-details": ("functional-classification:generic:code", AMBIGUOUS),
        "agency-name": ("administrative-classification:generic:code", AMBIGUOUS),
        "mtef-reference": ("economic-classification:generic:code", AMBIGUOUS),
        "amount": ("value", AMBIGUOUS),
        "gou-vote-code": ("administrative-classification:generic:code", AMBIGUOUS),
        "time": ("date:fiscal-year", CONFIDENT),
        "source-id": ("unknown:string", AMBIGUOUS),
        "peap-objective": ("unknown:string", AMBIGUOUS),
        "entry_id": ("transaction-id:code", CONFIDENT),
    },
    "mexico": {
        "budget_programme": ("activity:generic:program:code", AMBIGUOUS),
        "function": ("functional-classification:generic:code", AMBIGUOUS),
        "budget_programme_type": ("activity:generic:program:code", AMBIGUOUS),
        "from.name": ("administrator:generic:id", CONFIDENT),
        "from.label": ("administrator:generic:name", CONFIDENT),
        "time": ("date:generic", CONFIDENT),
        "administrative_unit": ("administrative-classification:generic:code", AMBIGUOUS),
        "subfunction": ("functional-classification:generic:code", AMBIGUOUS),
        "functional_group": ("functional-classification:generic:code", AMBIGUOUS),
        "expenditure_type": ("expenditure-type:code", CONFIDENT),
        "financial_source": ("fin-source:generic:code", AMBIGUOUS),
        "to.name": ("recipient:generic:id", CONFIDENT),
        "to.label": ("recipient:generic:name", CONFIDENT),
        "amount": ("value", AMBIGUOUS),
        "expenditure_object": ("economic-classification:generic:code", AMBIGUOUS),
        "budget_programme_identifier": ("activity:generic:program:code", AMBIGUOUS),
        "institutional_activity": ("unknown:string", AMBIGUOUS),
        "budget_account": ("economic-classification:generic:code", AMBIGUOUS),
        "budget_programme_group": ("activity:generic:program:code", AMBIGUOUS),
        "entry_id": ("transaction-id:code", CONFIDENT),
    },
    "lbhf": {
        "from.name": ("administrator:generic:id", CONFIDENT),
        "from.label": ("administrator:generic:name", CONFIDENT),
        "spendingarea": ("unknown:string", AMBIGUOUS),
        "to.name": ("recipient:generic:id", CONFIDENT),
        "to.label": ("recipient:generic:name", CONFIDENT),
        "amount": ("value", AMBIGUOUS),
        "time": ("date:generic", CONFIDENT),
        "transactionid": ("transaction-id:code", CONFIDENT),
        "entry_id": ("transaction-id:code", CONFIDENT),
    },
    "simple": {
        "amount": ("value", AMBIGUOUS),
        "time": ("date:fiscal-year", CONFIDENT),
        "field": ("unknown:string", AMBIGUOUS),
        "to.name": ("recipient:generic:id", CONFIDENT),
        "to.label": ("recipient:generic:name", CONFIDENT),
        "function.name": ("functional-classification:generic:code", CONFIDENT),
        "function.label": ("functional-classification:generic:label", CONFIDENT),
    },
    "cra": {
        "from.name": ("administrator:generic:id", CONFIDENT),
        "from.label": ("administrator:generic:name", CONFIDENT),
        "from.description": ("unknown:string", CONFIDENT),
        "to.name": ("recipient:generic:id", CONFIDENT),
        "to.label": ("recipient:generic:name", CONFIDENT),
        "to.description": ("unknown:string", CONFIDENT),
        "time": ("date:fiscal-year", CONFIDENT),
        "amount": ("value", AMBIGUOUS),
        "total": ("value", AMBIGUOUS),
        "cap_or_cur": ("unknown:string", AMBIGUOUS),
        "region": ("geo-source:generic:code", AMBIGUOUS),
        "name": ("budget-line-id", AMBIGUOUS),
        "currency": ("value-currency:code", CONFIDENT),
        "population2006": ("unknown:number", AMBIGUOUS),
        "pog.name": ("activity:generic:program:code", AMBIGUOUS),
        "pog.label": ("activity:generic:program:label", AMBIGUOUS),
        "cofog1.name": ("functional-classification:cofog:division:code", CONFIDENT),
        "cofog1.label": ("functional-classification:cofog:division:label", CONFIDENT),
        "cofog1.description": ("functional-classification:cofog:division:description", CONFIDENT),
        "cofog1.level": ("unknown:string", CONFIDENT),
        "cofog1.change_date": ("unknown:string", CONFIDENT),
        "cofog2.name": ("functional-classification:cofog:group:code", CONFIDENT),
        "cofog2.label": ("functional-classification:cofog:group:label", CONFIDENT),
        "cofog2.description": ("functional-classification:cofog:group:description", CONFIDENT),
        "cofog2.level": ("unknown:string", CONFIDENT),
        "cofog2.change_date": ("unknown:string", CONFIDENT),
        "cofog3.name": ("functional-classification:cofog:class:code", CONFIDENT),
        "cofog3.label": ("functional-classification:cofog:class:label", CONFIDENT),
        "cofog3.description": ("functional-classification:cofog:class:description", CONFIDENT),
        "cofog3.level": ("unknown:string", CONFIDENT),
        "cofog3.change_date": ("unknown:string", CONFIDENT),
    },
    "bosnia-herzegovina": {
        "Level": ("unknown:string", AMBIGUOUS),
        "Cofog3.name": ("functional-classification:cofog:class:code", CONFIDENT),
        "Cofog3.label": ("functional-classification:cofog:class:label", CONFIDENT),
        "Cofog2.name": ("functional-classification:cofog:group:code", CONFIDENT),
        "Cofog2.label": ("functional-classification:cofog:group:label", CONFIDENT),
        "from.name": ("administrator:generic:id", CONFIDENT),
        "from.label": ("administrator:generic:name", CONFIDENT),
        "Cofog1.name": ("functional-classification:cofog:division:code", CONFIDENT),
        "Cofog1.label": ("functional-classification:cofog:division:label", CONFIDENT),
        "amount": ("value", CONFIDENT),
        "time": ("date:fiscal-year", CONFIDENT),
    },
    "tekjur-rikissjods": {
        "amount": ("value", AMBIGUOUS),
        "category.name": ("economic-classification:generic:level1:code", AMBIGUOUS),
        "category.label": ("economic-classification:generic:level1:label", AMBIGUOUS),
        "subcategory.name": ("economic-classification:generic:level2:code", AMBIGUOUS),
        "subcategory.label": ("economic-classification:generic:level2:label", AMBIGUOUS),
        "time": ("date:generic", CONFIDENT),
    },
    "uppgjor-rikissjods": {
        "amount": ("value", CONFIDENT),
        "to.name": ("recipient:generic:id", CONFIDENT),
        "to.label": ("recipient:generic:name", CONFIDENT),
        "from.name": ("administrator:generic:id", CONFIDENT),
        "from.label": ("administrator:generic:name", CONFIDENT),
        "time": ("date:generic", CONFIDENT),
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_dimension_gets_its_expected_target_or_a_flag(name):
    proposals = proposals_for(name)
    found = {path: p for path, p in proposals.items() if p.kind != "extra"}
    assert sorted(found) == sorted(EXPECTED[name]), "one proposal per measure, date, attribute and compound attribute"
    for path, (column_type, ambiguous) in EXPECTED[name].items():
        proposal = found[path]
        assert proposal.target["column_type"] == column_type, path
        assert proposal.ambiguous is ambiguous, f"{path}: {proposal.reasons}"
        assert proposal.reasons, f"{path} says why"
        assert 0 <= proposal.confidence <= 1


def test_cofog_levels_form_a_parent_chain_with_labels():
    cra = proposals_for("cra")
    assert cra["cofog2.name"].target["parent"] == "cofog1.name"
    assert cra["cofog3.name"].target["parent"] == "cofog2.name"
    assert cra["cofog1.name"].target["parent"] is None
    for level in (1, 2, 3):
        assert cra[f"cofog{level}.label"].target["labelfor"] == f"cofog{level}.name"
    bosnia = proposals_for("bosnia-herzegovina")
    assert bosnia["Cofog3.name"].target["parent"] == "Cofog2.name"


def test_measures_carry_the_currency_direction_and_phase():
    bosnia = proposals_for("bosnia-herzegovina")["amount"]
    assert bosnia.target["options"] == {"currency": "BAM", "direction": "expenditure", "phase": "executed"}
    tekjur = proposals_for("tekjur-rikissjods")["amount"]
    assert tekjur.target["options"]["direction"] == "revenue"
    simple = proposals_for("simple")["amount"]
    assert "currency" not in simple.target["options"]
    assert any("no currency" in reason for reason in simple.reasons)


def test_key_attributes_become_the_primary_key():
    simple = proposals_for("simple")
    assert simple["time"].target["primary_key"]
    assert simple["to.name"].target["primary_key"] and simple["function.name"].target["primary_key"]
    assert not simple["to.label"].target["primary_key"]
    assert proposals_for("lbhf")["entry_id"].target["primary_key"]


def test_two_measures_on_one_column_are_flagged():
    total = proposals_for("cra")["total"]
    assert total.ambiguous
    assert any("same column" in reason for reason in total.reasons)


def test_columns_the_legacy_model_never_used_are_proposed_as_extras():
    extras = {path for path, p in proposals_for("uganda").items() if p.kind == "extra"}
    assert {"extra:PAF", "extra:SIGNDATE"} <= extras
    assert proposals_for("uppgjor-rikissjods")["extra:Rasto"].target["column_type"] == "unknown:number"


def test_samples_come_from_the_source_files():
    tekjur = proposals_for("tekjur-rikissjods")
    assert tekjur["category.label"].samples
    assert all(isinstance(value, str) and value for value in tekjur["category.label"].samples)
