"""System checks for settings that must agree with each other; they run before every management command, runserver
and `manage.py check` (list them with `manage.py check --tag settings`).

Each value alone is checked where settings.py reads it (a bad number stops the start); what is checked here only makes
sense together. Errors (migration.E...) are setups that cannot work; warnings (migration.W...) are setups that can
only work by an arrangement these settings do not show.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import SplitResult, urlsplit

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.checks import Warning as CheckWarning
from django.http.request import split_domain_port, validate_host

TAG = "settings"


def base_url_problem(url: str) -> str:
    """Why `url` cannot prefix the public site's links (links are this text followed by a path); empty when it can."""
    try:
        parts = urlsplit(url)
    except ValueError as error:  # e.g. an unclosed IPv6 bracket
        return f"not a URL ({error})"
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "not an absolute http(s) URL"
    if "@" in parts.netloc:
        return "it holds a user name or password, which every published link would carry"
    if not public_host(parts):
        return "its host or port is not valid"
    if parts.query or parts.fragment:
        return "it has a query or a fragment, and links are built by appending a path to it"
    return ""


def public_host(parts: SplitResult) -> str:
    """The host as Django matches it against ALLOWED_HOSTS: lower case, IPv6 in brackets, no port."""
    return split_domain_port(parts.netloc)[0]


@register(TAG)
def check_public_base_url(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    url = settings.PUBLIC_BASE_URL
    problem = base_url_problem(url)
    if problem:
        hint = "Set PUBLIC_BASE_URL to the public site's address, e.g. https://migration.example.org"
        return [Error(f"PUBLIC_BASE_URL={url!r}: {problem}.", hint=hint, id="migration.E001")]
    parts = urlsplit(url)
    messages: list[CheckMessage] = []
    # With DEBUG on Django lets localhost through whatever ALLOWED_HOSTS says, so only a deployment is checked.
    if not settings.DEBUG and not validate_host(public_host(parts), settings.ALLOWED_HOSTS):
        messages.append(
            Error(
                f"The host of PUBLIC_BASE_URL ({public_host(parts)}) is not in ALLOWED_HOSTS: every published link"
                " would be answered with 400 Bad Request.",
                hint=f"Add {public_host(parts)} to ALLOWED_HOSTS (comma-separated).",
                id="migration.E002",
            )
        )
    if settings.SECURE_SSL_REDIRECT and parts.scheme == "http":
        messages.append(
            CheckWarning(
                "PUBLIC_BASE_URL uses http while SECURE_SSL_REDIRECT is on: every published link (data.json, feeds,"
                " the registry, packages' descriptors) would go through a redirect, and stays http in copies.",
                hint="Write PUBLIC_BASE_URL with https://.",
                id="migration.W003",
            )
        )
    return messages


@register(TAG)
def check_s3(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """Which S3 setups are errors, which warnings, and which pass, and why.

    - Neither an endpoint nor keys: AWS itself, with boto3's own credential chain (AWS_* variables, ~/.aws, the
      instance's or task's role). The README's production example is this setup. Whether a role is there can only be
      learnt by asking the instance metadata service over the network, which a check run before every command should
      not do, so this passes; wrong credentials show at the first storage call.
    - One key of the pair: an error. boto3 refuses partial explicit credentials (PartialCredentialsError) at the first
      storage call, so the site would start and then fail every upload and download.
    - An endpoint other than AWS's without keys: a warning. S3-compatible servers (MinIO, Ceph, Garage...) have no
      instance roles, so boto3 could only find keys in AWS_* variables or ~/.aws: possible, but more often forgotten.
    - Endpoint or keys without S3_BUCKET: a warning. They are ignored and every file goes to the local folders, which
      a deployment that set them surely did not mean.
    """
    connection = {
        "S3_ENDPOINT_URL": settings.S3_ENDPOINT_URL,
        "S3_ACCESS_KEY_ID": settings.S3_ACCESS_KEY_ID,
        "S3_SECRET_ACCESS_KEY": settings.S3_SECRET_ACCESS_KEY,
    }
    if not settings.S3_BUCKET:
        return [_s3_ignored([name for name, value in connection.items() if value])] if any(connection.values()) else []
    has_id, has_secret = bool(settings.S3_ACCESS_KEY_ID), bool(settings.S3_SECRET_ACCESS_KEY)
    if has_id != has_secret:
        given, missing = ("S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY")
        if has_secret:
            given, missing = missing, given
        return [
            Error(
                f"{given} is set but {missing} is not: S3 refuses half a key pair, so every storage call would fail.",
                hint=f"Set {missing} too, or neither (boto3's own credentials: AWS_* variables, ~/.aws, a role).",
                id="migration.E004",
            )
        ]
    if settings.S3_ENDPOINT_URL and not has_id and not _is_aws(settings.S3_ENDPOINT_URL):
        return [
            CheckWarning(
                f"S3_ENDPOINT_URL ({settings.S3_ENDPOINT_URL}) is set without S3_ACCESS_KEY_ID and"
                " S3_SECRET_ACCESS_KEY: an S3-compatible server has no instance role, so boto3 can only find keys in"
                " AWS_* variables or ~/.aws.",
                hint="Set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (the server's access key).",
                id="migration.W005",
            )
        ]
    return []


def _s3_ignored(names: list[str]) -> CheckMessage:
    return CheckWarning(
        f"{', '.join(names)} set but S3_BUCKET is not: they are ignored, and every file goes to the local folders"
        " STORAGE_ROOT and PUBLIC_STORAGE_ROOT.",
        hint="Set S3_BUCKET and S3_PUBLIC_BUCKET to use S3, or unset these.",
        id="migration.W006",
    )


def _is_aws(endpoint: str) -> bool:
    """AWS's own endpoints, where a role can provide the credentials as it does without an endpoint."""
    host = (urlsplit(endpoint).hostname or "").lower()
    return host == "amazonaws.com" or host.endswith((".amazonaws.com", ".amazonaws.com.cn"))


@register(TAG)
def check_contact_email(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """data.gov's harvester refuses a data.json dataset whose contactPoint has no `hasEmail`; only an organisation's
    e-mail (in the database, which checks do not read) or PUBLIC_CONTACT_EMAIL can give one."""
    if settings.DEBUG or settings.PUBLIC_CONTACT_EMAIL:
        return []
    return [
        CheckWarning(
            "PUBLIC_CONTACT_EMAIL is empty: data.json's datasets whose organisation has no e-mail (and the feed's and"
            " bulk files' own, unless the default organisation has one) have no contact e-mail, and data.gov's"
            " harvester refuses them.",
            hint="Set PUBLIC_CONTACT_EMAIL, or give every organisation an e-mail (admin: Conversion > Organisations).",
            id="migration.W008",
        )
    ]


@register(TAG)
def check_heartbeats(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """A running job stamps its run every CONVERSION_HEARTBEAT_SECONDS (publications too); a run silent for longer
    than its queue's timeout counts as dead and is replaced. A timeout no longer than the interval would replace live
    runs between two stamps, and the same work would run twice at once."""
    interval = settings.CONVERSION_HEARTBEAT_SECONDS
    timeouts = {
        "CONVERSION_HEARTBEAT_TIMEOUT": settings.CONVERSION_HEARTBEAT_TIMEOUT,
        "PUBLICATION_HEARTBEAT_TIMEOUT": settings.PUBLICATION_HEARTBEAT_TIMEOUT,
    }
    return [
        Error(
            f"{name} ({timeout:g} s) is not longer than CONVERSION_HEARTBEAT_SECONDS ({interval:g} s): live runs would"
            " be taken for dead and replaced while they run.",
            hint="Keep the timeout several heartbeats long (the defaults: a heartbeat every 10 s, a timeout of 120 s).",
            id="migration.E007",
        )
        for name, timeout in timeouts.items()
        if timeout <= interval
    ]
