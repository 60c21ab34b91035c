"""Settings are strict: a value its variable cannot take stops the start, naming the variable; settings that must
agree with each other are Django system checks (migration_site/lib/checks.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from migration_site.lib.checks import TAG, check_contact_email, check_heartbeats, check_public_base_url, check_s3
from migration_site.lib.env import env_bool, env_choice, env_float, env_int, env_list, env_path, env_str
from tests.test_production_settings import readme_production_example, run_with

ROOT = Path(__file__).resolve().parent.parent


def load_settings(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """The real settings in a fresh interpreter with only these variables (and DEBUG on), as manage.py loads them."""
    environment = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    environment.update({"DEBUG": "1", "VAR_DIR": str(tmp_path / "var")} | variables)
    return subprocess.run(
        [sys.executable, "-c", "import migration_site.settings"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


# -- a bad value stops the start, naming the variable ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("LEGACY_RETRIES", "four", "LEGACY_RETRIES='four': not a whole number"),
        ("PUBLIC_CACHE_SECONDS", "1.5", "PUBLIC_CACHE_SECONDS='1.5': not a whole number"),
        ("LEGACY_READ_TIMEOUT", "1 minute", "LEGACY_READ_TIMEOUT='1 minute': not a number"),
        ("LEGACY_CONNECT_TIMEOUT", "0", "LEGACY_CONNECT_TIMEOUT='0': must be finite and more than 0"),
        ("BULK_MAX_ZIPPED_BYTES", "-1", "BULK_MAX_ZIPPED_BYTES='-1': must be at least 1"),
        ("MAPPING_CONFIDENCE_THRESHOLD", "80", "MAPPING_CONFIDENCE_THRESHOLD='80': must be at most 1"),
        ("PUBLIC_VERSION_CHECK_SECONDS", "nan", "PUBLIC_VERSION_CHECK_SECONDS='nan': must be finite"),
        ("DEBUG", "ture", "DEBUG='ture': use one of"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL='LOUD': use one of"),
        ("S3_ADDRESSING_STYLE", "sideways", "S3_ADDRESSING_STYLE='sideways': use one of path, virtual, auto"),
        ("SECURE_PROXY_SSL_HEADER", "X Forwarded Proto", "SECURE_PROXY_SSL_HEADER='X Forwarded Proto': not a header"),
        ("DATABASE_URL", "mongodb://db/x", "DATABASE_URL: Scheme 'mongodb://' is unknown"),
    ],
)
def test_a_bad_value_stops_the_settings_with_the_variable_and_the_value(tmp_path, variable, value, message):
    result = load_settings(tmp_path, **{variable: value})

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: "), result.stderr
    assert message in last_line


def test_good_values_load(tmp_path):
    result = load_settings(tmp_path, LEGACY_RETRIES=" 7 ", LOG_LEVEL="info", MAPPING_CONFIDENCE_THRESHOLD="1")

    assert result.returncode == 0, result.stderr


def test_unset_and_blank_variables_take_the_default(monkeypatch):
    monkeypatch.delenv("X_UNSET", raising=False)
    monkeypatch.setenv("X_BLANK", "  ")
    for name in ("X_UNSET", "X_BLANK"):
        assert env_int(name, 3) == 3 and env_float(name, 1.5) == 1.5 and env_bool(name, True) is True
        assert env_str(name, "d") == "d" and env_list(name, ["a"]) == ["a"] and env_path(name, Path("p")) == Path("p")
        assert env_choice(name, "path", ("path", "auto")) == "path"


def test_values_are_read_as_written(monkeypatch):
    monkeypatch.setenv("X_INT", " 42 ")
    monkeypatch.setenv("X_FLOAT", "0.25")
    monkeypatch.setenv("X_LIST", "a.org, ,b.org,")
    monkeypatch.setenv("X_WORD", "Virtual")
    monkeypatch.setenv("X_SWITCH", "Off")

    assert env_int("X_INT", 0, minimum=42) == 42
    assert env_float("X_FLOAT", 0, minimum=0, maximum=1, positive=True) == 0.25
    assert env_list("X_LIST") == ["a.org", "b.org"]
    assert env_choice("X_WORD", "path", ("path", "virtual")) == "virtual"
    assert env_bool("X_SWITCH", True) is False


def test_a_bound_names_the_variable(monkeypatch):
    monkeypatch.setenv("X_INT", "-3")

    with pytest.raises(ImproperlyConfigured, match=r"^X_INT='-3': must be at least 0$"):
        env_int("X_INT", 0, minimum=0)


# -- PUBLIC_BASE_URL ---------------------------------------------------------------------------------------------


def ids(messages) -> list[str]:
    return [message.id for message in messages]


@pytest.mark.parametrize(
    "url",
    [
        "migration.example.org",
        "ftp://migration.example.org",
        "https://",
        "https://user:secret@migration.example.org",
        "https://migration.example.org/?page=1",
        "https://migration.example.org/#top",
        "https://[::1",
        "https://migration example.org",
    ],
)
def test_public_base_url_must_be_an_absolute_http_url(settings, url):
    settings.PUBLIC_BASE_URL = url

    messages = check_public_base_url(None)

    assert ids(messages) == ["migration.E001"]
    assert messages[0].hint


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://migration.example.org", ["migration.example.org"]),
        ("https://migration.example.org:8443/site", ["migration.example.org"]),
        ("https://Migration.Example.org", [".example.org"]),
        ("https://migration.example.org", ["*"]),
        ("http://[::1]:8000", ["[::1]"]),
    ],
)
def test_a_public_host_that_allowed_hosts_lets_through_passes(settings, url, allowed):
    settings.DEBUG, settings.PUBLIC_BASE_URL, settings.ALLOWED_HOSTS = False, url, allowed

    assert check_public_base_url(None) == []


def test_a_public_host_missing_from_allowed_hosts_is_an_error_when_debug_is_off(settings):
    settings.DEBUG, settings.PUBLIC_BASE_URL = False, "https://data.example.org"
    settings.ALLOWED_HOSTS = ["migration.example.org"]

    messages = check_public_base_url(None)

    assert ids(messages) == ["migration.E002"]
    assert "data.example.org" in messages[0].msg and "data.example.org" in str(messages[0].hint)
    settings.DEBUG = True
    assert check_public_base_url(None) == []


def test_an_http_public_url_with_the_https_redirect_is_a_warning(settings):
    settings.PUBLIC_BASE_URL, settings.SECURE_SSL_REDIRECT = "http://127.0.0.1:8000", True

    assert ids(check_public_base_url(None)) == ["migration.W003"]
    settings.PUBLIC_BASE_URL = "https://127.0.0.1:8000"
    assert check_public_base_url(None) == []


# -- S3 ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def s3(settings):
    settings.S3_BUCKET, settings.S3_PUBLIC_BUCKET = "migration-work", "migration-public"
    settings.S3_ENDPOINT_URL = settings.S3_ACCESS_KEY_ID = settings.S3_SECRET_ACCESS_KEY = ""
    return settings


def test_a_bucket_without_endpoint_or_keys_is_aws_with_its_own_credentials_and_passes(s3):
    assert check_s3(None) == []


@pytest.mark.parametrize(
    ("given", "missing"), [("S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"), ("S3_SECRET_ACCESS_KEY", "S3_ACCESS_KEY_ID")]
)
def test_half_a_key_pair_is_an_error_naming_the_missing_half(s3, given, missing):
    setattr(s3, given, "something")

    messages = check_s3(None)

    assert ids(messages) == ["migration.E004"]
    assert missing in str(messages[0].hint)


def test_an_s3_compatible_endpoint_without_keys_is_a_warning(s3):
    s3.S3_ENDPOINT_URL = "https://minio.internal:9000"
    assert ids(check_s3(None)) == ["migration.W005"]

    s3.S3_ACCESS_KEY_ID, s3.S3_SECRET_ACCESS_KEY = "key", "secret"
    assert check_s3(None) == []


def test_an_aws_endpoint_without_keys_passes(s3):
    s3.S3_ENDPOINT_URL = "https://s3.eu-west-1.amazonaws.com"

    assert check_s3(None) == []


def test_s3_connection_settings_without_a_bucket_are_a_warning(settings):
    settings.S3_BUCKET, settings.S3_ENDPOINT_URL = "", "https://minio.internal:9000"
    settings.S3_ACCESS_KEY_ID = settings.S3_SECRET_ACCESS_KEY = ""

    messages = check_s3(None)

    assert ids(messages) == ["migration.W006"]
    assert "S3_ENDPOINT_URL" in messages[0].msg


# -- heartbeats --------------------------------------------------------------------------------------------------


def test_a_heartbeat_timeout_not_longer_than_the_heartbeat_is_an_error(settings):
    settings.CONVERSION_HEARTBEAT_SECONDS = 30
    settings.CONVERSION_HEARTBEAT_TIMEOUT, settings.PUBLICATION_HEARTBEAT_TIMEOUT = 30, 120

    messages = check_heartbeats(None)

    assert ids(messages) == ["migration.E007"]
    assert "CONVERSION_HEARTBEAT_TIMEOUT" in messages[0].msg
    settings.CONVERSION_HEARTBEAT_TIMEOUT = 31
    assert check_heartbeats(None) == []


# -- registered at start-up --------------------------------------------------------------------------------------


def test_the_default_settings_pass_every_check_of_ours(settings):
    settings.PUBLIC_CONTACT_EMAIL = "data@example.org"  # the one setting a deployment must add (migration.W008)
    assert run_checks(tags=[TAG]) == []


def test_no_contact_email_is_a_warning_unless_debug(settings):
    settings.PUBLIC_CONTACT_EMAIL = ""
    settings.DEBUG = False
    assert ids(check_contact_email(None)) == ["migration.W008"]
    settings.DEBUG = True
    assert check_contact_email(None) == []


def test_the_checks_are_registered(settings):
    settings.CONVERSION_HEARTBEAT_TIMEOUT = settings.CONVERSION_HEARTBEAT_SECONDS

    assert "migration.E007" in ids(run_checks(tags=[TAG]))


def test_manage_py_check_stops_a_production_site_whose_public_host_is_not_allowed():
    example = readme_production_example() + "export ALLOWED_HOSTS=admin.example.org\n"

    result = run_with(f"{example}{sys.executable} manage.py check")

    assert result.returncode != 0
    assert "migration.E002" in result.stderr + result.stdout
