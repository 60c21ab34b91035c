"""Which URLs the exporter may fetch, and keeping the API key out of everything we write.

The legacy platform accepted any http(s) source URL from any user, so a source (or a redirect) can point anywhere,
including a cloud metadata address. A host is fetched only if every address it resolves to is globally routable,
and the transport (datasets/transport.py) connects to the very addresses checked here, never resolving again.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

ALLOWED_SCHEMES = {"http", "https"}
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# RFC 6052: the well-known NAT64 prefix carries an IPv4 address in its last 32 bits, and a NAT64 gateway connects
# to that address. (The local-use prefix 64:ff9b:1::/48 lies in ::/8, which is_reserved refuses.)
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


class UnsafeURLError(ValueError):
    """A URL the exporter refuses to fetch."""


class UnresolvableHostError(UnsafeURLError):
    """The host name does not resolve (now): a failure to connect rather than a refusal."""


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse non-HTTP schemes, and hosts with any address that is not public unless explicitly allowed."""
    fetchable_host(url)
    if not allow_private:
        resolve_checked(url, allow_private=False)


def fetchable_host(url: str) -> str:
    """The URL's host, if it is an http(s) URL with a host at all."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise UnsafeURLError(f"only http and https URLs are fetched, not {parts.scheme or 'a relative URL'!r}")
    if not parts.hostname:
        raise UnsafeURLError("the URL has no host")
    return parts.hostname


def resolve_checked(url: str, *, allow_private: bool) -> list[str]:
    """The addresses to connect to for `url`, in the resolver's order of preference, each one checked.

    A name is resolved once, here: a second lookup at connect time could answer differently (DNS rebinding).
    """
    host = fetchable_host(url)
    addresses = _resolve(host)
    if not allow_private:
        for address in addresses:
            if not is_public(ipaddress.ip_address(address)):
                raise UnsafeURLError(f"{host} resolves to {address}, a loopback or private (not public) address")
    return addresses


def is_public(ip: IPAddress) -> bool:
    """Globally routable, and so is any IPv4 address the packets are really bound for (mapped, NAT64, tunnels)."""
    if isinstance(ip, ipaddress.IPv6Address):
        translated = ip.ipv4_mapped or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64_PREFIX else None)
        if translated is not None:
            return is_public(translated)
        if ip.is_site_local or not all(is_public(inner) for inner in _tunnelled_ipv4(ip)):
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


def _tunnelled_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 ends of 6to4 (2002::/16) and Teredo (2001::/32, server and client) addresses."""
    inner = [ip.sixtofour] if ip.sixtofour is not None else []
    return inner + list(ip.teredo or ())


def _resolve(host: str) -> list[str]:
    try:
        return [ipaddress.ip_address(host).compressed]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise UnresolvableHostError(f"cannot resolve {host}: {error.strerror}") from error
    # dict.fromkeys: unique, in the resolver's order (which prefers the address families that work here).
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def redact(text: str, secret: str | None) -> str:
    """Remove a secret from text that is about to be logged, printed or stored."""
    if not secret:
        return text
    return text.replace(secret, "***")
