import socket

import pytest

from datasets.safety import UnsafeURLError, check_url, redact, resolve_checked


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/data.csv",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "/relative/path.csv",
    ],
)
def test_only_http_and_https_urls_are_fetched(url):
    with pytest.raises(UnsafeURLError):
        check_url(url, allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/x.csv",
        "http://localhost/x.csv",
        "http://10.1.2.3/x.csv",
        "http://192.168.0.10/x.csv",
        "http://172.16.5.4/x.csv",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x.csv",
        "http://0.0.0.0/x.csv",
    ],
)
def test_loopback_and_private_addresses_are_refused_unless_allowed(url):
    with pytest.raises(UnsafeURLError, match="loopback or private"):
        check_url(url, allow_private=False)
    check_url(url, allow_private=True)


@pytest.mark.parametrize(
    "address",
    [
        "100.64.0.1",  # shared address space (carrier-grade NAT)
        "100.100.100.200",  # a cloud metadata address inside it
        "0.0.0.0",
        "224.0.0.1",  # multicast
        "255.255.255.255",
        "192.0.2.10",  # documentation
        "198.18.0.1",  # benchmarking
        "240.0.0.1",  # reserved
        "::",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "::7f00:1",  # IPv4-compatible (deprecated)
        "2002:7f00:1::",  # 6to4 wrapping 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 wrapping 169.254.169.254
        "64:ff9b::7f00:1",  # NAT64 well-known prefix wrapping 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # ... and 169.254.169.254
        "64:ff9b:1::a00:1",  # NAT64 local-use prefix
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "2001:0:7f00:1:8000:63bf:3fff:fdd2",  # Teredo, server 127.0.0.1
        "fe80::1",
        "fc00::1",  # unique local
        "fec0::1",  # site-local (deprecated)
        "ff0e::1",  # multicast
        "2001:db8::1",  # documentation
    ],
)
def test_addresses_that_are_not_globally_routable_are_refused(address):
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(UnsafeURLError, match="loopback or private"):
        resolve_checked(f"http://{host}/x.csv", allow_private=False)


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "8.8.8.8",
        "2606:4700:4700::1111",
        "64:ff9b::808:808",  # NAT64 for a public IPv4 address
        "2002:808:808::1",  # 6to4 for a public IPv4 address
    ],
)
def test_a_public_address_is_allowed_and_is_the_one_to_connect_to(address):
    host = f"[{address}]" if ":" in address else address
    assert resolve_checked(f"https://{host}/budget.csv", allow_private=False) == [address]
    check_url(f"https://{host}/budget.csv", allow_private=False)


def test_a_name_is_refused_if_any_of_its_addresses_is_private(monkeypatch):
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, 0)) for address in ("8.8.8.8", "10.0.0.7")]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    with pytest.raises(UnsafeURLError, match=r"10\.0\.0\.7"):
        resolve_checked("http://mixed.test/x.csv", allow_private=False)
    assert resolve_checked("http://mixed.test/x.csv", allow_private=True) == ["8.8.8.8", "10.0.0.7"]


def test_redact_removes_the_secret_everywhere():
    assert redact("key abc-123 and abc-123 again", "abc-123") == "key *** and *** again"
    assert redact("nothing to hide", None) == "nothing to hide"
