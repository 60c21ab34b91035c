"""The JSON documents of the legacy API, shaped exactly as OS-legacy built them (research notes §1.3)."""

from collections import Counter
from typing import Any

from datasets.sample_legacy.instance import SampleDataset, with_base

LANGUAGE_LABELS = {"de": "German", "en": "English", "is": "Icelandic"}
TERRITORY_LABELS = {
    "DE": "Germany",
    "GB": "United Kingdom",
    "GH": "Ghana",
    "IS": "Iceland",
    "NZ": "New Zealand",
    "US": "United States",
}
CATEGORY_LABELS = {"budget": "Budget", "spending": "Expenditure", "other": "Other"}
DATASET_FIELDS = ("label", "name", "description", "default_time", "schema_version", "currency", "category")
SEO_FIELDS = ("serp_title", "serp_teaser")


def dataset_as_dict(dataset: SampleDataset, base_url: str) -> dict[str, Any]:
    """`Dataset.as_dict()` plus `html_url`; `private`, ids and the team never appear in legacy JSON."""
    row = dataset.row
    document: dict[str, Any] = {field: row.get(field) for field in DATASET_FIELDS + SEO_FIELDS}
    document["timestamps"] = {"created": row["created_at"], "last_modified": row["updated_at"]}
    document["languages"] = list(row.get("languages", []))
    document["territories"] = list(row.get("territories", []))
    document["badges"] = []
    document["html_url"] = f"{base_url}/{dataset.name}"
    return document


def dataset_index(datasets: list[SampleDataset], base_url: str) -> dict[str, Any]:
    """`/datasets.json`: the whole list in one answer (no paging in JSON), newest change first, with facets."""
    ordered = sorted(datasets, key=lambda dataset: str(dataset.row["updated_at"]), reverse=True)
    languages = Counter(code for dataset in ordered for code in dataset.row.get("languages", []))
    territories = Counter(code for dataset in ordered for code in dataset.row.get("territories", []))
    categories = Counter(dataset.row["category"] for dataset in ordered if dataset.row.get("category"))
    return {
        "datasets": [dataset_as_dict(dataset, base_url) for dataset in ordered],
        "languages": [_facet("code", "languages", code, n, LANGUAGE_LABELS) for code, n in languages.most_common()],
        "territories": [
            _facet("code", "territories", code, n, TERRITORY_LABELS) for code, n in territories.most_common()
        ],
        "categories": [
            _facet("category", "category", code, n, CATEGORY_LABELS) for code, n in categories.most_common()
        ],
    }


def _facet(key: str, param: str, code: str, count: int, labels: dict[str, str]) -> dict[str, Any]:
    return {key: code, "count": count, "url": f"/datasets?{param}={code}", "label": labels.get(code, code)}


def model_document(dataset: SampleDataset, base_url: str) -> dict[str, Any]:
    """`model.json` is the stored `data` blob with the dataset block put back in front."""
    block = dataset_as_dict(dataset, base_url)
    # Pre-2011 models kept keys such as `unique_keys` in their dataset block; the fixtures carry them separately.
    block.update(dataset.row.get("model_dataset_extras", {}))
    return {"dataset": block, **dataset.row["data"]}


def sources_document(dataset: SampleDataset, base_url: str) -> list[dict[str, Any]]:
    ordered = sorted(dataset.sources, key=lambda source: str(source["created_at"]), reverse=True)
    return [
        {
            "id": source["id"],
            "url": with_base(source["url"], base_url),
            "dataset": dataset.name,
            "created_at": source["created_at"],
        }
        for source in ordered
    ]


def views_document(dataset: SampleDataset) -> list[dict[str, Any]]:
    return [{**view, "dataset": dataset.name} for view in dataset.visualisations]


def entry_document(dataset: SampleDataset, row: dict[str, Any], base_url: str) -> dict[str, Any]:
    """A cube row decoded like `Dataset.entries()`: members carry their taxonomy and an `html_url` of their own."""
    entry: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            taxonomy = dataset.mapping.get(key, {}).get("taxonomy") or key
            value = {**value, "taxonomy": taxonomy, "html_url": f"{base_url}/{dataset.name}/{key}/{value['name']}"}
        entry[key] = value
    entry["html_url"] = f"{base_url}/{dataset.name}/entries/{row['id']}"
    return entry


def permissions_document(*, exists: bool, logged_in: bool, read: bool, update: bool) -> dict[str, bool]:
    """`create` is only true for a free name and a logged-in caller."""
    return {"create": logged_in and not exists, "read": read, "update": update, "delete": update}
