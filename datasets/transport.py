"""How the legacy client reaches a host: only at an address checked once, and never past a total deadline.

Two gaps of plain `requests` are closed here. It resolves a host name again when it connects, so a name that
answered a public address when checked can answer 127.0.0.1 a moment later (DNS rebinding): `PinnedAdapter`
connects to the very address `safety.resolve_checked` returned, keeping the name for the Host header, TLS server
name and certificate check. And its timeouts bound each socket read, not a whole answer, so a server that drips a
byte a second is never cut off: a `Deadline` shuts down the sockets of its call when it passes.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self, cast
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError

from datasets.safety import UnresolvableHostError, resolve_checked

if TYPE_CHECKING:
    from requests.adapters import _HostParams, _PoolKwargs

DEFAULT_PORTS = {"http": 80, "https": 443}

_current = threading.local()  # the innermost Deadline entered in this thread


class Deadline:
    """A total time limit for one call (a request with its retries and redirects, or a download).

    Entering it starts a watchdog; every socket the call's connections use while it is entered is shut down when
    the time is up, so a read blocked on a dripping server returns at once and the call fails.
    """

    def __init__(self, seconds: float, *, setting: str) -> None:
        self.seconds = seconds
        self.setting = setting
        self.outer: Deadline | None = None
        self._ends = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._passed = False
        self._over = False
        self._timer: threading.Timer | None = None

    def __enter__(self) -> Self:
        self._ends = time.monotonic() + self.seconds
        self._timer = threading.Timer(self.seconds, self._pass)
        self._timer.daemon = True
        self._timer.start()
        self.outer = getattr(_current, "deadline", None)
        _current.deadline = self
        return self

    def __exit__(self, *exc_info: object) -> None:
        _current.deadline = self.outer
        with self._lock:
            # After this, the watchdog leaves alone the sockets, which pooled connections keep using.
            self._over = True
            self._sockets.clear()
        if self._timer is not None:
            self._timer.cancel()

    @property
    def passed(self) -> bool:
        return self._passed or time.monotonic() >= self._ends

    @property
    def problem(self) -> str:
        return f"stopped at the deadline of {self.seconds:g} s ({self.setting})"

    def remaining(self) -> float:
        return max(0.0, self._ends - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self._over:
                return
            if self._passed:
                _shut_down(sock)
            self._sockets.add(sock)

    def _pass(self) -> None:
        with self._lock:
            if self._over:
                return
            self._passed = True
            for sock in self._sockets:
                _shut_down(sock)


def _shut_down(sock: socket.socket) -> None:
    # OSError: closed already, or detached into the TLS socket that replaced it.
    with contextlib.suppress(OSError):
        # The plain socket's shutdown, also for a TLS socket: blocked reads end, nothing is unwrapped under them.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _watch(sock: object) -> None:
    deadline = getattr(_current, "deadline", None)
    while isinstance(sock, socket.socket) and deadline is not None:
        deadline.watch(sock)
        deadline = deadline.outer


class _WatchedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)  # a connection kept alive from an earlier call
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch(sock)  # covers the TLS handshake
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class PinnedAdapter(HTTPAdapter):
    """Resolves and checks each request's host once, then connects to those addresses and nowhere else.

    Connection pools are keyed by the address (and, for https, the server name), so a pooled connection is only
    reused for the address it was opened to.
    """

    def __init__(self, *, allow_private: Callable[[], bool]) -> None:
        self._allow_private = allow_private
        self._pinned = threading.local()
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        try:
            addresses = resolve_checked(request.url or "", allow_private=self._allow_private())
        except UnresolvableHostError as error:
            raise requests.ConnectionError(str(error), request=request) from error
        # Like socket.create_connection, try the next address when one cannot be connected to.
        for address in addresses[:-1]:
            try:
                return self._send_to(address, request, *args, **kwargs)
            except requests.ConnectionError as error:
                if not _could_not_connect(error):
                    raise
        return self._send_to(addresses[-1], request, *args, **kwargs)

    def _send_to(self, address: str, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self._pinned.address = address
        try:
            return super().send(request, *args, **kwargs)
        finally:
            self._pinned.address = None

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: bool | str, cert: str | tuple[str, str] | None = None
    ) -> tuple[_HostParams, _PoolKwargs]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        address = getattr(self._pinned, "address", None)
        if address is None:
            raise RuntimeError("no checked address to connect to")
        name = host_params["host"]
        host_params["host"] = address
        if host_params["scheme"] == "https":
            # TLS still speaks to the name: it is sent as SNI and the certificate must be valid for it.
            tls_name = {"server_hostname": name, "assert_hostname": name}
            pool_kwargs = cast("_PoolKwargs", {**pool_kwargs, **tls_name})
        return host_params, pool_kwargs

    def add_headers(self, request: requests.PreparedRequest, **kwargs: Any) -> None:
        request.headers["Host"] = host_header(request.url or "")


def host_header(url: str) -> str:
    """The Host header for `url`, as http.client would send it had it connected to the name."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != DEFAULT_PORTS.get(parts.scheme.lower()):
        return f"{host}:{parts.port}"
    return host


def _could_not_connect(error: requests.ConnectionError) -> bool:
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, ConnectTimeoutError)  # NewConnectionError (refused, unreachable) is one too
