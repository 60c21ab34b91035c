"""Archived sources and the cube's rows land in S3 (moto's server on loopback) when S3 is the storage."""

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from datasets.models import LegacyDataset, Source
from datasets.sample_legacy.server import SampleLegacyServer

pytestmark = pytest.mark.django_db


def test_import_stores_archived_files_in_the_bucket(s3_storage, tmp_path):
    with SampleLegacyServer() as legacy, override_settings(LEGACY_ALLOW_PRIVATE_ADDRESSES=True):
        call_command("export_legacy", "--url", legacy.base_url, "--to", str(tmp_path), stdout=StringIO())
    call_command("import_legacy", str(tmp_path), stdout=StringIO())
    source = Source.objects.get(dataset__name="lindenau-haushalt", legacy_id=4101)
    key = source.archived_file.name
    assert key.startswith("legacy/lindenau-haushalt/sources/4101-")
    body = s3_storage.get_object(Bucket=s3_storage.bucket, Key=key)["Body"].read()
    assert body == (tmp_path / "lindenau-haushalt" / "archive" / "4101.csv").read_bytes()
    assert hashlib.sha256(body).hexdigest() == source.sha256
    entries = LegacyDataset.objects.get(name="lindenau-haushalt").entries_file.name
    assert s3_storage.head_object(Bucket=s3_storage.bucket, Key=entries)["ContentLength"] > 0

    keys_before = {item["Key"] for item in s3_storage.list_objects_v2(Bucket=s3_storage.bucket)["Contents"]}
    call_command("import_legacy", str(tmp_path), stdout=StringIO())
    keys_after = {item["Key"] for item in s3_storage.list_objects_v2(Bucket=s3_storage.bucket)["Contents"]}
    assert keys_after == keys_before
