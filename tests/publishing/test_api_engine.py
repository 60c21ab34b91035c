"""The read API's engine: DuckDB locked to the Parquet cache, stopped at the time limit; the cache follows the store."""

from __future__ import annotations

import hashlib
import os
import time

import duckdb
import pytest
from django.core.files.base import ContentFile

from publishing.api import engine
from publishing.api.cache import CacheError, ParquetFile, local_copy
from publishing.store import public_storage


@pytest.fixture
def cache(settings, tmp_path):
    settings.API_CACHE_DIR = tmp_path / "api-cache"
    return settings.API_CACHE_DIR


def test_a_query_cannot_read_files_outside_the_cache_nor_change_the_settings(cache):
    with pytest.raises(duckdb.PermissionException):
        engine.run("SELECT * FROM read_csv(?)", ["/etc/passwd"])
    with pytest.raises(duckdb.Error, match="locked"):
        engine.run("SET enable_external_access = true", [])
    with pytest.raises(duckdb.Error):
        engine.run("COPY (SELECT 1) TO '/tmp/escaped.csv'", [])


def test_a_query_past_the_time_limit_is_stopped(cache, settings):
    settings.API_QUERY_TIMEOUT_SECONDS = 0.3
    started = time.monotonic()

    with pytest.raises(engine.QueryTimeout, match=r"longer than 0\.3 seconds"):
        engine.run("SELECT count(*) FROM range(1000000000000) a WHERE a % 7 = 3", [])

    assert time.monotonic() - started < 5
    assert engine.run("SELECT 1 + ?", [1]).rows == [(2,)]  # the database goes on


def stored(key: str, content: bytes) -> ParquetFile:
    public_storage().save(key, ContentFile(content))
    return ParquetFile(key, hashlib.sha256(content).hexdigest(), len(content))


def test_copies_are_fetched_once_checked_and_the_least_recently_used_go_first(cache, settings):
    first, second, third = (stored(f"o/p/data/{n}.parquet", bytes([n]) * 1000) for n in (1, 2, 3))
    settings.API_CACHE_MAX_BYTES = 2500

    one = local_copy(first)
    os.utime(one, (1, 1))  # used long ago
    two = local_copy(second)
    three = local_copy(third)

    assert one.name == f"{first.sha256}.parquet"
    assert not one.exists() and two.exists() and three.exists()
    assert three.read_bytes() == bytes([3]) * 1000


def test_a_copy_whose_bytes_differ_from_the_descriptor_is_not_kept(cache):
    good = stored("o/p/data/x.parquet", b"the bytes")
    wrong = ParquetFile(good.key, hashlib.sha256(b"other bytes").hexdigest(), 9)

    with pytest.raises(CacheError, match="not the ones the descriptor names"):
        local_copy(wrong)
    with pytest.raises(CacheError, match="missing from the store"):
        local_copy(ParquetFile("o/p/data/gone.parquet", good.sha256, 9))

    assert list(cache.glob("*.parquet")) == [] and list(cache.glob(".fetch-*")) == []


def test_a_store_that_cannot_be_reached_is_a_cache_error_not_a_crash(cache, settings, s3_storage):
    """S3 down: a CacheError, which the API answers with a 503 and the package page as a preview not available now,
    rather than a server error."""
    stored_file = stored("o/p/data/x.parquet", b"the bytes")
    public = settings.STORAGES["public"]
    settings.STORAGES = {
        **settings.STORAGES,
        "public": {**public, "OPTIONS": {**public["OPTIONS"], "endpoint_url": "http://127.0.0.1:9"}},
    }

    with pytest.raises(CacheError, match="could not be read from the store now"):
        local_copy(stored_file)

    assert list(cache.glob("*.parquet")) == []
