"""Small builders for tests: users in a role, a converted package in the working storage, a published package in the
public one. Each writes only the rows and files its subject needs, so a test costs milliseconds, not a migration.

A published package is what the publishing service leaves (`<owner>/<name>/datapackage.json`,
`<owner>/<name>/data/<file>-<sha12>.csv`); a converted one is what a conversion run leaves
(`packages/<name>/runs/<run id>/...` and the ConversionRun row pointing at it).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from conversion.models import ConversionRun, DatasetDecision, DimensionMapping
from datasets.models import LegacyDataset, TeamMember
from publishing.models import PublishedPackage
from publishing.store import public_storage

HEADER = ["amount", "year", "region"]
REGION = "administrative-classification:generic:label"


def make_user(username: str, *, group: str | None = None, staff: bool = True) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username, is_staff=staff)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def mapping(dataset: LegacyDataset, path: str) -> DimensionMapping:
    return DimensionMapping.objects.get(dataset=dataset, legacy_path=path)


def when(year: int, month: int = 1, day: int = 15) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


def data_rows(years: list[int], per_year: int = 3) -> list[list[str]]:
    return [[f"{100 + n}.5", str(year), f"Region {n}"] for year in years for n in range(per_year)]


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue().encode()


def descriptor(name: str, title: str, path: str, content: bytes, *, currency: str = "EUR") -> dict[str, Any]:
    fields = [
        {"name": "amount", "title": "Amount", "type": "number", "columnType": "value"},
        {"name": "year", "title": "Year", "type": "integer", "columnType": "date:fiscal-year"},
        {"name": "region", "title": "Region", "type": "string", "columnType": REGION},
    ]
    source = "https://example.org/budget.csv"
    return {
        "name": name,
        "title": title,
        "profile": "tabular-data-package",
        "currency": currency,
        "fiscalPeriod": {"start": "2014-01-01", "end": "2015-12-31"},
        "sources": [{"name": "1", "title": "budget.csv", "path": source, "web": source}],
        "provenance": {"built_from": "sources", "rows_written": 6, "notes": ["2 rows had no region"]},
        "resources": [
            {
                "name": name,
                "path": path,
                "format": "csv",
                "bytes": len(content),
                "hash": f"sha256:{hashlib.sha256(content).hexdigest()}",
                "schema": {"fields": fields},
            }
        ],
        "model": {
            "measures": {
                "amount": {"source": "amount", "title": "Amount", "currency": currency, "direction": "expenditure"},
            },
            "dimensions": {
                "date": {
                    "dimensionType": "datetime",
                    "primaryKey": ["year"],
                    "attributes": {"year": {"source": "year", "title": "Year"}},
                },
                "administrative-classification": {
                    "dimensionType": "classification",
                    "primaryKey": ["region"],
                    "attributes": {"region": {"source": "region", "title": "Region"}},
                },
            },
        },
    }


def converted_package(name: str = "budget", *, owner: str = "berlin", years: list[int] | None = None) -> ConversionRun:
    """A legacy dataset converted the way a conversion run leaves it: a tiny valid package in the working storage and
    the successful, valid, reconciled run pointing at it. `owner` is the dataset's first legacy manager, so its
    package is published at `<owner>/<name>/` unless a migration admin chooses another owner."""
    dataset = LegacyDataset.objects.create(name=name, label=name.replace("-", " ").title())
    TeamMember.objects.create(dataset=dataset, username=owner)
    content = csv_bytes(data_rows([2014, 2015] if years is None else years))
    rows = content.count(b"\n") - 1
    run = ConversionRun.objects.create(
        dataset=dataset,
        status=ConversionRun.Status.SUCCEEDED,
        valid=True,
        reconciliation_status=ConversionRun.Reconciliation.MATCH,
        built_from="sources",
        rows_written=rows,
    )
    run.package_path = f"packages/{name}/runs/{run.pk}"
    data_path = f"data/{name}.csv"
    meta = descriptor(name, dataset.label, data_path, content)
    default_storage.save(f"{run.package_path}/{data_path}", ContentFile(content))
    default_storage.save(f"{run.package_path}/datapackage.json", ContentFile(json.dumps(meta, indent=2).encode()))
    run.save(update_fields=["package_path"])
    return run


def make_package(
    owner: str = "berlin",
    name: str = "budget",
    *,
    title: str = "",
    description: str = "",
    country: str = "DE",
    currency: str = "EUR",
    category: str = "budget",
    years: list[int] | None = None,
    rows: list[list[str]] | None = None,
    public: bool = True,
    withdrawn: bool = False,
    private_dataset: bool = False,
    decision: str = "",
    published_at: datetime | None = None,
    modified_at: datetime | None = None,
    legacy_name: str = "",
    reconciliation: dict[str, Any] | None = None,
) -> PublishedPackage:
    """A package as the publishing service leaves it, with its data file and descriptor in storage."""
    years = [2014, 2015] if years is None else years
    content = csv_bytes(data_rows(years) if rows is None else rows)
    sha256 = hashlib.sha256(content).hexdigest()
    path = f"data/{name}-{sha256[:12]}.csv"
    key = public_storage().save(f"{owner}/{name}/{path}", ContentFile(content))
    title = title or f"{owner.title()} {name.replace('-', ' ')}"
    meta = descriptor(name, title, path, content, currency=currency)
    meta_bytes = (json.dumps(meta, indent=2, ensure_ascii=False) + "\n").encode()
    public_storage().save(f"{owner}/{name}/datapackage.json", ContentFile(meta_bytes))
    dataset = LegacyDataset.objects.create(name=legacy_name or f"{owner}-{name}", label=title, private=private_dataset)
    if decision:
        DatasetDecision.objects.create(dataset=dataset, decision=decision)
    run = ConversionRun.objects.create(
        dataset=dataset,
        status=ConversionRun.Status.SUCCEEDED,
        reconciliation=reconciliation,
        reconciliation_status=(reconciliation or {}).get("status", ""),
    )
    moment = published_at or when(2024, 3)
    return PublishedPackage.objects.create(
        dataset=dataset,
        run=run,
        owner=owner,
        name=name,
        title=title,
        description=description,
        country=country,
        currency=currency,
        category=category,
        years=years,
        rows=content.count(b"\n") - 1,
        bytes=len(content),
        data_sha256=sha256,
        descriptor_sha256=hashlib.sha256(meta_bytes).hexdigest(),
        descriptor=meta,
        data_keys=[key],
        legacy_name=dataset.name,
        legacy_url=f"https://openspending.org/{dataset.name}",
        public=public,
        withdrawn_at=when(2024, 6) if withdrawn else None,
        published_at=moment,
        modified_at=modified_at or moment,
    )


def hidden_packages() -> list[PublishedPackage]:
    """One package for each way of not being public: flagged non-public, withdrawn, a private legacy dataset and a
    migration admin's decision to keep it private."""
    return [
        make_package("secret", "flagged", title="Flagged Secret", public=False),
        make_package("secret", "withdrawn", title="Withdrawn Secret", withdrawn=True),
        make_package("secret", "private", title="Private Secret", private_dataset=True),
        make_package("secret", "decided", title="Decided Secret", decision=DatasetDecision.Choice.MIGRATE_PRIVATE),
    ]
