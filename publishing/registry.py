"""The master registry at `registry/` in the public store: one row per published package, rebuilt from the database.

A tabular data package whose one resource is a CSV. It follows the store's rules (publishing/store.py): its CSV under
a versioned name first (`packages-<sha12>.csv`, never rewritten once written), then the stable `packages.csv`, then
the descriptor, which names the versioned CSV with its bytes and hash; older versioned CSVs are deleted last. The
stable `packages.csv` is written before the descriptor, so once a descriptor is visible the stable file is at least
as new. Rebuilds hold an advisory lock on the registry (publishing/locks.py); a rebuild that would write the same
bytes writes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from migration_site.lib.hashing import bytes_sha256
from migration_site.lib.jsondata import iso
from migration_site.lib.web_links import http_url
from publishing.locks import locked
from publishing.models import PublicationRun, PublishedPackage, package_page_url
from publishing.store import StoredFile, delete_keys, ensure_object, json_bytes, replace_object, walk

REGISTRY = "registry/"
REGISTRY_DESCRIPTOR = "registry/datapackage.json"
REGISTRY_CSV = "registry/packages.csv"
VERSIONED_REGISTRY_CSV = re.compile(r"^registry/packages-[0-9a-f]{12}\.csv$")
REGISTRY_FIELDS: list[dict[str, Any]] = [
    {"name": "id", "type": "string", "description": "<owner>/<dataset>", "constraints": {"required": True}},
    {"name": "title", "type": "string"},
    {"name": "owner", "type": "string", "constraints": {"required": True}},
    {"name": "legacy_name", "type": "string", "description": "The dataset's name on the legacy platform."},
    {"name": "legacy_url", "type": "string", "format": "uri"},
    {"name": "country", "type": "string"},
    {"name": "currency", "type": "string"},
    {"name": "rows", "type": "integer"},
    {"name": "bytes", "type": "integer", "description": "Size of the package's data files."},
    {
        "name": "sha256",
        "type": "string",
        "description": "Of the data file (of the list of them when several).",
        "constraints": {"pattern": "[0-9a-f]{64}"},
    },
    {"name": "descriptor_url", "type": "string", "format": "uri"},
    {"name": "published_at", "type": "datetime"},
    {"name": "modified", "type": "datetime"},
]
REGISTRY_COLUMNS = [str(field["name"]) for field in REGISTRY_FIELDS]


def registry_refresh(run: PublicationRun | None = None) -> list[str]:
    """Rebuild `registry/` from the published packages; writes nothing when it already says the same."""
    with locked("registry"):
        # A row never needs the descriptor: leaving it out keeps a rebuild's memory flat, however big they are.
        packages = PublishedPackage.objects.published().defer("descriptor").order_by("owner", "name")
        written = registry_put([registry_row(package) for package in packages])
    if run is not None:
        run.append_log(f"registry rebuilt: {', '.join(written)}" if written else "registry unchanged")
        run.uploaded = [*run.uploaded, *written]
    return written


def registry_row(package: PublishedPackage) -> dict[str, Any]:
    return {
        "id": package.package_id,
        "title": package.title,
        "owner": package.owner,
        "legacy_name": package.legacy_name,
        "legacy_url": http_url(package.legacy_url) or "",
        "country": package.country,
        "currency": package.currency,
        "rows": package.rows,
        "bytes": package.bytes,
        "sha256": package.data_sha256,
        "descriptor_url": f"{package_page_url(package.owner, package.name)}datapackage.json",
        "published_at": iso(package.published_at),
        "modified": iso(package.modified_at),
    }


def registry_put(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Replace the registry with these rows: versioned CSV, stable CSV, descriptor, then old CSVs deleted.

    Returns the keys written; nothing when the registry already holds exactly these rows.
    """
    content = registry_csv(rows)
    sha256 = bytes_sha256(content)
    versioned = StoredFile(f"{REGISTRY}packages-{sha256[:12]}.csv", len(content), sha256)
    descriptor = json_bytes(registry_descriptor(versioned, rows))
    written = [versioned.key] if ensure_object(versioned, content) else []
    if replace_object(StoredFile(REGISTRY_CSV, len(content), sha256), content):
        written.append(REGISTRY_CSV)
    if replace_object(StoredFile(REGISTRY_DESCRIPTOR, len(descriptor), bytes_sha256(descriptor)), descriptor):
        written.append(REGISTRY_DESCRIPTOR)
    delete_keys([key for key in walk(REGISTRY) if VERSIONED_REGISTRY_CSV.match(key) and key != versioned.key])
    return written


def registry_csv(rows: Sequence[Mapping[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REGISTRY_COLUMNS)
    for row in sorted(rows, key=lambda item: str(item["id"])):
        writer.writerow(["" if row.get(column) is None else row[column] for column in REGISTRY_COLUMNS])
    return out.getvalue().encode("utf-8")


def registry_descriptor(csv_file: StoredFile, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A pure function of the rows, so an unchanged registry gives the same bytes and is not written again."""
    modified = max((str(row["modified"]) for row in rows), default=None)
    return {
        "name": "openspending-registry",
        "title": "OpenSpending packages migrated from the legacy platform",
        "description": "One row per published Fiscal Data Package; descriptor_url is where its datapackage.json is.",
        "profile": "tabular-data-package",
        **({"modified": modified} if modified else {}),
        "resources": [
            {
                "name": "packages",
                "path": csv_file.key.removeprefix(REGISTRY),
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "bytes": csv_file.bytes,
                "hash": f"sha256:{csv_file.sha256}",
                "schema": {"fields": REGISTRY_FIELDS, "primaryKey": ["id"]},
            }
        ],
    }
