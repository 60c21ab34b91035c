import pytest

from datasets.safety import UnsafeURLError, check_url, redact


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


def test_a_public_address_is_allowed():
    check_url("https://93.184.216.34/budget.csv", allow_private=False)


def test_redact_removes_the_secret_everywhere():
    assert redact("key abc-123 and abc-123 again", "abc-123") == "key *** and *** again"
    assert redact("nothing to hide", None) == "nothing to hide"
