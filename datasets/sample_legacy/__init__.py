"""A small legacy OpenSpending instance served on loopback, for tests and the demo (see instance/README.md)."""

from datasets.sample_legacy.instance import DEFAULT_INSTANCE_DIR, SampleAccount
from datasets.sample_legacy.server import (
    ADMIN_API_KEY,
    ADMIN_USERNAME,
    MANAGER_API_KEY,
    MANAGER_USERNAME,
    OUTSIDER_API_KEY,
    OUTSIDER_USERNAME,
    PRIVATE_DATASET,
    SampleLegacyServer,
    sample_accounts,
)

__all__ = [
    "ADMIN_API_KEY",
    "ADMIN_USERNAME",
    "DEFAULT_INSTANCE_DIR",
    "MANAGER_API_KEY",
    "MANAGER_USERNAME",
    "OUTSIDER_API_KEY",
    "OUTSIDER_USERNAME",
    "PRIVATE_DATASET",
    "SampleAccount",
    "SampleLegacyServer",
    "sample_accounts",
]
