"""The legacy client against hosts that play the hostile part, over real HTTP on loopback.

Huge answers and gzip bombs meet a cap on decoded bytes, servers that drip a byte at a time meet a total deadline,
and names that resolve differently from one lookup to the next meet a client that connects to the address it
checked. The API key stays out of every error.
"""

import gzip
import json
import logging
import socket
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from datasets import safety
from datasets.client import ClientSettings, LegacyClient, LegacyError
from datasets.downloads import FETCHED, UNREACHABLE, archive_source
from tests.hostile_http import HostileServer, answer, drip, drip_headers, gzip_bomb, huge, redirect, tls_for

MiB = 1024 * 1024
KEY = "5b0c1e4e-hostile-test-key"
CSV = b"year,amount\n2013,100\n2014,200\n"
PUBLIC = "93.184.216.34"


def fast(**overrides: Any) -> ClientSettings:
    values: dict[str, Any] = {
        "connect_timeout": 0.5, "read_timeout": 1.0, "retries": 1, "backoff": 0.01, "allow_private": True,
    }  # fmt: skip
    return ClientSettings(**{**values, **overrides})


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


class FakeResolver:
    """Answers host names from a script, one answer per lookup (the last one repeats); other names resolve as usual.

    An answer is one address or several, comma-separated.

    It replaces socket.getaddrinfo for everyone, urllib3 included: a client that looked a name up again when it
    connects would get the next answer.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []
        self._real = socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", self._getaddrinfo)

    def _getaddrinfo(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in self.answers:
            return self._real(host, port, *args, **kwargs)
        self.lookups.append(host)
        script = self.answers[host]
        addresses = script[min(self.lookups.count(host), len(script)) - 1]
        return [_address_info(address, port or 0) for address in addresses.split(",")]


def _address_info(address: str, port: int) -> tuple[Any, ...]:
    if ":" in address:
        return (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))


def peak_memory(call: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        call()
    except LegacyError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def raised_by(call: Callable[[], object]) -> LegacyError:
    with pytest.raises(LegacyError) as raised:
        call()
    return raised.value


# -- caps on decoded bytes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("read", ["get_json", "get_text"])
def test_an_answer_over_the_cap_is_refused_without_holding_it(hostile, read):
    hostile.routes["/datasets.json"] = huge(64 * MiB)
    client = LegacyClient(hostile.url(""), api_key=KEY, config=fast(max_response_bytes=MiB))
    error = raised_by(lambda: getattr(client, read)("datasets.json"))
    assert "larger than the cap of 1048576 bytes (LEGACY_MAX_RESPONSE_BYTES)" in str(error)
    assert len(hostile.requests) == 1, "a refusal is not retried"
    assert KEY not in str(error)
    assert peak_memory(lambda: getattr(client, read)("datasets.json")) < 6 * MiB


def test_a_gzip_bomb_is_refused_on_its_decoded_size(hostile):
    hostile.routes["/datasets.json"] = gzip_bomb(16 * MiB)
    client = LegacyClient(hostile.url(""), config=fast(max_response_bytes=MiB))
    error = raised_by(lambda: client.get_json("datasets.json"))
    assert "larger than the cap of 1048576 bytes" in str(error)
    assert peak_memory(lambda: client.get_json("datasets.json")) < 6 * MiB


def test_a_compressed_answer_under_the_cap_is_decoded(hostile):
    body = json.dumps({"datasets": ["lindenau-haushalt"] * 1000}).encode()
    hostile.routes["/datasets.json"] = answer(gzip.compress(body), headers={"Content-Encoding": "gzip"})
    client = LegacyClient(hostile.url(""), config=fast(max_response_bytes=len(body)))
    assert client.get_json("datasets.json") == json.loads(body)


def test_a_source_that_is_a_gzip_bomb_is_cut_at_the_size_cap(hostile, tmp_path):
    hostile.routes["/budget.csv"] = gzip_bomb(16 * MiB, content_type="text/csv")
    client = LegacyClient(hostile.url(""), config=fast())
    record = archive_source(client, hostile.url("/budget.csv"), tmp_path, "archive/1.csv", max_bytes=MiB)
    assert record.status == UNREACHABLE
    assert "larger than the size cap of 1048576 bytes" in str(record.error)
    assert list(tmp_path.rglob("*.csv*")) == []


# -- total deadlines ------------------------------------------------------------------------------------------------

DRIPPING = [
    pytest.param(drip(b"[" + b"0," * 200 + b"0]", interval=0.2), id="body"),
    pytest.param(drip(b"[" + b"0," * 200 + b"0]", interval=0.2, length=False), id="body-until-close"),
    pytest.param(drip_headers(interval=0.2), id="headers"),
]


@pytest.mark.parametrize("behaviour", DRIPPING)
def test_a_dripping_answer_is_cut_off_at_the_request_deadline(hostile, behaviour, caplog):
    caplog.set_level(logging.INFO)
    hostile.routes["/datasets.json"] = behaviour
    client = LegacyClient(hostile.url(""), api_key=KEY, config=fast(request_deadline=0.8, retries=3))
    started = time.monotonic()
    error = raised_by(lambda: client.get_json("datasets.json"))
    assert time.monotonic() - started < 4
    assert "deadline of 0.8 s (LEGACY_REQUEST_DEADLINE)" in str(error)
    assert len(hostile.requests) == 1, "the deadline covers the retries too"
    assert KEY not in str(error) + caplog.text


def test_a_dripping_source_is_unreachable_at_the_download_deadline(hostile, tmp_path):
    hostile.routes["/budget.csv"] = drip(CSV * 20, interval=0.2, content_type="text/csv")
    client = LegacyClient(hostile.url(""), config=fast(download_deadline=0.8))
    started = time.monotonic()
    record = archive_source(client, hostile.url("/budget.csv"), tmp_path, "archive/1.csv", max_bytes=MiB)
    assert time.monotonic() - started < 4
    assert record.status == UNREACHABLE
    assert "deadline of 0.8 s (LEGACY_DOWNLOAD_DEADLINE)" in str(record.error)
    assert list(tmp_path.rglob("1.csv*")) == []


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "until-close"])
def test_a_source_that_drips_later_keeps_the_copy_fetched_earlier(hostile, tmp_path, length):
    hostile.routes["/budget.csv"] = answer(CSV, content_type="text/csv")
    client = LegacyClient(hostile.url(""), config=fast(download_deadline=0.8))
    first = archive_source(client, hostile.url("/budget.csv"), tmp_path, "archive/1.csv", max_bytes=MiB)
    assert first.status == FETCHED
    hostile.routes["/budget.csv"] = drip(
        CSV.replace(b"100", b"999"), interval=0.2, content_type="text/csv", length=length
    )
    again = archive_source(client, hostile.url("/budget.csv"), tmp_path, "archive/1.csv", max_bytes=MiB, previous=first)
    assert again.status == FETCHED and again.sha256 == first.sha256
    assert "deadline of 0.8 s" in str(again.refresh_error)
    assert (tmp_path / "archive" / "1.csv").read_bytes() == CSV
    assert list(tmp_path.rglob("*.part")) == []


# -- which addresses are reached --------------------------------------------------------------------------------------


def test_a_name_that_rebinds_to_loopback_is_never_reached_there(hostile, monkeypatch):
    resolver = FakeResolver(monkeypatch, {"rebind.test": [PUBLIC, "127.0.0.1"]})
    client = LegacyClient(hostile.url("", host="rebind.test"), config=fast(allow_private=False, retries=0))
    resolver.lookups.clear()  # the check when the client was made; the request's own lookup answers PUBLIC again
    raised_by(lambda: client.get_json("datasets.json"))
    assert resolver.lookups == ["rebind.test"], "looked up once, and the connection went to that answer"
    assert hostile.requests == []


def test_the_connection_goes_to_the_address_checked_with_the_name_in_the_host_header(monkeypatch):
    with HostileServer("127.0.0.1") as first, HostileServer("127.0.0.2", first.port) as second:
        for server in (first, second):
            server.routes["/datasets.json"] = answer(json.dumps({"from": server.host}).encode())
        resolver = FakeResolver(monkeypatch, {"pinned.test": ["127.0.0.1", "127.0.0.2"]})
        client = LegacyClient(first.url("", host="pinned.test"), config=fast())
        assert client.get_json("datasets.json") == {"from": "127.0.0.1"}
    assert resolver.lookups == ["pinned.test"]
    assert second.requests == []
    assert first.requests[0][1]["Host"] == f"pinned.test:{first.port}"


def test_the_next_checked_address_is_tried_when_one_refuses_connections(hostile, monkeypatch):
    hostile.routes["/datasets.json"] = answer(b"[]")
    resolver = FakeResolver(monkeypatch, {"twice.test": ["127.0.0.3,127.0.0.1"]})  # nothing listens on .3
    client = LegacyClient(hostile.url("", host="twice.test"), config=fast(retries=0))
    assert client.get_json("datasets.json") == []
    assert resolver.lookups == ["twice.test"]


def test_https_to_a_pinned_address_still_checks_the_certificate_for_the_name(monkeypatch, tmp_path):
    context, ca_file = tls_for("legacy.test", tmp_path)
    monkeypatch.setattr(requests.adapters, "DEFAULT_CA_BUNDLE_PATH", str(ca_file))
    FakeResolver(monkeypatch, {"legacy.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    with HostileServer(tls=context) as server:
        server.routes["/datasets.json"] = answer(b'{"datasets": []}')
        client = LegacyClient(server.url("", host="legacy.test"), config=fast(retries=0))
        assert client.get_json("datasets.json") == {"datasets": []}
        assert server.server_names == ["legacy.test"]
        assert server.requests[0][1]["Host"] == f"legacy.test:{server.port}"
        impostor = LegacyClient(server.url("", host="other.test"), config=fast(retries=0))
        assert "certificate" in str(raised_by(lambda: impostor.get_json("datasets.json"))).lower()
    assert len(server.requests) == 1


def test_proxies_from_the_environment_are_not_used(hostile, monkeypatch):
    with HostileServer() as proxy:
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
            monkeypatch.setenv(name, proxy.url(""))
        hostile.routes["/datasets.json"] = answer(b"[]")
        assert LegacyClient(hostile.url(""), config=fast()).get_json("datasets.json") == []
    assert proxy.requests == []


# -- redirects: every hop checked and pinned -----------------------------------------------------------------------


@pytest.fixture
def loopback_counts_as_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """127.0.0.1 stands in for a public host, so a first hop can be served on loopback with the filter on."""
    real = safety.is_public
    monkeypatch.setattr(safety, "is_public", lambda ip: str(ip) == "127.0.0.1" or real(ip))


@pytest.mark.usefixtures("loopback_counts_as_public")
@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.2:{port}/x", "http://internal.test:{port}/x", "http://[::ffff:127.0.0.2]:{port}/x"],
)
def test_a_redirect_to_a_private_address_is_refused(monkeypatch, target):
    FakeResolver(monkeypatch, {"internal.test": ["127.0.0.2"]})
    with HostileServer("127.0.0.1") as first, HostileServer("127.0.0.2") as private:
        first.routes["/datasets.json"] = redirect(target.format(port=private.port))
        client = LegacyClient(first.url(""), config=fast(allow_private=False))
        error = raised_by(lambda: client.get_json("datasets.json"))
    assert "refused" in str(error) and "127.0.0.2" in str(error)
    assert private.requests == []


@pytest.mark.usefixtures("loopback_counts_as_public")
def test_a_source_redirected_to_a_metadata_address_is_unreachable(hostile, tmp_path):
    hostile.routes["/budget.csv"] = redirect("http://100.100.100.200/latest/meta-data/")
    client = LegacyClient(hostile.url(""), config=fast(allow_private=False))
    record = archive_source(client, hostile.url("/budget.csv"), tmp_path, "archive/1.csv", max_bytes=MiB)
    assert record.status == UNREACHABLE
    assert "refused" in str(record.error) and "100.100.100.200" in str(record.error)


def test_a_redirect_hop_is_pinned_to_the_address_checked(monkeypatch):
    with HostileServer("127.0.0.1") as first, HostileServer("127.0.0.2", first.port) as second:
        first.routes["/datasets.json"] = redirect(first.url("/moved.json", host="hop.test"))
        for server in (first, second):
            server.routes["/moved.json"] = answer(json.dumps({"from": server.host}).encode())
        resolver = FakeResolver(monkeypatch, {"hop.test": ["127.0.0.1", "127.0.0.2"]})
        client = LegacyClient(first.url(""), config=fast())
        assert client.get_json("datasets.json") == {"from": "127.0.0.1"}
    assert resolver.lookups == ["hop.test"]
    assert second.requests == []
    assert [path for path, _ in first.requests] == ["/datasets.json", "/moved.json"]
