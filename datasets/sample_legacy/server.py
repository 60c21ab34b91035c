"""A small legacy OpenSpending server on loopback, serving the bundled sample instance, with fault injection."""

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from datasets.sample_legacy.app import LegacyApp, Request, Response, error_response
from datasets.sample_legacy.faults import Fault, FaultRegistry
from datasets.sample_legacy.instance import DEFAULT_INSTANCE_DIR, SampleAccount, load_instance

ADMIN_USERNAME = "mlindqvist"
ADMIN_API_KEY = "0ac5aea5-19f6-429a-8362-c5b3ce28d92c"
MANAGER_USERNAME = "jonina"  # the only manager of the private dataset
MANAGER_API_KEY = "07df351c-e869-4613-a1ff-4e72c23283a4"
OUTSIDER_USERNAME = "sreader"  # a plain account that manages nothing
OUTSIDER_API_KEY = "268bc95e-220f-44bd-9145-03599a7e0a08"
PRIVATE_DATASET = "hafnarvik-utgjold-2013"

GARBAGE_BODY = b'{"datasets": [{"name": "lindenau-haushalt", "label": "Haush<!-- connection reset by peer -->'
OFFLINE_PAGE = b"""<html><frameset cols="*"><frame target="_top" src="https://pagekite.net/offline/?&where=FE" />
<noframes><h1>Sorry! (fe)</h1><p>The HTTP <a href="http://pagekite.net/"><i>PageKite</i></a> for
<b>legacy.example.org</b> is unavailable at the moment.</p><p>Please try again later.</p></noframes></frameset></html>
"""

RequestRecord = tuple[str, str, dict[str, str]]


def sample_accounts(instance_dir: Path = DEFAULT_INSTANCE_DIR) -> list[SampleAccount]:
    """The fixture accounts with their API keys, for tests and the demo."""
    return list(load_instance(instance_dir).accounts.values())


class SampleLegacyServer:
    """`ThreadingHTTPServer` in a daemon thread; `port=0` picks a free port, `base_url` tells which."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, instance_dir: Path = DEFAULT_INSTANCE_DIR) -> None:
        self.host = host
        self.port = port
        self.app = LegacyApp(load_instance(instance_dir))
        self.requests: list[RequestRecord] = []
        self._faults = FaultRegistry()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the server is not running; call start() first")
        return self._httpd.base_url

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _HTTPServer((self.host, self.port), self)
        # A short poll interval keeps stop() quick, which adds up over a test suite that starts many servers.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="sample-legacy-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()  # ends pending "delay" faults early
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd, self._thread = None, None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def add_fault(self, path_pattern: str, kind: str, times: int = 1, **params: Any) -> None:
        """Make requests whose path (without query) matches the regex misbehave `times` times.

        Kinds: "status" (params: status, optional retry_after), "delay" (seconds), "truncate", "garbage", "html".
        """
        self._faults.add(path_pattern, kind, times, params)

    def clear_faults(self) -> None:
        self._faults.clear()

    def record(self, method: str, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append((method, path, headers))

    def take_fault(self, path: str) -> Fault | None:
        return self._faults.take(path)

    def wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], owner: SampleLegacyServer) -> None:
        super().__init__(address, _Handler)
        self.owner = owner
        host, port = self.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or hang up mid-answer are part of the tests, not server errors.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "SampleLegacyOpenSpending/0.16"

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `server.requests` instead of a log."""

    def _serve(self, *, send_body: bool) -> None:
        owner = self.server.owner
        owner.record(self.command, self.path, dict(self.headers.items()))
        path = urlsplit(self.path).path
        fault = owner.take_fault(path)
        if fault is not None and fault.kind == "delay":
            owner.wait(float(fault.params["seconds"]))
        if fault is not None and fault.kind in ("status", "garbage", "html"):
            response = _fault_response(fault, path)
        else:
            response = owner.app.handle(self._request(path, self.server.base_url))
        truncate = fault is not None and fault.kind == "truncate"
        try:
            self._send(response, send_body=send_body, truncate=truncate)
        except ConnectionError:
            self.close_connection = True

    def _request(self, path: str, base_url: str) -> Request:
        # Only the first value of a repeated parameter counts; unknown ones (a cache-busting `__`) are ignored.
        params: dict[str, str] = {}
        for key, value in parse_qsl(urlsplit(self.path).query, keep_blank_values=True):
            params.setdefault(key, value)
        headers = {name.lower(): value for name, value in self.headers.items()}
        return Request(self.command, path, params, headers, base_url)

    def _send(self, response: Response, *, send_body: bool, truncate: bool) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not send_body or response.status == 304:
            return
        if truncate:
            # The promised length is never delivered: the client sees the connection close mid-body.
            self.wfile.write(response.body[: len(response.body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(response.body)


def _fault_response(fault: Fault, path: str) -> Response:
    if fault.kind == "garbage":
        return Response(200, GARBAGE_BODY, "application/json")
    if fault.kind == "html":
        return Response(200, OFFLINE_PAGE, "text/html; charset=utf-8")
    status = int(fault.params["status"])
    response = error_response(path, status, f"Injected fault: HTTP {status}")
    if "retry_after" in fault.params:
        response.headers["Retry-After"] = str(fault.params["retry_after"])
    return response
