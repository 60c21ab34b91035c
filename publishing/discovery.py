"""Discovery documents: the DCAT-US v1.1 (non-federal) `data.json` and the RFC 9727 api-catalog linkset.

data.json follows research publishing-and-discovery.md §1.3: one dataset per published package whose identifier is
its permanent URL, a CSV `downloadURL` per data file described by the package's datapackage.json, an `accessURL` to the
package page (the OCDS guidance asks for one), then one registry-level dataset for the Atom feed and one for the bulk
files. The output is deterministic (ordered datasets, no generation time) because harvesters hash each dataset to
decide what changed, and it is always the whole catalogue: harvesters delete datasets missing from it.

Each dataset meets what data.gov's harvester (GSA/datagov-harvester) checks of a non-federal DCAT-US 1.1 dataset,
`keyword`, `modified` and `contactPoint.hasEmail` included (tests/publishing/test_data_json_schema.py). Its publisher
is the organisation of the package's owner, looked up when data.json is rendered (conversion/organisations.py), so
packages published before an owner joined an organisation name it without being converted again; a change to the
organisations raises the catalogue version (publishing migration 0005) and is part of data.json's validators.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.fields.json import KeyTransform
from django.urls import reverse

from conversion.models import dataset_licence
from conversion.organisations import Publisher, Publishers, publishers
from migration_site.lib.jsondata import dicts_in, iso
from migration_site.lib.web_links import http_url
from publishing.caching import EPOCH, VersionSeen, per_version
from publishing.links import absolute, data_files, descriptor_url, package_url
from publishing.models import PublishedPackage

CONFORMS_TO = "https://project-open-data.cio.gov/v1.1/schema"
CATALOG_CONTEXT = "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld"
CATALOG_SCHEMA = "https://project-open-data.cio.gov/v1.1/schema/catalog.json"
FISCAL_DATA_PACKAGE = "https://specs.frictionlessdata.io/fiscal-data-package/"
API_CATALOG_PROFILE = "https://www.rfc-editor.org/info/rfc9727"
FEED_KEYWORD = "fiscal-data-package-feed"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def catalog_packages() -> QuerySet[PublishedPackage]:
    """What data.json reads: published packages only, without the big descriptor (just its period and licences)."""
    return (
        PublishedPackage.objects.published()
        .defer("descriptor")
        .annotate(
            fiscal_period=KeyTransform("fiscalPeriod", "descriptor"),
            descriptor_licenses=KeyTransform("licenses", "descriptor"),
        )
        .order_by("owner", "name")
    )


def catalog_publishers(seen: VersionSeen | None = None) -> Publishers:
    """Every owner's publisher, read once per catalogue version (a change to the organisations raises it). Its
    `state` belongs in data.json's validators: the packages' stamp does not move when an organisation changes."""
    return per_version("publishers", publishers, size=100_000, seen=seen)


def data_json(
    packages: Iterable[PublishedPackage], *, modified: datetime | None, by: Publishers | None = None
) -> dict[str, Any]:
    """`by`: the publishers to name (default: the organisations as they are now)."""
    table = by or catalog_publishers()
    datasets = [package_dataset(package, table.of(package.owner)) for package in packages]
    site = table.site()
    return {
        "@context": CATALOG_CONTEXT,
        "@id": absolute(reverse("publishing:data_json")),
        "@type": "dcat:Catalog",
        "conformsTo": CONFORMS_TO,
        "describedBy": CATALOG_SCHEMA,
        "dataset": [*datasets, feed_dataset(modified, site), bulk_dataset(modified, site)],
    }


def render(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def package_dataset(package: PublishedPackage, publisher: Publisher) -> dict[str, Any]:
    url = package_url(package)
    dataset: dict[str, Any] = {
        "@type": "dcat:Dataset",
        "identifier": url,
        "title": package.title or package.name,
        "description": package.description.strip() or package.title or package.name,
        "keyword": keywords(package),
        "modified": iso(package.modified_at),
        "issued": iso(package.published_at),
        "publisher": organization(publisher),
        "contactPoint": contact(publisher),
        "accessLevel": "public",
        "landingPage": url,
        "conformsTo": FISCAL_DATA_PACKAGE,
        "describedBy": descriptor_url(package),
        "describedByType": "application/json",
        "distribution": distributions(package),
    }
    optional = {
        "license": licence_url(getattr(package, "descriptor_licenses", None)),
        "temporal": temporal(getattr(package, "fiscal_period", None), package.years),
        "spatial": package.country or None,
        "theme": [package.category] if package.category else None,
        "references": [legacy] if (legacy := http_url(package.legacy_url)) else None,
    }
    dataset.update({key: value for key, value in optional.items() if value})
    return dataset


def keywords(package: PublishedPackage) -> list[str]:
    words = ["fiscal-data-package", "openspending", package.category, package.country, package.currency]
    return list(dict.fromkeys(word for word in words if word))


def distributions(package: PublishedPackage) -> list[dict[str, Any]]:
    page = {
        "@type": "dcat:Distribution",
        "title": "Package page",
        "accessURL": package_url(package),
        "mediaType": "text/html",
        "format": "HTML",
    }
    described = {"describedBy": descriptor_url(package), "describedByType": "application/json"}
    files = [
        {
            "@type": "dcat:Distribution",
            "title": file.name,
            "downloadURL": file.url,
            "mediaType": file.mediatype,
            "format": file.format,
            **described,
        }
        for file in data_files(package)
    ]
    return [page, *files]


def feed_dataset(modified: datetime | None, publisher: Publisher) -> dict[str, Any]:
    url = absolute(reverse("publishing:feed"))
    return _registry_dataset(
        publisher,
        identifier=url,
        title="Migrated OpenSpending packages: updates feed",
        description="An Atom feed of newly published and updated packages, archived by month (RFC 5005).",
        keyword=["fiscal-data-package", FEED_KEYWORD],
        modified=modified,
        distribution={"accessURL": url, "mediaType": "application/atom+xml", "format": "Atom"},
    )


def bulk_dataset(modified: datetime | None, publisher: Publisher) -> dict[str, Any]:
    url = absolute(reverse("publishing:bulk"))
    return _registry_dataset(
        publisher,
        identifier=url,
        title="Migrated OpenSpending packages: bulk downloads",
        description="The data of every published package as zip files, by year, each under 10 MB zipped.",
        keyword=["fiscal-data-package", "bulk"],
        modified=modified,
        distribution={"accessURL": url, "mediaType": "text/html", "format": "HTML"},
    )


def _registry_dataset(
    publisher: Publisher,
    *,
    identifier: str,
    title: str,
    description: str,
    keyword: list[str],
    modified: datetime | None,
    distribution: dict[str, Any],
) -> dict[str, Any]:
    return {
        "@type": "dcat:Dataset",
        "identifier": identifier,
        "title": title,
        "description": description,
        "keyword": keyword,
        # Required by data.gov's harvester: with nothing published yet, the fixed date the site's documents carry then.
        "modified": iso(modified or EPOCH),
        "publisher": organization(publisher),
        "contactPoint": contact(publisher),
        "accessLevel": "public",
        "landingPage": absolute(reverse("publishing:packages")),
        "distribution": [{"@type": "dcat:Distribution", "title": title, **distribution}],
    }


def organization(publisher: Publisher) -> dict[str, str]:
    return {"@type": "org:Organization", "name": publisher.name}


def contact(publisher: Publisher) -> dict[str, str]:
    """The publisher as the contact. data.gov's harvester refuses a dataset without `hasEmail`, which only an
    organisation's e-mail or PUBLIC_CONTACT_EMAIL can give (README, Configuration): without either it is left out."""
    email = publisher.email
    return {"@type": "vcard:Contact", "fn": publisher.name, **({"hasEmail": f"mailto:{email}"} if email else {})}


def licence_url(licenses: object) -> str | None:
    """The first licence the descriptor names by an http(s) address (None when it names them otherwise); a package
    that names none (published before packages stated one, or uploaded without) is under PACKAGE_LICENSE."""
    stated = dicts_in(licenses)
    if not stated:
        return dataset_licence(None).path
    return next((url for licence in stated if (url := http_url(licence.get("path")))), None)


def site_publisher() -> str:
    return settings.PUBLIC_PUBLISHER_NAME


def temporal(fiscal_period: object, years: object) -> str | None:
    """The fiscal period when the descriptor states one, else the span of the package's years."""
    if span := period(fiscal_period):
        return "/".join(span)
    listed = years if isinstance(years, list) else []
    known = sorted({int(year) for year in listed if str(year).isdigit() and len(str(year)) == 4})
    return f"{known[0]}/{known[-1]}" if known else None


def period(fiscal_period: object) -> tuple[str, str] | None:
    """The first and last day of a descriptor's `fiscalPeriod`, when it states both as dates."""
    if isinstance(fiscal_period, dict):
        start, end = str(fiscal_period.get("start", "")), str(fiscal_period.get("end", ""))
        if _DATE.match(start) and _DATE.match(end):
            return start, end
    return None


def api_catalog() -> dict[str, Any]:
    """RFC 9727: a linkset (RFC 9264) whose `item` links are what this site publishes for machines."""
    items = [
        ("publishing:data_json", "application/json", "Catalogue of every package (DCAT-US v1.1 data.json)"),
        ("publishing:feed", "application/atom+xml", "Updates feed (Atom, archived by month per RFC 5005)"),
        ("publishing:registry_descriptor", "application/json", "Master registry (datapackage.json)"),
        ("publishing:registry_csv", "text/csv", "Master registry (packages.csv)"),
        ("publishing:bulk", "text/html", "Bulk downloads by year"),
        ("publishing:api_cubes", "application/json", "Query API over every package (babbage's /api/3/cubes)"),
    ]
    anchor = absolute(reverse("publishing:api_catalog"))
    links = [{"href": absolute(reverse(name)), "type": kind, "title": title} for name, kind, title in items]
    data_json_url = absolute(reverse("publishing:data_json"))
    describedby = [{"href": CATALOG_SCHEMA, "type": "application/schema+json"}]
    return {"linkset": [{"anchor": anchor, "item": links}, {"anchor": data_json_url, "describedby": describedby}]}
