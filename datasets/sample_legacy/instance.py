"""The sample instance's fixtures (accounts, dataset rows, cube rows) read into plain objects, plus the read rules."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_INSTANCE_DIR = Path(__file__).resolve().parent / "instance"
BASE_PLACEHOLDER = "{base}"


@dataclass(frozen=True)
class SampleAccount:
    name: str
    fullname: str | None
    email: str
    admin: bool
    api_key: str

    @property
    def display_name(self) -> str:
        return self.fullname or self.name

    def as_dict(self) -> dict[str, Any]:
        """The legacy `Account.as_dict()`: what the editor's team page embeds."""
        return {"name": self.name, "fullname": self.fullname, "email": self.email, "admin": self.admin}


@dataclass(frozen=True)
class SampleDataset:
    """One legacy dataset: its database row as in `dataset.json`, and the cube rows it held after loading."""

    row: dict[str, Any]
    directory: Path
    entries: list[dict[str, Any]]

    @property
    def name(self) -> str:
        return str(self.row["name"])

    @property
    def label(self) -> str:
        return str(self.row["label"])

    @property
    def private(self) -> bool:
        return bool(self.row.get("private"))

    @property
    def team(self) -> list[str]:
        return list(self.row.get("team", []))

    @property
    def mapping(self) -> dict[str, Any]:
        return dict(self.row["data"].get("mapping") or {})

    @property
    def sources(self) -> list[dict[str, Any]]:
        return list(self.row.get("sources", []))

    @property
    def runs(self) -> list[dict[str, Any]]:
        return list(self.row.get("runs", []))

    @property
    def visualisations(self) -> list[dict[str, Any]]:
        return list(self.row.get("visualisations", []))

    def measures(self) -> list[str]:
        """The app treats `amount` as a measure whatever its type, so pre-2011 models typed `value` count too."""
        return [name for name, meta in self.mapping.items() if meta.get("type") == "measure" or name == "amount"]

    def source(self, source_id: int) -> dict[str, Any] | None:
        return next((source for source in self.sources if source["id"] == source_id), None)

    def runs_of(self, source_id: int) -> list[dict[str, Any]]:
        """Newest first, as the editor lists them."""
        runs = [run for run in self.runs if run["source_id"] == source_id]
        return sorted(runs, key=lambda run: str(run["time_start"]), reverse=True)

    def file_path(self, filename: str) -> Path | None:
        """A source file of this dataset; None for anything else, so a request cannot walk out of `files/`."""
        folder = self.directory / "files"
        candidate = folder / filename
        if candidate.parent != folder or not candidate.is_file():
            return None
        return candidate


@dataclass(frozen=True)
class SampleInstance:
    accounts: dict[str, SampleAccount]
    datasets: dict[str, SampleDataset]

    def account_for_key(self, api_key: str | None) -> SampleAccount | None:
        if not api_key:
            return None
        return next((account for account in self.accounts.values() if account.api_key == api_key), None)

    def can_read(self, dataset: SampleDataset, account: SampleAccount | None) -> bool:
        """Public datasets are open to anyone; private ones to admins and the dataset's team."""
        return not dataset.private or self.can_update(dataset, account)

    def can_update(self, dataset: SampleDataset, account: SampleAccount | None) -> bool:
        return account is not None and (account.admin or account.name in dataset.team)

    def managed_by(self, account: SampleAccount) -> list[SampleDataset]:
        """The account's datasets sorted by label, as the profile page lists them."""
        managed = [dataset for dataset in self.datasets.values() if account.name in dataset.team]
        return sorted(managed, key=lambda dataset: dataset.label)


def load_instance(directory: Path = DEFAULT_INSTANCE_DIR) -> SampleInstance:
    accounts = [SampleAccount(**item) for item in _read_json(directory / "accounts.json")]
    datasets = [_load_dataset(path.parent) for path in sorted(directory.glob("*/dataset.json"))]
    return SampleInstance(
        accounts={account.name: account for account in accounts},
        datasets={dataset.name: dataset for dataset in datasets},
    )


def _load_dataset(directory: Path) -> SampleDataset:
    cube = directory / "cube.jsonl"
    # No cube file: the dataset was never loaded, so the legacy database had no fact table for it.
    lines = cube.read_text(encoding="utf-8").splitlines() if cube.is_file() else []
    entries = [json.loads(line) for line in lines if line.strip()]
    return SampleDataset(row=_read_json(directory / "dataset.json"), directory=directory, entries=entries)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def with_base(value: str, base_url: str) -> str:
    """Source URLs in the fixtures may point at the server itself, whose port is only known once it runs."""
    return value.replace(BASE_PLACEHOLDER, base_url)
