"""Parquet beside CSV: every published CSV resource carries a Parquet copy, listed on the resource as an alternate
format, written with DuckDB from the Table Schema and checked against the CSV (rows and totals) before anything is
published; the site serves it, bulk zips leave it out."""

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.defaultfilters import filesizeformat
from lxml import html  # type: ignore[import-untyped]

from conversion.models import ConversionRun
from publishing import bulk, parquet
from publishing.formats import PARQUET_MEDIATYPE
from publishing.models import PublicationRun, PublishedPackage
from publishing.parquet import parquet_write
from publishing.store import public_storage
from tests.conversion.test_validation import write_package
from tests.publishing.conftest import body, keys, publish, publish_failing, stored_package
from tests.publishing.test_publish_osdp import publish_osdp

pytestmark = pytest.mark.django_db
Status = PublicationRun.Status
NORTHFIELD = "pwright/northfield-spending-2014/"


def copy_of(descriptor):
    """The first resource and the one Parquet copy listed on it."""
    resource = descriptor["resources"][0]
    [alternate] = [item for item in resource["alternates"] if item["format"] == "parquet"]
    return resource, alternate


def published_files(client):
    """The stored descriptor, and the bytes of the CSV and of its Parquet copy."""
    descriptor = json.loads(body(client, NORTHFIELD + "datapackage.json"))
    resource, alternate = copy_of(descriptor)
    return descriptor, body(client, NORTHFIELD + resource["path"]), body(client, NORTHFIELD + alternate["path"])


def csv_totals(data: bytes, measure: str):
    """Rows and the sum of one column, read here with the csv module and Decimal."""
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    return rows, sum((Decimal(row[measure]) for row in rows if row[measure] != ""), Decimal(0))


def duckdb_of(content: bytes, tmp_path: Path):
    path = tmp_path / "copy.parquet"
    path.write_bytes(content)
    return duckdb.connect(), str(path)


def reconverted(dataset, edit=None):
    """A newer successful conversion of the dataset: the same package, its CSV rows changed by `edit`; the path of
    its CSV in the package."""
    run = ConversionRun.objects.filter(dataset=dataset).succeeded().first()
    descriptor, data = stored_package(run)
    rows = list(csv.reader(io.StringIO(data.decode())))
    if edit:
        edit(rows)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    data = out.getvalue().encode() if edit else data
    resource = descriptor["resources"][0]
    resource.update(bytes=len(data), hash=f"sha256:{hashlib.sha256(data).hexdigest()}")
    prefix = f"packages/{dataset.name}/runs/{run.pk}-again"
    default_storage.save(f"{prefix}/{resource['path']}", ContentFile(data))
    default_storage.save(f"{prefix}/datapackage.json", ContentFile(json.dumps(descriptor).encode()))
    ConversionRun.objects.create(
        dataset=dataset,
        status=ConversionRun.Status.SUCCEEDED,
        valid=True,
        package_path=prefix,
        reconciliation_status=ConversionRun.Reconciliation.MATCH,
        rows_written=run.rows_written,
    )
    return resource["path"]


def test_a_published_package_stores_a_parquet_copy_with_the_descriptors_bytes_and_hash(converted, s3_storage):
    publish("northfield-spending-2014")

    descriptor, data, content = published_files(s3_storage)
    resource, alternate = copy_of(descriptor)
    sha = hashlib.sha256(content).hexdigest()
    assert alternate == {
        "format": "parquet",
        "mediatype": "application/vnd.apache.parquet",
        "path": f"data/northfield-spending-2014-{sha[:12]}.parquet",
        "bytes": len(content),
        "hash": f"sha256:{sha}",
        "rows": len(csv_totals(data, "amount")[0]),
    }
    package = PublishedPackage.objects.get()
    assert package.data_keys == [NORTHFIELD + resource["path"], NORTHFIELD + alternate["path"]]
    assert keys(s3_storage, NORTHFIELD) == sorted([NORTHFIELD + "datapackage.json", *package.data_keys])
    # The package's identity stays its CSV's: the copy is derived from it.
    assert package.data_sha256 == hashlib.sha256(data).hexdigest() == resource["hash"].removeprefix("sha256:")
    assert package.bytes == len(data) == resource["bytes"]


def test_duckdb_reads_the_csvs_rows_and_totals_with_the_schemas_types(converted, s3_storage, tmp_path):
    publish("northfield-spending-2014")
    descriptor, data, content = published_files(s3_storage)
    rows, total = csv_totals(data, "amount")

    database, path = duckdb_of(content, tmp_path)

    count, amount = database.execute("SELECT count(*), sum(amount) FROM read_parquet(?)", [path]).fetchone()
    assert count == len(rows) == 18
    assert abs(Decimal(repr(amount)) - total) < Decimal("0.005")
    columns = dict(
        database.execute("SELECT column_name, column_type FROM (DESCRIBE FROM read_parquet(?))", [path]).fetchall()
    )
    fields = descriptor["resources"][0]["schema"]["fields"]
    assert list(columns) == [field["name"] for field in fields]
    assert (columns["amount"], columns["time"], columns["transaction_id"]) == ("DOUBLE", "DATE", "VARCHAR")
    first = database.execute("SELECT time, transaction_id FROM read_parquet(?) LIMIT 1", [path]).fetchone()
    assert first == (date.fromisoformat(rows[0]["time"]), rows[0]["transaction_id"])  # in the CSV's order


def test_group_and_decimal_characters_bare_numbers_and_missing_values_convert_as_the_schema_says(s3_storage, tmp_path):
    rows = [["1.234,50", "2013", "a", "Agency A"], ["EUR 20,25", "2013", "b", "Agency B"], ["n/a", "2014", "a", "A"]]

    def continental(descriptor):
        schema = descriptor["resources"][0]["schema"]
        schema["missingValues"] = ["", "n/a"]
        schema["fields"][0].update(decimalChar=",", groupChar=".", bareNumber=False)

    folder = write_package(tmp_path / "package", rows=rows, edit=continental)
    publish_osdp(str(folder), "--owner", "alice", "--name", "city-budget")

    descriptor = json.loads(body(s3_storage, "alice/city-budget/datapackage.json"))
    _, alternate = copy_of(descriptor)
    database, path = duckdb_of(body(s3_storage, f"alice/city-budget/{alternate['path']}"), tmp_path)
    found = database.execute("SELECT amount, year, admin_id FROM read_parquet(?)", [path]).fetchall()
    assert found == [(1234.5, 2013, "a"), (20.25, 2013, "b"), (None, 2014, "a")]
    year = database.execute(
        "SELECT column_type FROM (DESCRIBE FROM read_parquet(?)) WHERE column_name = 'year'", [path]
    )
    assert year.fetchone() == ("BIGINT",)


def test_a_cell_the_schema_cannot_read_fails_the_publication_and_the_old_version_stays(converted, s3_storage):
    publish("northfield-spending-2014")
    old = PublishedPackage.objects.get()
    old_descriptor = body(s3_storage, NORTHFIELD + "datapackage.json")

    def damage(rows):
        rows[3][rows[0].index("amount")] = "about 12"

    path = reconverted(converted["northfield-spending-2014"], damage)
    output, _ = publish_failing("northfield-spending-2014")

    run = PublicationRun.objects.first()
    assert run.status == Status.FAILED
    assert run.error.startswith(f"{path}: ") and 'field amount: "about 12" is not a number' in run.error
    assert "Traceback" not in run.error and "is not a number" in output
    assert body(s3_storage, NORTHFIELD + "datapackage.json") == old_descriptor
    assert PublishedPackage.objects.get().descriptor_sha256 == old.descriptor_sha256
    assert all(body(s3_storage, key) for key in old.data_keys)  # still served


def test_a_copy_whose_sums_differ_from_the_csv_is_not_published(converted, s3_storage, monkeypatch):
    publish("northfield-spending-2014")
    old_descriptor = body(s3_storage, NORTHFIELD + "datapackage.json")
    _, data, _ = published_files(s3_storage)
    rows, total = csv_totals(data, "amount")
    real = parquet._number

    def off_by_a_cent(*args, **kwargs):  # a conversion that drifts: every amount one cent more
        return f"({real(*args, **kwargs)}) + 0.01"

    monkeypatch.setattr(parquet, "_number", off_by_a_cent)
    path = reconverted(converted["northfield-spending-2014"])
    publish_failing("northfield-spending-2014")

    error = PublicationRun.objects.first().error
    found = re.fullmatch(
        rf"{re.escape(path)}: field amount sums to (\S+) in the CSV and to (\S+) in its Parquet copy", error
    )
    assert found, error
    assert Decimal(found[1]) == total
    assert abs(Decimal(found[2]) - total - Decimal("0.01") * len(rows)) < Decimal("0.000001")
    assert body(s3_storage, NORTHFIELD + "datapackage.json") == old_descriptor


def test_republishing_the_same_csv_gives_the_same_parquet_bytes_and_key(converted, s3_storage, s3_requests):
    publish("northfield-spending-2014")
    before = copy_of(json.loads(body(s3_storage, NORTHFIELD + "datapackage.json")))[1]
    reconverted(converted["northfield-spending-2014"])  # a newer conversion, same data
    s3_requests.clear()

    publish("northfield-spending-2014")

    assert PublicationRun.objects.first().status == Status.UNCHANGED
    assert copy_of(json.loads(body(s3_storage, NORTHFIELD + "datapackage.json")))[1] == before
    assert not [key for _, key in s3_requests.writes() if key.startswith(NORTHFIELD)]


def test_the_same_csv_and_schema_write_the_same_bytes(converted, s3_storage, tmp_path):
    publish("northfield-spending-2014")
    descriptor, data, content = published_files(s3_storage)
    source = tmp_path / "data.csv"
    source.write_bytes(data)

    parquet_write(source, descriptor["resources"][0], tmp_path / "again.parquet", where="data.csv")

    assert (tmp_path / "again.parquet").read_bytes() == content


def test_a_package_published_before_the_copies_gets_one_on_its_next_publication(converted, s3_storage):
    publish("northfield-spending-2014")
    package = PublishedPackage.objects.get()
    csv_key, parquet_key = package.data_keys
    del package.descriptor["resources"][0]["alternates"]  # the record of a publication before this change
    public_storage().delete(parquet_key)
    PublishedPackage.objects.filter(pk=package.pk).update(
        descriptor=package.descriptor, data_keys=[csv_key], descriptor_sha256="0" * 64
    )

    publish("northfield-spending-2014")

    assert PublicationRun.objects.first().status == Status.SUCCEEDED
    assert PublishedPackage.objects.get().data_keys == [csv_key, parquet_key]
    assert public_storage().exists(parquet_key)


def test_the_site_serves_the_copy_as_parquet_and_lists_it_beside_the_csv(converted, s3_storage, client):
    publish("northfield-spending-2014")
    _, _, content = published_files(s3_storage)
    package = PublishedPackage.objects.get()
    name = package.data_keys[1].rsplit("/", 1)[1]
    url = f"/packages/{NORTHFIELD}data/{name}"

    response = client.get(url)
    head = client.head(url)

    assert response.status_code == 200 and response["Content-Type"] == PARQUET_MEDIATYPE
    assert b"".join(response.streaming_content) == content
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert (head.status_code, head["Content-Type"], head["Content-Length"]) == (
        200,
        PARQUET_MEDIATYPE,
        str(len(content)),
    )
    page = html.fromstring(client.get(f"/packages/{NORTHFIELD}").content)
    [item] = [li for li in page.xpath("//section[contains(@class, 'downloads')]//li") if "Parquet" in li.text_content()]
    assert url in item.xpath(
        ".//a/@href"
    ) and f"/packages/{NORTHFIELD}data/{package.data_keys[0].rsplit('/', 1)[1]}" in item.xpath(".//a/@href")
    assert filesizeformat(len(content)) in item.text_content()
    distributions = json.loads(client.get("/data.json").content)["dataset"][0]["distribution"]
    kinds = {item["mediaType"]: item.get("downloadURL", "") for item in distributions}
    assert kinds[PARQUET_MEDIATYPE].endswith(url) and "text/csv" in kinds


def test_bulk_zips_hold_the_csv_rows_and_no_parquet(converted, s3_storage):
    publish("northfield-spending-2014")
    package = PublishedPackage.objects.get()
    _, data, _ = published_files(s3_storage)

    segments = bulk.package_segments(package)

    names, rows = [], 0
    for segment in segments:
        with zipfile.ZipFile(io.BytesIO(public_storage().open(segment.key).read())) as archive:
            names += archive.namelist()
            for entry in archive.namelist():
                rows += len(archive.read(entry).decode().splitlines()) - 1
    assert names and all(name.endswith(".csv") for name in names)
    assert rows == sum(segment.rows for segment in segments) == len(csv_totals(data, "amount")[0])
