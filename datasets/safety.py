"""Which URLs the exporter may fetch, and keeping the API key out of everything we write."""

import ipaddress
import socket
from urllib.parse import urlsplit

ALLOWED_SCHEMES = {"http", "https"}


class UnsafeURLError(ValueError):
    """A URL the exporter refuses to fetch."""


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse non-HTTP schemes, and hosts in loopback or private ranges unless explicitly allowed.

    The legacy platform accepted any http(s) source URL from any user, so a source can point anywhere,
    including a cloud metadata address; resolving the name here catches hosts that resolve to such ranges.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise UnsafeURLError(f"only http and https URLs are fetched, not {parts.scheme or 'a relative URL'!r}")
    host = parts.hostname
    if not host:
        raise UnsafeURLError("the URL has no host")
    if allow_private:
        return
    for address in _resolve(host):
        if _is_internal(address):
            raise UnsafeURLError(f"{host} resolves to {address}, a loopback or private address")


def _resolve(host: str) -> list[str]:
    try:
        return [ipaddress.ip_address(host).compressed]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as error:
        raise UnsafeURLError(f"cannot resolve {host}: {error.strerror}") from error
    return sorted({str(info[4][0]) for info in infos})


def _is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return bool(
        ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified
    )


def redact(text: str, secret: str | None) -> str:
    """Remove a secret from text that is about to be logged, printed or stored."""
    if not secret:
        return text
    return text.replace(secret, "***")
