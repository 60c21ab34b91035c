"""The legacy client over real HTTP: where the key goes, redirects, retries."""

import pytest

from datasets.client import ClientSettings, LegacyClient, LegacyError
from datasets.downloads import archive_source
from datasets.safety import UnsafeURLError
from datasets.sample_legacy.server import ADMIN_API_KEY, SampleLegacyServer

FAST = ClientSettings(connect_timeout=2, read_timeout=1, retries=2, backoff=0.01, allow_private=True)
SOURCE = "/files/lindenau-haushalt/ergebnisplan-2013.csv"


@pytest.fixture
def legacy():
    with SampleLegacyServer() as server:
        yield server


@pytest.fixture
def other_host():
    with SampleLegacyServer() as server:
        yield server


def test_the_key_is_never_sent_to_another_host(legacy, other_host, tmp_path):
    client = LegacyClient(legacy.base_url, api_key=ADMIN_API_KEY, config=FAST)
    record = archive_source(client, other_host.base_url + SOURCE, tmp_path, "archive/1.csv", max_bytes=10**6)
    assert record.status == "fetched"
    assert other_host.requests
    assert all("Authorization" not in headers for _, _, headers in other_host.requests)


def test_source_downloads_carry_no_cache_busting_parameter(legacy, tmp_path):
    client = LegacyClient(legacy.base_url, config=FAST)
    archive_source(client, legacy.base_url + SOURCE, tmp_path, "archive/1.csv", max_bytes=10**6)
    assert [path for _, path, _ in legacy.requests] == [SOURCE]


def test_a_file_over_the_size_cap_is_refused_and_not_kept(legacy, tmp_path):
    client = LegacyClient(legacy.base_url, config=FAST)
    record = archive_source(client, legacy.base_url + SOURCE, tmp_path, "archive/1.csv", max_bytes=100)
    assert record.status == "unreachable"
    assert "size cap of 100 bytes" in str(record.error)
    assert not list(tmp_path.rglob("1.csv*"))


def test_a_private_address_is_refused_without_the_setting(legacy):
    with pytest.raises(UnsafeURLError):
        LegacyClient(legacy.base_url, config=ClientSettings(allow_private=False))


def test_a_source_on_a_private_address_is_unreachable_with_the_reason(legacy, tmp_path):
    client = LegacyClient(legacy.base_url, config=FAST)
    client.config = ClientSettings(allow_private=False, retries=0)
    record = archive_source(client, legacy.base_url + SOURCE, tmp_path, "archive/1.csv", max_bytes=10**6)
    assert record.status == "unreachable"
    assert "refused" in str(record.error) and "loopback or private" in str(record.error)
    assert legacy.requests == []


def test_errors_give_up_after_the_retries_and_name_the_url(legacy):
    legacy.add_fault(r"^/datasets\.json$", "status", times=10, status=502)
    client = LegacyClient(legacy.base_url, config=FAST)
    with pytest.raises(LegacyError) as raised:
        client.get_json("datasets.json")
    assert raised.value.status == 502
    assert "3 attempts" in str(raised.value)
    assert "/datasets.json" in str(raised.value)
    assert len(legacy.requests) == 3


def test_a_client_error_is_not_retried(legacy):
    client = LegacyClient(legacy.base_url, config=FAST)
    with pytest.raises(LegacyError) as raised:
        client.get_json("no-such-dataset.json")
    assert raised.value.status == 404
    assert len(legacy.requests) == 1


def test_a_private_dataset_is_forbidden_without_a_key(legacy):
    client = LegacyClient(legacy.base_url, config=FAST)
    with pytest.raises(LegacyError) as raised:
        client.get_json("hafnarvik-utgjold-2013.json")
    assert raised.value.status == 403
    keyed = LegacyClient(legacy.base_url, api_key=ADMIN_API_KEY, config=FAST)
    assert keyed.get_json("hafnarvik-utgjold-2013.json")["name"] == "hafnarvik-utgjold-2013"
