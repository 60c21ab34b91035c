"""HTTP client for a legacy OpenSpending instance: timeouts, retries with backoff, bounded concurrency.

The API key is only ever sent in the Authorization header, and only to the legacy instance itself: source files
live on third-party hosts that must never see it. Every answer is read under a cap on its decoded size and within
a total deadline (datasets/transport.py), and every connection goes to an address checked by datasets/safety.py.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings

from datasets.safety import UnsafeURLError, check_url, fetchable_host, redact
from datasets.transport import Deadline, PinnedAdapter

logger = logging.getLogger(__name__)

RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_REDIRECTS = 5
READ_CHUNK_BYTES = 64 * 1024  # decoded bytes per read of an API answer: the cap is checked this often
USER_AGENT = "openspending-migration/0.1 (+https://github.com/openspending)"

T = TypeVar("T")


@dataclass(frozen=True)
class ClientSettings:
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 4
    backoff: float = 1.0
    max_backoff: float = 60.0
    allow_private: bool = False
    max_concurrency: int = 4
    max_response_bytes: int = 32 * 1024 * 1024
    request_deadline: float = 300.0
    download_deadline: float = 3600.0

    @classmethod
    def from_django(cls, **overrides: Any) -> ClientSettings:
        values: dict[str, Any] = {
            "connect_timeout": settings.LEGACY_CONNECT_TIMEOUT,
            "read_timeout": settings.LEGACY_READ_TIMEOUT,
            "retries": settings.LEGACY_RETRIES,
            "backoff": settings.LEGACY_BACKOFF_SECONDS,
            "allow_private": settings.LEGACY_ALLOW_PRIVATE_ADDRESSES,
            "max_response_bytes": settings.LEGACY_MAX_RESPONSE_BYTES,
            "request_deadline": settings.LEGACY_REQUEST_DEADLINE,
            "download_deadline": settings.LEGACY_DOWNLOAD_DEADLINE,
        }
        values.update(overrides)
        return cls(**values)


class LegacyError(Exception):
    """A request to the legacy instance (or a source host) that failed for good."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.status = status

    def __str__(self) -> str:
        return f"{self.message} ({self.url})"


class _RetryableAnswer(Exception):
    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Answer:
    status: int
    encoding: str | None
    body: bytearray


class LegacyClient:
    def __init__(self, base_url: str, *, api_key: str | None = None, config: ClientSettings | None = None) -> None:
        self.config = config or ClientSettings.from_django()
        self.base_url = base_url.rstrip("/")
        check_url(self.base_url, allow_private=self.config.allow_private)
        self._api_key = api_key or None
        self._origin = _origin(self.base_url)
        self._local = threading.local()
        self._slots = threading.BoundedSemaphore(max(1, self.config.max_concurrency))

    @property
    def has_api_key(self) -> bool:
        return self._api_key is not None

    def redact(self, text: str) -> str:
        return redact(text, self._api_key)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        url = self.url(path)
        answer = self._get(url, params=_cache_busting(params))
        try:
            return json.loads(answer.body)
        except ValueError as error:
            snippet = answer.body[:80].decode("utf-8", "replace")
            raise LegacyError(
                f"answered invalid JSON (HTTP {answer.status}, {len(answer.body)} bytes, "
                f"starting {snippet!r}): {error}",
                url=url,
                status=answer.status,
            ) from error

    def get_text(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        answer = self._get(self.url(path), params=_cache_busting(params))
        try:
            return answer.body.decode(answer.encoding or "utf-8", "replace")
        except LookupError:  # a charset Python does not know
            return answer.body.decode("utf-8", "replace")

    def download_deadline(self) -> Deadline:
        """The deadline of one source download, retries included; enter it around the download."""
        return Deadline(self.config.download_deadline, setting="LEGACY_DOWNLOAD_DEADLINE")

    @contextmanager
    def stream(
        self, url: str, *, deadline: Deadline, headers: Mapping[str, str] | None = None
    ) -> Iterator[requests.Response]:
        """A streamed GET of any URL (a source file) within the entered `deadline`, closed on exit.

        304 is returned, not raised. The caller reads the body with iter_content (decoded bytes) under its own cap.
        """
        response = self._retrying(
            url, deadline, lambda: self._open(url, params=None, headers=headers, deadline=deadline)
        )
        try:
            yield response
        finally:
            response.close()

    # -- transport -------------------------------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            # No proxies or .netrc from the environment: a proxy would connect to some address other than the one
            # checked, and .netrc could add credentials for a host the key-less source download goes to.
            session.trust_env = False
            adapter = PinnedAdapter(allow_private=lambda: self.config.allow_private)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["User-Agent"] = USER_AGENT
            self._local.session = session
        return session

    def _get(self, url: str, *, params: Mapping[str, Any]) -> _Answer:
        with Deadline(self.config.request_deadline, setting="LEGACY_REQUEST_DEADLINE") as deadline:
            return self._retrying(url, deadline, lambda: self._read_answer(url, params=params, deadline=deadline))

    def _read_answer(self, url: str, *, params: Mapping[str, Any], deadline: Deadline) -> _Answer:
        response = self._open(url, params=params, headers=None, deadline=deadline)
        try:
            return _Answer(response.status_code, response.encoding, self._read_capped(response, url, deadline))
        finally:
            response.close()

    def _read_capped(self, response: requests.Response, url: str, deadline: Deadline) -> bytearray:
        """The decoded body, never more than the cap in memory: a gzip bomb is counted at its decoded size."""
        cap = self.config.max_response_bytes
        body = bytearray()
        for chunk in response.iter_content(READ_CHUNK_BYTES):
            body += chunk
            if len(body) > cap:
                raise LegacyError(
                    f"answer larger than the cap of {cap} bytes (LEGACY_MAX_RESPONSE_BYTES)",
                    url=url,
                    status=response.status_code,
                )
            if deadline.passed:
                break
        if deadline.passed:  # an answer without Content-Length that the deadline cut off ends like a complete one
            raise LegacyError(deadline.problem, url=url, status=response.status_code)
        return body

    def _retrying(self, url: str, deadline: Deadline, attempt: Callable[[], T]) -> T:
        """`attempt` until it succeeds, retrying connection problems, timeouts, 5xx and 429 with backoff."""
        problem, status, retry_after = "no attempt made", None, None
        for number in range(self.config.retries + 1):
            if number:
                delay = self._delay(number, retry_after)
                if delay >= deadline.remaining():
                    raise LegacyError(
                        f"{self.redact(problem)}; no time for another attempt: {deadline.problem}",
                        url=url,
                        status=status,
                    )
                time.sleep(delay)
            try:
                return attempt()
            except _RetryableAnswer as answer:
                problem, status, retry_after = str(answer), answer.status, answer.retry_after
            except UnsafeURLError as error:
                raise LegacyError(f"refused: {error}", url=url) from error
            except requests.RequestException as error:
                if deadline.passed:
                    raise LegacyError(deadline.problem, url=url) from error
                problem, status, retry_after = self._transient_problem(error, url), None, None
            logger.info("retrying %s: %s", url, self.redact(problem))
        raise LegacyError(f"{self.redact(problem)} after {self.config.retries + 1} attempts", url=url, status=status)

    def _transient_problem(self, error: requests.RequestException, url: str) -> str:
        """How a retryable failure reads; any other failure (an undecodable body, say) ends the request."""
        if isinstance(error, requests.Timeout):
            return f"timed out (connect {self.config.connect_timeout:g} s, read {self.config.read_timeout:g} s)"
        if isinstance(error, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
            return f"connection failed: {_short(error)}"
        raise LegacyError(f"failed: {self.redact(_short(error))}", url=url) from error

    def _open(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        deadline: Deadline,
    ) -> requests.Response:
        """One request, following redirects by hand so that every hop is checked and the key never leaves home.

        The adapter checks each hop's addresses; the scheme is checked here, as no adapter would take another.
        """
        for _ in range(MAX_REDIRECTS + 1):
            fetchable_host(url)
            with self._slots:
                response = self._session().get(
                    url,
                    params=params,
                    headers=self._headers(url, headers),
                    timeout=self._timeouts(deadline),
                    allow_redirects=False,
                    stream=True,
                )
            if not response.is_redirect:
                return _checked_status(response, url)
            location = response.headers.get("Location", "")
            response.close()
            url, params = urljoin(url, location), None
        raise LegacyError(f"more than {MAX_REDIRECTS} redirects", url=url)

    def _timeouts(self, deadline: Deadline) -> tuple[float, float]:
        # The deadline's watchdog only sees sockets once connected; the connect timeout must not outlast it either.
        remaining = max(deadline.remaining(), 0.01)
        return min(self.config.connect_timeout, remaining), min(self.config.read_timeout, remaining)

    def _headers(self, url: str, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        if self._api_key and _origin(url) == self._origin:
            headers["Authorization"] = f"ApiKey {self._api_key}"
        return headers

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.config.max_backoff)
        return float(min(self.config.backoff * 2 ** (attempt - 1), self.config.max_backoff))


def _checked_status(response: requests.Response, url: str) -> requests.Response:
    if response.status_code in RETRY_STATUSES:
        response.close()
        raise _RetryableAnswer(response.status_code, _retry_after(response.headers.get("Retry-After")))
    if response.status_code >= 400:
        response.close()
        raise LegacyError(f"HTTP {response.status_code}", url=url, status=response.status_code)
    return response


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def _cache_busting(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The legacy site sat behind a 6-hour cache; a throw-away parameter gets fresh answers."""
    return {**(params or {}), "__": f"{time.time():.6f}"}


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _short(error: Exception) -> str:
    text = str(error)
    return text if len(text) <= 200 else text[:200] + "..."
