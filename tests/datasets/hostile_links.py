"""A dump folder whose dataset names script URLs where the legacy platform had web addresses (issue 9, item 1)."""

import json
from pathlib import Path

DATASET = "lindenau-haushalt"
LEGACY_PAGE = "javascript:alert(document.cookie)"
SOURCE = "JavaScript:alert(document.domain)"


def poison(dump: Path, name: str = DATASET, *, legacy_page: str = LEGACY_PAGE, source: str = SOURCE) -> None:
    """The dataset's `html_url` and its first source's `url` replaced, as a hostile or broken legacy instance would."""
    path = dump / name / "dataset.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["html_url"] = legacy_page
    document["sources"][0]["url"] = source
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def first_source_id(dump: Path, name: str = DATASET) -> int:
    return int(json.loads((dump / name / "dataset.json").read_text(encoding="utf-8"))["sources"][0]["id"])
