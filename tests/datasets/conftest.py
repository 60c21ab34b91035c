"""Fixtures for the datasets tests: the sample legacy instance on loopback and fast client settings."""

from collections.abc import Iterator

import pytest

from datasets.sample_legacy.server import SampleLegacyServer


@pytest.fixture
def legacy() -> Iterator[SampleLegacyServer]:
    with SampleLegacyServer() as server:
        yield server


@pytest.fixture
def fast_client(settings) -> None:
    """Short timeouts and backoff, so fault tests take seconds, not minutes."""
    settings.LEGACY_CONNECT_TIMEOUT = 2
    settings.LEGACY_READ_TIMEOUT = 0.5
    settings.LEGACY_RETRIES = 2
    settings.LEGACY_BACKOFF_SECONDS = 0.01
