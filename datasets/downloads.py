"""Archiving source files: streamed to disk, size-capped, hashed, never left looking complete when cut short."""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from datasets.client import LegacyClient, LegacyError
from datasets.transport import Deadline
from migration_site.lib.hashing import file_sha256

FETCHED = "fetched"
UNREACHABLE = "unreachable"
NOT_TRIED = "not_tried"
CHUNK_BYTES = 256 * 1024
INTERRUPTIONS = (requests.exceptions.ChunkedEncodingError, requests.ConnectionError, requests.Timeout)
HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<frameset", b"<body")


@dataclass(frozen=True)
class ArchiveRecord:
    """What we know about the archived copy of one source; stored in dataset.json under sources[].archive."""

    status: str = NOT_TRIED
    path: str | None = None
    sha256: str | None = None
    size: int | None = None
    content_type: str | None = None
    http_status: int | None = None
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: str | None = None
    checked_at: str | None = None
    refresh_error: str | None = field(default=None)

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_dict(cls, data: Any) -> ArchiveRecord:
        if not isinstance(data, dict):
            return cls()
        known = cls.__dataclass_fields__.keys()
        return cls(**{key: value for key, value in data.items() if key in known})


class DownloadProblem(Exception):
    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


def archive_source(
    client: LegacyClient,
    url: str,
    folder: Path,
    relative_path: str,
    *,
    max_bytes: int,
    previous: ArchiveRecord | None = None,
) -> ArchiveRecord:
    """Fetch `url` into folder/relative_path; on failure keep the previous good copy and say what went wrong.

    The whole download, retries included, ends by the client's download deadline.
    """
    now = _now()
    destination = folder / relative_path
    usable_previous = previous if _previous_copy_is_intact(previous, destination) else None
    try:
        with client.download_deadline() as deadline:
            record = _download(
                client, url, destination, max_bytes=max_bytes, previous=usable_previous, deadline=deadline
            )
    except DownloadProblem as problem:
        message = client.redact(str(problem))
        if usable_previous is not None:
            return replace(usable_previous, checked_at=now, refresh_error=message)
        return ArchiveRecord(status=UNREACHABLE, http_status=problem.http_status, error=message, checked_at=now)
    return replace(record, path=relative_path, checked_at=now)


def _download(
    client: LegacyClient,
    url: str,
    destination: Path,
    *,
    max_bytes: int,
    previous: ArchiveRecord | None,
    deadline: Deadline,
) -> ArchiveRecord:
    attempts = client.config.retries + 1
    for attempt in range(attempts):
        try:
            return _download_once(client, url, destination, max_bytes=max_bytes, previous=previous, deadline=deadline)
        except requests.RequestException as error:
            if deadline.passed:
                raise DownloadProblem(deadline.problem) from error
            if not isinstance(error, INTERRUPTIONS):  # e.g. a body that does not decode as its Content-Encoding says
                raise DownloadProblem(f"download failed: {error}") from error
            # The body was cut short after the headers arrived: the client's retries do not cover that part.
            if attempt == attempts - 1:
                raise DownloadProblem(f"download interrupted after {attempts} attempts: {error}") from error
    raise AssertionError("unreachable")


def _download_once(
    client: LegacyClient,
    url: str,
    destination: Path,
    *,
    max_bytes: int,
    previous: ArchiveRecord | None,
    deadline: Deadline,
) -> ArchiveRecord:
    try:
        with client.stream(url, headers=_conditional_headers(previous), deadline=deadline) as response:
            if response.status_code == 304 and previous is not None:
                return previous
            content_type = response.headers.get("Content-Type", "")
            if "text/html" in content_type.lower():
                raise DownloadProblem(
                    f"the server answered an HTML page ({content_type}) instead of a data file",
                    http_status=response.status_code,
                )
            sha256, size = _stream_to_file(response, destination, max_bytes=max_bytes, deadline=deadline)
            return ArchiveRecord(
                status=FETCHED,
                sha256=sha256,
                size=size,
                content_type=content_type or None,
                http_status=response.status_code,
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
                fetched_at=_now(),
            )
    except LegacyError as error:  # refusals of the address filter included
        raise DownloadProblem(error.message, http_status=error.status) from error


def _stream_to_file(
    response: requests.Response, destination: Path, *, max_bytes: int, deadline: Deadline
) -> tuple[str, int]:
    """Decoded bytes (iter_content decodes), so a Content-Encoding bomb is cut at the cap, not at its wire size."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    digest = hashlib.sha256()
    size = 0
    try:
        with partial.open("wb") as out:
            for chunk in response.iter_content(CHUNK_BYTES):
                if size == 0 and _looks_like_html(chunk):
                    raise DownloadProblem("the server answered an HTML page instead of a data file")
                size += len(chunk)
                if size > max_bytes:
                    raise DownloadProblem(f"larger than the size cap of {max_bytes} bytes")
                if deadline.passed:
                    raise DownloadProblem(deadline.problem)
                digest.update(chunk)
                out.write(chunk)
        if deadline.passed:  # a body without Content-Length that the deadline cut off ends like a complete one
            raise DownloadProblem(deadline.problem)
        expected = response.headers.get("Content-Length")
        if expected is not None and expected.isdigit() and int(expected) != size and not _is_encoded(response):
            raise requests.exceptions.ChunkedEncodingError(f"received {size} of {expected} bytes")
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return digest.hexdigest(), size


def _previous_copy_is_intact(previous: ArchiveRecord | None, destination: Path) -> bool:
    if previous is None or previous.status != FETCHED or not previous.sha256 or not destination.is_file():
        return False
    return file_sha256(destination) == previous.sha256


def _conditional_headers(previous: ArchiveRecord | None) -> dict[str, str]:
    if previous is None:
        return {}
    headers = {}
    if previous.etag:
        headers["If-None-Match"] = previous.etag
    if previous.last_modified:
        headers["If-Modified-Since"] = previous.last_modified
    return headers


def _looks_like_html(chunk: bytes) -> bool:
    head = chunk[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(HTML_MARKERS)


def _is_encoded(response: requests.Response) -> bool:
    return bool(response.headers.get("Content-Encoding"))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
