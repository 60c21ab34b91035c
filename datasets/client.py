"""HTTP client for a legacy OpenSpending instance: timeouts, retries with backoff, bounded concurrency.

The API key is only ever sent in the Authorization header, and only to the legacy instance itself: source files
live on third-party hosts that must never see it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings

from datasets.safety import check_url, redact

logger = logging.getLogger(__name__)

RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_REDIRECTS = 5
USER_AGENT = "openspending-migration/0.1 (+https://github.com/openspending)"


@dataclass(frozen=True)
class ClientSettings:
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 4
    backoff: float = 1.0
    max_backoff: float = 60.0
    allow_private: bool = False
    max_concurrency: int = 4

    @classmethod
    def from_django(cls, **overrides: Any) -> ClientSettings:
        values: dict[str, Any] = {
            "connect_timeout": settings.LEGACY_CONNECT_TIMEOUT,
            "read_timeout": settings.LEGACY_READ_TIMEOUT,
            "retries": settings.LEGACY_RETRIES,
            "backoff": settings.LEGACY_BACKOFF_SECONDS,
            "allow_private": settings.LEGACY_ALLOW_PRIVATE_ADDRESSES,
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
        response = self._send(url, params=_cache_busting(params))
        try:
            return json.loads(response.content)
        except ValueError as error:
            snippet = response.content[:80].decode("utf-8", "replace")
            raise LegacyError(
                f"answered invalid JSON (HTTP {response.status_code}, {len(response.content)} bytes, "
                f"starting {snippet!r}): {error}",
                url=url,
                status=response.status_code,
            ) from error

    def get_text(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        response = self._send(self.url(path), params=_cache_busting(params))
        return response.content.decode(response.encoding or "utf-8", "replace")

    @contextmanager
    def stream(self, url: str, headers: Mapping[str, str] | None = None) -> Iterator[requests.Response]:
        """A streamed GET of any URL (a source file), closed on exit; 304 is returned, not raised."""
        response = self._send(url, headers=headers, stream=True)
        try:
            yield response
        finally:
            response.close()

    # -- transport -------------------------------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            self._local.session = session
        return session

    def _send(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        last_problem = "no attempt made"
        retry_after: float | None = None
        for attempt in range(self.config.retries + 1):
            if attempt:
                time.sleep(self._delay(attempt, retry_after))
                retry_after = None
            try:
                response = self._send_once(url, params=params, headers=headers, stream=stream)
            except requests.Timeout:
                last_problem = (
                    f"timed out (connect {self.config.connect_timeout:g} s, read {self.config.read_timeout:g} s)"
                )
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:
                last_problem = f"connection failed: {_short(error)}"
            else:
                if response.status_code not in RETRY_STATUSES:
                    if response.status_code >= 400:
                        response.close()
                        raise LegacyError(f"HTTP {response.status_code}", url=url, status=response.status_code)
                    return response
                last_problem = f"HTTP {response.status_code}"
                retry_after = _retry_after(response.headers.get("Retry-After"))
                response.close()
                if attempt == self.config.retries:
                    raise LegacyError(
                        f"{last_problem} after {attempt + 1} attempts", url=url, status=response.status_code
                    )
            logger.info("retrying %s: %s", url, self.redact(last_problem))
        raise LegacyError(f"{self.redact(last_problem)} after {self.config.retries + 1} attempts", url=url)

    def _send_once(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        stream: bool,
    ) -> requests.Response:
        """One request, following redirects by hand so that every hop is checked and the key never leaves home."""
        for _ in range(MAX_REDIRECTS + 1):
            check_url(url, allow_private=self.config.allow_private)
            with self._slots:
                response = self._session().get(
                    url,
                    params=params,
                    headers=self._headers(url, headers),
                    timeout=(self.config.connect_timeout, self.config.read_timeout),
                    allow_redirects=False,
                    stream=stream,
                )
            if not response.is_redirect:
                return response
            location = response.headers.get("Location", "")
            response.close()
            url, params = urljoin(url, location), None
        raise LegacyError(f"more than {MAX_REDIRECTS} redirects", url=url)

    def _headers(self, url: str, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        if self._api_key and _origin(url) == self._origin:
            headers["Authorization"] = f"ApiKey {self._api_key}"
        return headers

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.config.max_backoff)
        return float(min(self.config.backoff * 2 ** (attempt - 1), self.config.max_backoff))


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
