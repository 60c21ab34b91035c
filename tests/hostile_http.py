"""A loopback HTTP(S) server that plays the hostile part: huge answers, gzip bombs, drips, redirects anywhere."""

from __future__ import annotations

import ssl
import threading
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Behaviour = Callable[["_Handler"], None]
BLOCK = b"0" * (64 * 1024)
DISCONNECTED = (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError)


class HostileServer:
    """Serves `routes` (path without query -> behaviour) on host:port (0: any free port), recording requests."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, tls: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.routes: dict[str, Behaviour] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.server_names: list[str | None] = []
        self.stopping = threading.Event()
        self._httpd = _Server((host, port), self)
        if tls is not None:
            tls.sni_callback = self._record_server_name
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, path: str, host: str | None = None) -> str:
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _record_server_name(self, sock: Any, name: str | None, context: Any) -> None:
        self.server_names.append(name)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], owner: HostileServer) -> None:
        self.owner = owner
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up on a hostile answer is what the tests expect


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        owner = self.server.owner
        path = self.path.split("?")[0]
        owner.requests.append((path, dict(self.headers.items())))
        behaviour = owner.routes.get(path)
        if behaviour is None:
            answer(b"not here", status=404, content_type="text/plain")(self)
        else:
            behaviour(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def wait(self, seconds: float) -> bool:
        """False when the server is stopping."""
        return not self.server.owner.stopping.wait(seconds)

    def head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()


def answer(
    body: bytes, *, status: int = 200, content_type: str = "application/json", headers: dict[str, str] | None = None
) -> Behaviour:
    def behave(handler: _Handler) -> None:
        handler.head(status, {"Content-Type": content_type, "Content-Length": str(len(body)), **(headers or {})})
        handler.wfile.write(body)

    return behave


def huge(size: int, *, content_type: str = "application/json") -> Behaviour:
    """`size` bytes of '0' with an honest Content-Length, written from one block so the server uses no memory."""

    def behave(handler: _Handler) -> None:
        handler.head(200, {"Content-Type": content_type, "Content-Length": str(size)})
        sent = 0
        try:
            while sent < size:
                block = BLOCK[: size - sent]
                handler.wfile.write(block)
                sent += len(block)
        except DISCONNECTED:
            handler.close_connection = True

    return behave


def gzip_bomb(decoded_size: int, *, content_type: str = "application/json") -> Behaviour:
    """A small gzip body (about 1/1000 of `decoded_size`) sent with Content-Encoding: gzip."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(BLOCK) for _ in range(decoded_size // len(BLOCK))]
    body = b"".join(parts) + compressor.flush()

    def behave(handler: _Handler) -> None:
        headers = {"Content-Type": content_type, "Content-Encoding": "gzip", "Content-Length": str(len(body))}
        handler.head(200, headers)
        try:
            handler.wfile.write(body)
        except DISCONNECTED:
            handler.close_connection = True

    return behave


def drip(body: bytes, *, interval: float, content_type: str = "application/json", length: bool = True) -> Behaviour:
    """The headers at once, then one byte every `interval` seconds; without `length`, the end is the connection's."""

    def behave(handler: _Handler) -> None:
        headers = {"Content-Type": content_type}
        if length:
            headers["Content-Length"] = str(len(body))
        else:
            headers["Connection"] = "close"
            handler.close_connection = True
        handler.head(200, headers)
        try:
            for index in range(len(body)):
                handler.wfile.write(body[index : index + 1])
                handler.wfile.flush()
                if not handler.wait(interval):
                    return
        except DISCONNECTED:
            handler.close_connection = True

    return behave


def drip_headers(*, interval: float) -> Behaviour:
    """A status line, then one header that never ends, a byte every `interval` seconds."""

    def behave(handler: _Handler) -> None:
        handler.close_connection = True
        try:
            handler.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while handler.wait(interval):
                handler.wfile.write(b"a")
                handler.wfile.flush()
        except DISCONNECTED:
            pass

    return behave


def redirect(location: str, *, status: int = 302) -> Behaviour:
    def behave(handler: _Handler) -> None:
        handler.head(status, {"Location": location, "Content-Length": "0"})

    return behave


def tls_for(name: str, folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context with a certificate for `name` signed by a throw-away CA, and that CA's file."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile test CA")])
    ca = _certificate(ca_name, ca_name, ca_key.public_key(), ca_key, ca=True)
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    leaf = _certificate(leaf_name, ca_name, key.public_key(), ca_key, ca=False, dns_name=name)
    ca_file, chain_file, key_file = folder / "ca.pem", folder / f"{name}.pem", folder / f"{name}.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain_file, key_file)
    return context, ca_file


def _certificate(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    signing_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    dns_name: str | None = None,
) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False)
    )
    if dns_name is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(signing_key, hashes.SHA256())
