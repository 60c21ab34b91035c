"""Fixtures for publishing: the sample instance reviewed and converted on moto's S3 server, and S3 helpers.

The helpers read the public bucket unless told `bucket=client.bucket` (the working one): publishing writes there."""

import csv
import hashlib
import io
import json
import mimetypes
from collections.abc import Callable
from io import StringIO
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from botocore.exceptions import EndpointConnectionError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError

from conversion.models import ConversionRun
from publishing.store import public_storage
from tests.sample import CONVERTED, SampleSnapshots, Snapshot, datasets_by_name

PUBLIC = [
    "lagoon-district-expenditure",
    "lindenau-haushalt",
    "northfield-spending-2014",
    "saltmarsh-capital-programme",
    "wdmmg-regional-2009",
]


@pytest.fixture
def converted(s3_storage, curator, sample_snapshots: SampleSnapshots):
    """Every sample dataset with a model reviewed by `curator` and converted, its packages in the S3 bucket: the
    session's run of the whole pipeline (tests/sample.py), restored into this test's database and bucket."""
    restore_on_s3(sample_snapshots.converted, s3_storage)
    assert ConversionRun.objects.succeeded().count() == CONVERTED
    return datasets_by_name()


def restore_on_s3(snapshot: Snapshot, client) -> None:
    """A snapshot into this test's buckets, with the plain PUTs django-storages would make minus its overhead."""

    def writer(bucket: str) -> Callable[[str, bytes], None]:
        def put(name: str, content: bytes) -> None:
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            client.put_object(Bucket=bucket, Key=name, Body=content, ContentType=kind)

        return put

    snapshot.restore({"default": writer(client.bucket), "public": writer(client.public_bucket)})


def publish(*args, sync=True):
    out = StringIO()
    call_command("publish", *args, *(["--sync"] if sync else []), stdout=out)
    return out.getvalue()


def publish_failing(*args):
    """Output and error of a `publish` in which some publication failed (exit status 2)."""
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("publish", *args, "--sync", stdout=out)
    return out.getvalue(), caught.value


def keys(client, prefix="", *, bucket=None):
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket or client.public_bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def body(client, key, *, bucket=None):
    return client.get_object(Bucket=bucket or client.public_bucket, Key=key)["Body"].read()


def registry_rows(client):
    return list(csv.DictReader(io.StringIO(body(client, "registry/packages.csv").decode())))


def registry_ids(client):
    return sorted(row["id"] for row in registry_rows(client))


def stored_package(run):
    """The descriptor and data bytes a conversion run left in the working storage."""
    descriptor = json.loads(default_storage.open(f"{run.package_path}/datapackage.json").read())
    data = default_storage.open(f"{run.package_path}/{descriptor['resources'][0]['path']}").read()
    return descriptor, data


def new_version(dataset):
    """A newer successful conversion of the dataset whose data differ: the first row's amount is one more."""
    run = ConversionRun.objects.filter(dataset=dataset).succeeded().first()
    descriptor, data = stored_package(run)
    rows = list(csv.reader(io.StringIO(data.decode())))
    amount = rows[0].index("amount")  # by name: the order of a package's columns is no promise
    rows[1][amount] = str(float(rows[1][amount]) + 1)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    data = out.getvalue().encode()
    resource = descriptor["resources"][0]
    resource.update(bytes=len(data), hash=f"sha256:{hashlib.sha256(data).hexdigest()}")
    prefix = f"packages/{dataset.name}/runs/{run.pk}-edited"
    default_storage.save(f"{prefix}/{resource['path']}", ContentFile(data))
    default_storage.save(f"{prefix}/datapackage.json", ContentFile(json.dumps(descriptor).encode()))
    return ConversionRun.objects.create(
        dataset=dataset,
        status=ConversionRun.Status.SUCCEEDED,
        valid=True,
        package_path=prefix,
        reconciliation_status=ConversionRun.Reconciliation.MATCH,
        rows_written=run.rows_written,
    )


def storage_client():
    """The boto3 client of the public storage (django-storages S3), the one the store's requests go through."""
    storage: Any = public_storage()
    return storage.connection.meta.client


class S3Requests:
    """Every HTTP request the public storage's S3 client sends, as (method, key)."""

    def __init__(self, client, bucket):
        self.client, self.bucket, self.seen = client, bucket, []
        client.meta.events.register("before-send.s3", self._record)

    def _record(self, request, **kwargs):
        path = unquote(urlparse(request.url).path).removeprefix(f"/{self.bucket}/")
        self.seen.append((request.method, path))

    def writes(self):
        return [(method, key) for method, key in self.seen if method in {"PUT", "POST", "DELETE"}]

    def clear(self):
        self.seen.clear()

    def close(self):
        self.client.meta.events.unregister("before-send.s3", self._record)


@pytest.fixture
def s3_requests(s3_storage):
    requests = S3Requests(storage_client(), s3_storage.public_bucket)
    yield requests
    requests.close()


class S3Faults:
    """Makes the public storage's PUTs of matching keys fail the way a dropped connection does."""

    def __init__(self, client):
        self.client, self.failing = client, None
        client.meta.events.register("before-parameter-build.s3.PutObject", self._refuse)

    def fail(self, matching):
        self.failing = matching

    def heal(self):
        self.failing = None

    def _refuse(self, params, **kwargs):
        if self.failing is not None and self.failing(params["Key"]):
            raise EndpointConnectionError(endpoint_url=f"upload of {params['Key']} (test fault)")

    def close(self):
        self.client.meta.events.unregister("before-parameter-build.s3.PutObject", self._refuse)


@pytest.fixture
def s3_faults(s3_storage):
    faults = S3Faults(storage_client())
    yield faults
    faults.close()
